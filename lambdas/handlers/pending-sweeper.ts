import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoDbMessageRepository } from '../adapters/dynamodb/message-repository';
import { DynamoDbChannelRepository } from '../adapters/dynamodb/channel-repository';
import { appInstanceFromEnvironment, tableName } from '../config';
import { createProcessingService } from './shared/processing';

const logger = new Logger({ serviceName: 'channel-flows-pending-sweeper' });
const client = createDocumentClient();
const processing = createProcessingService(appInstanceFromEnvironment(), new DynamoDbMessageRepository(client, tableName('messages')), new DynamoDbChannelRepository(client, tableName('channels')));

/** Scheduled: no message stays PENDING past its flow timeout. */
export async function handler(): Promise<{ readonly ended: number }> {
  const ended = await processing.sweep();
  if (ended > 0) logger.info('Overdue changes ended', { ended });
  return { ended };
}
