import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { badRequest, forbidden, isChimeError, serviceFailure, type ChimeError } from '../core/errors';
import type { Caller } from '../core/model';
import { REST_API } from '../../lib/system';

/**
 * The HTTP edge of the REST handler: turning an API Gateway proxy event into a request the
 * operations understand, and results and errors into restJson1 responses.
 */
export interface ApiRequest {
  readonly method: string;
  /** The decoded path: ARNs inside it hold their slashes. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly requestId: string;
  /** The user a verified JWT names; absent on the IAM-authorized callback resource. */
  readonly caller?: Caller;
  /** The IAM principal of a request that came through the callback resource (processors). */
  readonly iamCaller?: string;
}

const CALLBACK_RESOURCE = `${REST_API.callbackPathPrefix}/{proxy+}`;
const USER_TOKEN_REQUIRED = 'This operation needs a user token; the callback endpoint serves only ChannelFlowCallback';

export function toApiRequest(event: APIGatewayProxyEvent): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  const body = event.body === null || event.body === undefined ? null : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const caller = callerFromAuthorizer(event.requestContext?.authorizer);
  const viaCallbackResource = event.resource === CALLBACK_RESOURCE;
  const path = decodePath(event.path);
  const iamCaller = viaCallbackResource ? (event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? 'unknown') : undefined;
  return {
    method: event.httpMethod.toUpperCase(),
    // Behind the callback resource, the operation's own path follows the prefix.
    path: viaCallbackResource ? path.slice(path.indexOf(REST_API.callbackPathPrefix) + REST_API.callbackPathPrefix.length) || '/' : path,
    query,
    headers,
    body,
    requestId: event.requestContext?.requestId ?? '',
    ...(caller !== undefined && { caller }),
    ...(iamCaller !== undefined && { iamCaller }),
  };
}

/**
 * API Gateway REST hands the function the path as the client encoded it (ARNs arrive as
 * `arn%3Aaws%3Achime…%2Fchannel%2F…`). It is decoded exactly once: a `%` that survives decoding is
 * a literal one, which no ARN or id may hold, so validation refuses it.
 */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw badRequest('The request path is not valid percent-encoding');
  }
}

/** The authorizer's context arrives as strings; an absent context means the route had no authorizer. */
function callerFromAuthorizer(context: Record<string, unknown> | null | undefined): Caller | undefined {
  if (!context || typeof context.userArn !== 'string' || typeof context.userId !== 'string') return undefined;
  return {
    userId: context.userId,
    userArn: context.userArn,
    name: typeof context.name === 'string' ? context.name : context.userId,
    isAdmin: context.isAdmin === true || context.isAdmin === 'true',
  };
}

/** The verified caller, who must be the AppInstanceUser that `x-amz-chime-bearer` names. */
export function bearerCaller(request: ApiRequest): Caller {
  const caller = request.caller;
  if (!caller) throw forbidden(USER_TOKEN_REQUIRED);
  const bearer = request.headers['x-amz-chime-bearer'];
  if (bearer === undefined || bearer === '') throw badRequest('The x-amz-chime-bearer header is required');
  if (bearer !== caller.userArn) {
    throw forbidden(`x-amz-chime-bearer ${bearer} does not match the authenticated user ${caller.userArn}`);
  }
  return caller;
}

/**
 * The verified caller of a "developer API" (the channel flow operations that carry no
 * x-amz-chime-bearer in Chime): the token's own identity, with no bearer header required.
 */
export function authenticatedCaller(request: ApiRequest): Caller {
  if (!request.caller) throw forbidden(USER_TOKEN_REQUIRED);
  return request.caller;
}

/** The JSON body as an object; an absent body is an empty request. */
export function jsonBody(request: ApiRequest): unknown {
  if (request.body === null || request.body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('The request body must be a JSON object');
  }
  return parsed;
}

const BASE_HEADERS = {
  'Content-Type': 'application/json',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'x-amzn-ErrorType,x-amzn-RequestId',
};

export function jsonResponse(statusCode: number, body: unknown, requestId: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, 'x-amzn-RequestId': requestId },
    body: statusCode === 204 ? '' : JSON.stringify(body ?? {}),
  };
}

export function errorResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  const chimeError: ChimeError = isChimeError(error) ? error : serviceFailure('The service could not complete the request');
  return {
    statusCode: chimeError.status,
    headers: { ...BASE_HEADERS, 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': chimeError.shape },
    body: JSON.stringify({ Code: chimeError.code, Message: chimeError.message }),
  };
}
