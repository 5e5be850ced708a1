import { notFound } from '../core/errors';

/**
 * The REST operations and their HTTP bindings (Smithy model of Chime SDK Messaging). Paths are
 * matched decoded, so an ARN label spans several segments; the literal `?scope=` / `?operation=`
 * of a binding tells apart operations that share a path. More specific bindings come first.
 */
export type OperationName =
  | 'CreateChannel'
  | 'ListChannels'
  | 'ListChannelMembershipsForAppInstanceUser'
  | 'DescribeChannel'
  | 'DeleteChannel'
  | 'CreateChannelMembership'
  | 'ListChannelMemberships'
  | 'DescribeChannelMembership'
  | 'DeleteChannelMembership'
  | 'SendChannelMessage'
  | 'ListChannelMessages'
  | 'GetChannelMessageStatus'
  | 'GetChannelMessage'
  | 'UpdateChannelMessage'
  | 'DeleteChannelMessage'
  | 'RedactChannelMessage'
  | 'GetMessagingSessionEndpoint'
  | 'ChannelFlowCallback'
  | 'CreateChannelFlow'
  | 'DescribeChannelFlow'
  | 'UpdateChannelFlow'
  | 'DeleteChannelFlow'
  | 'ListChannelFlows'
  | 'AssociateChannelFlow'
  | 'DisassociateChannelFlow'
  | 'ListChannelsAssociatedWithChannelFlow';

interface Binding {
  readonly method: string;
  readonly path: RegExp;
  readonly query?: readonly [string, string];
  readonly operation: OperationName;
}

const CHANNEL = '/channels/(.+?)';
const ID = '([^/]+)';

const BINDINGS: readonly Binding[] = [
  { method: 'GET', path: /^\/endpoints\/messaging-session$/, operation: 'GetMessagingSessionEndpoint' },
  { method: 'POST', path: /^\/channels\/(.+)$/, query: ['operation', 'channel-flow-callback'], operation: 'ChannelFlowCallback' },
  { method: 'GET', path: /^\/channels$/, query: ['scope', 'app-instance-user-memberships'], operation: 'ListChannelMembershipsForAppInstanceUser' },
  { method: 'GET', path: /^\/channels$/, query: ['scope', 'channel-flow-associations'], operation: 'ListChannelsAssociatedWithChannelFlow' },
  { method: 'POST', path: /^\/channel-flows$/, operation: 'CreateChannelFlow' },
  { method: 'GET', path: /^\/channel-flows$/, operation: 'ListChannelFlows' },
  { method: 'GET', path: /^\/channel-flows\/(.+)$/, operation: 'DescribeChannelFlow' },
  { method: 'PUT', path: /^\/channel-flows\/(.+)$/, operation: 'UpdateChannelFlow' },
  { method: 'DELETE', path: /^\/channel-flows\/(.+)$/, operation: 'DeleteChannelFlow' },
  { method: 'PUT', path: new RegExp(`^${CHANNEL}/channel-flow$`), operation: 'AssociateChannelFlow' },
  // The channel label must end in `/channel/{id}`, so that DeleteChannel of a channel whose app
  // instance id happens to be "channel-flow" is not taken for a disassociation.
  { method: 'DELETE', path: /^\/channels\/(.+?\/channel\/[^/]+)\/channel-flow\/(.+)$/, operation: 'DisassociateChannelFlow' },
  { method: 'POST', path: /^\/channels$/, operation: 'CreateChannel' },
  { method: 'GET', path: /^\/channels$/, operation: 'ListChannels' },
  { method: 'POST', path: new RegExp(`^${CHANNEL}/memberships$`), operation: 'CreateChannelMembership' },
  { method: 'GET', path: new RegExp(`^${CHANNEL}/memberships$`), operation: 'ListChannelMemberships' },
  { method: 'GET', path: new RegExp(`^${CHANNEL}/memberships/(.+)$`), operation: 'DescribeChannelMembership' },
  { method: 'DELETE', path: new RegExp(`^${CHANNEL}/memberships/(.+)$`), operation: 'DeleteChannelMembership' },
  { method: 'POST', path: new RegExp(`^${CHANNEL}/messages$`), operation: 'SendChannelMessage' },
  { method: 'GET', path: new RegExp(`^${CHANNEL}/messages$`), operation: 'ListChannelMessages' },
  { method: 'GET', path: new RegExp(`^${CHANNEL}/messages/${ID}$`), query: ['scope', 'message-status'], operation: 'GetChannelMessageStatus' },
  { method: 'POST', path: new RegExp(`^${CHANNEL}/messages/${ID}$`), query: ['operation', 'redact'], operation: 'RedactChannelMessage' },
  { method: 'GET', path: new RegExp(`^${CHANNEL}/messages/${ID}$`), operation: 'GetChannelMessage' },
  { method: 'PUT', path: new RegExp(`^${CHANNEL}/messages/${ID}$`), operation: 'UpdateChannelMessage' },
  { method: 'DELETE', path: new RegExp(`^${CHANNEL}/messages/${ID}$`), operation: 'DeleteChannelMessage' },
  { method: 'GET', path: /^\/channels\/(.+)$/, operation: 'DescribeChannel' },
  { method: 'DELETE', path: /^\/channels\/(.+)$/, operation: 'DeleteChannel' },
];

export interface MatchedRoute {
  readonly operation: OperationName;
  /** The path labels in order: ChannelArn (or ChannelFlowArn), then MemberArn, MessageId or ChannelFlowArn. */
  readonly labels: readonly string[];
}

export function matchRoute(method: string, path: string, query: Readonly<Record<string, string>>): MatchedRoute {
  const normalizedPath = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (const binding of BINDINGS) {
    if (binding.method !== method) continue;
    if (binding.query && query[binding.query[0]] !== binding.query[1]) continue;
    const match = binding.path.exec(normalizedPath);
    if (match) return { operation: binding.operation, labels: match.slice(1) };
  }
  throw notFound(`No operation is bound to ${method} ${path}`);
}
