import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb';
import { LocalFunctions } from '../../local/functions';
import type { FunctionName } from '../../lib/system';

/** A fresh local DynamoDB (dynalite + stream layer, own tables) and SDK clients that go through the proxy. */
export interface TestDynamo {
  readonly dynamo: LocalDynamoDb;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export async function startTestDynamo(options: { readonly ttlSweepIntervalMs?: number } = {}): Promise<TestDynamo> {
  const dynamo = await startLocalDynamoDb({
    tablePrefix: `t${randomBytes(3).toString('hex')}`,
    ttlSweepIntervalMs: options.ttlSweepIntervalMs ?? 0,
  });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    dynamo,
    client,
    doc,
    async stop() {
      client.destroy();
      await dynamo.stop();
    },
  };
}

/** Resolves with the first truthy value of `check`, polled every few milliseconds; rejects after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | null | false, description: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The `S` value of an attribute of a DynamoDB JSON image. */
export function s(image: Record<string, { S?: string }> | undefined, name: string): string | undefined {
  return image?.[name]?.S;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEvent = any;
export type TestHandler = (event: AnyEvent) => unknown;

/**
 * The local gateways with test functions behind them: LocalFunctions loads the handler modules of
 * lib/system.ts and takes no injected handlers, so this subclass overrides `invoke` and records
 * every call (synchronously, on entry).
 */
export class TestFunctions extends LocalFunctions {
  readonly calls: { readonly name: FunctionName; readonly event: AnyEvent }[] = [];
  readonly handlers = new Map<FunctionName, TestHandler>();

  override async invoke<Result>(name: FunctionName, event: unknown): Promise<Result> {
    this.calls.push({ name, event });
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`no test function for ${name}`);
    return (await handler(event)) as Result;
  }

  eventsOf(name: FunctionName): AnyEvent[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.event);
  }
}
