import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { CONNECTION_ENTITY, DynamoDbConnectionRepository, toConnection } from '../adapters/dynamodb/connection-repository';
import { readItemChange } from '../adapters/dynamodb/stream-records';
import { tableName } from '../config';
import { SessionService } from '../services/session-service';
import { createConnectionNotifier } from './shared/fanout';

const sessions = new SessionService(
  new DynamoDbConnectionRepository(createDocumentClient(), tableName('connections')),
  createConnectionNotifier(),
);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function handleRecord(record: DynamoDBRecord): Promise<void> {
  const change = readItemChange(record);
  if (change.entity !== CONNECTION_ENTITY) return;
  if (change.before === undefined && change.after !== undefined) {
    await sessions.establish(toConnection(change.after));
  } else if (change.before !== undefined && change.after === undefined) {
    await sessions.closed(toConnection(change.before));
  }
}

/** Stream handler of the connections table: opens sessions and tidies up closed ones. */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return processPartialResponse(event, handleRecord, processor, { context, processInParallel: false });
}
