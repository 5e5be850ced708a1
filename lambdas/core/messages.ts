import { badRequest, conflict } from './errors';
import { LIMITS } from './limits';
import type { Channel, ChangeKind, Identity, Message, MessageStatus, PendingChange, Processor } from './model';
import { initialStatus } from './status';
import type { SendChannelMessageRequest, UpdateChannelMessageRequest } from './validation';

/**
 * The message lifecycle: what a send, an edit, a processor's answer and a redaction turn a
 * message into. Every function returns the next version; the caller stores it with a write
 * conditional on the revision it started from.
 */

/** What a channel with a flow needs to hand a change to its processor. */
export interface FlowAssignment {
  readonly processor: Processor;
  readonly callbackId: string;
  /** Epoch milliseconds after which the change ends as a processor failure. */
  readonly deadline: number;
}

export interface NewMessageInput {
  readonly request: SendChannelMessageRequest;
  readonly channel: Channel;
  readonly sender: Identity;
  readonly messageId: string;
  readonly now: number;
  /** The channel's flow, when it has one; CONTROL messages ignore it. */
  readonly flow?: FlowAssignment;
}

const pendingFor = (change: ChangeKind, flow: FlowAssignment): PendingChange => ({
  change,
  callbackId: flow.callbackId,
  deadline: flow.deadline,
  processorArn: flow.processor.lambdaArn,
  fallbackAction: flow.processor.fallbackAction,
});

export function createMessage({ request, channel, sender, messageId, now, flow }: NewMessageInput): Message {
  const value = initialStatus({ channelHasFlow: flow !== undefined, type: request.Type });
  return {
    channelId: channel.channelId,
    messageId,
    content: request.Content,
    ...(request.Metadata !== undefined && { metadata: request.Metadata }),
    type: request.Type,
    persistence: request.Persistence,
    sender,
    createdAt: now,
    lastUpdatedAt: now,
    redacted: false,
    status: { value },
    ...(request.MessageAttributes !== undefined && {
      messageAttributes: Object.fromEntries(
        Object.entries(request.MessageAttributes).map(([key, attribute]) => [key, { stringValues: attribute.StringValues ?? [] }]),
      ),
    }),
    ...(request.ContentType !== undefined && { contentType: request.ContentType }),
    ...(request.Target !== undefined && { target: request.Target.map((target) => target.MemberArn) }),
    revision: 1,
    ...(value === 'PENDING' && flow !== undefined && { pending: pendingFor('CREATE', flow) }),
  };
}

/**
 * Only a SENT, unredacted message with no edit in processing can be edited: a message still in
 * processing, or one that failed, has no version the others could see changed.
 */
export function assertEditable(message: Message): void {
  if (message.status.value !== 'SENT') {
    throw conflict(`Message ${message.messageId} is ${message.status.value}; only SENT messages can be edited`);
  }
  if (message.pending !== undefined) {
    throw conflict(`Message ${message.messageId} has an edit that is still being processed; wait for its outcome`);
  }
  if (message.redacted) {
    throw conflict(`Message ${message.messageId} is redacted and can no longer be edited`);
  }
}

/**
 * An edit. Without a flow (or for a CONTROL message) the new content is SENT at once; with a flow
 * the edit waits for the processor while everyone keeps seeing the last SENT version.
 */
export function applyEdit(message: Message, request: UpdateChannelMessageRequest, now: number, flow?: FlowAssignment): Message {
  assertEditable(message);
  if (message.type === 'CONTROL') assertControlLimits(request);
  const edit = {
    content: request.Content,
    metadata: request.Metadata,
    contentType: request.ContentType ?? message.contentType,
  };
  if (flow !== undefined && message.type === 'STANDARD') {
    return {
      ...message,
      pending: { ...pendingFor('UPDATE', flow), ...edit, editedAt: now },
      revision: message.revision + 1,
    };
  }
  // A direct edit is the latest change now: an earlier processed edit's outcome no longer describes it.
  const { resolution: _previous, ...rest } = message;
  return { ...rest, ...edit, lastEditedAt: now, lastUpdatedAt: now, revision: message.revision + 1 };
}

/** A processor's verdict on a change, or the failure to get one. */
export type ProcessorAnswer =
  | { readonly kind: 'ALLOW'; readonly content?: string; readonly metadata?: string }
  | { readonly kind: 'DENY' }
  | { readonly kind: 'FAIL'; readonly detail: string };

