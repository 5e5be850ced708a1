import { randomBytes } from 'node:crypto';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../environment';

/**
 * The local DynamoDB Streams: one in-memory, append-only log per table, with one shard, holding
 * records in exactly the shape Lambda hands a stream-triggered function (`DynamoDBRecord`).
 *
 * Records are kept 24 hours, like DynamoDB Streams. The log lives in memory only: after a restart
 * with a data directory the items are still there but the log starts empty (and with a new stream
 * label, as a re-enabled stream would have), so changes made before the restart are not replayed.
 */

export type AttributeMap = Record<string, AttributeValue>;
export type StreamViewType = 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** `userIdentity` of the REMOVE records of TTL deletions, as DynamoDB writes it. */
export const TTL_USER_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;
export type StreamUserIdentity = typeof TTL_USER_IDENTITY;

/** How long DynamoDB Streams keeps a record. */
export const STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;

export interface LocalStreamRecordData {
  readonly ApproximateCreationDateTime: number;
  readonly Keys: AttributeMap;
  readonly NewImage?: AttributeMap;
  readonly OldImage?: AttributeMap;
  readonly SequenceNumber: string;
  readonly SizeBytes: number;
  readonly StreamViewType: StreamViewType;
}

/** A stream record as Lambda delivers it: `DynamoDBRecord` with every field present. */
export interface LocalStreamRecord extends DynamoDBRecord {
  readonly eventID: string;
  readonly eventName: StreamEventName;
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly eventSourceARN: string;
  readonly dynamodb: LocalStreamRecordData;
  readonly userIdentity?: StreamUserIdentity;
}

/** A record with its arrival time in the stream (epoch milliseconds), which record age is measured from. */
export interface StreamEntry {
  readonly record: LocalStreamRecord;
  readonly sequenceNumber: string;
  readonly arrivedAt: number;
}

export interface StreamChange {
  readonly keys: AttributeMap;
  readonly oldImage?: AttributeMap | undefined;
  readonly newImage?: AttributeMap | undefined;
  readonly userIdentity?: StreamUserIdentity | undefined;
}

/** What a stream consumer (the event-source-mapping emulator, a test) needs from a stream. */
export interface StreamSource {
  readonly tableName: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** The sequence number of the newest retained record, if any. */
  readonly latestSequenceNumber: string | undefined;
  /** Up to `limit` retained records after `afterSequenceNumber` (from the oldest retained when undefined), oldest first. */
  read(afterSequenceNumber: string | undefined, limit: number): StreamEntry[];
  /** Resolves at the next append, or when `signal` aborts. */
  nextAppend(signal?: AbortSignal): Promise<void>;
}

const SEQUENCE_DIGITS = 21;

/**
 * Sequence numbers: increasing decimal strings, zero-padded to 21 digits (as DynamoDB's are) so
 * that they compare the same as strings and as numbers. Seeded from the clock so that they keep
 * increasing across restarts too.
 */
export class SequenceNumbers {
  private last: bigint;

  constructor(seed: bigint = BigInt(Date.now()) * 100_000n) {
    this.last = seed;
  }

  next(): string {
    this.last += 1n;
    return this.last.toString().padStart(SEQUENCE_DIGITS, '0');
  }
}

export function streamLabelAt(time: number): string {
  return new Date(time).toISOString().slice(0, 23);
}

