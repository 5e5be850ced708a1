import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbChannelRepository, toChannel } from '../adapters/dynamodb/channel-repository';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { ENTITY } from '../adapters/dynamodb/keys';
import { DynamoDbMessageRepository } from '../adapters/dynamodb/message-repository';
import { readItemChange } from '../adapters/dynamodb/stream-records';
import { appInstanceFromEnvironment, tableName } from '../config';
import { channelDeletedEvent } from '../core/channel-events';
import { ChannelService } from '../services/channel-service';
import { createFanoutService } from './shared/fanout';
import { systemClock } from '../services/ports';

const logger = new Logger({ serviceName: 'channel-flows-channel-cleanup' });
const app = appInstanceFromEnvironment();
const client = createDocumentClient();
const channelRepository = new DynamoDbChannelRepository(client, tableName('channels'));
const channels = new ChannelService(app, channelRepository, new DynamoDbMessageRepository(client, tableName('messages')), systemClock);
const fanout = createFanoutService(app, client, channelRepository);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** A channel item that has just become a tombstone is a channel to announce and clean up. */
async function handleRecord(record: DynamoDBRecord): Promise<void> {
  const change = readItemChange(record);
  if (change.entity !== ENTITY.channel) return;
  if (change.after?.deletedAt !== undefined && change.before?.deletedAt === undefined) {
    const channel = toChannel(change.after);
    // Told while its members are still stored. Best effort: the channel is gone either way, and a
    // client that missed the event gets NotFoundException on its next call.
    await fanout.publish(channelDeletedEvent(channel)).catch((error: Error) => {
      logger.warn('DELETE_CHANNEL not delivered to every member', { channelId: channel.channelId, reason: error.message });
    });
    await channels.purgeDeletedChannel(channel.channelId);
  }
}

/** Stream handler of the channels table: announces deleted channels, then removes their memberships and messages. */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return processPartialResponse(event, handleRecord, processor, { context, processInParallel: false });
}
