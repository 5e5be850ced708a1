import { randomUUID } from 'node:crypto';
import { QUEUES, type QueueDefinition, type QueueName } from '../lib/system';

/**
 * The local stand-in for the SQS queues of `lib/system.ts` (the stream mappings' on-failure
 * destination): one in-memory queue per QUEUES entry with send, receive-all and purge. Messages
 * are kept for the queue's retention period; nothing survives a restart.
 */
export interface LocalQueueMessage {
  readonly messageId: string;
  /** The message body as SQS holds it: a string (JSON for on-failure records). */
  readonly body: string;
  /** Epoch milliseconds. */
  readonly sentTimestamp: number;
}

export class LocalQueues {
  private readonly messages = new Map<QueueName, LocalQueueMessage[]>();
  private readonly listeners = new Map<QueueName, Set<(message: LocalQueueMessage) => void>>();

  constructor(
    private readonly definitions: Readonly<Record<QueueName, QueueDefinition>> = QUEUES,
    private readonly clock: () => number = Date.now,
  ) {
    for (const name of Object.keys(definitions) as QueueName[]) this.messages.set(name, []);
  }

  names(): QueueName[] {
    return [...this.messages.keys()];
  }

  /** Sends a message; a non-string body is serialized as JSON. */
  send(name: QueueName, body: unknown): LocalQueueMessage {
    const queue = this.queue(name);
    const message: LocalQueueMessage = {
      messageId: randomUUID(),
      body: typeof body === 'string' ? body : JSON.stringify(body),
      sentTimestamp: this.clock(),
    };
    queue.push(message);
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        listener(message);
      } catch {
        // a listener's failure does not undo the send
      }
    }
    return message;
  }

  /** Every message in the queue, oldest first, without removing them. */
  receiveAll(name: QueueName): LocalQueueMessage[] {
    return [...this.queue(name)];
  }

  /** Removes every message; returns how many there were. */
  purge(name: QueueName): number {
    const queue = this.queue(name);
    const count = queue.length;
    queue.length = 0;
    return count;
  }

  /** Calls `listener` with every message sent from now on; returns the unsubscribe function. */
  subscribe(name: QueueName, listener: (message: LocalQueueMessage) => void): () => void {
    this.queue(name);
    let listeners = this.listeners.get(name);
    if (!listeners) this.listeners.set(name, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  private queue(name: QueueName): LocalQueueMessage[] {
    const queue = this.messages.get(name);
    if (!queue) throw new Error(`no queue named ${name}`);
    const retentionMs = this.definitions[name].retentionDays * 24 * 60 * 60 * 1000;
    const now = this.clock();
    let expired = 0;
    while (expired < queue.length && now - queue[expired]!.sentTimestamp > retentionMs) expired += 1;
    if (expired > 0) queue.splice(0, expired);
    return queue;
  }
}
