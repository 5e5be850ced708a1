import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { messageIdBounds } from '../../core/ids';
import type { Message } from '../../core/model';
import type { ListMessagesOptions, MessageRepository, Page, PendingMessageIndex, SendClaim } from '../../services/ports';
import { ENTITY, MESSAGE_PREFIX, messageKey, messagePartitionKey, sendTokenKey } from './keys';
import { queryPage } from './paging';
import { claimOrRead, putIfAbsent, writeIf } from './conditional';
import { batchWriteAll } from './batch';

type Item = Record<string, unknown>;

/** NON_PERSISTENT messages live only as long as delivery needs them. */
const NON_PERSISTENT_LIFETIME_SECONDS = 15 * 60;
const DENIED_LIFETIME_SECONDS = 60;

/** The sparse `pending` index holds exactly the messages waiting for a processor, by deadline. */
const PENDING_PARTITION = 'PENDING';
const DEADLINE_DIGITS = 15;
const deadlineKey = (epochMs: number) => Math.max(0, Math.floor(epochMs)).toString().padStart(DEADLINE_DIGITS, '0');

export function messageItem(message: Message): Item {
  return {
    ...messageKey(message.channelId, message.messageId),
    entity: ENTITY.message,
    ...message,
    ...(message.pending !== undefined && { pendingPartition: PENDING_PARTITION, pendingDeadline: deadlineKey(message.pending.deadline) }),
    ...(message.persistence === 'NON_PERSISTENT' && {
      expiresAt: Math.floor(message.createdAt / 1000) + NON_PERSISTENT_LIFETIME_SECONDS,
    }),
    // The DENIED version of a send is deleted right after it is written; should that delete never
    // happen, TTL removes it.
    ...(message.status.value === 'DENIED' && { expiresAt: Math.floor(message.lastUpdatedAt / 1000) + DENIED_LIFETIME_SECONDS }),
  };
}

export function toMessage(item: Item): Message {
  const { pk: _pk, sk: _sk, entity: _entity, expiresAt: _expiresAt, pendingPartition: _partition, pendingDeadline: _deadline, ...message } = item;
  return message as unknown as Message;
}

export class DynamoDbMessageRepository implements MessageRepository, PendingMessageIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  claimSendToken(channelId: string, senderArn: string, token: string, claim: SendClaim, expiresAt: number): Promise<SendClaim | undefined> {
    return claimOrRead(
      this.client,
      this.tableName,
      { ...sendTokenKey(channelId, senderArn, token), entity: ENTITY.sendToken, ...claim, expiresAt },
      (stored) => ({
        requestHash: stored.requestHash as string,
        messageId: stored.messageId as string,
        ...(stored.message !== undefined && { message: stored.message as Message }),
        stored: stored.stored === true,
      }),
    );
  }

  async markSendTokenStored(channelId: string, senderArn: string, token: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: sendTokenKey(channelId, senderArn, token),
        // The message id stays, for retries; the copy of the message goes, so no content outlives it.
        UpdateExpression: 'SET #stored = :true REMOVE #message',
        ExpressionAttributeNames: { '#stored': 'stored', '#message': 'message' },
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  createMessage(message: Message): Promise<boolean> {
    return putIfAbsent(this.client, this.tableName, messageItem(message));
  }

  async getMessage(channelId: string, messageId: string): Promise<Message | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: messageKey(channelId, messageId), ConsistentRead: true }),
    );
    return output.Item ? toMessage(output.Item) : undefined;
  }

  replaceMessage(message: Message, expectedRevision: number): Promise<boolean> {
    return writeIf(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: messageItem(message),
          ConditionExpression: '#revision = :expected',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':expected': expectedRevision },
        }),
      ),
    );
  }

  async deleteMessage(channelId: string, messageId: string): Promise<boolean> {
    const output = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: messageKey(channelId, messageId), ReturnValues: 'ALL_OLD' }),
    );
    return output.Attributes !== undefined;
  }

  listMessages(channelId: string, options: ListMessagesOptions): Promise<Page<Message>> {
    const lowest = `${MESSAGE_PREFIX}${options.notBefore === undefined ? '' : messageIdBounds(options.notBefore).lowest}`;
    const highest = `${MESSAGE_PREFIX}${options.notAfter === undefined ? '~' : messageIdBounds(options.notAfter).highest}`;
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lowest AND :highest',
        FilterExpression: '#persistence = :persistent',
        ExpressionAttributeNames: { '#persistence': 'persistence' },
        ExpressionAttributeValues: { ':pk': messagePartitionKey(channelId), ':lowest': lowest, ':highest': highest, ':persistent': 'PERSISTENT' },
        ScanIndexForward: options.order === 'ASCENDING',
        ConsistentRead: true,
      },
      options.limit,
      options.after,
      toMessage,
      (item) => ({ pk: item.pk as string, sk: item.sk as string }),
    );
  }

  async overduePending(now: number, limit: number): Promise<readonly { readonly channelId: string; readonly messageId: string }[]> {
    const output = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'pending',
        KeyConditionExpression: 'pendingPartition = :partition AND pendingDeadline < :now',
        ExpressionAttributeValues: { ':partition': PENDING_PARTITION, ':now': deadlineKey(now) },
        ProjectionExpression: 'channelId, messageId',
        Limit: limit,
      }),
    );
    return (output.Items ?? []).map((item) => ({ channelId: item.channelId as string, messageId: item.messageId as string }));
  }

  async deleteChannelMessages(channelId: string): Promise<void> {
    let startKey: Item | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': messagePartitionKey(channelId) },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      await batchWriteAll(this.client, this.tableName, (output.Items ?? []).map((key) => ({ DeleteRequest: { Key: key } })));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
}
