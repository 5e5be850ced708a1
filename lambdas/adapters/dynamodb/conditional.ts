import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** Conditional writes, the only way this project keeps concurrent requests from losing changes. */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** Runs a conditional write; resolves false, having changed nothing, when its condition does not hold. */
export async function writeIf(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Puts an item unless one with its key exists. */
export const putIfAbsent = (client: DynamoDBDocumentClient, tableName: string, item: Item): Promise<boolean> =>
  writeIf(() => client.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' })));

/**
 * Claims an idempotency token: stores `item` if its key is free and resolves undefined, or resolves
 * the earlier claim read back through `read`.
 */
export async function claimOrRead<T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Item & { readonly pk: string; readonly sk: string },
  read: (stored: Item) => T,
): Promise<T | undefined> {
  for (;;) {
    if (await putIfAbsent(client, tableName, item)) return undefined;
    const output = await client.send(new GetCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }));
    if (output.Item) return read(output.Item);
    // The earlier claim expired between the two requests: claim again.
  }
}
