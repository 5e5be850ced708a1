import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynaliteClient, DynamoDbCallError, type RawResponse } from './dynalite-client';
import { sameItem, SequenceNumbers, StreamLog, type AttributeMap, type StreamUserIdentity, type StreamViewType } from './stream-log';

/**
 * The stream layer over dynalite: a thin HTTP front proxy on loopback between the AWS SDK clients
 * and dynalite. Every request is forwarded untouched and its response returned exactly as dynalite
 * gave it. Writes to a table with a stream (PutItem, UpdateItem, DeleteItem, BatchWriteItem) are
 * serialized per table and wrapped: the old image is read (GetItem, ConsistentRead) before, the
 * new image after, and if the item changed a stream record is appended (INSERT, MODIFY or REMOVE).
 * A failed write (a conditional check, a validation error) or a write that changes nothing leaves
 * no record, as in DynamoDB.
 *
 * Only writes that go through this proxy are captured: a client talking to dynalite directly
 * bypasses the streams (and breaks the per-table serialization the images rely on).
 * TransactWriteItems, which dynalite lacks, is forwarded and fails there as before.
 */

export interface CapturedTable {
  /** The physical table name that requests carry in `TableName`. */
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly streamViewType: StreamViewType;
}

export interface StreamCaptureOptions {
  /** dynalite's endpoint, e.g. `http://127.0.0.1:1234`. */
  readonly target: string;
  readonly tables: readonly CapturedTable[];
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Where problems of the capture itself are reported (never the client's own errors). */
  readonly warn?: (message: string, error?: unknown) => void;
  readonly clock?: () => number;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const CAPTURED_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

interface PendingWrite {
  readonly log: StreamLog;
  readonly table: CapturedTable;
  readonly key: AttributeMap;
  oldImage?: AttributeMap | undefined;
}

export class StreamCapture {
  /** Stream logs by physical table name. */
  readonly streams: ReadonlyMap<string, StreamLog>;
  readonly dynalite: DynaliteClient;
  private readonly tables: ReadonlyMap<string, CapturedTable>;
  private readonly locks = new KeyedMutex();
  private readonly warn: (message: string, error?: unknown) => void;
  private server: Server | undefined;
  private endpointUrl: string | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: StreamCaptureOptions) {
    this.dynalite = new DynaliteClient(options.target);
    this.tables = new Map(options.tables.map((table) => [table.tableName, table]));
    const sequenceNumbers = new SequenceNumbers();
    this.streams = new Map(
      options.tables.map((table) => [table.tableName, new StreamLog(table.tableName, table.streamViewType, sequenceNumbers, options.clock)]),
    );
    this.warn = options.warn ?? ((message, error) => process.stderr.write(`[streams] ${message}${error ? `: ${String(error)}` : ''}\n`));
  }

  get endpoint(): string {
    if (this.endpointUrl === undefined) throw new Error('the stream capture proxy is not listening');
    return this.endpointUrl;
  }

  async listen(): Promise<string> {
    const server = createServer((request, response) => this.track(this.handle(request, response)));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.endpointUrl = `http://${address.address}:${address.port}`;
    return this.endpointUrl;
  }

  /** Stops accepting requests, lets the ones in flight finish, then releases the upstream sockets. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...this.inFlight]);
      server.closeAllConnections();
      await closed;
    }
    this.dynalite.destroy();
  }

  /**
   * Deletes an item through the capture path on behalf of DynamoDB itself (TTL): the REMOVE record
   * carries `userIdentity`. `conditionExpression` guards against an item changed since it was seen.
   * Returns whether the item was deleted.
   */
  async deleteAsService(
    tableName: string,
    key: AttributeMap,
    userIdentity: StreamUserIdentity,
    condition?: { readonly expression: string; readonly names?: Record<string, string>; readonly values?: AttributeMap },
  ): Promise<boolean> {
    const input = {
      TableName: tableName,
      Key: key,
      ...(condition && {
        ConditionExpression: condition.expression,
        ...(condition.names && { ExpressionAttributeNames: condition.names }),
        ...(condition.values && { ExpressionAttributeValues: condition.values }),
      }),
    };
    const response = await this.captureWrite(
      'DeleteItem',
      input,
      () =>
        this.dynalite.call<unknown>('DeleteItem', input).then(
          () => okResponse,
          (error: unknown) => {
            if (error instanceof DynamoDbCallError && error.type === 'ConditionalCheckFailedException') return failedResponse;
            throw error;
          },
        ),
      userIdentity,
    );
    return response.status === 200;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      response.destroy();
      return;
    }
    const forward = () => this.dynalite.forward(request.method ?? 'POST', request.url ?? '/', request.rawHeaders, body);
    let result: RawResponse;
    try {
      const target = headerValue(request.headers['x-amz-target']);
      const operation = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
      const input = operation !== undefined && CAPTURED_OPERATIONS.has(operation) ? parseJson(body) : undefined;
      result = input !== undefined ? await this.captureWrite(operation!, input, forward) : await forward();
    } catch (error) {
      this.warn('dynalite did not answer', error);
      if (!response.headersSent) {
        const message = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'The local DynamoDB did not answer' });
        response.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(message) });
        response.end(message);
      }
      return;
    }
    response.writeHead(result.status, [...result.rawHeaders]);
    response.end(result.body);
  }

  /** The wrapped write: lock the tables, read old images, forward, read new images, append records. */
  private async captureWrite(
    operation: string,
    input: unknown,
    forward: () => Promise<RawResponse>,
    userIdentity?: StreamUserIdentity,
  ): Promise<RawResponse> {
    const writes = this.writesOf(operation, input);
    if (writes.length === 0) return forward();
    const release = await this.locks.lock([...new Set(writes.map((write) => write.table.tableName))]);
    try {
      try {
        await Promise.all(writes.map(async (write) => (write.oldImage = await this.getItem(write.table.tableName, write.key))));
      } catch (error) {
        // The write will most likely fail the same way (a malformed key); let dynalite answer it.
        if (!(error instanceof DynamoDbCallError && error.status === 400)) this.warn(`could not read the old image before ${operation}`, error);
        return await forward();
      }
      const response = await forward();
      if (response.status !== 200) return response;
      let newImages: (AttributeMap | undefined)[];
      try {
        newImages = await Promise.all(writes.map((write) => this.getItem(write.table.tableName, write.key)));
      } catch (error) {
        this.warn(`could not read the new image after ${operation}; no stream record`, error);
        return response;
      }
      writes.forEach((write, index) => {
        const newImage = newImages[index];
        if (sameItem(write.oldImage, newImage)) return;
        write.log.append({ keys: write.key, oldImage: write.oldImage, newImage, userIdentity });
      });
      return response;
    } finally {
      release();
    }
  }

  /** The items a write request touches in tables with a stream, in request order. */
  private writesOf(operation: string, input: unknown): PendingWrite[] {
    if (!isObject(input)) return [];
    const writes: PendingWrite[] = [];
    const add = (tableName: unknown, key: AttributeMap | undefined) => {
      if (typeof tableName !== 'string' || key === undefined) return;
      const table = this.tables.get(tableName);
      const log = this.streams.get(tableName);
      if (table && log) writes.push({ table, log, key });
    };
    if (operation === 'PutItem') {
      const table = typeof input.TableName === 'string' ? this.tables.get(input.TableName) : undefined;
      if (table) add(input.TableName, keyOf(table, input.Item));
    } else if (operation === 'UpdateItem' || operation === 'DeleteItem') {
      const table = typeof input.TableName === 'string' ? this.tables.get(input.TableName) : undefined;
      if (table) add(input.TableName, keyOf(table, input.Key));
    } else if (operation === 'BatchWriteItem' && isObject(input.RequestItems)) {
      for (const [tableName, requests] of Object.entries(input.RequestItems)) {
        const table = this.tables.get(tableName);
        if (!table || !Array.isArray(requests)) continue;
        for (const entry of requests as unknown[]) {
          if (!isObject(entry)) continue;
          if (isObject(entry.PutRequest)) add(tableName, keyOf(table, entry.PutRequest.Item));
          else if (isObject(entry.DeleteRequest)) add(tableName, keyOf(table, entry.DeleteRequest.Key));
        }
      }
    }
    return writes;
  }

  private async getItem(tableName: string, key: AttributeMap): Promise<AttributeMap | undefined> {
    const output = await this.dynalite.call<{ Item?: AttributeMap }>('GetItem', { TableName: tableName, Key: key, ConsistentRead: true });
    return output.Item;
  }
}

const okResponse: RawResponse = { status: 200, rawHeaders: [], headers: {}, body: Buffer.alloc(0) };
const failedResponse: RawResponse = { status: 400, rawHeaders: [], headers: {}, body: Buffer.alloc(0) };

/** The key attributes of an item (or key), or undefined when one is missing. */
function keyOf(table: CapturedTable, item: unknown): AttributeMap | undefined {
  if (!isObject(item)) return undefined;
  const key: AttributeMap = {};
  for (const name of table.sortKey !== undefined ? [table.partitionKey, table.sortKey] : [table.partitionKey]) {
    const value = item[name];
    if (!isObject(value)) return undefined;
    key[name] = value as AttributeMap[string];
  }
  return key;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
    request.on('close', () => {
      if (!request.complete) reject(new Error('the client went away before sending the whole request'));
    });
  });
}

/** Mutual exclusion per key; several keys are taken in sorted order so that batches cannot deadlock. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async lock(keys: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...keys].sort()) releases.push(await this.lockOne(key));
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  private async lockOne(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