export function streamArnFor(tableName: string, label: string): string {
  return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:table/${tableName}/stream/${label}`;
}

export class StreamLog implements StreamSource {
  readonly streamLabel: string;
  readonly streamArn: string;
  readonly shardId: string;
  private entries: StreamEntry[] = [];
  /** Index of the oldest retained entry in `entries` (trimmed entries are dropped lazily). */
  private head = 0;
  private readonly listeners = new Set<(record: LocalStreamRecord) => void>();
  private waiters: (() => void)[] = [];

  constructor(
    readonly tableName: string,
    readonly streamViewType: StreamViewType,
    private readonly sequenceNumbers: SequenceNumbers,
    private readonly clock: () => number = Date.now,
  ) {
    const created = clock();
    this.streamLabel = streamLabelAt(created);
    this.streamArn = streamArnFor(tableName, this.streamLabel);
    this.shardId = `shardId-${String(created).padStart(20, '0')}-${randomBytes(4).toString('hex')}`;
  }

  /** Appends the record for a change; the caller has established that the item did change. */
  append(change: StreamChange): LocalStreamRecord {
    const now = this.clock();
    this.trim(now);
    const eventName: StreamEventName = change.oldImage === undefined ? 'INSERT' : change.newImage === undefined ? 'REMOVE' : 'MODIFY';
    const sequenceNumber = this.sequenceNumbers.next();
    const view = this.streamViewType;
    const newImage = view === 'NEW_AND_OLD_IMAGES' || view === 'NEW_IMAGE' ? change.newImage : undefined;
    const oldImage = view === 'NEW_AND_OLD_IMAGES' || view === 'OLD_IMAGE' ? change.oldImage : undefined;
    const record: LocalStreamRecord = {
      eventID: randomBytes(16).toString('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: LOCAL_REGION,
      eventSourceARN: this.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: change.keys,
        ...(newImage !== undefined && { NewImage: newImage }),
        ...(oldImage !== undefined && { OldImage: oldImage }),
        SequenceNumber: sequenceNumber,
        SizeBytes: itemSize(change.keys) + (newImage ? itemSize(newImage) : 0) + (oldImage ? itemSize(oldImage) : 0),
        StreamViewType: view,
      },
      ...(change.userIdentity !== undefined && { userIdentity: change.userIdentity }),
    };
    this.entries.push({ record, sequenceNumber, arrivedAt: now });
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A subscriber's failure is its own business; the write has happened.
      }
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return record;
  }

  /** Every retained record, oldest first. */
  records(): LocalStreamRecord[] {
    this.trim(this.clock());
    return this.entries.slice(this.head).map((entry) => entry.record);
  }

  get latestSequenceNumber(): string | undefined {
    return this.entries.length > this.head ? this.entries[this.entries.length - 1]!.sequenceNumber : undefined;
  }

  read(afterSequenceNumber: string | undefined, limit: number): StreamEntry[] {
    this.trim(this.clock());
    let low = this.head;
    if (afterSequenceNumber !== undefined) {
      let high = this.entries.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (this.entries[middle]!.sequenceNumber <= afterSequenceNumber) low = middle + 1;
        else high = middle;
      }
    }
    return this.entries.slice(low, low + Math.max(0, limit));
  }

  /** Calls `listener` with every record appended from now on; returns the unsubscribe function. */
  subscribe(listener: (record: LocalStreamRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  nextAppend(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve();
      };
      this.waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Drops records older than the retention period; returns how many were dropped. */
  trim(now: number): number {
    const before = this.head;
    while (this.head < this.entries.length && now - this.entries[this.head]!.arrivedAt > STREAM_RETENTION_MS) this.head += 1;
    const dropped = this.head - before;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }
}

/** Approximate DynamoDB item size in bytes (attribute names plus values, DynamoDB's sizing rules). */
export function itemSize(item: AttributeMap): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, member) => sum + Buffer.byteLength(member), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, member) => sum + numberSize(member), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, member) => sum + Buffer.from(member, 'base64').length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, member) => sum + 1 + valueSize(member), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [name, member]) => sum + 1 + Buffer.byteLength(name) + valueSize(member), 0);
  return 0;
}

function numberSize(number: string): number {
  const digits = number.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Whether two items are the same DynamoDB item: map key order and set member order do not matter. */
export function sameItem(a: AttributeMap | undefined, b: AttributeMap | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonical({ M: a } as AttributeValue) === canonical({ M: b } as AttributeValue);
}

function canonical(value: AttributeValue): string {
  if (value.M !== undefined) {
    const members = Object.keys(value.M)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonical(value.M![name]!)}`);
    return `{M:{${members.join(',')}}}`;
  }
  if (value.L !== undefined) return `{L:[${value.L.map(canonical).join(',')}]}`;
  for (const set of ['SS', 'NS', 'BS'] as const) {
    const members = value[set];
    if (members !== undefined) return `{${set}:${JSON.stringify([...members].sort())}}`;
  }
  return JSON.stringify(value);
}
