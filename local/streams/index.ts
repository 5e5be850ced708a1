import { TABLES, type TableName } from '../../lib/system';
import { StreamCapture } from './stream-capture';
import type { StreamLog } from './stream-log';
import { TtlSweeper } from './ttl-sweeper';

export { StreamCapture } from './stream-capture';
export { StreamLog, TTL_USER_IDENTITY, STREAM_RETENTION_MS } from './stream-log';
export type { LocalStreamRecord, StreamEntry, StreamSource, AttributeMap } from './stream-log';
export { TtlSweeper } from './ttl-sweeper';

/**
 * DynamoDB Streams and TTL over dynalite, built from TABLES: the capture proxy (the endpoint SDK
 * clients use), one stream log per table with `stream`, and the TTL sweeper for every table with
 * `timeToLiveAttribute`.
 */
export interface LocalStreamLayer {
  /** The proxy's endpoint: what SDK clients must use for their writes to reach the streams. */
  readonly endpoint: string;
  /** Stream of each table that has one, by logical table name. */
  readonly streams: Readonly<Partial<Record<TableName, StreamLog>>>;
  /** Runs one TTL sweep now; resolves with the number of items deleted. */
  sweepExpiredItems(): Promise<number>;
  stop(): Promise<void>;
}

export interface StreamLayerOptions {
  readonly dynaliteEndpoint: string;
  readonly tableNames: Readonly<Record<TableName, string>>;
  /** Milliseconds between TTL sweeps; default 1000; 0 disables the timer (sweep by hand). */
  readonly ttlSweepIntervalMs?: number;
  readonly host?: string;
  readonly clock?: () => number;
}

export async function startStreamLayer(options: StreamLayerOptions): Promise<LocalStreamLayer> {
  const tables = Object.keys(TABLES) as TableName[];
  const capture = new StreamCapture({
    target: options.dynaliteEndpoint,
    ...(options.host !== undefined && { host: options.host }),
    ...(options.clock && { clock: options.clock }),
    tables: tables.flatMap((table) => {
      const definition = TABLES[table];
      return definition.stream
        ? [{ tableName: options.tableNames[table], partitionKey: definition.partitionKey, sortKey: definition.sortKey, streamViewType: definition.stream }]
        : [];
    }),
  });
  const endpoint = await capture.listen();
  const sweeper = new TtlSweeper({
    capture,
    intervalMs: options.ttlSweepIntervalMs ?? 1000,
    ...(options.clock && { clock: options.clock }),
    tables: tables.flatMap((table) => {
      const definition = TABLES[table];
      return definition.timeToLiveAttribute
        ? [{ tableName: options.tableNames[table], attribute: definition.timeToLiveAttribute, partitionKey: definition.partitionKey, sortKey: definition.sortKey }]
        : [];
    }),
  });
  sweeper.start();
  const streams: Partial<Record<TableName, StreamLog>> = {};
  for (const table of tables) {
    const log = capture.streams.get(options.tableNames[table]);
    if (log) streams[table] = log;
  }
  return {
    endpoint,
    streams,
    sweepExpiredItems: () => sweeper.sweep(),
    async stop() {
      await sweeper.stop();
      await capture.stop();
    },
  };
}
