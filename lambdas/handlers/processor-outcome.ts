import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoDbMessageRepository } from '../adapters/dynamodb/message-repository';
import { DynamoDbChannelRepository } from '../adapters/dynamodb/channel-repository';
import { appInstanceFromEnvironment, tableName } from '../config';
import { parseResourceArn } from '../core/arns';
import { answerOfResult, type ProcessorEvent } from '../core/processor-protocol';
import { createProcessingService } from './shared/processing';

const logger = new Logger({ serviceName: 'channel-flows-processor-outcome' });
const app = appInstanceFromEnvironment();
const client = createDocumentClient();
const processing = createProcessingService(app, new DynamoDbMessageRepository(client, tableName('messages')), new DynamoDbChannelRepository(client, tableName('channels')));

/** The record Lambda sends to an asynchronous invocation's destinations. */
export interface DestinationRecord {
  readonly requestContext: { readonly condition: 'Success' | 'RetriesExhausted' | 'EventAgeExceeded'; readonly functionArn: string };
  readonly requestPayload: ProcessorEvent;
  readonly responseContext?: { readonly functionError?: string };
  readonly responsePayload?: unknown;
}

/**
 * On-success and on-failure destination of every processor. Success with a returned answer writes
 * it back; success with no return value means the processor answers by ChannelFlowCallback; a
 * failure (retries exhausted, event too old) ends the change by the processor's fallback action.
 */
export async function handler(record: DestinationRecord): Promise<void> {
  const event = record.requestPayload;
  const channelId = parseResourceArn(app, 'channel', event.ChannelMessage.ChannelArn, 'ChannelMessage.ChannelArn');
  const messageId = event.ChannelMessage.MessageId;
  const { condition, functionArn } = record.requestContext;

  if (condition === 'Success') {
    const parsed = answerOfResult(record.responsePayload);
    if (parsed === undefined) return;
    const answer = 'invalid' in parsed ? { kind: 'FAIL' as const, detail: parsed.invalid } : parsed.answer;
    if (!('invalid' in parsed) && parsed.messageId !== messageId) {
      logger.warn('Processor answered for another message', { functionArn, expected: messageId, got: parsed.messageId });
      return;
    }
    const outcome = await processing.answer(channelId, messageId, event.CallbackId, answer).catch((error: Error) => error.message);
    logger.info('Processor answer', { functionArn, messageId, outcome });
    return;
  }

  const error = (record.responsePayload as { errorMessage?: string } | undefined)?.errorMessage;
  const detail = `The processor failed (${condition})${error ? `: ${error}` : ''}`;
  const outcome = await processing.answer(channelId, messageId, event.CallbackId, { kind: 'FAIL', detail }).catch((failure: Error) => failure.message);
  logger.warn('Processor failed', { functionArn, messageId, condition, outcome });
}
