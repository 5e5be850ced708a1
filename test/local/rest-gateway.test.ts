import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  ChimeSDKMessagingClient,
  DescribeChannelCommand,
  ForbiddenException,
  UnauthorizedClientException,
} from '@aws-sdk/client-chime-sdk-messaging';
import { REST_API, type FunctionName } from '../../lib/system';
import { TestFunctions, type AnyEvent } from './support';
import { LocalRestGateway } from '../../local/rest-gateway';

/**
 * The local API Gateway REST API in-process, with test functions as its authorizer and proxy
 * function, driven by raw HTTP (exact bytes on the wire) and the real Chime SDK Messaging client.
 */

const AUTHORIZER = REST_API.authorizer;
const FUNCTION = REST_API.function;
const ACCOUNT = '000000000000';
const API_ARN = `arn:aws:execute-api:us-east-1:${ACCOUNT}:local/${REST_API.stageName}`;
const APP_INSTANCE = `arn:aws:chime:us-east-1:${ACCOUNT}:app-instance/local`;
const ALICE = `${APP_INSTANCE}/user/alice`;
const CHIME_ERROR_EXPOSED = 'x-amzn-ErrorType,x-amzn-RequestId';

/**
 * What the authorizer decides, by token: `allow-<user>` allows the whole stage (as the shipped
 * authorizer does), `get-only` allows GET only, `deny` denies explicitly, anything else is 'Unauthorized'.
 */
function testAuthorizer(event: AnyEvent) {
  const token = /^Bearer (\S+)$/.exec(event.headers.Authorization ?? event.headers.authorization ?? '')?.[1] ?? '';
  const policy = (effect: 'Allow' | 'Deny', resource: string) => ({ Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] });
  if (token.startsWith('allow-')) {
    const user = token.slice('allow-'.length);
    return { principalId: `${APP_INSTANCE}/user/${user}`, policyDocument: policy('Allow', `${API_ARN}/*`), context: { userId: user, userArn: `${APP_INSTANCE}/user/${user}`, isAdmin: 'false' } };
  }
  if (token === 'get-only') return { principalId: 'get-only', policyDocument: policy('Allow', `${API_ARN}/GET/*`), context: {} };
  if (token === 'deny') return { principalId: 'denied', policyDocument: policy('Deny', `${API_ARN}/*`), context: {} };
  throw new Error('Unauthorized');
}

let functions: TestFunctions;
let gateway: LocalRestGateway;
let restUrl: string;

beforeEach(async () => {
  functions = new TestFunctions();
  functions.handlers.set(AUTHORIZER, testAuthorizer);
  functions.handlers.set(FUNCTION, () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' }));
  gateway = new LocalRestGateway(functions, []);
  restUrl = await gateway.listen(0, '127.0.0.1');
});

afterEach(async () => {
  await gateway.stop();
});

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One HTTP request with `path` written to the wire exactly as given (no URL normalization). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const url = new URL(restUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A gateway response: status, `x-amzn-ErrorType`, the Chime body shape `{"Code","Message"}` and CORS headers. */
function assertGatewayError(response: RawResponse, status: number, errorType: string, code: string, message?: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.headers['x-amzn-errortype'], errorType);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = JSON.parse(response.text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['Code', 'Message']);
  assert.equal(body.Code, code);
  assert.equal(typeof body.Message, 'string');
  if (message !== undefined) assert.equal(body.Message, message);
  assert.equal(response.headers['access-control-allow-origin'], '*');
  // As the CDK construct's gateway responses: a browser SDK must be able to read x-amzn-ErrorType.
  assert.equal(response.headers['access-control-expose-headers'], CHIME_ERROR_EXPOSED);
}

function chimeClient(token: string | undefined): ChimeSDKMessagingClient {
  const client = new ChimeSDKMessagingClient({ endpoint: restUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers: Record<string, string> };
      if (token === undefined) delete request.headers.authorization;
      else request.headers.authorization = `Bearer ${token}`;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'bearerToken', priority: 'low' },
  );
  return client;
}

