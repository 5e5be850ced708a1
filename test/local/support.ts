import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb';

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
