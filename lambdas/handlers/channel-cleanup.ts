import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbChannelRepository } from '../adapters/dynamodb/channel-repository';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { ENTITY } from '../adapters/dynamodb/keys';
import { DynamoDbMessageRepository } from '../adapters/dynamodb/message-repository';
import { readItemChange } from '../adapters/dynamodb/stream-records';
import { appInstanceFromEnvironment, tableName } from '../config';
import { ChannelService } from '../services/channel-service';
import { systemClock } from '../services/ports';

const client = createDocumentClient();
const channels = new ChannelService(
  appInstanceFromEnvironment(),
  new DynamoDbChannelRepository(client, tableName('channels')),
  new DynamoDbMessageRepository(client, tableName('messages')),
  systemClock,
);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** A channel item that has just become a tombstone is a channel to clean up. */
async function handleRecord(record: DynamoDBRecord): Promise<void> {
  const change = readItemChange(record);
  if (change.entity !== ENTITY.channel) return;
  if (change.after?.deletedAt !== undefined && change.before?.deletedAt === undefined) {
    await channels.purgeDeletedChannel(change.after.channelId as string);
  }
}

/** Stream handler of the channels table: removes deleted channels' memberships and messages. */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return processPartialResponse(event, handleRecord, processor, { context, processInParallel: false });
}
