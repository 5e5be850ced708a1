import { routeMessageEvent, type MessageEventType } from './events';
import type { ChangeKind, Channel, Membership, Message, MessageStatusValue } from './model';

/**
 * What a change to a message or a membership means to WebSocket clients: the typed Chime events
 * it produces and who receives each. Pure: the stream adapter turns records into these inputs, the
 * fan-out delivers the outputs.
 */
export type ChimeEventType =
  | MessageEventType
  | 'REDACT_CHANNEL_MESSAGE'
  | 'DELETE_CHANNEL_MESSAGE'
  | 'CREATE_CHANNEL_MEMBERSHIP'
  | 'DELETE_CHANNEL_MEMBERSHIP'
  | 'DELETE_CHANNEL'
  | 'SESSION_ESTABLISHED';

export type ChimeMessageType = 'STANDARD' | 'CONTROL' | 'SYSTEM';

/** Who receives an event: every member of a channel (plus some extra users), or a list of users. */
export type Audience =
  | { readonly kind: 'CHANNEL_MEMBERS'; readonly channelId: string; readonly alsoUserArns: readonly string[] }
  | { readonly kind: 'USERS'; readonly userArns: readonly string[] };

export type ChimeEvent =
  | { readonly eventType: ChimeEventType; readonly messageType: ChimeMessageType; readonly audience: Audience; readonly message: Message }
  | { readonly eventType: ChimeEventType; readonly messageType: 'SYSTEM'; readonly audience: Audience; readonly membership: Membership }
  | { readonly eventType: ChimeEventType; readonly messageType: 'SYSTEM'; readonly audience: Audience; readonly channel: Channel };

/** How an item left the table: deleted by a request, or expired by TTL (which is not an event). */
export type Removal = 'DELETED' | 'EXPIRED';

export interface MessageChangeInput {
  readonly before?: Message;
  readonly after?: Message;
  readonly removal?: Removal;
}

/**
 * Events visible to "all members" go to the channel, except that a targeted message is only its
 * sender's and its target's business.
 */
function visibleTo(message: Message, recipients: 'ALL_MEMBERS' | 'SENDER_ONLY'): Audience {
  if (recipients === 'SENDER_ONLY') return { kind: 'USERS', userArns: [message.sender.arn] };
  if (message.target !== undefined) return { kind: 'USERS', userArns: [...new Set([message.sender.arn, ...message.target])] };
  return { kind: 'CHANNEL_MEMBERS', channelId: message.channelId, alsoUserArns: [] };
}

const messageEvent = (eventType: ChimeEventType, audience: Audience, message: Message): ChimeEvent => ({
  eventType,
  messageType: message.type,
  audience,
  message,
});

export function eventsForMessageChange({ before, after, removal }: MessageChangeInput): readonly ChimeEvent[] {
  if (after === undefined) {
    // Expired (NON_PERSISTENT) and never-SENT messages (a denied send's tombstone) are not "deleted".
    if (before === undefined || removal === 'EXPIRED' || before.status.value !== 'SENT') return [];
    return [messageEvent('DELETE_CHANNEL_MESSAGE', visibleTo(before, 'ALL_MEMBERS'), before)];
  }
  if (before === undefined) return [routed('CREATE', after.status.value, after)];

  // An edit handed to the processor: only its sender hears of it, with the proposed content.
  if (before.pending === undefined && after.pending?.change === 'UPDATE') {
    const proposed = after.pending;
    return [
      routed('UPDATE', 'PENDING', {
        ...after,
        content: proposed.content ?? after.content,
        metadata: proposed.metadata,
        lastEditedAt: proposed.editedAt,
        status: { value: 'PENDING' },
      }),
    ];
  }

  // The processor's answer (or its failure) written back.
  if (before.pending !== undefined && after.pending === undefined && after.resolution?.callbackId === before.pending.callbackId) {
    const { change, status, detail } = after.resolution;
    if (status === 'SENT') return [routed(change, 'SENT', after)];
    // DENIED / FAILED go to the sender alone, who is shown its own rejected text once.
    const rejected = change === 'UPDATE' ? before.pending : { content: before.content, metadata: before.metadata };
    return [
      routed(change, status, {
        ...after,
        content: rejected.content ?? '',
        metadata: rejected.metadata,
        status: { value: status, ...(detail !== undefined && { detail }) },
      }),
    ];
  }

  if (!before.redacted && after.redacted) {
    return [messageEvent('REDACT_CHANNEL_MESSAGE', visibleTo(after, 'ALL_MEMBERS'), after)];
  }
  if (before.lastEditedAt !== after.lastEditedAt && after.status.value === 'SENT') return [routed('UPDATE', 'SENT', after)];
  return [];
}

function routed(change: ChangeKind, status: MessageStatusValue, message: Message): ChimeEvent {
  const route = routeMessageEvent(change, status);
  return messageEvent(route.eventType, visibleTo(message, route.recipients), message);
}

export interface MembershipChangeInput {
  readonly before?: Membership;
  readonly after?: Membership;
}

/** Members hear who joins and leaves; the member who left is told too. */
export function eventsForMembershipChange({ before, after }: MembershipChangeInput): readonly ChimeEvent[] {
  if (before === undefined && after !== undefined) {
    return [
      {
        eventType: 'CREATE_CHANNEL_MEMBERSHIP',
        messageType: 'SYSTEM',
        audience: { kind: 'CHANNEL_MEMBERS', channelId: after.channelId, alsoUserArns: [] },
        membership: after,
      },
    ];
  }
  if (before !== undefined && after === undefined) {
    return [
      {
        eventType: 'DELETE_CHANNEL_MEMBERSHIP',
        messageType: 'SYSTEM',
        audience: { kind: 'CHANNEL_MEMBERS', channelId: before.channelId, alsoUserArns: [before.member.arn] },
        membership: before,
      },
    ];
  }
  return [];
}

/** A deleted channel is announced once, to the members it had, before they are removed. */
export function channelDeletedEvent(channel: Channel): ChimeEvent {
  return {
    eventType: 'DELETE_CHANNEL',
    messageType: 'SYSTEM',
    audience: { kind: 'CHANNEL_MEMBERS', channelId: channel.channelId, alsoUserArns: [] },
    channel,
  };
}
