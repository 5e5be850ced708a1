/**
 * The WebSocket API that carries channel events to clients: the API, its auto-deployed stage with
 * stage-wide throttling, and the routes of `WEBSOCKET_API`. Built in two steps, because the
 * functions need the stage's URLs before the routes can point at the functions.
 */
import { WebSocketApi, WebSocketStage, type ThrottleSettings, type WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Construct } from 'constructs';
import { WEBSOCKET_API, type FunctionName } from '../system';
import { pascal } from './definition';
import type { FunctionLookup } from './functions';

/**
 * Default throttling of every route of the WebSocket stage (stage-wide, shared by all clients):
 * well under the account's default of 10,000 requests/s, so that one runaway client cannot use up
 * the account's API Gateway quota, and well above what keep-alive pings of many thousands of
 * connections need (one ping per connection every few minutes).
 */
export const DEFAULT_WEBSOCKET_THROTTLE: Required<ThrottleSettings> = { rateLimit: 1000, burstLimit: 2000 };

/** Properties of {@link createWebSocketApi}. */
export interface WebSocketApiProps {
  /**
   * Stage-wide route throttling; fields left out keep {@link DEFAULT_WEBSOCKET_THROTTLE}'s.
   *
   * @default DEFAULT_WEBSOCKET_THROTTLE
   */
  readonly throttle?: ThrottleSettings;
}

/** The WebSocket API and its stage, before any route. */
export interface WebSocketApiParts {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;
}

/** Each field of `throttle`, or its default; a negative or non-finite limit is refused with its value. */
export function webSocketThrottle(throttle: ThrottleSettings | undefined): Required<ThrottleSettings> {
  const settings = {
    rateLimit: throttle?.rateLimit ?? DEFAULT_WEBSOCKET_THROTTLE.rateLimit,
    burstLimit: throttle?.burstLimit ?? DEFAULT_WEBSOCKET_THROTTLE.burstLimit,
  };
  for (const [field, value] of Object.entries(settings)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`webSocketThrottle.${field} must be a non-negative number, got ${value}`);
  }
  return settings;
}

/** `WebSocketApi` and its auto-deployed stage `WebSocketStage` in `scope`, without routes yet. */
export function createWebSocketApi(scope: Construct, props: WebSocketApiProps = {}): WebSocketApiParts {
  const api = new WebSocketApi(scope, 'WebSocketApi', {
    description: 'Chime SDK Messaging compatible WebSocket: channel events of the app instance',
    routeSelectionExpression: WEBSOCKET_API.routeSelectionExpression,
  });
  const stage = new WebSocketStage(scope, 'WebSocketStage', {
    webSocketApi: api,
    stageName: WEBSOCKET_API.stageName,
    autoDeploy: true,
    throttle: webSocketThrottle(props.throttle),
  });
  return { api, stage };
}

/**
 * The routes of `WEBSOCKET_API.routes`, each to its function (two-way for `twoWayRoutes`); the stage
 * then depends on them, so that its first automatic deployment already holds every route.
 *
 * No API Gateway authorizer on $connect: the $connect function verifies the token itself, because it
 * may come either in the `token` query parameter or in the Sec-WebSocket-Protocol header, and an
 * authorizer's identity source cannot say "either" (API Gateway rejects the request before the
 * authorizer runs when any listed source is missing).
 */
export function addWebSocketRoutes({ api, stage }: WebSocketApiParts, getFunction: FunctionLookup): WebSocketRoute[] {
  const twoWay: readonly string[] = WEBSOCKET_API.twoWayRoutes;
  const routes: WebSocketRoute[] = [];
  for (const [routeKey, fnName] of Object.entries(WEBSOCKET_API.routes) as Array<[string, FunctionName]>) {
    routes.push(
      api.addRoute(routeKey, {
        // Not 'Default': that id clashes with the $default route's own construct.
        integration: new WebSocketLambdaIntegration(`${pascal(routeKey)}Integration`, getFunction(fnName)),
        returnResponse: twoWay.includes(routeKey),
      }),
    );
  }
  stage.node.addDependency(...routes);
  return routes;
}
