import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Channel, ChannelPrivacy, Membership } from '../../core/model';
import type { ChannelRepository, IdempotencyRecord, MemberDirectory, Page, PageRequest } from '../../services/ports';
import {
  channelIndexSortKey,
  channelKey,
  createTokenKey,
  ENTITY,
  flowAssociationKey,
  MEMBER_PREFIX,
  memberIndexKey,
  membershipKey,
  privacyIndexKey,
  CHANNELS_INDEX,
} from './keys';
import { queryPage } from './paging';
import { claimOrRead, putIfAbsent, writeIf } from './conditional';
import { batchGetAll, batchWriteAll } from './batch';

type Item = Record<string, unknown>;

function channelItem(channel: Channel): Item {
  return {
    ...channelKey(channel.channelId),
    entity: ENTITY.channel,
    gsi1pk: privacyIndexKey(channel.privacy),
    gsi1sk: channelIndexSortKey(channel.channelId),
    ...channel,
  };
}

export function toChannel(item: Item): Channel {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gpk, gsi1sk: _gsk, deletedAt: _deletedAt, ...channel } = item;
  return channel as unknown as Channel;
}

/** A deleted channel stays as a tombstone (`deletedAt`) until its memberships and messages are gone. */
const isLive = (item: Item | undefined): item is Item => item !== undefined && item.deletedAt === undefined;

function membershipItem(membership: Membership): Item {
  return {
    ...membershipKey(membership.channelId, membership.member.arn),
    entity: ENTITY.membership,
    gsi1pk: memberIndexKey(membership.member.arn),
    gsi1sk: channelIndexSortKey(membership.channelId),
    ...membership,
  };
}

export function toMembership(item: Item): Membership {
  const { pk: _pk, sk: _sk, entity: _entity, gsi1pk: _gpk, gsi1sk: _gsk, ...membership } = item;
  return membership as unknown as Membership;
}

const tablePosition = (item: Item) => ({ pk: item.pk as string, sk: item.sk as string });
const indexPosition = (item: Item) => ({ ...tablePosition(item), gsi1pk: item.gsi1pk as string, gsi1sk: item.gsi1sk as string });

