import { channelArn, channelFlowArn, type AppInstance } from './arns';
import type { Channel, ChannelFlow, Identity, Membership, Message, Processor } from './model';

/**
 * The Chime wire shapes (PascalCase members). REST bodies carry timestamps as epoch seconds
 * (restJson1's default); WebSocket events and processor payloads carry ISO-8601 strings.
 */
export type TimestampFormat = 'epoch-seconds' | 'iso-8601';

const timestamp = (ms: number, format: TimestampFormat): number | string =>
  format === 'epoch-seconds' ? ms / 1000 : new Date(ms).toISOString();

const optionalTimestamp = (ms: number | undefined, format: TimestampFormat) =>
  ms === undefined ? undefined : timestamp(ms, format);

export const toWireIdentity = (identity: Identity) => ({ Arn: identity.arn, Name: identity.name });

/** Channel, as DescribeChannel returns it and channel events carry it. */
export function toWireChannel(app: AppInstance, channel: Channel, format: TimestampFormat = 'epoch-seconds') {
  return {
    Name: channel.name,
    ChannelArn: channelArn(app, channel.channelId),
    Mode: channel.mode,
    Privacy: channel.privacy,
    Metadata: channel.metadata,
    CreatedBy: toWireIdentity(channel.createdBy),
    CreatedTimestamp: timestamp(channel.createdAt, format),
    LastMessageTimestamp: optionalTimestamp(channel.lastMessageAt, format),
    LastUpdatedTimestamp: timestamp(channel.lastUpdatedAt, format),
    ChannelFlowArn: channel.channelFlowArn,
  };
}

export function toWireChannelSummary(app: AppInstance, channel: Channel) {
  return {
    Name: channel.name,
    ChannelArn: channelArn(app, channel.channelId),
    Mode: channel.mode,
    Privacy: channel.privacy,
    Metadata: channel.metadata,
    LastMessageTimestamp: optionalTimestamp(channel.lastMessageAt, 'epoch-seconds'),
  };
}

/** ChannelMembership, as DescribeChannelMembership returns it and membership events carry it. */
export function toWireMembership(app: AppInstance, membership: Membership, format: TimestampFormat = 'epoch-seconds') {
  return {
    InvitedBy: toWireIdentity(membership.invitedBy),
    Type: membership.type,
    Member: toWireIdentity(membership.member),
    ChannelArn: channelArn(app, membership.channelId),
    CreatedTimestamp: timestamp(membership.createdAt, format),
    LastUpdatedTimestamp: timestamp(membership.lastUpdatedAt, format),
  };
}

function messageAttributes(message: Message) {
  if (message.messageAttributes === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(message.messageAttributes).map(([key, value]) => [key, { StringValues: [...value.stringValues] }]),
  );
}

/** Members shared by ChannelMessage and ChannelMessageSummary. */
function messageCore(message: Message, format: TimestampFormat) {
  return {
    MessageId: message.messageId,
    Content: message.content,
    Metadata: message.metadata,
    Type: message.type,
    CreatedTimestamp: timestamp(message.createdAt, format),
    LastUpdatedTimestamp: timestamp(message.lastUpdatedAt, format),
    LastEditedTimestamp: optionalTimestamp(message.lastEditedAt, format),
    Sender: toWireIdentity(message.sender),
    Redacted: message.redacted,
    Status: { Value: message.status.value, ...(message.status.detail !== undefined && { Detail: message.status.detail }) },
    MessageAttributes: messageAttributes(message),
    ContentType: message.contentType,
    Target: message.target?.map((memberArn) => ({ MemberArn: memberArn })),
  };
}

/** ChannelMessage, as GetChannelMessage returns it and as the WebSocket payload carries it. */
export function toWireMessage(app: AppInstance, message: Message, format: TimestampFormat) {
  return {
    ChannelArn: channelArn(app, message.channelId),
    ...messageCore(message, format),
    Persistence: message.persistence,
  };
}

/** ChannelMessageSummary, as ListChannelMessages returns it. */
export const toWireMessageSummary = (message: Message) => messageCore(message, 'epoch-seconds');

/** Processor, as CreateChannelFlow takes it and DescribeChannelFlow / ListChannelFlows return it. */
export const toWireProcessor = (processor: Processor) => ({
  Name: processor.name,
  Configuration: { Lambda: { ResourceArn: processor.lambdaArn, InvocationType: processor.invocationType } },
  ExecutionOrder: processor.executionOrder,
  FallbackAction: processor.fallbackAction,
});

/** ChannelFlow, as DescribeChannelFlow returns it. */
export function toWireChannelFlow(app: AppInstance, flow: ChannelFlow) {
  return {
    ChannelFlowArn: channelFlowArn(app, flow.flowId),
    Processors: flow.processors.map(toWireProcessor),
    Name: flow.name,
    CreatedTimestamp: timestamp(flow.createdAt, 'epoch-seconds'),
    LastUpdatedTimestamp: timestamp(flow.lastUpdatedAt, 'epoch-seconds'),
  };
}

/** ChannelFlowSummary, the items of ListChannelFlows. */
export function toWireChannelFlowSummary(app: AppInstance, flow: ChannelFlow) {
  return { ChannelFlowArn: channelFlowArn(app, flow.flowId), Name: flow.name, Processors: flow.processors.map(toWireProcessor) };
}

/** ChannelAssociatedWithFlowSummary, the items of ListChannelsAssociatedWithChannelFlow: a ChannelSummary without LastMessageTimestamp. */
export function toWireChannelAssociatedWithFlow(app: AppInstance, channel: Channel) {
  const { LastMessageTimestamp: _lastMessage, ...summary } = toWireChannelSummary(app, channel);
  return summary;
}