describe('the request authorizer', () => {
  test('no Authorization header: 401 UnauthorizedClientException in the Chime shape, and the authorizer is not invoked', async () => {
    assertGatewayError(await raw('GET', '/channels?app-instance-arn=x', { 'x-amz-chime-bearer': ALICE }), 401, 'UnauthorizedClientException', 'Unauthorized');
    assertGatewayError(await raw('POST', '/channels', { Authorization: '' }, '{}'), 401, 'UnauthorizedClientException', 'Unauthorized');

    // The real SDK client without a token maps it to its typed exception.
    const client = chimeClient(undefined);
    try {
      await assert.rejects(client.send(new DescribeChannelCommand({ ChannelArn: `${APP_INSTANCE}/channel/c-1`, ChimeBearer: ALICE })), (error: unknown) => {
        assert.ok(error instanceof UnauthorizedClientException, `got ${(error as Error).name}`);
        assert.equal(error.$metadata.httpStatusCode, 401);
        assert.equal(error.Code, 'Unauthorized');
        return true;
      });
    } finally {
      client.destroy();
    }
    assert.equal(functions.eventsOf(AUTHORIZER).length, 0);
    assert.equal(functions.eventsOf(FUNCTION).length, 0);
  });

  test('the decision is cached per token: one authorizer call per token across requests, the cached policy judged per method', async () => {
    for (const [method, path] of [
      ['GET', '/channels?app-instance-arn=x'],
      ['POST', '/channels'],
      ['DELETE', '/channels/abc'],
    ] as const) {
      assert.equal((await raw(method, path, { Authorization: 'Bearer allow-alice' })).status, 200);
    }
    assert.equal(functions.eventsOf(AUTHORIZER).length, 1);
    const event = functions.eventsOf(AUTHORIZER)[0];
    assert.equal(event.type, 'REQUEST');
    assert.equal(event.methodArn, `${API_ARN}/GET/channels`);
    assert.equal(event.headers.Authorization, 'Bearer allow-alice');

    assert.equal((await raw('GET', '/channels', { Authorization: 'Bearer allow-bob' })).status, 200);
    assert.equal((await raw('GET', '/channels', { Authorization: 'Bearer allow-bob' })).status, 200);
    assert.equal(functions.eventsOf(AUTHORIZER).length, 2);

    // A cached Allow for GET only: a POST with the same token is refused without asking again.
    assert.equal((await raw('GET', '/channels', { Authorization: 'Bearer get-only' })).status, 200);
    assertGatewayError(await raw('POST', '/channels', { Authorization: 'Bearer get-only' }, '{}'), 403, 'ForbiddenException', 'Forbidden');
    assert.equal(functions.eventsOf(AUTHORIZER).length, 3);
    assert.equal(functions.eventsOf(FUNCTION).length, 6);
  });

  test("an authorizer that throws 'Unauthorized' is a 401; the function is not invoked", async () => {
    assertGatewayError(await raw('GET', '/channels', { Authorization: 'Bearer not-a-valid-token' }), 401, 'UnauthorizedClientException', 'Unauthorized');
    assertGatewayError(await raw('GET', '/channels', { Authorization: 'Basic dXNlcjpwYXNz' }), 401, 'UnauthorizedClientException', 'Unauthorized');
    assert.equal(functions.eventsOf(FUNCTION).length, 0);
  });

  test('a Deny policy is a 403 ForbiddenException (also as the SDK sees it); the function is not invoked', async () => {
    assertGatewayError(await raw('GET', '/channels', { Authorization: 'Bearer deny' }), 403, 'ForbiddenException', 'Forbidden');
    const client = chimeClient('deny');
    try {
      await assert.rejects(client.send(new DescribeChannelCommand({ ChannelArn: `${APP_INSTANCE}/channel/c-1`, ChimeBearer: ALICE })), (error: unknown) => {
        assert.ok(error instanceof ForbiddenException, `got ${(error as Error).name}`);
        assert.equal(error.$metadata.httpStatusCode, 403);
        return true;
      });
    } finally {
      client.destroy();
    }
    assert.equal(functions.eventsOf(FUNCTION).length, 0);
    assert.equal(functions.eventsOf(AUTHORIZER).length, 1);
  });
});

