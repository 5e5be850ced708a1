import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ReadyLine } from './local-system';

/**
 * Reads the local runtime's DynamoDB tables directly (through the endpoint of the ready line), so
 * that end-to-end tests can check what was, and what was not, stored.
 */
export type TableKey = keyof ReadyLine['dynamodb']['tables'];
export type Item = Record<string, unknown>;

/** Every item of both tables, keyed by `pk|sk`, as canonical JSON. */
export type TablesSnapshot = Readonly<Record<TableKey, ReadonlyMap<string, string>>>;

export interface SnapshotDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export class TableInspector {
  private readonly client: DynamoDBDocumentClient;
  private readonly base: DynamoDBClient;

  constructor(private readonly ready: ReadyLine) {
    this.base = new DynamoDBClient({
      endpoint: ready.dynamodb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    this.client = DynamoDBDocumentClient.from(this.base);
  }

  tableName(table: TableKey): string {
    return this.ready.dynamodb.tables[table];
  }

  async scan(table: TableKey): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.client.send(
        new ScanCommand({ TableName: this.tableName(table), ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...((output.Items ?? []) as Item[]));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** Items of one partition, optionally only those whose sort key starts with `skPrefix`. */
  async query(table: TableKey, pk: string, skPrefix?: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName(table),
          KeyConditionExpression: skPrefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ...(skPrefix !== undefined && { ':prefix': skPrefix }) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((output.Items ?? []) as Item[]));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** The stored MESSAGE items of a channel (pk `CHANNEL#<channelId>`, sk `MESSAGE#…`). */
  messageItems(channelId: string): Promise<Item[]> {
    return this.query('messages', `CHANNEL#${channelId}`, 'MESSAGE#');
  }

  async snapshot(): Promise<TablesSnapshot> {
    const [channels, messages, connections] = await Promise.all([this.scan('channels'), this.scan('messages'), this.scan('connections')]);
    return { channels: toMap(channels), messages: toMap(messages), connections: toMap(connections) };
  }

  destroy(): void {
    this.client.destroy();
    this.base.destroy();
  }
}

/** What changed between two snapshots, as `table pk|sk` strings, so an assertion shows the culprit. */
export function diffSnapshots(before: TablesSnapshot, after: TablesSnapshot): SnapshotDiff {
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const table of Object.keys(before) as TableKey[]) {
    const old = before[table];
    const now = after[table];
    for (const [key, value] of now) {
      if (!old.has(key)) added.push(`${table} ${key}`);
      else if (old.get(key) !== value) changed.push(`${table} ${key}`);
    }
    for (const key of old.keys()) if (!now.has(key)) removed.push(`${table} ${key}`);
  }
  return { added, removed, changed };
}

function toMap(items: readonly Item[]): Map<string, string> {
  return new Map(items.map((item) => [`${String(item.pk)}|${String(item.sk)}`, canonicalJson(item)]));
}

function canonicalJson(value: unknown): string {
  if (value instanceof Set) return `Set(${canonicalJson([...value].sort())})`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
