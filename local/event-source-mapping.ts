import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { FUNCTIONS, STREAM_MAPPINGS, type FunctionName, type StreamMappingDefinition, type TableName } from '../lib/system';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';
import type { LocalQueues } from './queues';
import { STREAM_RETENTION_MS, type StreamEntry, type StreamSource } from './streams/stream-log';

/**
 * Lambda's DynamoDB stream event source mapping, for the local runtime: one poller per mapping
 * reads its table's stream in order (one shard) and invokes the function with `{Records}` batches,
 * following AWS's rules:
 *
 * - Batches of up to `batchSize` records (and at most 6 MB of event), sent as soon as records exist
 *   or, with `maximumBatchingWindowSeconds`, once the batch is full or the window since the first
 *   waiting record has passed. The poller is woken by appends; there is no polling interval.
 * - `reportBatchItemFailures`: `{batchItemFailures:[{itemIdentifier}]}` checkpoints before the
 *   lowest failed sequence number and retries from there (records after it are delivered again).
 *   An empty or null list, or no/empty response, is success; an identifier that is empty, not a
 *   string or not a sequence number of the batch makes the whole batch a failure (retried whole,
 *   without bisecting, as it is not a function error). Without the setting the response is ignored.
 * - A function error (the invoke throws, or outlasts `invokeTimeoutMs`) with
 *   `bisectBatchOnFunctionError` splits a batch of two or more records in two halves, processed in
 *   order; splitting does not consume the retry quota. A one-record batch, or any batch without
 *   bisecting, is retried.
 * - `maximumRetryAttempts` bounds the retries of a batch (-1 = unbounded); `maximumRecordAgeSeconds`
 *   (-1 = the stream's 24 h retention) discards records older than that before any invoke, first or
 *   retry. Retries back off exponentially (`retryBackoff`, 100 ms doubling up to 2 s by default).
 * - A batch given up on is described to `onFailure` in the shape Lambda sends to an on-failure
 *   destination for DynamoDB streams, and processing moves on; it never stalls forever.
 * - Order: one batch at a time per shard; nothing later is delivered while an earlier batch (or a
 *   half of it) is still being retried.
 * - Event filtering (`entities`, the mapping's FilterCriteria in AWS): a record whose new and old
 *   images both lack a matching `entity` is dropped before batching. It never reaches the function,
 *   does not count towards `batchSize`, is not subject to retries, record age or the on-failure
 *   destination, and the checkpoint moves past it (so `caughtUp` sees it as processed).
 */

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export interface StreamBatchFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: '$LATEST';
    readonly functionError?: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

export type EventSourceMappingLogEntry =
  | { readonly type: 'function-error'; readonly mappingId: string; readonly batchSize: number; readonly error: unknown }
  | { readonly type: 'partial-failure'; readonly mappingId: string; readonly batchSize: number; readonly failedFrom: string }
  | { readonly type: 'invalid-response'; readonly mappingId: string; readonly batchSize: number; readonly reason: string }
  | { readonly type: 'discarded'; readonly mappingId: string; readonly failure: StreamBatchFailureRecord }
  | { readonly type: 'on-failure-error'; readonly mappingId: string; readonly error: unknown };

export interface RetryBackoff {
  /** Delay before the first retry of a batch; doubled for each further retry. */
  readonly initialMs?: number;
  readonly maxMs?: number;
}

export interface EventSourceMappingOptions {
  readonly mapping: StreamMappingDefinition;
  readonly stream: StreamSource;
  /** Invokes the function synchronously; a rejection is a function error. */
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<unknown>;
  /** The on-failure destination. Its own failure is logged and does not stall the shard. */
  readonly onFailure: (failure: StreamBatchFailureRecord) => unknown;
  /** Default: the local function ARN of `mapping.function`. */
  readonly functionArn?: string;
  readonly retryBackoff?: RetryBackoff;
  /** A function that has not answered after this long has failed (as a Lambda timeout); none by default. */
  readonly invokeTimeoutMs?: number;
  /** Clock for record ages (epoch ms); tests move it forward. Default `Date.now`. */
  readonly clock?: () => number;
  /** Default: function errors and discarded batches are written to stderr. */
  readonly log?: (entry: EventSourceMappingLogEntry) => void;
}

export interface EventSourceMappingStats {
  invocations: number;
  functionErrors: number;
  partialFailures: number;
  discardedBatches: number;
  discardedRecords: number;
  /** Records dropped by the mapping's event filter and checkpointed past. */
  filteredRecords: number;
}