describe('the {proxy+} Lambda proxy event', () => {
  test('path keeps the percent-encoding exactly as sent, pathParameters.proxy is decoded; query, headers, body and authorizer context are there', async () => {
    functions.handlers.set(FUNCTION, () => ({ statusCode: 201, headers: { 'Content-Type': 'application/json', 'X-Test': 'yes' }, body: '{"created":true}' }));
    const path = '/channels/arn%3Aaws%3Achime%3Aus-east-1%3A000000000000%3aapp-instance%2Flocal%2fchannel%2Fc%201%2B%C3%A9/messages';
    const query = '?max-results=5&next-token=a%2Fb%3D%3D&sort-order=DESCENDING&tag=one&tag=two';
    const response = await raw('POST', `${path}${query}`, { Authorization: 'Bearer allow-alice', 'x-amz-chime-bearer': ALICE, 'Content-Type': 'application/json' }, '{"Content":"héllo"}');

    // The function's answer is what the client gets.
    assert.equal(response.status, 201);
    assert.equal(response.headers['x-test'], 'yes');
    assert.equal(response.text, '{"created":true}');

    const [event] = functions.eventsOf(FUNCTION);
    assert.equal(event.resource, '/{proxy+}');
    assert.equal(event.path, path);
    assert.deepEqual(event.pathParameters, { proxy: 'channels/arn:aws:chime:us-east-1:000000000000:app-instance/local/channel/c 1+é/messages' });
    assert.equal(event.httpMethod, 'POST');
    // The last value of a repeated parameter wins in queryStringParameters, as in API Gateway.
    assert.deepEqual(event.queryStringParameters, { 'max-results': '5', 'next-token': 'a/b==', 'sort-order': 'DESCENDING', tag: 'two' });
    assert.deepEqual(event.multiValueQueryStringParameters, { 'max-results': ['5'], 'next-token': ['a/b=='], 'sort-order': ['DESCENDING'], tag: ['one', 'two'] });
    assert.equal(event.headers['x-amz-chime-bearer'], ALICE);
    assert.equal(event.headers.Authorization, 'Bearer allow-alice');
    assert.deepEqual(event.multiValueHeaders['x-amz-chime-bearer'], [ALICE]);
    assert.equal(event.body, '{"Content":"héllo"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.resourcePath, '/{proxy+}');
    assert.equal(event.requestContext.httpMethod, 'POST');
    assert.equal(event.requestContext.stage, REST_API.stageName);
    assert.equal(event.requestContext.path, `/${REST_API.stageName}${path}`);
    assert.equal(typeof event.requestContext.requestId, 'string');
    assert.deepEqual(event.requestContext.authorizer, { userId: 'alice', userArn: ALICE, isAdmin: 'false', principalId: ALICE });

    // The authorizer saw the same request (and the method ARN built from the raw path).
    const [authorizerEvent] = functions.eventsOf(AUTHORIZER);
    assert.equal(authorizerEvent.methodArn, `${API_ARN}/POST${path}`);
    assert.equal(authorizerEvent.path, path);
  });

  test('dot segments and a leading // reach the function as sent, not resolved into another path', async () => {
    await raw('GET', '/channels/%2e%2e/x', { Authorization: 'Bearer allow-alice' });
    await raw('GET', '//channels/abc', { Authorization: 'Bearer allow-alice' });
    const [dots, doubled] = functions.eventsOf(FUNCTION);
    assert.equal(dots.path, '/channels/%2e%2e/x');
    assert.deepEqual(dots.pathParameters, { proxy: 'channels/../x' });
    assert.equal(doubled.path, '//channels/abc');
  });

  test('a function that throws is a 502 ServiceFailureException, as API Gateway answers a failed proxy integration', async () => {
    functions.handlers.set(FUNCTION, () => {
      throw new Error('boom');
    });
    const originalError = console.error;
    console.error = () => undefined;
    try {
      assertGatewayError(await raw('GET', '/channels/abc', { Authorization: 'Bearer allow-alice' }), 502, 'ServiceFailureException', 'ServiceFailure');
    } finally {
      console.error = originalError;
    }
  });

  test('a GET has a null body and, without a query, null query parameters', async () => {
    await raw('GET', '/channels/abc', { Authorization: 'Bearer allow-alice' });
    const [event] = functions.eventsOf(FUNCTION);
    assert.equal(event.body, null);
    assert.equal(event.queryStringParameters, null);
    assert.equal(event.multiValueQueryStringParameters, null);
    assert.deepEqual(event.pathParameters, { proxy: 'channels/abc' });
  });

  test('the real Chime SDK client: the event path is byte for byte what the SDK sent, and the SDK reads the answer', async () => {
    const channelArn = `${APP_INSTANCE}/channel/general+1=`;
    functions.handlers.set(FUNCTION, () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Channel: { ChannelArn: channelArn, Name: 'general', Mode: 'RESTRICTED', Privacy: 'PUBLIC' } }),
    }));
    const client = chimeClient('allow-alice');
    const sentPaths: string[] = [];
    client.middlewareStack.add(
      (next) => (args) => {
        sentPaths.push((args.request as { path: string }).path);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordPath' },
    );
    try {
      const output = await client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: ALICE }));
      assert.equal(output.Channel?.Name, 'general');
      assert.equal(output.Channel?.ChannelArn, channelArn);
    } finally {
      client.destroy();
    }
    const [event] = functions.eventsOf(FUNCTION);
    assert.equal(sentPaths.length, 1);
    assert.equal(event.path, sentPaths[0]);
    assert.equal(event.path, `/channels/${encodeURIComponent(channelArn)}`);
    assert.equal(event.pathParameters.proxy, `channels/${channelArn}`);
    assert.equal(event.httpMethod, 'GET');
    assert.equal(event.headers['x-amz-chime-bearer'], ALICE);
  });
});

