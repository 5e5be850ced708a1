import { TABLES } from '../../../lib/system';

/**
 * Key layout of the two tables (see docs/data-model.md). Ids inside keys are the resource ids of
 * the ARNs; one deployment is one app instance, so the app instance is not part of any key.
 */
export const channelKey = (channelId: string) => ({ pk: `CHANNEL#${channelId}`, sk: 'CHANNEL' });
export const membershipKey = (channelId: string, memberArn: string) => ({ pk: `CHANNEL#${channelId}`, sk: `MEMBER#${memberArn}` });
export const MEMBER_PREFIX = 'MEMBER#';
export const privacyIndexKey = (privacy: string) => `PRIVACY#${privacy}`;
export const memberIndexKey = (memberArn: string) => `MEMBER#${memberArn}`;
export const channelIndexSortKey = (channelId: string) => `CHANNEL#${channelId}`;
export const createTokenKey = (creatorArn: string, token: string) => ({ pk: `CREATE_TOKEN#${creatorArn}#${token}`, sk: 'TOKEN' });

/** Channel flows live in the channels table: the flow, and one item per associated channel in its partition. */
export const flowPartitionKey = (flowId: string) => `FLOW#${flowId}`;
export const flowKey = (flowId: string) => ({ pk: flowPartitionKey(flowId), sk: 'FLOW' });
/** gsi1 partition of every flow item: ListChannelFlows is one Query. */
export const FLOWS_INDEX_KEY = 'FLOWS';
export const flowIndexSortKey = (flowId: string) => `FLOW#${flowId}`;
export const FLOW_ASSOCIATION_PREFIX = 'CHANNEL#';
export const flowAssociationKey = (flowId: string, channelId: string) => ({
  pk: flowPartitionKey(flowId),
  sk: `${FLOW_ASSOCIATION_PREFIX}${channelId}`,
});
export const flowCreateTokenKey = (creatorArn: string, token: string) => ({ pk: `FLOW_CREATE_TOKEN#${creatorArn}#${token}`, sk: 'TOKEN' });

export const messagePartitionKey = (channelId: string) => `CHANNEL#${channelId}`;
export const MESSAGE_PREFIX = 'MESSAGE#';
export const messageKey = (channelId: string, messageId: string) => ({ pk: messagePartitionKey(channelId), sk: `${MESSAGE_PREFIX}${messageId}` });
export const sendTokenKey = (channelId: string, senderArn: string, token: string) => ({
  pk: messagePartitionKey(channelId),
  sk: `SEND_TOKEN#${senderArn}#${token}`,
});

/** Entity tags let the stream consumer and the repositories tell item kinds apart. */
export const ENTITY = {
  channel: 'CHANNEL',
  membership: 'MEMBERSHIP',
  createToken: 'CREATE_TOKEN',
  channelFlow: 'CHANNEL_FLOW',
  flowAssociation: 'FLOW_ASSOCIATION',
  flowCreateToken: 'FLOW_CREATE_TOKEN',
  message: 'MESSAGE',
  sendToken: 'SEND_TOKEN',
} as const;

/** The channels table's one index (privacy listing, a member's channels, the list of flows). */
export const CHANNELS_INDEX = (TABLES.channels.indexes[0] as { readonly indexName: string }).indexName;
