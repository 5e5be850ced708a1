import type { StreamCapture } from './stream-capture';
import { TTL_USER_IDENTITY, type AttributeMap } from './stream-log';

/**
 * DynamoDB Time to Live for the local runtime (dynalite has none): every `intervalMs` each table
 * with a TTL attribute is scanned (paginated) for items whose attribute is a Number of epoch seconds
 * in the past, and those are deleted through the stream capture path, so that each deletion leaves
 * a REMOVE record with `userIdentity: {type:'Service', principalId:'dynamodb.amazonaws.com'}` as a
 * real TTL deletion does. The delete is conditional on the item still being expired, so an item
 * whose TTL was pushed forward in the meantime stays. Items whose attribute is missing or not a
 * Number never expire. Like DynamoDB, expired items stay readable until the sweep removes them.
 *
 * A Scan per sweep is what an emulator can afford, not what the product does.
 */
export interface TtlTable {
  readonly tableName: string;
  readonly attribute: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface TtlSweeperOptions {
  readonly capture: StreamCapture;
  readonly tables: readonly TtlTable[];
  /** Milliseconds between sweeps; 0 or less starts no timer (sweep by hand with `sweep()`). */
  readonly intervalMs: number;
  readonly clock?: () => number;
  readonly warn?: (message: string, error?: unknown) => void;
}

export class TtlSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly clock: () => number;
  private readonly warn: (message: string, error?: unknown) => void;

  constructor(private readonly options: TtlSweeperOptions) {
    this.clock = options.clock ?? Date.now;
    this.warn = options.warn ?? ((message, error) => process.stderr.write(`[ttl] ${message}${error ? `: ${String(error)}` : ''}\n`));
  }

  start(): void {
    if (this.options.intervalMs > 0 && !this.stopped) this.schedule();
  }

  /** Runs one sweep now (or joins the one running) and resolves with the number of items deleted. */
  sweep(): Promise<number> {
    if (!this.running) {
      this.running = this.sweepAll().finally(() => (this.running = undefined));
    }
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.warn('sweep failed', error))
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async sweepAll(): Promise<number> {
    let deleted = 0;
    for (const table of this.options.tables) {
      if (this.stopped) break;
      deleted += await this.sweepTable(table);
    }
    return deleted;
  }

  private async sweepTable(table: TtlTable): Promise<number> {
    const now = String(Math.floor(this.clock() / 1000));
    const names: Record<string, string> = { '#ttl': table.attribute, '#pk': table.partitionKey };
    if (table.sortKey !== undefined) names['#sk'] = table.sortKey;
    const condition = { expression: '#ttl < :now', names: { '#ttl': table.attribute }, values: { ':now': { N: now } } };
    let deleted = 0;
    let startKey: AttributeMap | undefined;
    do {
      const page: { Items?: AttributeMap[]; LastEvaluatedKey?: AttributeMap } = await this.options.capture.dynalite.call('Scan', {
        TableName: table.tableName,
        FilterExpression: '#ttl < :now',
        ProjectionExpression: table.sortKey !== undefined ? '#pk, #sk' : '#pk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':now': { N: now } },
        ...(startKey && { ExclusiveStartKey: startKey }),
      });
      for (const key of page.Items ?? []) {
        if (this.stopped) return deleted;
        try {
          if (await this.options.capture.deleteAsService(table.tableName, key, TTL_USER_IDENTITY, condition)) deleted += 1;
        } catch (error) {
          this.warn(`could not delete an expired item of ${table.tableName}`, error);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && !this.stopped);
    return deleted;
  }
}
