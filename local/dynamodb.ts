import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
// dynalite ships no types; it returns a plain node http.Server.
// @ts-expect-error no type declarations
import dynalite from 'dynalite';
import { TABLES, type TableName } from '../lib/system';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './environment';

/**
 * DynamoDB for the local runtime: dynalite on loopback, in memory or on disk, with the tables of
 * `lib/system.ts` created as the CDK construct creates them.
 */
export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly tableNames: Readonly<Record<TableName, string>>;
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: { readonly dataDir?: string; readonly tablePrefix: string }): Promise<LocalDynamoDb> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const server: Server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir !== undefined && { path: options.dataDir }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tableNames = Object.fromEntries(
    (Object.keys(TABLES) as TableName[]).map((table) => [table, `${options.tablePrefix}-${table}`]),
  ) as Record<TableName, string>;

  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    for (const table of Object.keys(TABLES) as TableName[]) {
      if (!existing.has(tableNames[table])) await createTable(client, tableNames[table], table);
    }
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    tableNames,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
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
