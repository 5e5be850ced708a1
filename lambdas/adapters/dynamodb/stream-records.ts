import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Removal } from '../../core/channel-events';
import { ENTITY } from './keys';

/**
 * Reads a DynamoDB stream record as a change of one entity: its old and new item (plain objects),
 * and, for a removal, whether a request deleted it or TTL expired it.
 */
export interface ItemChange {
  readonly entity: string | undefined;
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
  readonly removal?: Removal;
}

const TTL_PRINCIPAL = 'dynamodb.amazonaws.com';

export function readItemChange(record: DynamoDBRecord): ItemChange {
  const image = (value: unknown) => (value ? unmarshall(value as Record<string, AttributeValue>) : undefined);
  const before = image(record.dynamodb?.OldImage);
  const after = image(record.dynamodb?.NewImage);
  const entity = (after?.entity ?? before?.entity) as string | undefined;
  const expired = record.userIdentity?.type === 'Service' && record.userIdentity?.principalId === TTL_PRINCIPAL;
  return {
    entity,
    ...(before !== undefined && { before }),
    ...(after !== undefined && { after }),
    ...(record.eventName === 'REMOVE' && { removal: expired ? 'EXPIRED' : 'DELETED' }),
  };
}

export const isEntity = (change: ItemChange, entity: (typeof ENTITY)[keyof typeof ENTITY] | 'CONNECTION') => change.entity === entity;
