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
  /** Removes the channel and its memberships. */
  deleteChannel(channelId: string): Promise<void>;
  listChannelsByPrivacy(privacy: ChannelPrivacy, page: PageRequest): Promise<Page<Channel>>;
  recordLastMessage(channelId: string, at: number): Promise<void>;

  /** Stores the membership; resolves the membership already stored when there is one. */
  putMembership(membership: Membership): Promise<Membership>;
  getMembership(channelId: string, userArn: string): Promise<Membership | undefined>;
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
  /** The message as first accepted, so a retry can finish a crashed send or answer with the stored message's id. */
  readonly message: Message;
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
}

/** Reads channel flows; the flow management operations keep them (see ChannelFlowRepository). */
export interface FlowDirectory {
  getFlow(flowId: string): Promise<ChannelFlow | undefined>;
}
