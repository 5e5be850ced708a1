import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { REST_API } from '../lib/system';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';
import type { LocalFunctions } from './functions';
import { multiValueHeaders, singleValueHeaders } from './http-events';

/**
 * Plays API Gateway REST for the local runtime: the request authorizer with its decision cache,
 * the `{proxy+}` Lambda proxy integration with the event API Gateway builds, and the gateway
 * responses in the Chime error shape. As in captures of real REST API events, `path` keeps the
 * client's percent-encoding while `pathParameters.proxy` is decoded.
 */
export interface LocalRoute {
  readonly method: string;
  readonly path: string;
  handle(request: IncomingMessage, body: string, response: ServerResponse): Promise<void>;
}

const API_ID = 'local';
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET,POST,PUT,DELETE,OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization,Content-Type,x-amz-chime-bearer,x-amz-date,x-amz-security-token,x-amz-user-agent,x-amz-content-sha256,amz-sdk-invocation-id,amz-sdk-request',
};

/** Gateway responses, as the CDK construct configures them (a browser SDK must be able to read x-amzn-ErrorType). */
function gatewayError(response: ServerResponse, status: number, shape: string, code: string, message: string): void {
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'x-amzn-ErrorType': shape,
    ...CORS_HEADERS,
    'Access-Control-Expose-Headers': 'x-amzn-ErrorType,x-amzn-RequestId',
  });
  response.end(JSON.stringify({ Code: code, Message: message }));
}

interface CachedDecision {
  readonly result: APIGatewayAuthorizerResult | 'Unauthorized';
  readonly expiresAt: number;
}

export class LocalRestGateway {
  private readonly decisions = new Map<string, CachedDecision>();
  private readonly server: Server;

