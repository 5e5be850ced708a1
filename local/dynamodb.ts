import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
// dynalite ships no types; it returns a plain node http.Server.
// @ts-expect-error no type declarations
import dynalite from 'dynalite';
import { TABLES, type TableName } from '../lib/system';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './environment';
import { startStreamLayer } from './streams/index';
import type { StreamLog } from './streams/stream-log';

/**
 * DynamoDB for the local runtime: dynalite on loopback, in memory or on disk, with the tables of
 * `lib/system.ts` created as the CDK construct creates them, and the project's stream and TTL layer
 * in front of it (`local/streams/`): SDK clients use `endpoint`, a proxy that records every change
 * of a table with a stream and that a TTL sweeper deletes expired items through.
 */
export interface LocalDynamoDb {
  /** The endpoint SDK clients use: the stream capture proxy in front of dynalite. */
  readonly endpoint: string;
  /** dynalite itself. Writes sent here bypass the streams; for diagnostics only. */
  readonly dynaliteEndpoint: string;
  readonly tableNames: Readonly<Record<TableName, string>>;
  /**
   * The stream of each table with `stream` in TABLES (by logical name): ARN, records, subscribe.
   * In memory: after a restart with a data directory the log starts empty.
   */
  readonly streams: Readonly<Partial<Record<TableName, StreamLog>>>;
  /** Runs one TTL sweep now; resolves with the number of expired items deleted. */
  sweepExpiredItems(): Promise<number>;
  /** Stops the TTL sweeper, the proxy and dynalite. */
  stop(): Promise<void>;
}

export interface LocalDynamoDbOptions {
  readonly dataDir?: string;
  readonly tablePrefix: string;
  /** Milliseconds between TTL sweeps; default 1000; 0 disables the timer (`sweepExpiredItems()` still works). */
  readonly ttlSweepIntervalMs?: number;
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions): Promise<LocalDynamoDb> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir !== undefined && { path: options.dataDir }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dynaliteEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stopDynalite = () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  const tableNames = Object.fromEntries(
    (Object.keys(TABLES) as TableName[]).map((table) => [table, `${options.tablePrefix}-${table}`]),
  ) as Record<TableName, string>;

  const client = new DynamoDBClient({ endpoint: dynaliteEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  let streamLayer: Awaited<ReturnType<typeof startStreamLayer>>;
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of Object.keys(TABLES) as TableName[]) {
      if (!existing.has(tableNames[table])) await createTable(client, tableNames[table], table);
    }
    streamLayer = await startStreamLayer({
      dynaliteEndpoint,
      tableNames,
      ...(options.ttlSweepIntervalMs !== undefined && { ttlSweepIntervalMs: options.ttlSweepIntervalMs }),
    });
  } catch (error) {
    await stopDynalite().catch(() => undefined);
    throw error;
  } finally {
    client.destroy();
  }

  return {
    endpoint: streamLayer.endpoint,
    dynaliteEndpoint,
    tableNames,
    streams: streamLayer.streams,
    sweepExpiredItems: () => streamLayer.sweepExpiredItems(),
    async stop() {
      await streamLayer.stop();
      await stopDynalite();
    },
  };
}

async function createTable(client: DynamoDBClient, physicalName: string, table: TableName): Promise<void> {
  const definition = TABLES[table];
  const keyNames = new Set([definition.partitionKey, definition.sortKey, ...definition.indexes.flatMap((index) => [index.partitionKey, index.sortKey])]);
  await client.send(
    new CreateTableCommand({
      TableName: physicalName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...keyNames].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: definition.partitionKey, KeyType: 'HASH' },
        { AttributeName: definition.sortKey, KeyType: 'RANGE' },
      ],
      ...(definition.indexes.length > 0 && {
        GlobalSecondaryIndexes: definition.indexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    }),
  );
}
