import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { WEBSOCKET_API, type FunctionName } from '../lib/system';
import type { LocalFunctions } from './functions';
import { multiValueHeaders, singleValueHeaders } from './http-events';

/**
 * Plays API Gateway WebSocket for the local runtime: $connect decides whether the upgrade happens
 * (and which subprotocol is echoed), frames go to the route their `action` selects, and the
 * @connections management API answers POST, GET and DELETE with API Gateway's status codes and
 * `x-amzn-ErrorType` header (410 GoneException for a gone or unknown connection, 413 over 128 KB).
 *
 * Like API Gateway, which only learns of a dropped TCP connection when it next writes to it,
 * $disconnect runs for a closing handshake but not for a connection that vanished without one:
 * such a connection is found gone (410) by the next post.
 */
interface LiveConnection {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly timers: NodeJS.Timeout[];
}

const API_ID = 'local-ws';
const CONNECTIONS_PATH = new RegExp(`^/${WEBSOCKET_API.stageName}/@connections/([^/]+)$`);

interface RouteResult {
  readonly statusCode?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export class LocalWebSocketGateway {
  private readonly server: Server;
  private readonly sockets = new WebSocketServer({
    noServer: true,
    maxPayload: WEBSOCKET_API.maxFrameBytes,
    handleProtocols: (_offered, request) => (request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol ?? false,
  });
  private readonly connections = new Map<string, LiveConnection>();
  private host = '127.0.0.1';
  private port = 0;

  constructor(private readonly functions: LocalFunctions) {
    this.server = createServer((request, response) => {
      this.handleManagementRequest(request, response).catch((error: unknown) => {
        console.error('local @connections error', error);
        if (!response.headersSent) managementError(response, 500, 'InternalServerErrorException', 'Internal server error');
      });
    });
    this.server.on('upgrade', (request, socket, head) => {
      this.handleUpgrade(request, socket, head).catch((error: unknown) => {
        console.error('local WebSocket $connect error', error);
        refuseUpgrade(socket, 500);
      });
    });
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('WebSocket gateway has no TCP address');
    this.host = host;
    this.port = address.port;
  }

  /** What clients connect to. */
  get websocketUrl(): string {
    return `ws://${this.host}:${this.port}/${WEBSOCKET_API.stageName}`;
  }

  /** What the @connections clients of the handlers use as their endpoint. */
  get connectionsEndpoint(): string {
    return `http://${this.host}:${this.port}/${WEBSOCKET_API.stageName}`;
  }

  async stop(): Promise<void> {
    for (const connection of this.connections.values()) {
      connection.timers.forEach(clearTimeout);
      connection.socket.terminate();
    }
    this.connections.clear();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname.replace(/\/$/, '') !== `/${WEBSOCKET_API.stageName}`) return refuseUpgrade(socket, 404);
    const connectionId = randomBytes(11).toString('base64');
    const connectedAt = Date.now();
    const result = await this.invokeRoute('$connect', {
      headers: singleValueHeaders(request),
      multiValueHeaders: multiValueHeaders(request),
      queryStringParameters: url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null,
      requestContext: this.requestContext('$connect', 'CONNECT', connectionId, connectedAt, request),
      isBase64Encoded: false,
    });
    const status = result?.statusCode ?? 200;
    if (status < 200 || status > 299) return refuseUpgrade(socket, status);
    const protocol = Object.entries(result?.headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (protocol !== undefined) (request as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol;
    this.sockets.handleUpgrade(request, socket, head, (webSocket) => this.accept(webSocket, connectionId, connectedAt, request));
  }

  private accept(socket: WebSocket, connectionId: string, connectedAt: number, request: IncomingMessage): void {
    const connection: LiveConnection = {
      socket,
      connectedAt,
      lastActiveAt: connectedAt,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      userAgent: request.headers['user-agent'] ?? '',
      timers: [],
    };
    this.connections.set(connectionId, connection);
    const idle = () => setTimeout(() => socket.close(1001, 'Going away'), WEBSOCKET_API.idleTimeoutSeconds * 1000).unref();
    connection.timers.push(setTimeout(() => socket.close(1001, 'Going away'), WEBSOCKET_API.maxConnectionSeconds * 1000).unref(), idle());

    socket.on('message', (data: RawData, isBinary: boolean) => {
      // API Gateway does not accept binary frames: it disconnects the client with 1003.
      if (isBinary) return socket.close(1003, 'Binary frames are not supported');
      connection.lastActiveAt = Date.now();
      clearTimeout(connection.timers[1]);
      connection.timers[1] = idle();
      void this.route(connectionId, connection, rawText(data));
    });
    socket.on('close', (code: number) => {
      connection.timers.forEach(clearTimeout);
      this.connections.delete(connectionId);
      // 1006: the peer vanished without a closing handshake; API Gateway would not know yet.
      if (code !== 1006) {
        void this.invokeRoute('$disconnect', {
          headers: {},
          requestContext: this.requestContext('$disconnect', 'DISCONNECT', connectionId, connectedAt, request),
          isBase64Encoded: false,
        }).catch((error: unknown) => console.error('local WebSocket $disconnect error', error));
      }
    });
    socket.on('error', () => undefined);
  }

  private async route(connectionId: string, connection: LiveConnection, body: string): Promise<void> {
    let action: unknown;
    try {
      action = (JSON.parse(body) as { action?: unknown }).action;
    } catch {
      action = undefined;
    }
    const routeKey = typeof action === 'string' && action in WEBSOCKET_API.routes && !action.startsWith('$') ? action : '$default';
    try {
      const result = await this.invokeRoute(routeKey, {
        body,
        requestContext: { ...this.requestContext(routeKey, 'MESSAGE', connectionId, connection.connectedAt, undefined), messageId: randomUUID() },
        isBase64Encoded: false,
      });
      const twoWay = (WEBSOCKET_API.twoWayRoutes as readonly string[]).includes(routeKey);
      if (twoWay && result?.body !== undefined && connection.socket.readyState === WebSocket.OPEN) connection.socket.send(result.body);
    } catch (error) {
      console.error(`local WebSocket ${routeKey} error`, error);
    }
  }

  private invokeRoute(routeKey: string, event: unknown): Promise<RouteResult | undefined> {
    const functionName = (WEBSOCKET_API.routes as Readonly<Record<string, FunctionName>>)[routeKey];
    if (functionName === undefined) return Promise.resolve(undefined);
    return this.functions.invoke<RouteResult | undefined>(functionName, event);
  }

  private requestContext(routeKey: string, eventType: string, connectionId: string, connectedAt: number, request: IncomingMessage | undefined) {
    return {
      routeKey,
      eventType,
      messageDirection: 'IN',
      stage: WEBSOCKET_API.stageName,
      connectedAt,
      requestTimeEpoch: Date.now(),
      requestId: randomUUID(),
      domainName: `${this.host}:${this.port}`,
      connectionId,
      apiId: API_ID,
      identity: { sourceIp: request?.socket.remoteAddress ?? '127.0.0.1', userAgent: request?.headers['user-agent'] ?? '' },
    };
  }

  private async handleManagementRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = CONNECTIONS_PATH.exec(new URL(request.url ?? '/', 'http://localhost').pathname);
    if (!match) return managementError(response, 404, 'NotFoundException', 'Not found');
    const connectionId = decodeURIComponent(match[1] as string);
    const body = await readBody(request);
    const connection = this.connections.get(connectionId);
    const open = connection !== undefined && connection.socket.readyState === WebSocket.OPEN;
    switch (request.method) {
      case 'POST':
        if (body.length > WEBSOCKET_API.maxFrameBytes) {
          return managementError(response, 413, 'PayloadTooLargeException', `Payload of ${body.length} bytes exceeds ${WEBSOCKET_API.maxFrameBytes} bytes`);
        }
        if (!open) return managementError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
        await new Promise<void>((resolve, reject) => connection.socket.send(body.toString('utf8'), (error) => (error ? reject(error) : resolve())));
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end();
        return;
      case 'GET':
        if (!open) return managementError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(
          JSON.stringify({
            connectedAt: new Date(connection.connectedAt).toISOString(),
            identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
            lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          }),
        );
        return;
      case 'DELETE':
        if (!open) return managementError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
        connection.socket.close(1000, 'Connection deleted');
        response.writeHead(204);
        response.end();
        return;
      default:
        return managementError(response, 405, 'MethodNotAllowedException', `${request.method} is not supported on @connections`);
    }
  }
}

function managementError(response: ServerResponse, status: number, errorType: string, message: string): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': errorType });
  response.end(JSON.stringify({ message }));
}

function refuseUpgrade(socket: Duplex, status: number): void {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}



async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