export class DynamoDbChannelRepository implements ChannelRepository, MemberDirectory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  createChannel(channel: Channel): Promise<boolean> {
    return putIfAbsent(this.client, this.tableName, channelItem(channel));
  }

  async getChannel(channelId: string): Promise<Channel | undefined> {
    const output = await this.client.send(new GetCommand({ TableName: this.tableName, Key: channelKey(channelId), ConsistentRead: true }));
    return isLive(output.Item) ? toChannel(output.Item) : undefined;
  }

  async getChannels(channelIds: readonly string[]): Promise<readonly Channel[]> {
    const items = await batchGetAll(this.client, this.tableName, [...new Set(channelIds)].map(channelKey));
    const found = new Map(items.filter(isLive).map((item) => [item.channelId as string, toChannel(item)]));
    return channelIds.flatMap((id) => found.get(id) ?? []);
  }

  async deleteChannel(channelId: string, at: number): Promise<void> {
    // One write makes the channel gone for every reader and every writer (a tombstone, out of the
    // privacy index); its memberships and messages are removed afterwards, from the stream.
    let deleted: Item | undefined;
    const marked = await writeIf(async () => {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKey(channelId),
          UpdateExpression: 'SET deletedAt = :at REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
          ExpressionAttributeValues: { ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      deleted = output.Attributes;
    });
    // A deleted channel no longer keeps its channel flow in use.
    const flowArn = marked ? deleted?.channelFlowArn : undefined;
    if (typeof flowArn === 'string') {
      const flowId = flowArn.slice(flowArn.lastIndexOf('/') + 1);
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: flowAssociationKey(flowId, channelId) }));
    }
  }

  async purgeDeletedChannel(channelId: string): Promise<void> {
    for await (const memberArns of this.memberArnPages(channelId)) {
      await batchWriteAll(this.client, this.tableName, memberArns.map((arn) => ({ DeleteRequest: { Key: membershipKey(channelId, arn) } })));
    }
    // The tombstone goes last, so a channel id is never reused while items of the old channel remain.
    await writeIf(() =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: channelKey(channelId), ConditionExpression: 'attribute_exists(deletedAt)' })),
    );
  }

  async channelExists(channelId: string): Promise<boolean> {
    return (await this.getChannel(channelId)) !== undefined;
  }

  listChannelsByPrivacy(privacy: ChannelPrivacy, page: PageRequest): Promise<Page<Channel>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: CHANNELS_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': privacyIndexKey(privacy) },
      },
      page.limit,
      page.after,
      toChannel,
      indexPosition,
    );
  }

  async recordLastMessage(channelId: string, at: number): Promise<void> {
    // Never backwards, and never for a channel deleted meanwhile.
    await writeIf(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKey(channelId),
          UpdateExpression: 'SET lastMessageAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastMessageAt) OR lastMessageAt < :at)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  async putMembership(membership: Membership): Promise<Membership> {
    if (await putIfAbsent(this.client, this.tableName, membershipItem(membership))) return membership;
    return (await this.getMembership(membership.channelId, membership.member.arn)) ?? membership;
  }

  async renameMember(channelId: string, memberArn: string, name: string): Promise<void> {
    await writeIf(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: membershipKey(channelId, memberArn),
          UpdateExpression: 'SET #member.#name = :name',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#member': 'member', '#name': 'name' },
          ExpressionAttributeValues: { ':name': name },
        }),
      ),
    );
  }

  async getMembership(channelId: string, userArn: string): Promise<Membership | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: membershipKey(channelId, userArn), ConsistentRead: true }),
    );
    return output.Item ? toMembership(output.Item) : undefined;
  }

  async deleteMembership(channelId: string, userArn: string): Promise<boolean> {
    const output = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: membershipKey(channelId, userArn), ReturnValues: 'ALL_OLD' }),
    );
    return output.Attributes !== undefined;
  }

  listMemberships(channelId: string, options: PageRequest & { readonly type?: Membership['type'] }): Promise<Page<Membership>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ...(options.type !== undefined && { FilterExpression: '#type = :type', ExpressionAttributeNames: { '#type': 'type' } }),
        ExpressionAttributeValues: {
          ':pk': channelKey(channelId).pk,
          ':prefix': MEMBER_PREFIX,
          ...(options.type !== undefined && { ':type': options.type }),
        },
      },
      options.limit,
      options.after,
      toMembership,
      tablePosition,
    );
  }

  /** Member ARNs straight from the sort keys: a key-only read, about 4,000 members a page. */
  async *memberArnPages(channelId: string): AsyncIterable<readonly string[]> {
    let startKey: Item | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': channelKey(channelId).pk, ':prefix': MEMBER_PREFIX },
          ProjectionExpression: 'sk',
          ExclusiveStartKey: startKey,
        }),
      );
      const arns = (output.Items ?? []).map((item) => (item.sk as string).slice(MEMBER_PREFIX.length));
      if (arns.length > 0) yield arns;
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  listChannelIdsOfMember(userArn: string, page: PageRequest): Promise<Page<string>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: CHANNELS_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': memberIndexKey(userArn) },
      },
      page.limit,
      page.after,
      (item) => item.channelId as string,
      indexPosition,
    );
  }

  claimCreateToken(creatorArn: string, token: string, record: IdempotencyRecord, expiresAt: number): Promise<IdempotencyRecord | undefined> {
    return claimOrRead(
      this.client,
      this.tableName,
      { ...createTokenKey(creatorArn, token), entity: ENTITY.createToken, ...record, expiresAt },
      (stored) => ({ resourceId: stored.resourceId as string, requestHash: stored.requestHash as string }),
    );
  }

  async releaseCreateToken(creatorArn: string, token: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: createTokenKey(creatorArn, token) }));
  }
}
