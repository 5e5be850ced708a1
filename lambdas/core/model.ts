/**
 * The domain model, as the core and the repositories see it: camelCase, timestamps in epoch
 * milliseconds. The wire shapes (PascalCase, epoch seconds or ISO-8601) live in `wire.ts`.
 */
export type MessageType = 'STANDARD' | 'CONTROL';
export type MessagePersistence = 'PERSISTENT' | 'NON_PERSISTENT';
export type MessageStatusValue = 'SENT' | 'PENDING' | 'FAILED' | 'DENIED';
export type ChannelMode = 'UNRESTRICTED' | 'RESTRICTED';
export type ChannelPrivacy = 'PUBLIC' | 'PRIVATE';
export type MembershipType = 'DEFAULT' | 'HIDDEN';
export type SortOrder = 'ASCENDING' | 'DESCENDING';

export interface Identity {
  readonly arn: string;
  readonly name: string;
}

/** The authenticated caller of an operation: who the verified token says it is. */
export interface Caller {
  readonly userId: string;
  readonly userArn: string;
  readonly name: string;
  readonly isAdmin: boolean;
}

export interface MessageStatus {
  readonly value: MessageStatusValue;
  readonly detail?: string;
}

export interface MessageAttributeValue {
  readonly stringValues: readonly string[];
}

export interface Channel {
  readonly channelId: string;
  readonly name: string;
  readonly mode: ChannelMode;
  readonly privacy: ChannelPrivacy;
  readonly metadata?: string;
  readonly createdBy: Identity;
  readonly moderatorArns: readonly string[];
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
  readonly lastMessageAt?: number;
  /** The associated channel flow, if any (issue: channel flows). */
  readonly channelFlowArn?: string;
}

export interface Membership {
  readonly channelId: string;
  readonly member: Identity;
  readonly type: MembershipType;
  readonly invitedBy: Identity;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

export interface Message {
  readonly channelId: string;
  readonly messageId: string;
  readonly content: string;
  readonly metadata?: string;
  readonly type: MessageType;
  readonly persistence: MessagePersistence;
  readonly sender: Identity;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
  readonly lastEditedAt?: number;
  readonly redacted: boolean;
  readonly status: MessageStatus;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>>;
  readonly contentType?: string;
  readonly subChannelId?: string;
  readonly target?: readonly string[];
  /** Increases with every accepted change; conditional writes name it so that no change is lost. */
  readonly revision: number;
  /** The change waiting for the channel's processor, if any. */
  readonly pending?: PendingChange;
  /** How the last processed change ended; the stream turns it into the right event. */
  readonly resolution?: Resolution;
}

/** Whether a processed change came from SendChannelMessage (CREATE) or UpdateChannelMessage (UPDATE). */
export type ChangeKind = 'CREATE' | 'UPDATE';

/**
 * A send or an edit handed to a processor. For a send the message itself is PENDING; for an edit the
 * last SENT version stays in place for everyone and the proposed edit waits here.
 */
export interface PendingChange {
  readonly change: ChangeKind;
  /** The token the processor's answer must carry; a new one for every change. */
  readonly callbackId: string;
  /** Epoch milliseconds after which the change ends as a processor failure. */
  readonly deadline: number;
  readonly processorArn: string;
  readonly fallbackAction: FallbackAction;
  readonly content?: string;
  readonly metadata?: string;
  readonly contentType?: string;
  readonly editedAt?: number;
}

export interface Resolution {
  readonly change: ChangeKind;
  readonly callbackId: string;
  readonly status: MessageStatusValue;
  readonly detail?: string;
  readonly at: number;
}

export type FallbackAction = 'ABORT' | 'CONTINUE';

/** One processor of a channel flow: a Lambda function invoked asynchronously. */
export interface Processor {
  readonly name: string;
  readonly executionOrder: number;
  readonly fallbackAction: FallbackAction;
  readonly lambdaArn: string;
  readonly invocationType: 'ASYNC';
}

export interface ChannelFlow {
  readonly flowId: string;
  readonly name: string;
  readonly processors: readonly Processor[];
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}
