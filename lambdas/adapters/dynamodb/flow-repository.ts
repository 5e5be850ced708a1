import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Channel, ChannelFlow } from '../../core/model';
import type {
  ChannelFlowRepository,
  FlowAssociationOutcome,
  FlowCreateClaim,
  FlowDisassociationOutcome,
  Page,
  PageRequest,
} from '../../services/ports';
import { batchWriteAll } from './batch';
import { DynamoDbChannelRepository } from './channel-repository';
import {
  channelKey,
  ENTITY,
  FLOW_ASSOCIATION_PREFIX,
  flowAssociationKey,
  flowCreateTokenKey,
  flowIndexSortKey,
  flowKey,
  flowPartitionKey,
  FLOWS_INDEX_KEY,
  CHANNELS_INDEX,
} from './keys';
import { queryPage } from './paging';
import { claimOrRead, isConditionFailure, putIfAbsent } from './conditional';

type Item = Record<string, unknown>;

/**
 * DeleteChannelFlow first marks the flow (`deletingAt`); an association that starts within this
 * long of the mark gives way. Much longer than the REST function's timeout, so a deletion that
 * stopped half way blocks associations only briefly.
 */
const DELETE_MARK_MS = 60_000;
/**
 * An association item younger than this may belong to an AssociateChannelFlow still under way (its
 * channel not updated yet), so it keeps the flow in use; an older one whose channel does not name
 * the flow was left behind by a request that stopped half way, and is removed.
 */
const ASSOCIATION_GRACE_MS = 60_000;


function flowItem(flow: ChannelFlow): Item {
  return {
    ...flowKey(flow.flowId),
    entity: ENTITY.channelFlow,
    gsi1pk: FLOWS_INDEX_KEY,
    gsi1sk: flowIndexSortKey(flow.flowId),
    ...flow,
  };
}

function toFlow(item: Item): ChannelFlow {
  return {
    flowId: item.flowId as string,
    name: item.name as string,
    processors: item.processors as ChannelFlow['processors'],
    createdAt: item.createdAt as number,
    lastUpdatedAt: item.lastUpdatedAt as number,
  };
}

const indexPosition = (item: Item) => ({
  pk: item.pk as string,
  sk: item.sk as string,
  gsi1pk: item.gsi1pk as string,
  gsi1sk: item.gsi1sk as string,
});

/** Whether a channel item names the flow: one deployment is one app instance, so the id decides. */
const namesFlow = (channel: Channel | undefined, flowId: string) =>
  channel?.channelFlowArn !== undefined && channel.channelFlowArn.endsWith(`/channel-flow/${flowId}`);

/**
 * Channel flows in the channels table (docs/data-model.md): the flow item (`FLOW#{flowId}` / `FLOW`,
 * in gsi1 under `FLOWS`), one association item per associated channel in the flow's partition
 * (`FLOW#{flowId}` / `CHANNEL#{channelId}`), and the channel item's `channelFlowArn`, which is the
 * truth about a channel's flow and is set and cleared by conditional writes. DynamoDB transactions
 * are not used (dynalite has none): the writes are ordered so that every interleaving of
 * associations and deletions ends consistent, as the comments below explain.
 */