const MAX_EVENT_BYTES = 6 * 1024 * 1024;

/** The function ARN the local runtime gives `name` (the same naming as `LocalFunctions`' context). */
export function localFunctionArn(name: FunctionName): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:channel-flows-${name}`;
}

/**
 * The event filter of a mapping's `entities`, as Lambda applies the FilterCriteria the construct
 * gives it (`{"dynamodb":{"NewImage":{"entity":{"S":[…]}}}}` OR the same on `OldImage`): whether
 * the record's new or old image has a string `entity` attribute equal to one of them. Undefined
 * (every record passes) for a mapping without `entities`.
 */
export function entityFilter(mapping: StreamMappingDefinition): ((record: DynamoDBRecord) => boolean) | undefined {
  if (mapping.entities === undefined) return undefined;
  if (mapping.entities.length === 0 || mapping.entities.some((entity) => entity === '')) {
    throw new Error(`Stream mapping ${mapping.id}: entities must list at least one non-empty entity (or be left out to receive every record)`);
  }
  const accepted = new Set<string>(mapping.entities);
  const matches = (image: Record<string, { S?: string }> | undefined) => {
    const value = image?.['entity']?.S;
    return typeof value === 'string' && accepted.has(value);
  };
  return (record) => matches(record.dynamodb?.NewImage) || matches(record.dynamodb?.OldImage);
}

/** What {@link EventSourceMapping} reads for one batch. */
interface BatchRead {
  /** Up to `batchSize` records after the checkpoint that pass the filter, oldest first. */
  readonly entries: StreamEntry[];
  /** The last record looked at, passing or not: with no more passing records, the checkpoint may move here. */
  readonly scannedTo: string | undefined;
  /** Sequence numbers of the records the filter dropped, up to `scannedTo`. */
  readonly filtered: readonly string[];
}

/** How many stream records one read looks at while skipping filtered-out records. */
const FILTER_READ_CHUNK = 1000;

type Outcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly from: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'error'; readonly error: unknown };

interface WorkItem {
  entries: readonly StreamEntry[];
  /** Retries already spent on these records (bisecting spends none). */
  readonly retries: number;
  /** Invocations of exactly this batch (or, after a partial failure, of the batch it is the rest of). */
  invokeCount: number;
  functionError?: string | undefined;
}

export class EventSourceMapping {
  readonly id: string;
  readonly stats: EventSourceMappingStats = {
    invocations: 0,
    functionErrors: 0,
    partialFailures: 0,
    discardedBatches: 0,
    discardedRecords: 0,
    filteredRecords: 0,
  };
  private readonly controller = new AbortController();
  private readonly filter: ((record: DynamoDBRecord) => boolean) | undefined;
  private readonly functionArn: string;
  private readonly clock: () => number;
  private readonly log: (entry: EventSourceMappingLogEntry) => void;
  private position: string | undefined;
  private progressListeners = new Set<() => void>();
  private running: Promise<void> | undefined;

  constructor(private readonly options: EventSourceMappingOptions) {
    this.id = options.mapping.id;
    this.functionArn = options.functionArn ?? localFunctionArn(options.mapping.function);
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? defaultLog;
    this.filter = entityFilter(options.mapping);
  }

  /** The sequence number of the last record processed, given up on or filtered out. */
  get checkpoint(): string | undefined {
    return this.position;
  }

  start(): this {
    if (this.running) return this;
    this.position = this.options.mapping.startingPosition === 'LATEST' ? this.options.stream.latestSequenceNumber : undefined;
    this.running = this.run().catch((error: unknown) => {
      process.stderr.write(`[event-source-mapping ${this.id}] poller stopped by an unexpected error: ${String(error)}\n`);
    });
    return this;
  }

  /**
   * Stops polling, at once: an invocation in flight is not awaited (its outcome is ignored) and a
   * batch being retried is left unfinished; nothing is checkpointed past it.
   */
  async stop(): Promise<void> {
    this.controller.abort();
    this.notifyProgress();
    await this.running;
  }

  /**
   * Resolves once every record that is in the stream now has been processed or given up on.
   * Rejects after `timeoutMs`, or if the mapping stops first.
   */
  caughtUp(timeoutMs = 10_000): Promise<void> {
    const target = this.options.stream.latestSequenceNumber;
    const done = () => target === undefined || (this.position !== undefined && this.position >= target);
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.progressListeners.delete(check);
        reject(new Error(`${this.id}: not caught up with ${target} after ${timeoutMs} ms (checkpoint ${this.position ?? 'none'})`));
      }, timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          this.progressListeners.delete(check);
          resolve();
        } else if (this.controller.signal.aborted) {
          clearTimeout(timer);
          this.progressListeners.delete(check);
          reject(new Error(`${this.id}: stopped before catching up`));
        }
      };
      this.progressListeners.add(check);
    });
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async run(): Promise<void> {
    const { batchSize, maximumBatchingWindowSeconds } = this.options.mapping;
    const stream = this.options.stream;
    while (!this.signal.aborted) {
      let read = this.readBatch();
      if (read.entries.length === 0) {
        if (read.scannedTo === undefined) {
          await stream.nextAppend(this.signal);
        } else {
          // Only filtered-out records: checkpoint past them without invoking.
          this.advance(read.scannedTo, read);
        }
        continue;
      }
      if (maximumBatchingWindowSeconds > 0 && read.entries.length < batchSize) {
        const deadline = Date.now() + maximumBatchingWindowSeconds * 1000;
        while (read.entries.length < batchSize && !this.signal.aborted) {
          const remaining = deadline - Date.now();
          if (remaining <= 0) break;
          await this.appendOrTimeout(remaining);
          read = this.readBatch();
        }
        if (this.signal.aborted) break;
      }
      const entries = limitEventSize(read.entries);
      const completed = await this.process(entries);
      if (!completed) break;
      // The whole batch went: the filtered-out records after it go too. A batch cut short by the
      // event size limit ends at its own last record (what follows is read again).
      this.advance(entries.length === read.entries.length ? read.scannedTo! : entries[entries.length - 1]!.sequenceNumber, read);
    }
  }

  /** Reads the next batch after the checkpoint: up to `batchSize` records that pass the filter. */
  private readBatch(): BatchRead {
    const { batchSize } = this.options.mapping;
    const stream = this.options.stream;
    if (!this.filter) {
      const entries = stream.read(this.position, batchSize);
      return { entries, scannedTo: entries.at(-1)?.sequenceNumber, filtered: [] };
    }
    const entries: StreamEntry[] = [];
    const filtered: string[] = [];
    let scannedTo: string | undefined;
    for (;;) {
      const chunk = stream.read(scannedTo ?? this.position, Math.max(batchSize, FILTER_READ_CHUNK));
      if (chunk.length === 0) break;
      for (const entry of chunk) {
        scannedTo = entry.sequenceNumber;
        if (!this.filter(entry.record)) {
          filtered.push(entry.sequenceNumber);
        } else if (entries.push(entry) === batchSize) {
          return { entries, scannedTo, filtered };
        }
      }
    }
    return { entries, scannedTo, filtered };
  }

  /** Moves the checkpoint to `position`, counting the filtered-out records it moves past. */
  private advance(position: string, read: BatchRead): void {
    for (const sequenceNumber of read.filtered) if (sequenceNumber <= position) this.stats.filteredRecords += 1;
    this.position = position;
    this.notifyProgress();
  }

  /** Delivers one batch, with bisecting, partial retries and retries; false if stopped midway. */
  private async process(batch: readonly StreamEntry[]): Promise<boolean> {
    const { mapping } = this.options;
    const work: WorkItem[] = [{ entries: batch, retries: 0, invokeCount: 0 }];
    while (work.length > 0) {
      if (this.signal.aborted) return false;
      const item = work.shift()!;
      const maxAgeMs = mapping.maximumRecordAgeSeconds < 0 ? STREAM_RETENTION_MS : mapping.maximumRecordAgeSeconds * 1000;
      const now = this.clock();
      let expired = 0;
      while (expired < item.entries.length && now - item.entries[expired]!.arrivedAt > maxAgeMs) expired += 1;
      if (expired > 0) {
        await this.discard(item.entries.slice(0, expired), 'RecordAgeExceeded', item);
        item.entries = item.entries.slice(expired);
        if (item.entries.length === 0) continue;
      }

      const outcome = await this.untilStopped(this.invoke(item.entries));
      if (outcome === undefined) return false;
      item.invokeCount += 1;
      if (outcome.kind === 'success') continue;

      if (outcome.kind === 'error' && mapping.bisectBatchOnFunctionError && item.entries.length > 1) {
        const middle = Math.ceil(item.entries.length / 2);
        work.unshift(
          { entries: item.entries.slice(0, middle), retries: item.retries, invokeCount: 0 },
          { entries: item.entries.slice(middle), retries: item.retries, invokeCount: 0 },
        );
        continue;
      }

      const rest = outcome.kind === 'partial' ? item.entries.slice(outcome.from) : item.entries;
      const functionError = outcome.kind === 'error' ? 'Unhandled' : undefined;
      if (mapping.maximumRetryAttempts >= 0 && item.retries >= mapping.maximumRetryAttempts) {
        await this.discard(rest, 'RetryAttemptsExhausted', { ...item, functionError });
        continue;
      }
      const retries = item.retries + 1;
      await this.sleep(this.backoffMs(retries));
      work.unshift({ entries: rest, retries, invokeCount: item.invokeCount, functionError });
    }
    return true;
  }

  private async invoke(entries: readonly StreamEntry[]): Promise<Outcome> {
    const { mapping } = this.options;
    this.stats.invocations += 1;
    const event: DynamoDBStreamEvent = { Records: entries.map((entry) => structuredClone(entry.record)) };
    let response: unknown;
    try {
      response = await this.withTimeout(Promise.resolve().then(() => this.options.invoke(event)));
    } catch (error) {
      this.stats.functionErrors += 1;
      this.log({ type: 'function-error', mappingId: this.id, batchSize: entries.length, error });
      return { kind: 'error', error };
    }
    if (!mapping.reportBatchItemFailures) return { kind: 'success' };
    const outcome = interpretResponse(response, entries);
    if (outcome.kind === 'partial') {
      this.stats.partialFailures += 1;
      this.log({ type: 'partial-failure', mappingId: this.id, batchSize: entries.length, failedFrom: entries[outcome.from]!.sequenceNumber });
    } else if (outcome.kind === 'invalid') {
      this.log({ type: 'invalid-response', mappingId: this.id, batchSize: entries.length, reason: outcome.reason });
    }
    return outcome;
  }

  private async discard(entries: readonly StreamEntry[], condition: FailureCondition, item: WorkItem): Promise<void> {
    const first = entries[0]!;
    const last = entries[entries.length - 1]!;
    const failure: StreamBatchFailureRecord = {
      requestContext: { requestId: randomUUID(), functionArn: this.functionArn, condition, approximateInvokeCount: item.invokeCount },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(item.functionError !== undefined && { functionError: item.functionError }),
      },
      version: '1.0',
      timestamp: new Date(this.clock()).toISOString(),
      DDBStreamBatchInfo: {
        shardId: this.options.stream.shardId,
        startSequenceNumber: first.sequenceNumber,
        endSequenceNumber: last.sequenceNumber,
        approximateArrivalOfFirstRecord: isoSeconds(first.arrivedAt),
        approximateArrivalOfLastRecord: isoSeconds(last.arrivedAt),
        batchSize: entries.length,
        streamArn: this.options.stream.streamArn,
      },
    };
    this.stats.discardedBatches += 1;
    this.stats.discardedRecords += entries.length;
    this.log({ type: 'discarded', mappingId: this.id, failure });
    try {
      await this.options.onFailure(failure);
    } catch (error) {
      this.log({ type: 'on-failure-error', mappingId: this.id, error });
    }
  }

  /** The work's result, or undefined as soon as the mapping stops (the work itself carries on, unawaited). */
  private untilStopped<T>(work: Promise<T>): Promise<T | undefined> {
    if (this.signal.aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbort = () => resolve(undefined);
      this.signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private backoffMs(retry: number): number {
    const initial = this.options.retryBackoff?.initialMs ?? 100;
    const max = this.options.retryBackoff?.maxMs ?? 2000;
    return Math.min(max, initial * 2 ** Math.min(30, retry - 1));
  }

  private withTimeout<T>(work: Promise<T>): Promise<T> {
    const timeoutMs = this.options.invokeTimeoutMs;
    if (timeoutMs === undefined || timeoutMs <= 0) return work;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async appendOrTimeout(ms: number): Promise<void> {
    const local = new AbortController();
    const signal = AbortSignal.any([this.signal, local.signal]);
    const timer = setTimeout(() => local.abort(), ms);
    try {
      await this.options.stream.nextAppend(signal);
    } finally {
      clearTimeout(timer);
      local.abort();
    }
  }

  private notifyProgress(): void {
    for (const listener of [...this.progressListeners]) listener();
  }
}

/** How Lambda reads a stream function's answer when ReportBatchItemFailures is on. */
function interpretResponse(response: unknown, entries: readonly StreamEntry[]): Outcome {
  if (response === null || response === undefined || typeof response !== 'object') return { kind: 'success' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  let from = Number.POSITIVE_INFINITY;
  for (const failure of failures as unknown[]) {
    const identifier = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof identifier !== 'string' || identifier === '') return { kind: 'invalid', reason: 'an itemIdentifier is missing, empty or not a string' };
    const index = entries.findIndex((entry) => entry.sequenceNumber === identifier);
    if (index < 0) return { kind: 'invalid', reason: `itemIdentifier ${identifier} is not a sequence number of the batch` };
    from = Math.min(from, index);
  }
  return { kind: 'partial', from };
}

function limitEventSize(entries: readonly StreamEntry[]): StreamEntry[] {
  let size = '{"Records":[]}'.length;
  let count = 0;
  for (const entry of entries) {
    size += Buffer.byteLength(JSON.stringify(entry.record)) + 1;
    if (count > 0 && size > MAX_EVENT_BYTES) break;
    count += 1;
  }
  return entries.slice(0, count);
}

function isoSeconds(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function defaultLog(entry: EventSourceMappingLogEntry): void {
  if (entry.type === 'function-error') {
    process.stderr.write(`[event-source-mapping ${entry.mappingId}] function error on a batch of ${entry.batchSize}: ${String(entry.error)}\n`);
  } else if (entry.type === 'discarded') {
    const info = entry.failure.DDBStreamBatchInfo;
    process.stderr.write(
      `[event-source-mapping ${entry.mappingId}] ${entry.failure.requestContext.condition}: gave up on ${info.batchSize} record(s) ${info.startSequenceNumber}..${info.endSequenceNumber}\n`,
    );
  } else if (entry.type === 'on-failure-error' || entry.type === 'invalid-response') {
    process.stderr.write(`[event-source-mapping ${entry.mappingId}] ${entry.type}: ${String('error' in entry ? entry.error : entry.reason)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Every mapping of lib/system.ts at once: what the local runtime starts.

export interface EventSourceMappingsOptions {
  /** The tables' streams, e.g. `startLocalDynamoDb(...).streams`. */
  readonly streams: Readonly<Partial<Record<TableName, StreamSource>>>;
  /** Invokes a function synchronously, e.g. `(name, event) => functions.invoke(name, event)`. */
  readonly invoke: (functionName: FunctionName, event: DynamoDBStreamEvent) => Promise<unknown>;
  /** The on-failure destinations. */
  readonly queues: Pick<LocalQueues, 'send'>;
  /** Default: STREAM_MAPPINGS. */
  readonly mappings?: readonly StreamMappingDefinition[];
  readonly functionArn?: (functionName: FunctionName) => string;
  readonly retryBackoff?: RetryBackoff;
  /** Default: each function's `timeoutSeconds` from FUNCTIONS; 0 turns timeouts off. */
  readonly invokeTimeoutMs?: (functionName: FunctionName) => number;
  readonly clock?: () => number;
  readonly log?: (entry: EventSourceMappingLogEntry) => void;
}

export interface LocalEventSourceMappings {
  /** By mapping id. */
  readonly mappings: ReadonlyMap<string, EventSourceMapping>;
  /** Resolves once every mapping has processed (or given up on) everything now in its stream. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export function startEventSourceMappings(options: EventSourceMappingsOptions): LocalEventSourceMappings {
  const definitions = options.mappings ?? STREAM_MAPPINGS;
  const mappings = new Map<string, EventSourceMapping>();
  for (const definition of definitions) {
    const stream = options.streams[definition.table];
    if (!stream) throw new Error(`stream mapping ${definition.id}: table ${definition.table} has no stream`);
    const timeoutMs = options.invokeTimeoutMs ? options.invokeTimeoutMs(definition.function) : FUNCTIONS[definition.function].timeoutSeconds * 1000;
    const mapping = new EventSourceMapping({
      mapping: definition,
      stream,
      invoke: (event) => options.invoke(definition.function, event),
      onFailure: (failure) => options.queues.send(definition.onFailure, failure),
      ...(options.functionArn && { functionArn: options.functionArn(definition.function) }),
      ...(options.retryBackoff && { retryBackoff: options.retryBackoff }),
      ...(timeoutMs > 0 && { invokeTimeoutMs: timeoutMs }),
      ...(options.clock && { clock: options.clock }),
      ...(options.log && { log: options.log }),
    });
    mappings.set(definition.id, mapping);
  }
  for (const mapping of mappings.values()) mapping.start();
  return {
    mappings,
    caughtUp: async (timeoutMs) => {
      await Promise.all([...mappings.values()].map((mapping) => mapping.caughtUp(timeoutMs)));
    },
    stop: async () => {
      await Promise.all([...mappings.values()].map((mapping) => mapping.stop()));
    },
  };
}
