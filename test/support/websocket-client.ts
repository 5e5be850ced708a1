import WebSocket from 'ws';

/**
 * A real `ws` client that records every frame it receives, parsed as the Chime envelope, and can
 * wait for the one a test expects.
 */
export interface ChimeFrame {
  readonly Headers: Record<string, string>;
  readonly Payload?: string;
}

export interface EventClient {
  readonly socket: WebSocket;
  readonly frames: readonly ChimeFrame[];
  /** Resolves the first frame (already received or still to come) that satisfies `predicate`. */
  waitFor(predicate: (frame: ChimeFrame) => boolean, timeoutMs?: number): Promise<ChimeFrame>;
  /** Frames of one event type, payload parsed. */
  payloads(eventType: string): readonly Record<string, unknown>[];
  close(): Promise<void>;
}

export const eventTypeOf = (frame: ChimeFrame) => frame.Headers['x-amz-chime-event-type'];

export async function connectEvents(
  websocketUrl: string,
  token: string,
  options: { readonly via?: 'query' | 'protocol'; readonly protocols?: readonly string[] } = {},
): Promise<EventClient> {
  const via = options.via ?? 'query';
  const url = via === 'query' ? `${websocketUrl}?token=${encodeURIComponent(token)}` : websocketUrl;
  const socket = via === 'query' ? new WebSocket(url) : new WebSocket(url, [...(options.protocols ?? []), token]);
  const frames: ChimeFrame[] = [];
  const waiters: Array<{ predicate: (frame: ChimeFrame) => boolean; resolve: (frame: ChimeFrame) => void }> = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as ChimeFrame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)));
  });
  return {
    socket,
    frames,
    waitFor(predicate, timeoutMs = 5000) {
      const found = frames.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.findIndex((waiter) => waiter.resolve === done), 1);
          reject(new Error(`no matching frame within ${timeoutMs} ms; received: ${frames.map(eventTypeOf).join(', ')}`));
        }, timeoutMs);
        const done = (frame: ChimeFrame) => {
          clearTimeout(timer);
          resolve(frame);
        };
        waiters.push({ predicate, resolve: done });
      });
    },
    payloads: (eventType) => frames.filter((frame) => eventTypeOf(frame) === eventType).map((frame) => JSON.parse(frame.Payload ?? 'null')),
    close: () =>
      new Promise((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close(1000);
      }),
  };
}

/** Resolves the HTTP status with which the server refused the upgrade, or rejects if it accepted. */
export function refusedUpgradeStatus(url: string, protocols?: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = protocols ? new WebSocket(url, [...protocols]) : new WebSocket(url);
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', () => undefined);
  });
}
