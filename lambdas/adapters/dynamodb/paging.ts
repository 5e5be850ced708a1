import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Position } from '../../core/pagination';
import type { Page } from '../../services/ports';

type Item = Record<string, unknown>;

/**
 * One page of a Query. DynamoDB applies `Limit` before filters, so a filtered query keeps reading
 * until it has `limit` items or the partition ends. The position handed out is the key of the last
 * item returned, so the next page neither skips nor repeats an item.
 */
export async function queryPage<T>(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit: number,
  after: Position | undefined,
  toModel: (item: Item) => T,
  positionOf: (item: Item) => Position,
): Promise<Page<T>> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined = after;
  let moreLeft = false;
  do {
    // One item more than needed tells whether another page exists without a second round trip.
    const output = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey, Limit: limit - items.length + 1 }));
    for (const item of output.Items ?? []) {
      if (items.length < limit) items.push(item);
      else moreLeft = true;
    }
    startKey = output.LastEvaluatedKey;
  } while (!moreLeft && items.length < limit && startKey !== undefined);
  const last = items[items.length - 1];
  const next = last !== undefined && (moreLeft || (items.length === limit && startKey !== undefined)) ? positionOf(last) : undefined;
  return { items: items.map(toModel), ...(next !== undefined && { next }) };
}
