import { randomBytes } from 'node:crypto';

/**
 * Message ids are 64 lowercase hex characters, like the real service's, but time-ordered: the first
 * 12 characters are the creation time in epoch milliseconds. Sorting ids sorts messages by creation
 * time, so the messages table needs no extra index to list a channel's history in order.
 */
const TIME_HEX_LENGTH = 12;

export function newMessageId(createdAtMs: number): string {
  return Math.floor(createdAtMs).toString(16).padStart(TIME_HEX_LENGTH, '0') + randomBytes(26).toString('hex');
}

/** The smallest and largest ids a message created at `timeMs` can have, for key range queries. */
export function messageIdBounds(timeMs: number): { readonly lowest: string; readonly highest: string } {
  const prefix = Math.max(0, Math.floor(timeMs)).toString(16).padStart(TIME_HEX_LENGTH, '0');
  return { lowest: prefix, highest: `${prefix}~` };
}

/** Channel and flow ids the service generates when the caller gives none. */
export function newResourceId(): string {
  return randomBytes(16).toString('hex');
}

/** A processor's CallbackId: 64 hex characters, within Chime's 32–64. */
export function newCallbackId(): string {
  return randomBytes(32).toString('hex');
}