export class DynamoDbFlowRepository implements ChannelFlowRepository {
  private readonly channels: DynamoDbChannelRepository;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.channels = new DynamoDbChannelRepository(client, tableName);
  }

  createFlow(flow: ChannelFlow): Promise<boolean> {
    return putIfAbsent(this.client, this.tableName, flowItem(flow));
  }

  async getFlow(flowId: string): Promise<ChannelFlow | undefined> {
    const item = await this.flowItem(flowId);
    return item ? toFlow(item) : undefined;
  }

  async updateFlow(flowId: string, change: Pick<ChannelFlow, 'name' | 'processors' | 'lastUpdatedAt'>): Promise<ChannelFlow | undefined> {
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: flowKey(flowId),
          UpdateExpression: 'SET #name = :name, processors = :processors, lastUpdatedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: { ':name': change.name, ':processors': change.processors, ':at': change.lastUpdatedAt },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes ? toFlow(output.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  listFlows(page: PageRequest): Promise<Page<ChannelFlow>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: CHANNELS_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': FLOWS_INDEX_KEY },
      },
      page.limit,
      page.after,
      toFlow,
      indexPosition,
    );
  }

  /**
   * 1. mark the flow `deletingAt` (an association that reads the flow after this gives way);
   * 2. look for association items (an association writes its item before it reads the flow, so one
   *    that read the flow before the mark has its item in place by now) and refuse if any is live;
   * 3. delete the flow.
   */
  async deleteFlow(flowId: string, now: number): Promise<'DELETED' | 'NOT_FOUND' | 'IN_USE'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: flowKey(flowId),
          UpdateExpression: 'SET deletingAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return 'NOT_FOUND';
      throw error;
    }
    if (await this.inUse(flowId, now)) {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: flowKey(flowId),
            UpdateExpression: 'REMOVE deletingAt',
            ConditionExpression: 'deletingAt = :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      return 'IN_USE';
    }
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: flowKey(flowId) }));
    return 'DELETED';
  }

  /**
   * 1. write the association item (so that a DeleteChannelFlow from now on sees the flow in use);
   * 2. read the flow: gone, or marked for deletion → give way;
   * 3. set the channel's `channelFlowArn` on condition that it has none, so that of two concurrent
   *    associations exactly one wins; the loser removes the association item it wrote.
   */
  async associateFlow(channelId: string, flowId: string, channelFlowArn: string, now: number): Promise<FlowAssociationOutcome> {
    const put = await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...flowAssociationKey(flowId, channelId), entity: ENTITY.flowAssociation, flowId, channelId, associatedAt: now },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const wroteNewItem = put.Attributes === undefined;
    const giveWay = async <T extends FlowAssociationOutcome>(outcome: T): Promise<T> => {
      if (wroteNewItem) await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: flowAssociationKey(flowId, channelId) }));
      return outcome;
    };

    const flow = await this.flowItem(flowId);
    if (!flow) return giveWay({ outcome: 'FLOW_NOT_FOUND' });
    if (typeof flow.deletingAt === 'number' && flow.deletingAt > now - DELETE_MARK_MS) return giveWay({ outcome: 'FLOW_BEING_DELETED' });

    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKey(channelId),
          UpdateExpression: 'SET channelFlowArn = :arn, lastUpdatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt) AND attribute_not_exists(channelFlowArn)',
          ExpressionAttributeValues: { ':arn': channelFlowArn, ':now': now },
        }),
      );
      return { outcome: 'ASSOCIATED' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const channel = await this.channels.getChannel(channelId);
    if (!channel) return giveWay({ outcome: 'CHANNEL_NOT_FOUND' });
    if (channel.channelFlowArn === channelFlowArn) return { outcome: 'ALREADY_ASSOCIATED' };
    return giveWay({ outcome: 'OTHER_FLOW_ASSOCIATED', channelFlowArn: channel.channelFlowArn ?? '' });
  }

  /** Clears the channel's `channelFlowArn` first (the truth), then its association item. */
  async disassociateFlow(channelId: string, flowId: string, channelFlowArn: string, now: number): Promise<FlowDisassociationOutcome> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKey(channelId),
          UpdateExpression: 'REMOVE channelFlowArn SET lastUpdatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND channelFlowArn = :arn',
          ExpressionAttributeValues: { ':arn': channelFlowArn, ':now': now },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const channel = await this.channels.getChannel(channelId);
      if (!channel) return { outcome: 'CHANNEL_NOT_FOUND' };
      return { outcome: 'NOT_ASSOCIATED', ...(channel.channelFlowArn !== undefined && { channelFlowArn: channel.channelFlowArn }) };
    }
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: flowAssociationKey(flowId, channelId) }));
    return { outcome: 'DISASSOCIATED' };
  }

  /**
   * One Query on the flow's partition, then the channels by key in batches of 100. Only channels
   * that name the flow are listed, so an association still under way or left behind never shows;
   * a page may then hold fewer than `limit` channels and still have a NextToken.
   */
  async listAssociatedChannels(flowId: string, page: PageRequest): Promise<Page<Channel>> {
    const ids = await queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': flowPartitionKey(flowId), ':prefix': FLOW_ASSOCIATION_PREFIX },
        ConsistentRead: true,
      },
      page.limit,
      page.after,
      (item) => item.channelId as string,
      (item) => ({ pk: item.pk as string, sk: item.sk as string }),
    );
    const channels = await this.channels.getChannels(ids.items);
    return { items: channels.filter((channel) => namesFlow(channel, flowId)), ...(ids.next && { next: ids.next }) };
  }

  claimCreateToken(creatorArn: string, token: string, claim: FlowCreateClaim, expiresAt: number): Promise<FlowCreateClaim | undefined> {
    return claimOrRead(
      this.client,
      this.tableName,
      { ...flowCreateTokenKey(creatorArn, token), entity: ENTITY.flowCreateToken, ...claim, expiresAt },
      (stored) => ({ resourceId: stored.resourceId as string, requestHash: stored.requestHash as string, stored: stored.stored === true }),
    );
  }

  async markCreateTokenStored(creatorArn: string, token: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: flowCreateTokenKey(creatorArn, token),
          UpdateExpression: 'SET #stored = :stored',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#stored': 'stored' },
          ExpressionAttributeValues: { ':stored': true },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async flowItem(flowId: string): Promise<Item | undefined> {
    const output = await this.client.send(new GetCommand({ TableName: this.tableName, Key: flowKey(flowId), ConsistentRead: true }));
    return output.Item;
  }

  /**
   * Whether any channel is associated with the flow, or may be about to be. Association items left
   * behind by a request that stopped half way (older than the grace period, their channel gone or
   * naming no such flow) are removed on the way, so they cannot block the deletion for ever.
   */
  private async inUse(flowId: string, now: number): Promise<boolean> {
    let startKey: Item | undefined;
    do {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': flowPartitionKey(flowId), ':prefix': FLOW_ASSOCIATION_PREFIX },
          ConsistentRead: true,
          Limit: 100,
          ExclusiveStartKey: startKey,
        }),
      );
      const items = output.Items ?? [];
      if (items.some((item) => typeof item.associatedAt === 'number' && item.associatedAt > now - ASSOCIATION_GRACE_MS)) return true;
      const channels = await this.channels.getChannels(items.map((item) => item.channelId as string));
      if (channels.some((channel) => namesFlow(channel, flowId))) return true;
      await batchWriteAll(
        this.client,
        this.tableName,
        items.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })),
      );
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return false;
  }
}
