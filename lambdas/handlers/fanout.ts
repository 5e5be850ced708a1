import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, DynamoDBBatchResponse } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { toMessage } from '../adapters/dynamodb/message-repository';
import { toMembership } from '../adapters/dynamodb/channel-repository';
import { ENTITY } from '../adapters/dynamodb/keys';
import { readItemChange } from '../adapters/dynamodb/stream-records';
import { appInstanceFromEnvironment } from '../config';
import { eventsForMembershipChange, eventsForMessageChange, type ChimeEvent } from '../core/channel-events';
import { createFanoutService } from './shared/fanout';

const logger = new Logger({ serviceName: 'channel-flows-fanout' });
const client = createDocumentClient();
const fanout = createFanoutService(appInstanceFromEnvironment(), client);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** The events a stream record of the messages or channels table stands for. */
function eventsOf(record: DynamoDBRecord): readonly ChimeEvent[] {
  const change = readItemChange(record);
  if (change.entity === ENTITY.message) {
    return eventsForMessageChange({
      ...(change.before && { before: toMessage(change.before) }),
      ...(change.after && { after: toMessage(change.after) }),
      ...(change.removal && { removal: change.removal }),
    });
  }
  if (change.entity === ENTITY.membership) {
    return eventsForMembershipChange({
      ...(change.before && { before: toMembership(change.before) }),
      ...(change.after && { after: toMembership(change.after) }),
    });
  }
  return [];
}

async function deliver(record: DynamoDBRecord): Promise<void> {
  for (const event of eventsOf(record)) {
    const report = await fanout.publish(event);
    logger.debug('Event delivered', { eventType: event.eventType, ...report, sequenceNumber: record.dynamodb?.SequenceNumber });
  }
}

/**
 * Stream handler of the messages and channels tables. Records are handled in order; a record that
 * fails is reported in `batchItemFailures` so the event source mapping retries it (and bisects,
 * and finally dead-letters it) without holding back the records that succeeded.
 */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return processPartialResponse(event, deliver, processor, { context, processInParallel: false });
}