  constructor(
    private readonly functions: LocalFunctions,
    private readonly localRoutes: readonly LocalRoute[],
  ) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        console.error('local REST gateway error', error);
        // A function that throws (or a failing authorizer) is API Gateway's 502, shaped by DEFAULT_5XX.
        if (!response.headersSent) gatewayError(response, 502, 'ServiceFailureException', 'ServiceFailure', 'Internal server error');
        else response.end();
      });
    });
    this.server.keepAliveTimeout = 5000;
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('REST gateway has no TCP address');
    return `http://${host}:${address.port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // The request target as sent: WHATWG URL parsing would resolve `..` segments and read `//x` as
    // a host, handing the function another path than the client asked for.
    const target = request.url ?? '/';
    const queryStart = target.indexOf('?');
    const url = {
      pathname: queryStart === -1 ? target : target.slice(0, queryStart),
      searchParams: new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)),
    };
    const method = (request.method ?? 'GET').toUpperCase();
    const body = await readBody(request);

    const localRoute = this.localRoutes.find((route) => route.method === method && route.path === url.pathname);
    if (localRoute) return localRoute.handle(request, body, response);

    if (method === 'OPTIONS') {
      response.writeHead(204, CORS_HEADERS);
      response.end();
      return;
    }

    const rawPath = url.pathname;
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return gatewayError(response, 400, 'BadRequestException', 'BadRequest', 'The request path is not valid percent-encoding');
    }
    const headers = singleValueHeaders(request);
    const query = Object.fromEntries(url.searchParams.entries());
    const requestId = randomUUID();
    const methodArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${API_ID}/${REST_API.stageName}/${method}${rawPath}`;

    const header = (name: string) => headers[Object.keys(headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase()) ?? ''];
    const invokeProxy = async (resource: string, proxy: string, authorizer: Record<string, unknown> | undefined, identity?: Record<string, unknown>) => {
      const context = requestContext(method, rawPath, requestId, authorizer, resource);
      const event: APIGatewayProxyEvent = {
        resource,
        path: rawPath,
        httpMethod: method,
        headers,
        multiValueHeaders: multiValueHeaders(request),
        queryStringParameters: Object.keys(query).length > 0 ? query : null,
        multiValueQueryStringParameters: Object.keys(query).length > 0 ? multiValueQuery(url) : null,
        pathParameters: { proxy },
        stageVariables: null,
        requestContext: identity === undefined ? context : { ...context, identity: { ...context.identity, ...identity } },
        body: body === '' ? null : body,
        isBase64Encoded: false,
      };
      const result = await this.functions.invoke<APIGatewayProxyResult>(REST_API.function, event);
      response.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
      response.end(result.body);
    };

    // The callback resource is authorized by IAM: API Gateway verifies the SigV4 signature (for
    // execute-api) against the caller's IAM policy. Locally there are no IAM principals, so the
    // gateway checks that the request is signed and takes the access key as the caller.
    const callbackPrefix = `${REST_API.callbackPathPrefix}/`;
    if (rawPath.startsWith(callbackPrefix)) {
      // As the construct's gateway responses shape API Gateway's: no Authorization at all is
      // MISSING_AUTHENTICATION_TOKEN (401), anything but a SigV4 one INCOMPLETE_SIGNATURE (403).
      const authorization = header('authorization');
      if (authorization === undefined) return gatewayError(response, 401, 'UnauthorizedClientException', 'Unauthorized', 'Missing Authentication Token');
      const credential = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\//.exec(authorization)?.[1];
      if (credential === undefined) {
        return gatewayError(response, 403, 'ForbiddenException', 'Forbidden', 'Authorization header requires a SigV4 signature for execute-api');
      }
      const caller = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${credential}`;
      return invokeProxy(`${REST_API.callbackPathPrefix}/{proxy+}`, path.slice(callbackPrefix.length), undefined, { accessKey: credential, userArn: caller, caller });
    }

    const token = header(REST_API.identityHeader);
    if (!token) return gatewayError(response, 401, 'UnauthorizedClientException', 'Unauthorized', 'Unauthorized');
    const decision = await this.authorize(token, {
      type: 'REQUEST',
      methodArn,
      resource: '/{proxy+}',
      path: rawPath,
      httpMethod: method,
      headers,
      multiValueHeaders: multiValueHeaders(request),
      pathParameters: { proxy: path.slice(1) },
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: requestContext(method, rawPath, requestId, undefined, '/{proxy+}'),
    } as unknown as APIGatewayRequestAuthorizerEvent);
    if (decision === 'Unauthorized') return gatewayError(response, 401, 'UnauthorizedClientException', 'Unauthorized', 'Unauthorized');
    if (!allows(decision, methodArn)) {
      return gatewayError(response, 403, 'ForbiddenException', 'Forbidden', 'User is not authorized to access this resource');
    }
    return invokeProxy('/{proxy+}', path.slice(1), { ...decision.context, principalId: decision.principalId });
  }

  /** Decisions are cached per token for the authorizer's TTL, as API Gateway does. */
  private async authorize(token: string, event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult | 'Unauthorized'> {
    const cached = this.decisions.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.result;
    let result: APIGatewayAuthorizerResult | 'Unauthorized';
    try {
      result = await this.functions.invoke<APIGatewayAuthorizerResult>(REST_API.authorizer, event);
    } catch (error) {
      if ((error as Error).message !== 'Unauthorized') throw error;
      result = 'Unauthorized';
    }
    this.decisions.set(token, { result, expiresAt: Date.now() + REST_API.authorizerCacheSeconds * 1000 });
    return result;
  }
}

function allows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const statements = result.policyDocument.Statement as Array<{ Effect: string; Resource?: string | string[] }>;
  const matches = (pattern: string) => new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`).test(methodArn);
  const applies = (statement: { Resource?: string | string[] }) => [statement.Resource ?? []].flat().some(matches);
  return !statements.some((statement) => statement.Effect === 'Deny' && applies(statement)) && statements.some((statement) => statement.Effect === 'Allow' && applies(statement));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function requestContext(method: string, rawPath: string, requestId: string, authorizer: Record<string, unknown> | undefined, resourcePath: string) {
  return {
    accountId: LOCAL_ACCOUNT_ID,
    apiId: API_ID,
    authorizer: authorizer ?? null,
    httpMethod: method,
    identity: { sourceIp: '127.0.0.1', userAgent: null, accessKey: null, userArn: null, caller: null },
    path: `/${REST_API.stageName}${rawPath}`,
    protocol: 'HTTP/1.1',
    requestId,
    requestTimeEpoch: Date.now(),
    resourceId: 'proxy',
    resourcePath,
    stage: REST_API.stageName,
  } as unknown as APIGatewayProxyEvent['requestContext'];
}



function multiValueQuery(url: { readonly searchParams: URLSearchParams }): Record<string, string[]> {
  const query: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams.entries()) (query[name] ??= []).push(value);
  return query;
}

/** API Gateway's payload limit is 10 MB; the local gateway refuses more in the same way. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('Request body exceeds 10 MB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