describe('/callbacks/{proxy+} (IAM)', () => {
  const CALLBACK_PATH = `/callbacks/channels/${encodeURIComponent(`${APP_INSTANCE}/channel/c-1`)}`;
  const SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKIDPROCESSOR/20300101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123abcd';

  test('a signed request skips the JWT authorizer and reaches the function with resource /callbacks/{proxy+} and the caller identity', async () => {
    const body = '{"CallbackId":"cb","ChannelMessage":{"MessageId":"m-1"}}';
    const response = await raw('POST', `${CALLBACK_PATH}?operation=channel-flow-callback`, { Authorization: SIGV4, 'Content-Type': 'application/json', 'X-Amz-Date': '20300101T000000Z' }, body);
    assert.equal(response.status, 200, response.text);
    assert.equal(functions.eventsOf(AUTHORIZER).length, 0);

    const [event] = functions.eventsOf(FUNCTION);
    assert.equal(event.resource, '/callbacks/{proxy+}');
    assert.equal(event.requestContext.resourcePath, '/callbacks/{proxy+}');
    assert.equal(event.path, CALLBACK_PATH);
    assert.deepEqual(event.pathParameters, { proxy: `channels/${APP_INSTANCE}/channel/c-1` });
    assert.deepEqual(event.queryStringParameters, { operation: 'channel-flow-callback' });
    assert.equal(event.body, body);
    assert.equal(event.requestContext.authorizer, null);
    assert.equal(event.requestContext.identity.accessKey, 'AKIDPROCESSOR');
    assert.equal(event.requestContext.identity.caller, `arn:aws:iam::${ACCOUNT}:user/AKIDPROCESSOR`);
    assert.equal(event.requestContext.identity.userArn, `arn:aws:iam::${ACCOUNT}:user/AKIDPROCESSOR`);
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
  });

  test('without Authorization: 401; with anything but a SigV4 Authorization: 403; nothing is invoked (a user token is no signature)', async () => {
    const url = `${CALLBACK_PATH}?operation=channel-flow-callback`;
    assertGatewayError(await raw('POST', url, { 'Content-Type': 'application/json' }, '{}'), 401, 'UnauthorizedClientException', 'Unauthorized', 'Missing Authentication Token');
    assertGatewayError(await raw('POST', url, { Authorization: 'Bearer allow-alice' }, '{}'), 403, 'ForbiddenException', 'Forbidden');
    assertGatewayError(await raw('POST', url, { Authorization: 'AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00' }, '{}'), 403, 'ForbiddenException', 'Forbidden');
    assert.equal(functions.calls.length, 0);
  });
});

describe('CORS', () => {
  test('OPTIONS answers the preflight without invoking anything, on any path and without a token', async () => {
    for (const path of ['/channels', `/channels/${encodeURIComponent(`${APP_INSTANCE}/channel/c-1`)}/messages`, '/callbacks/channels/x']) {
      const response = await raw('OPTIONS', path, {
        Origin: 'http://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-amz-chime-bearer',
      });
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
      assert.equal(response.headers['access-control-allow-origin'], '*');
      assert.match(String(response.headers['access-control-allow-methods']), /POST/);
      const allowed = String(response.headers['access-control-allow-headers']).toLowerCase().split(',');
      for (const name of ['authorization', 'content-type', 'x-amz-chime-bearer', 'x-amz-date', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request']) {
        assert.ok(allowed.includes(name), `${name} is an allowed header`);
      }
    }
    assert.equal(functions.calls.length, 0);
  });
});
