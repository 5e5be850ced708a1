import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { WebSocket, type RawData } from 'ws';
import { WEBSOCKET_API, type FunctionName } from '../../lib/system';
import { TestFunctions, type AnyEvent, type TestHandler } from './support';
import { LocalWebSocketGateway } from '../../local/websocket-gateway';

/**
 * The local API Gateway WebSocket in-process, with test functions behind its routes, driven by the
 * `ws` client and the real `@aws-sdk/client-apigatewaymanagementapi` client.
 */


const CONNECT = WEBSOCKET_API.routes.$connect;
const DISCONNECT = WEBSOCKET_API.routes.$disconnect;
const DEFAULT = WEBSOCKET_API.routes.$default;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const MAX_POST_BYTES = 128 * 1024;

async function waitFor<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(2);
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs`. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  return Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

const isGone = (error: unknown) => {
  assert.ok(error instanceof GoneException, `expected GoneException, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
  assert.equal(error.$metadata.httpStatusCode, 410);
  return true;
};

let functions: TestFunctions;
let gateway: LocalWebSocketGateway;
let management: ApiGatewayManagementApiClient;
/** Request paths the management client sent (after serialization, as they go on the wire). */
let sentPaths: string[];
let openSockets: WebSocket[];

beforeEach(async () => {
  functions = new TestFunctions();
  functions.handlers.set(CONNECT, () => ({ statusCode: 200 }));
  functions.handlers.set(DISCONNECT, () => ({ statusCode: 200 }));
  functions.handlers.set(DEFAULT, () => ({ statusCode: 200 }));
  gateway = new LocalWebSocketGateway(functions);
  await gateway.listen(0, '127.0.0.1');
  management = new ApiGatewayManagementApiClient({ endpoint: gateway.connectionsEndpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  sentPaths = [];
  management.middlewareStack.add(
    (next) => (args) => {
      sentPaths.push((args.request as { path: string }).path);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordPath' },
  );
  openSockets = [];
});

afterEach(async () => {
  for (const socket of openSockets) socket.terminate();
  management.destroy();
  await gateway.stop();
});

interface TestClient {
  readonly socket: WebSocket;
  readonly connectionId: string;
  readonly connectEvent: AnyEvent;
  readonly received: { readonly data: Buffer; readonly isBinary: boolean }[];
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
}

/** Opens a WebSocket and resolves once it is open, with the connectionId $connect was given. */
async function connect(query = '', options: { readonly protocols?: string[]; readonly headers?: Record<string, string> } = {}): Promise<TestClient> {
  const before = functions.eventsOf(CONNECT).length;
  const socket = new WebSocket(`${gateway.websocketUrl}${query}`, options.protocols ?? [], { headers: options.headers ?? {} });
  openSockets.push(socket);
  const received: { data: Buffer; isBinary: boolean }[] = [];
  socket.on('message', (data: RawData, isBinary: boolean) => received.push({ data: Buffer.from(data as Buffer), isBinary }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const connectEvent = functions.eventsOf(CONNECT)[before];
  assert.ok(connectEvent, '$connect was invoked');
  return { socket, connectionId: connectEvent.requestContext.connectionId, connectEvent, received, closed };
}

/** The HTTP status of a refused upgrade (rejects if the upgrade happens). */
function refusedStatus(query: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${gateway.websocketUrl}${query}`);
    socket.on('error', () => undefined);
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('the upgrade happened'));
    });
    socket.on('unexpected-response', (_request, response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
  });
}

const post = (connectionId: string, data: Uint8Array | string) => management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
const getConnection = (connectionId: string) => management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
const deleteConnection = (connectionId: string) => management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));

/** Resolves once the gateway itself reports the connection gone (GetConnection → 410). */
const gatewayForgot = (connectionId: string) =>
  waitFor(
    () =>
      getConnection(connectionId).then(
        () => false,
        (error: unknown) => error instanceof GoneException,
      ),
    `the gateway to find ${connectionId} gone`,
  );

describe('$connect', () => {
  test('receives the query string, the headers (Sec-WebSocket-Protocol included) and a connectionId; the subprotocol it returns is the one the client sees', async () => {
    functions.handlers.set(CONNECT, (event: AnyEvent) => ({
      statusCode: 200,
      headers: { 'Sec-WebSocket-Protocol': header(event.headers, 'sec-websocket-protocol')!.split(',')[1]!.trim() },
    }));
    const client = await connect('?token=abc.def&room=general', {
      protocols: ['chime-token.eyJabc', 'chime-events'],
      headers: { 'User-Agent': 'gateway-test/1.0', 'X-Client': 'test' },
    });

    const event = client.connectEvent;
    assert.deepEqual(event.queryStringParameters, { token: 'abc.def', room: 'general' });
    assert.equal(header(event.headers, 'Sec-WebSocket-Protocol'), 'chime-token.eyJabc,chime-events');
    assert.equal(header(event.headers, 'User-Agent'), 'gateway-test/1.0');
    assert.equal(header(event.headers, 'X-Client'), 'test');
    assert.deepEqual(event.multiValueHeaders[Object.keys(event.multiValueHeaders).find((name) => name.toLowerCase() === 'x-client')!], ['test']);
    assert.equal(event.requestContext.routeKey, '$connect');
    assert.equal(event.requestContext.eventType, 'CONNECT');
    assert.equal(event.requestContext.stage, WEBSOCKET_API.stageName);
    assert.equal(event.requestContext.identity.sourceIp, '127.0.0.1');
    // API Gateway's connection ids: 16 characters of base64 (so `+`, `/` and `=` occur).
    assert.match(client.connectionId, /^[A-Za-z0-9+/]{15}=$/);
    assert.equal(client.socket.protocol, 'chime-events');

    // Without an offered subprotocol there is none, and every connection gets its own id.
    functions.handlers.set(CONNECT, () => ({ statusCode: 200 }));
    const other = await connect();
    assert.equal(other.socket.protocol, '');
    assert.equal(other.connectEvent.queryStringParameters, null);
    assert.notEqual(other.connectionId, client.connectionId);
  });

  test('a non-2xx answer refuses the upgrade with that status; nothing is connected and $disconnect does not run', async () => {
    functions.handlers.set(CONNECT, (event: AnyEvent) => ({ statusCode: Number(event.queryStringParameters?.status ?? 200), body: 'no' }));
    for (const status of [401, 403, 429, 500]) assert.equal(await refusedStatus(`?status=${status}`), status);

    const refusedIds = functions.eventsOf(CONNECT).map((event: AnyEvent) => event.requestContext.connectionId as string);
    assert.equal(refusedIds.length, 4);
    for (const id of refusedIds) await assert.rejects(getConnection(id), isGone);
    assert.equal(functions.eventsOf(DISCONNECT).length, 0);
  });

  test('a $connect function that throws refuses the upgrade with 500', async () => {
    functions.handlers.set(CONNECT, () => {
      throw new Error('boom');
    });
    const originalError = console.error;
    console.error = () => undefined;
    try {
      assert.equal(await refusedStatus(''), 500);
    } finally {
      console.error = originalError;
    }
  });
});

describe('routes', () => {
  test('frames reach $default with body, connectionId and routeKey ($default for ping, unknown actions, non-JSON and $-actions)', async () => {
    const client = await connect();
    const frames = ['{"action":"ping"}', '{"action":"sendmessage","text":"héllo ✓"}', 'not json at all', '{"action":"$disconnect"}', '{"action":"$connect"}'];
    for (const frame of frames) client.socket.send(frame);
    await waitFor(() => functions.eventsOf(DEFAULT).length === frames.length, 'every frame at $default');

    const events = functions.eventsOf(DEFAULT);
    assert.deepEqual(
      events.map((event: AnyEvent) => event.body),
      frames,
    );
    for (const event of events) {
      assert.equal(event.requestContext.connectionId, client.connectionId);
      assert.equal(event.requestContext.routeKey, '$default');
      assert.equal(event.requestContext.eventType, 'MESSAGE');
      assert.equal(event.isBase64Encoded, false);
      assert.equal(typeof event.requestContext.messageId, 'string');
    }
    // `{"action":"$disconnect"}` is a frame, not a disconnect; $connect ran only once.
    assert.equal(functions.eventsOf(DISCONNECT).length, 0);
    assert.equal(functions.eventsOf(CONNECT).length, 1);
    assert.equal(client.socket.readyState, WebSocket.OPEN);
  });

  test("$default is two-way: the function's returned body is sent back to the sender only; no body, no frame", async () => {
    functions.handlers.set(DEFAULT, (event: AnyEvent) => {
      const action = (JSON.parse(event.body) as { action: string }).action;
      return action === 'ping' ? { statusCode: 200, body: JSON.stringify({ action: 'pong', to: event.requestContext.connectionId }) } : { statusCode: 200 };
    });
    const client = await connect();
    const bystander = await connect();
    client.socket.send('{"action":"hello"}');
    await waitFor(() => functions.eventsOf(DEFAULT).length === 1, 'the first frame at $default');
    client.socket.send('{"action":"ping"}');
    await waitFor(() => client.received.length > 0, 'the pong');

    // A round trip through @connections as a barrier: everything sent before it has arrived.
    await post(client.connectionId, 'barrier');
    await post(bystander.connectionId, 'barrier');
    await waitFor(() => client.received.length === 2 && bystander.received.length === 1, 'the barriers');
    assert.deepEqual(
      client.received.map((message) => message.data.toString('utf8')),
      [JSON.stringify({ action: 'pong', to: client.connectionId }), 'barrier'],
    );
    assert.deepEqual(
      bystander.received.map((message) => message.data.toString('utf8')),
      ['barrier'],
    );
  });

  test('a binary frame is refused as API Gateway does: the connection is closed with 1003 and no route runs', async () => {
    const client = await connect();
    client.socket.send(Buffer.from([0x7b, 0x7d, 0xff, 0x00]), { binary: true });
    const closed = await within(client.closed, 'the close');
    assert.equal(closed.code, 1003);
    assert.equal(functions.eventsOf(DEFAULT).length, 0);
    await gatewayForgot(client.connectionId);
    // A disconnect by the gateway is a clean close: $disconnect runs.
    await waitFor(() => functions.eventsOf(DISCONNECT).length === 1, '$disconnect');
    assert.equal(functions.eventsOf(DISCONNECT)[0].requestContext.connectionId, client.connectionId);
  });
});

describe('disconnects', () => {
  test('a clean close runs $disconnect once, with the same connectionId (whatever the close code)', async () => {
    for (const close of [(socket: WebSocket) => socket.close(1000, 'bye'), (socket: WebSocket) => socket.close(4001), (socket: WebSocket) => socket.close()]) {
      const before = functions.eventsOf(DISCONNECT).length;
      const client = await connect();
      close(client.socket);
      await within(client.closed, 'the close');
      await waitFor(() => functions.eventsOf(DISCONNECT).length > before, '$disconnect');
      await gatewayForgot(client.connectionId);
      await delay(10);
      const events = functions.eventsOf(DISCONNECT).slice(before);
      assert.equal(events.length, 1);
      assert.equal(events[0].requestContext.connectionId, client.connectionId);
      assert.equal(events[0].requestContext.routeKey, '$disconnect');
      assert.equal(events[0].requestContext.eventType, 'DISCONNECT');
    }
  });

  test('terminate() (no close frame) does not run $disconnect; then PostToConnection throws GoneException (410)', async () => {
    const client = await connect();
    client.socket.terminate();
    assert.equal((await within(client.closed, 'the close')).code, 1006);
    // Once the gateway has noticed the dropped TCP connection (its close handler has run, and would
    // have invoked $disconnect synchronously), nothing was invoked.
    await gatewayForgot(client.connectionId);
    await assert.rejects(post(client.connectionId, 'anyone there?'), isGone);
    await delay(10);
    assert.equal(functions.eventsOf(DISCONNECT).length, 0);
  });
});

describe('@connections management API (the real SDK client)', () => {
  test('PostToConnection delivers the exact bytes to the right socket; ids with +, / and = survive the URL-encoding round trip', async () => {
    const clients: TestClient[] = [];
    const joined = () => clients.map((client) => client.connectionId).join('');
    while (!(joined().includes('+') && joined().includes('/') && joined().includes('='))) {
      assert.ok(clients.length < 200, 'connection ids never held +, / and =');
      clients.push(await connect());
    }
    const payloadFor = (id: string) => Buffer.from(JSON.stringify({ to: id, text: 'héllo ✓ 🎉 "quoted" \\ back' }), 'utf8');
    for (const client of clients) {
      const response = await post(client.connectionId, new Uint8Array(payloadFor(client.connectionId)));
      assert.equal(response.$metadata.httpStatusCode, 200);
    }
    await waitFor(() => clients.every((client) => client.received.length === 1), 'one message on every socket');
    for (const client of clients) {
      assert.ok(client.received[0]!.data.equals(payloadFor(client.connectionId)), `exact bytes for ${client.connectionId}`);
    }
    // On the wire: the stage prefix is kept and the id is URL-encoded (+ → %2B, / → %2F, = → %3D).
    assert.deepEqual(
      sentPaths,
      clients.map((client) => `/${WEBSOCKET_API.stageName}/@connections/${encodeURIComponent(client.connectionId)}`),
    );
    assert.ok(sentPaths.some((path) => path.includes('%2B')) && sentPaths.some((path) => path.includes('%2F')) && sentPaths.every((path) => path.endsWith('%3D')));

    // A string Data is sent as is.
    const first = clients[0]!;
    await post(first.connectionId, '{"type":"msg","text":"héllo"}');
    await waitFor(() => first.received.length === 2, 'the string post');
    assert.ok(first.received[1]!.data.equals(Buffer.from('{"type":"msg","text":"héllo"}', 'utf8')));
  });

  test('GetConnection returns ConnectedAt, LastActiveAt (which moves when the client sends a frame) and Identity', async () => {
    const before = Date.now();
    const client = await connect('', { headers: { 'User-Agent': 'gateway-test/2.0' } });
    const after = Date.now();
    const first = await getConnection(client.connectionId);
    assert.equal(first.$metadata.httpStatusCode, 200);
    assert.ok(first.ConnectedAt instanceof Date);
    assert.ok(first.LastActiveAt instanceof Date);
    assert.ok(first.ConnectedAt.getTime() >= before && first.ConnectedAt.getTime() <= after, 'ConnectedAt is the connect time');
    assert.ok(first.LastActiveAt.getTime() >= first.ConnectedAt.getTime());
    assert.equal(first.Identity?.SourceIp, '127.0.0.1');
    assert.equal(first.Identity?.UserAgent, 'gateway-test/2.0');

    await delay(5);
    const sentAt = Date.now();
    client.socket.send('{"action":"ping"}');
    await waitFor(() => functions.eventsOf(DEFAULT).length === 1, 'the frame at $default');
    const second = await getConnection(client.connectionId);
    assert.equal(second.ConnectedAt?.getTime(), first.ConnectedAt.getTime());
    assert.ok(second.LastActiveAt!.getTime() > first.LastActiveAt.getTime(), 'LastActiveAt moved');
    assert.ok(second.LastActiveAt!.getTime() >= sentAt);
  });

  test('DeleteConnection closes the socket (the client sees the close, $disconnect runs once); a second Delete throws GoneException', async () => {
    const client = await connect();
    const other = await connect();
    const response = await deleteConnection(client.connectionId);
    assert.equal(response.$metadata.httpStatusCode, 204);
    const closed = await within(client.closed, 'the close');
    assert.equal(closed.code, 1000);
    await waitFor(() => functions.eventsOf(DISCONNECT).length === 1, '$disconnect');
    assert.equal(functions.eventsOf(DISCONNECT)[0].requestContext.connectionId, client.connectionId);

    await assert.rejects(deleteConnection(client.connectionId), isGone);
    await assert.rejects(post(client.connectionId, 'x'), isGone);
    await assert.rejects(getConnection(client.connectionId), isGone);
    // The other connection is untouched.
    assert.equal(other.socket.readyState, WebSocket.OPEN);
    await post(other.connectionId, 'still here');
    await waitFor(() => other.received.length === 1, 'the post to the other connection');
    assert.equal(functions.eventsOf(DISCONNECT).length, 1);
  });

  test('a post of 128 KB + 1 byte throws PayloadTooLargeException (413) and the socket gets nothing; exactly 128 KB is delivered', async () => {
    const client = await connect();
    const tooLarge = Buffer.alloc(MAX_POST_BYTES + 1, 0x61);
    await assert.rejects(post(client.connectionId, new Uint8Array(tooLarge)), (error: unknown) => {
      assert.ok(error instanceof PayloadTooLargeException, `expected PayloadTooLargeException, got ${(error as Error)?.name}`);
      assert.equal(error.$metadata.httpStatusCode, 413);
      return true;
    });
    // The same connection still works; the marker is the first thing it receives.
    await post(client.connectionId, 'marker');
    await waitFor(() => client.received.length === 1, 'the marker');
    assert.equal(client.received[0]!.data.toString('utf8'), 'marker');

    const atLimit = Buffer.alloc(MAX_POST_BYTES, 0x62);
    await post(client.connectionId, new Uint8Array(atLimit));
    await waitFor(() => client.received.length === 2, 'the 128 KB post');
    assert.ok(client.received[1]!.data.equals(atLimit));
    assert.equal(client.socket.readyState, WebSocket.OPEN);
  });

  test('an unknown connection id is GoneException (410) for Post, Get and Delete', async () => {
    await connect();
    for (const id of ['AAAAAAAAAAAAAAA=', 'ab+cd/ef==', 'no-such-connection']) {
      await assert.rejects(post(id, 'hello'), isGone);
      await assert.rejects(getConnection(id), isGone);
      await assert.rejects(deleteConnection(id), isGone);
    }
  });
});
