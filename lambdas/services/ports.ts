import type { Channel, ChannelFlow, ChannelPrivacy, Membership, MembershipType, Message, SortOrder } from '../core/model';
import type { Position } from '../core/pagination';

/**
 * What the services need from storage. The DynamoDB adapters implement these; the services and the
 * core never see a DynamoDB type.
 */
export interface Page<T> {
  readonly items: readonly T[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: Position;
}

export interface PageRequest {
  readonly limit: number;
  readonly after?: Position;
}

/** A record that a ClientRequestToken was used, kept so that a retried request changes nothing. */
export interface IdempotencyRecord {
  readonly resourceId: string;
  /** Fingerprint of the request the token was first used with. */
  readonly requestHash: string;
}

export interface ChannelRepository {
  /** Stores a new channel; resolves false, storing nothing, when the channel id is taken. */
  createChannel(channel: Channel): Promise<boolean>;
  getChannel(channelId: string): Promise<Channel | undefined>;
  getChannels(channelIds: readonly string[]): Promise<readonly Channel[]>;
  /**
   * Deletes the channel for every reader and writer at once (a tombstone) and releases its flow;
   * its memberships and messages go with `purgeDeletedChannel`, asynchronously.
   */
  deleteChannel(channelId: string, at: number): Promise<void>;
  /** Removes the memberships of a deleted channel, then its tombstone. */
  purgeDeletedChannel(channelId: string): Promise<void>;
  listChannelsByPrivacy(privacy: ChannelPrivacy, page: PageRequest): Promise<Page<Channel>>;
  recordLastMessage(channelId: string, at: number): Promise<void>;

  /** Stores the membership; resolves the membership already stored when there is one. */
  putMembership(membership: Membership): Promise<Membership>;
  getMembership(channelId: string, userArn: string): Promise<Membership | undefined>;
  /** Sets the display name a membership shows for its member, if the membership still exists. */
  renameMember(channelId: string, memberArn: string, name: string): Promise<void>;
  /** Resolves false when there was no such membership. */
  deleteMembership(channelId: string, userArn: string): Promise<boolean>;
  listMemberships(channelId: string, options: PageRequest & { readonly type?: MembershipType }): Promise<Page<Membership>>;
  listChannelIdsOfMember(userArn: string, page: PageRequest): Promise<Page<string>>;

