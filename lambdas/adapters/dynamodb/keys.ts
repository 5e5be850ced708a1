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
  message: 'MESSAGE',
  sendToken: 'SEND_TOKEN',
} as const;
