/**
 * Real parts for the fan-out integration tests: a fake API Gateway @connections management API on
 * loopback (a real HTTP server the real `ApiGatewayManagementApiClient` talks to), and a counting
 * proxy in front of the local DynamoDB, which tells how many DynamoDB requests of each operation
 * the code under test actually sent over the wire (the requests the operator pays for).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------
// @connections

export interface Reply {
  readonly status: number;
  /** `x-amzn-ErrorType`, as API Gateway sends it on errors. */
  readonly errorType?: string;
}

export const OK: Reply = { status: 200 };
export const GONE: Reply = { status: 410, errorType: 'GoneException' };
export const THROTTLED: Reply = { status: 429, errorType: 'LimitExceededException' };
export const SERVER_ERROR: Reply = { status: 500, errorType: 'InternalServerErrorException' };

export interface ReceivedPost {
  readonly connectionId: string;
  /** The raw body, exactly as it arrived. */
  readonly body: Buffer;
  /** performance.now() when the request arrived. */
  readonly arrivedAt: number;
  /** The status it was answered with (set once answered). */
  status?: number;
}

/**
 * Plays API Gateway's management API of one stage: `POST /{stage}/@connections/{id}` (URL-encoded
 * id), answered from a per-connection script of replies (the last one repeats; 200 by default).
 * `DELETE` answers 204 and `GET` 200 with a small JSON body, unless scripted otherwise.
 */
export class FakeConnectionsApi {
  readonly posts: ReceivedPost[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Runs while a post is in flight, before it is answered (to hold responses, or look at the tables). */
  beforeReply: ((post: ReceivedPost) => Promise<void> | void) | undefined;
  private readonly scripts = new Map<string, Reply[]>();
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly stage: string,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(stage = 'v1'): Promise<FakeConnectionsApi> {
    let api: FakeConnectionsApi | undefined;
    const server = createServer((request, response) => {
      api!.handle(request, response).catch((error: unknown) => {
        response.writeHead(599).end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = new FakeConnectionsApi(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/${stage}`, stage);
    return api;
  }

  /** The replies a connection gets, in order; the last one repeats. */
  script(connectionId: string, ...replies: Reply[]): void {
    this.scripts.set(connectionId, replies);
  }

  /** Forgets posts, scripts, hooks and the in-flight high-water mark. */
  reset(): void {
    this.posts.length = 0;
    this.scripts.clear();
    this.beforeReply = undefined;
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  postsTo(connectionId: string): ReceivedPost[] {
    return this.posts.filter((post) => post.connectionId === connectionId);
  }

  /** The frames (UTF-8 bodies) a connection received with a 200. */
  framesDeliveredTo(connectionId: string): string[] {
    return this.postsTo(connectionId)
      .filter((post) => post.status === 200)
      .map((post) => post.body.toString('utf8'));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const prefix = `/${this.stage}/@connections/`;
    if (!url.pathname.startsWith(prefix) || url.pathname.slice(prefix.length).includes('/')) {
      return error(response, 404, 'NotFoundException', `No route for ${request.method} ${url.pathname}`);
    }
    const connectionId = decodeURIComponent(url.pathname.slice(prefix.length));
    if (request.method === 'DELETE') return void response.writeHead(204).end();
    if (request.method === 'GET') {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      return void response.end(JSON.stringify({ ConnectedAt: new Date().toISOString(), LastActiveAt: new Date().toISOString() }));
    }
    if (request.method !== 'POST') return error(response, 405, 'MethodNotAllowedException', `${request.method} is not supported`);

    const post: ReceivedPost = { connectionId, body: Buffer.concat(chunks), arrivedAt: performance.now() };
    this.posts.push(post);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.beforeReply?.(post);
    } finally {
      this.inFlight -= 1;
    }
    const script = this.scripts.get(connectionId);
    const reply = script === undefined ? OK : script.length > 1 ? script.shift()! : script[0]!;
    post.status = reply.status;
    if (reply.status === 200) return void response.writeHead(200).end();
    return error(response, reply.status, reply.errorType, `scripted ${reply.status}`);
  }
}

function error(response: ServerResponse, status: number, errorType: string | undefined, message: string): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...(errorType !== undefined && { 'x-amzn-ErrorType': errorType }) });
  response.end(JSON.stringify({ message }));
}

// ---------------------------------------------------------------------------------------------
// DynamoDB request counting

/**
 * An HTTP proxy in front of a DynamoDB endpoint that forwards every request untouched and counts
 * them by operation (`X-Amz-Target`), so that tests see what went over the wire, retries included.
 */
export class CountingProxy {
  private readonly counts = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<CountingProxy> {
    const targetUrl = new URL(target);
    let proxy: CountingProxy | undefined;
    const server = createServer((request, response) => {
      const operation = String(request.headers['x-amz-target'] ?? 'unknown').replace(/^DynamoDB_\d+\./, '');
      proxy!.counts.set(operation, (proxy!.counts.get(operation) ?? 0) + 1);
      const upstream = httpRequest(
        { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', (error) => response.writeHead(502).end(String(error)));
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CountingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  /** Requests by operation since the last reset. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.counts.clear();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { waitFor } from '../local/support';