export interface ResolvedMessage {
  /** The message as it must be stored. */
  readonly message: Message;
  /** A denied send is not kept: once the DENIED version is written (and so told), it is deleted. */
  readonly deleteAfterwards: boolean;
}

/**
 * Applies the answer to the change waiting for it. FAIL follows the processor's fallback action:
 * ABORT ends the change FAILED, CONTINUE delivers it unprocessed as SENT.
 */
export function resolvePending(message: Message, answer: ProcessorAnswer, now: number): ResolvedMessage {
  const pending = message.pending;
  if (pending === undefined) throw conflict(`Message ${message.messageId} has no change waiting for a processor`);
  const outcome: ProcessorAnswer =
    answer.kind === 'FAIL' && pending.fallbackAction === 'CONTINUE' ? { kind: 'ALLOW' } : answer;
  const status: MessageStatus =
    outcome.kind === 'ALLOW' ? { value: 'SENT' } : outcome.kind === 'DENY' ? { value: 'DENIED' } : { value: 'FAILED', detail: truncate(outcome.detail) };
  const { pending: _done, ...rest } = message;
  const resolution = {
    change: pending.change,
    callbackId: pending.callbackId,
    status: status.value,
    ...(status.detail !== undefined && { detail: status.detail }),
    at: now,
  };
  const base = { ...rest, resolution, lastUpdatedAt: now, revision: message.revision + 1 };

  if (pending.change === 'CREATE') {
    if (outcome.kind === 'ALLOW') {
      return {
        message: { ...base, status, content: outcome.content ?? message.content, metadata: outcome.metadata ?? message.metadata },
        deleteAfterwards: false,
      };
    }
    if (outcome.kind === 'DENY') {
      // The denied content is dropped in the very write that records the denial.
      const { metadata: _metadata, messageAttributes: _attributes, ...withoutContent } = base;
      return { message: { ...withoutContent, status, content: '' }, deleteAfterwards: true };
    }
    return { message: { ...base, status }, deleteAfterwards: false };
  }

  // An edit: only an allowed (or continued) edit replaces the last SENT version.
  if (outcome.kind === 'ALLOW') {
    return {
      message: {
        ...base,
        content: outcome.content ?? pending.content ?? message.content,
        metadata: outcome.metadata ?? pending.metadata,
        contentType: pending.contentType,
        lastEditedAt: pending.editedAt ?? now,
      },
      deleteAfterwards: false,
    };
  }
  // A denied or failed edit leaves the last SENT version as it was, LastUpdatedTimestamp included.
  return { message: { ...base, lastUpdatedAt: message.lastUpdatedAt }, deleteAfterwards: false };
}

/** The status a sender sees for its message: that of its latest change. */
export function latestStatus(message: Message): MessageStatus {
  if (message.pending !== undefined) return { value: 'PENDING' };
  const resolution = message.resolution;
  if (resolution?.change === 'UPDATE' && resolution.status !== 'SENT') {
    // Only the reason is shortened to fit the limit, never the statement that the last SENT version stands.
    const head = `The last edit was ${resolution.status}`;
    const tail = '; the last SENT version is unchanged';
    const room = LIMITS.statusDetailMaxLength - head.length - tail.length - ' ()'.length;
    return { value: resolution.status, detail: `${head}${resolution.detail ? ` (${truncate(resolution.detail, room)})` : ''}${tail}` };
  }
  return message.status;
}

/** Redaction clears the content, keeps the metadata and marks the message redacted. */
export function redactMessage(message: Message, now: number): Message {
  if (message.status.value !== 'SENT') {
    throw conflict(`Message ${message.messageId} is ${message.status.value}; only SENT messages can be redacted`);
  }
  // An edit still waiting for the processor is abandoned: the redaction is the last word.
  const { pending: _abandoned, ...rest } = message;
  return { ...rest, content: '', redacted: true, lastUpdatedAt: now, revision: message.revision + 1 };
}

/** An edit keeps the message's type, so a CONTROL message stays within the CONTROL limits. */
function assertControlLimits(request: UpdateChannelMessageRequest): void {
  const bytes = new TextEncoder().encode(request.Content).length;
  if (bytes > LIMITS.controlContentMaxBytes) {
    throw badRequest(`Content of a CONTROL message must be at most ${LIMITS.controlContentMaxBytes} bytes, got ${bytes}`);
  }
  if (request.Metadata !== undefined) throw badRequest('Metadata is not allowed on a CONTROL message');
}

const truncate = (text: string, max: number = LIMITS.statusDetailMaxLength) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