  /**
   * Claims a CreateChannel ClientRequestToken for a creator. Resolves undefined when the claim is
   * new, or the record of the earlier request that used the token.
   */
  claimCreateToken(creatorArn: string, token: string, record: IdempotencyRecord, expiresAt: number): Promise<IdempotencyRecord | undefined>;
  releaseCreateToken(creatorArn: string, token: string): Promise<void>;
}

export interface SendClaim {
  readonly requestHash: string;
  readonly messageId: string;
  /**
   * The message as first accepted, kept only until it is stored, so that a retry can finish a send
   * that stopped half way. Dropped once stored: the token must not outlive a denied message's content.
   */
  readonly message?: Message;
  readonly stored: boolean;
}

export interface ListMessagesOptions extends PageRequest {
  readonly order: SortOrder;
  readonly notBefore?: number;
  readonly notAfter?: number;
}

export interface MessageRepository {
  /**
   * Claims a SendChannelMessage ClientRequestToken of a sender in a channel for `claim.message`.
   * Resolves undefined when the claim is new, or the claim of the earlier request.
   */
  claimSendToken(channelId: string, senderArn: string, token: string, claim: SendClaim, expiresAt: number): Promise<SendClaim | undefined>;
  markSendTokenStored(channelId: string, senderArn: string, token: string): Promise<void>;
  /** Stores a new message; resolves false when a message with that id is already stored. */
  createMessage(message: Message): Promise<boolean>;
  getMessage(channelId: string, messageId: string): Promise<Message | undefined>;
  /**
   * Replaces a message if its stored revision is still `expectedRevision`; resolves false, changing
   * nothing, when another change came first.
   */
  replaceMessage(message: Message, expectedRevision: number): Promise<boolean>;
  deleteMessage(channelId: string, messageId: string): Promise<boolean>;
  /** Persistent messages only, in creation order. */
  listMessages(channelId: string, options: ListMessagesOptions): Promise<Page<Message>>;
  deleteChannelMessages(channelId: string): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Connection {
  readonly connectionId: string;
  readonly userArn: string;
  readonly connectedAt: number;
  /** Epoch seconds after which API Gateway will have closed the connection. */
  readonly expiresAt: number;
}

export interface ConnectionRepository {
  recordConnection(connection: Connection): Promise<void>;
  /** Forgets a connection entirely; resolves the forgotten connection, if it was known. */
  forgetConnection(connectionId: string): Promise<Connection | undefined>;
  /** Removes a connection id from its user's established set (the connection item may be gone already). */
  withdrawConnection(userArn: string, connectionId: string): Promise<void>;
  /** Adds a connection, told SESSION_ESTABLISHED, to the set the fan-out reads for its user. */
  enrolConnection(connection: Connection): Promise<void>;
  /** The established connection ids of each user, read by key in batches of 100 users. */
  establishedConnections(userArns: readonly string[]): Promise<ReadonlyMap<string, readonly string[]>>;
}

export type PostOutcome = 'DELIVERED' | 'GONE';

/** Posts frames to WebSocket connections (API Gateway's @connections API). */
export interface ConnectionNotifier {
  /** Resolves GONE when the connection no longer exists; rejects on any other failure. */
  post(connectionId: string, frame: string): Promise<PostOutcome>;
}

/** Channel members, page by page, by key. */
export interface MemberDirectory {
  memberArnPages(channelId: string): AsyncIterable<readonly string[]>;
  /** False for a channel that does not exist, or has been deleted and is being cleaned up. */
  channelExists(channelId: string): Promise<boolean>;
}

/** Reads channel flows; the flow management operations keep them (see ChannelFlowRepository). */
export interface FlowDirectory {
  getFlow(flowId: string): Promise<ChannelFlow | undefined>;
}

/** A CreateChannelFlow ClientRequestToken claim; `stored` once the flow it names has been written. */
export interface FlowCreateClaim extends IdempotencyRecord {
  readonly stored: boolean;
}

export type FlowAssociationOutcome =
  | { readonly outcome: 'ASSOCIATED' }
  /** The channel already had this very flow: nothing changed. */
  | { readonly outcome: 'ALREADY_ASSOCIATED' }
  | { readonly outcome: 'CHANNEL_NOT_FOUND' }
  | { readonly outcome: 'FLOW_NOT_FOUND' }
  /** A DeleteChannelFlow of this flow is under way. */
  | { readonly outcome: 'FLOW_BEING_DELETED' }
  /** The channel has another flow; a channel has at most one. */
  | { readonly outcome: 'OTHER_FLOW_ASSOCIATED'; readonly channelFlowArn: string };

export type FlowDisassociationOutcome =
  | { readonly outcome: 'DISASSOCIATED' }
  | { readonly outcome: 'CHANNEL_NOT_FOUND' }
  /** The channel has no flow, or `channelFlowArn`, another one. */
  | { readonly outcome: 'NOT_ASSOCIATED'; readonly channelFlowArn?: string };

/** Keeps channel flows and their associations with channels (the flow management operations). */
export interface ChannelFlowRepository extends FlowDirectory {
  /** Stores a new flow; resolves false, storing nothing, when the flow id is taken. */
  createFlow(flow: ChannelFlow): Promise<boolean>;
  /** Replaces name and processors; resolves the updated flow, or undefined when there is no such flow. */
  updateFlow(flowId: string, change: Pick<ChannelFlow, 'name' | 'processors' | 'lastUpdatedAt'>): Promise<ChannelFlow | undefined>;
  listFlows(page: PageRequest): Promise<Page<ChannelFlow>>;
  /** Deletes the flow unless a channel is associated with it (or being associated right now). */
  deleteFlow(flowId: string, now: number): Promise<'DELETED' | 'NOT_FOUND' | 'IN_USE'>;
  /** Sets the channel's flow unless it already has one: of two concurrent associations only one wins. */
  associateFlow(channelId: string, flowId: string, channelFlowArn: string, now: number): Promise<FlowAssociationOutcome>;
  /** Clears the channel's flow if it is `channelFlowArn`. */
  disassociateFlow(channelId: string, flowId: string, channelFlowArn: string, now: number): Promise<FlowDisassociationOutcome>;
  /** The channels whose flow this is, page by page. */
  listAssociatedChannels(flowId: string, page: PageRequest): Promise<Page<Channel>>;
  /** Claims a CreateChannelFlow token; resolves undefined when new, or the earlier claim. */
  claimCreateToken(creatorArn: string, token: string, claim: FlowCreateClaim, expiresAt: number): Promise<FlowCreateClaim | undefined>;
  markCreateTokenStored(creatorArn: string, token: string): Promise<void>;
}

/** Hands a change to a processor function by asynchronous invoke; rejects when the invoke fails. */
export interface ProcessorInvoker {
  invoke(functionArn: string, event: unknown): Promise<void>;
}

/** Messages whose processor answer is overdue. */
export interface PendingMessageIndex {
  overduePending(now: number, limit: number): Promise<readonly { readonly channelId: string; readonly messageId: string }[]>;
}

/** Where a channel's LastMessageTimestamp is kept. */
export interface ChannelActivity {
  recordLastMessage(channelId: string, at: number): Promise<void>;
}
