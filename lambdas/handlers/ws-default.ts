import type { WebSocketRouteEvent } from '../api/websocket';

/**
 * $default: any frame resets API Gateway's 10-minute idle timer; `{"action":"ping"}` is answered
 * with `{"action":"pong"}` (a two-way route) so a client can also check the connection is alive.
 */
export async function handler(event: WebSocketRouteEvent): Promise<{ statusCode: number; body?: string }> {
  let action: unknown;
  try {
    action = (JSON.parse(event.body ?? '') as { action?: unknown }).action;
  } catch {
    action = undefined;
  }
  return action === 'ping' ? { statusCode: 200, body: JSON.stringify({ action: 'pong' }) } : { statusCode: 200 };
}
