import type { Channel, ChannelPrivacy, Membership, MembershipType, Message, SortOrder } from '../core/model';
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
  /** The message as first accepted, kept until it is stored, so a retry can finish a crashed send. */
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
