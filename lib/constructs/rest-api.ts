/**
 * The Chime-compatible REST API: one greedy proxy resource behind the token authorizer (ARNs hold
 * slashes once API Gateway decodes the path), the IAM-authorized ChannelFlowCallback route of
 * processors, CORS for browser clients, and API Gateway's own errors reshaped into Chime's.
 */
import { Duration } from 'aws-cdk-lib';
import {
  AuthorizationType,
  Cors,
  IdentitySource,
  LambdaIntegration,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { REST_API } from '../system';
import { pascal } from './definition';

/**
 * Headers a browser client may send on a cross-origin request: the bearer token, the Chime bearer
 * ARN and everything the AWS SDK for JavaScript v3 adds to each request.
 */
const CORS_ALLOW_HEADERS = [
  ...Cors.DEFAULT_HEADERS, // Content-Type, X-Amz-Date, Authorization, X-Api-Key, X-Amz-Security-Token, X-Amz-User-Agent
  'X-Amz-Content-Sha256',
  'x-amz-chime-bearer',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
];

/** Response headers a browser SDK must be able to read to map an error to its typed exception. */
const CORS_EXPOSE_HEADERS = ['x-amzn-ErrorType', 'x-amzn-RequestId'];

/**
 * API Gateway's own error responses, reshaped into the Chime error shape (`{"Code","Message"}` plus
 * the `x-amzn-ErrorType` header) so that `@aws-sdk/client-chime-sdk-messaging` raises the typed
 * exception. A missing status code keeps the one API Gateway chose.
 */
const GATEWAY_RESPONSES: ReadonlyArray<{
  readonly type: ResponseType;
  readonly statusCode?: string;
  readonly errorType: string;
  readonly code: string;
}> = [
  { type: ResponseType.UNAUTHORIZED, statusCode: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
  { type: ResponseType.ACCESS_DENIED, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
  // Processors sign callback requests (IAM); a bad or expired signature is a refusal, not a bad request.
  { type: ResponseType.INVALID_SIGNATURE, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
  { type: ResponseType.EXPIRED_TOKEN, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
  { type: ResponseType.THROTTLED, statusCode: '429', errorType: 'ThrottledClientException', code: 'Throttled' },
  { type: ResponseType.DEFAULT_4XX, errorType: 'BadRequestException', code: 'BadRequest' },
  { type: ResponseType.DEFAULT_5XX, errorType: 'ServiceFailureException', code: 'ServiceFailure' },
];

/** Properties of {@link createRestApi}. */
export interface RestApiProps {
  /** The function behind every route (`REST_API.function`), as a Lambda proxy integration. */
  readonly handler: IFunction;

  /** The token authorizer's function (`REST_API.authorizer`), for every route but the callback route. */
  readonly authorizer: IFunction;
}

/**
 * `RestApi` and its request authorizer `Authorizer` in `scope`: `ANY /` and `ANY /{proxy+}` behind
 * the authorizer, `ANY {callbackPathPrefix}/{proxy+}` authorized by IAM, CORS preflight everywhere,
 * the gateway responses, and no `Endpoint` output of its own (outputs belong to the stack that uses
 * the construct).
 */
export function createRestApi(scope: Construct, props: RestApiProps): RestApi {
  const restApi = new RestApi(scope, 'RestApi', {
    description: 'Chime SDK Messaging compatible REST API (channel flows)',
    deployOptions: { stageName: REST_API.stageName, tracingEnabled: true },
    // The account-wide CloudWatch role is an account setting, not this app's to own.
    cloudWatchRole: false,
    defaultCorsPreflightOptions: {
      allowOrigins: Cors.ALL_ORIGINS,
      allowMethods: Cors.ALL_METHODS,
      allowHeaders: CORS_ALLOW_HEADERS,
      exposeHeaders: CORS_EXPOSE_HEADERS,
      maxAge: Duration.hours(1),
    },
  });
  const authorizer = new RequestAuthorizer(scope, 'Authorizer', {
    handler: props.authorizer,
    identitySources: [IdentitySource.header(REST_API.identityHeader)],
    resultsCacheTtl: Duration.seconds(REST_API.authorizerCacheSeconds),
  });
  const integration = new LambdaIntegration(props.handler, { proxy: true });
  restApi.root.addMethod('ANY', integration, { authorizer });
  restApi.root.addResource('{proxy+}').addMethod('ANY', integration, { authorizer });
  // The ChannelFlowCallback route of processors: the same function, but signed requests (SigV4 for
  // `execute-api`) authorized by IAM instead of user tokens. A static resource outranks the root's
  // {proxy+}, so these paths never reach the token authorizer.
  let callbacks = restApi.root;
  for (const part of callbackPathParts()) callbacks = callbacks.addResource(part);
  callbacks.addResource('{proxy+}').addMethod('ANY', integration, { authorizationType: AuthorizationType.IAM });

  for (const r of GATEWAY_RESPONSES) {
    restApi.addGatewayResponse(`${pascal(r.type.responseType.toLowerCase())}Response`, {
      type: r.type,
      ...(r.statusCode ? { statusCode: r.statusCode } : {}),
      responseHeaders: {
        'x-amzn-ErrorType': `'${r.errorType}'`,
        'Access-Control-Allow-Origin': "'*'",
        'Access-Control-Expose-Headers': `'${CORS_EXPOSE_HEADERS.join(',')}'`,
      },
      templates: {
        'application/json': `{"Code":"${r.code}","Message":$context.error.messageString}`,
      },
    });
  }
  // RestApi adds an `Endpoint` output of its own; outputs belong to the stack that uses the construct.
  restApi.node.tryRemoveChild('Endpoint');
  return restApi;
}

/** `{restUrl}callbacks`: the base URL of the ChannelFlowCallback route. */
export function callbackUrl(restApi: RestApi): string {
  return restApi.urlForPath(REST_API.callbackPathPrefix);
}

/**
 * Grants `execute-api:Invoke` on the ChannelFlowCallback route (`{callbackPathPrefix}/*` of the
 * REST API's stage, any method) and nothing else of the API.
 */
export function grantCallbackRoute(restApi: RestApi, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['execute-api:Invoke'],
    resourceArns: [restApi.arnForExecuteApi('*', `${REST_API.callbackPathPrefix}/*`, REST_API.stageName)],
  });
}

/** `/callbacks` → `['callbacks']`. */
function callbackPathParts(): string[] {
  const prefix: string = REST_API.callbackPathPrefix;
  const parts = prefix.split('/').slice(1);
  if (!prefix.startsWith('/') || parts.length === 0 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new Error(`REST_API.callbackPathPrefix "${prefix}" must be a path of plain segments, starting with "/"`);
  }
  return parts;
}
