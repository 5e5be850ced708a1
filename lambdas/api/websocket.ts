import { WEBSOCKET_API } from '../../lib/system';

/** What the WebSocket handlers read from API Gateway's route events. */
export interface WebSocketRouteEvent {
  readonly requestContext: { readonly connectionId: string; readonly connectedAt?: number; readonly routeKey?: string };
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
}

export interface WebSocketCredentials {
  readonly token: string;
  /** The subprotocol to echo in `Sec-WebSocket-Protocol`, when the client offered any. */
  readonly protocol?: string;
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The token of a $connect: from the `token` query parameter, or from `Sec-WebSocket-Protocol`,
 * the only header a browser's WebSocket can set. A browser refuses the connection unless the server
 * echoes one of the offered subprotocols, so the first one that is not the token itself is echoed
 * (`["chime", "<jwt>"]` → `chime`), or the token when it was offered alone.
 */
export function webSocketCredentials(event: WebSocketRouteEvent): WebSocketCredentials | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
  const offered = header?.split(',').map((value) => value.trim()).filter((value) => value !== '') ?? [];
  const fromProtocol = offered.find((value) => JWT.test(value));
  const protocol = offered.find((value) => value !== fromProtocol) ?? fromProtocol;
  const token = event.queryStringParameters?.[WEBSOCKET_API.tokenQueryParameter] ?? fromProtocol;
  if (token === undefined || token === '') return undefined;
  return { token, ...(protocol !== undefined && { protocol }) };
}
