import { badRequest, conflict } from './errors';
import { LIMITS } from './limits';
import type { Channel, Identity, Message, MessageStatus } from './model';
import { initialStatus } from './status';
import type { SendChannelMessageRequest, UpdateChannelMessageRequest } from './validation';

/** The message lifecycle: what a send, an edit and a redaction turn a message into. */

export interface NewMessageInput {
  readonly request: SendChannelMessageRequest;
  readonly channel: Channel;
  readonly sender: Identity;
  readonly messageId: string;
  readonly now: number;
}

export function createMessage({ request, channel, sender, messageId, now }: NewMessageInput): Message {
  const status: MessageStatus = {
    value: initialStatus({ channelHasFlow: channel.channelFlowArn !== undefined, type: request.Type }),
  };
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
    status,
    ...(request.MessageAttributes !== undefined && {
      messageAttributes: Object.fromEntries(
        Object.entries(request.MessageAttributes).map(([key, value]) => [key, { stringValues: value.StringValues ?? [] }]),
      ),
    }),
    ...(request.ContentType !== undefined && { contentType: request.ContentType }),
    ...(request.Target !== undefined && { target: request.Target.map((target) => target.MemberArn) }),
    revision: 1,
  };
}

/**
 * Only a SENT, unredacted message can be edited: a message still in processing, or one that failed,
 * has no version the others could see changed.
 */
export function assertEditable(message: Message): void {
  if (message.status.value !== 'SENT') {
    throw conflict(`Message ${message.messageId} is ${message.status.value}; only SENT messages can be edited`);
  }
  if (message.redacted) {
    throw conflict(`Message ${message.messageId} is redacted and can no longer be edited`);
  }
}

/** An edit of a channel without a flow: the new content is SENT at once. */
export function applyEdit(message: Message, request: UpdateChannelMessageRequest, now: number): Message {
  assertEditable(message);
  if (message.type === 'CONTROL') assertControlLimits(request);
  return {
    ...message,
    content: request.Content,
    metadata: request.Metadata,
    contentType: request.ContentType ?? message.contentType,
    lastEditedAt: now,
    lastUpdatedAt: now,
    revision: message.revision + 1,
  };
}

/** Redaction clears the content, keeps the metadata and marks the message redacted. */
export function redactMessage(message: Message, now: number): Message {
  if (message.status.value !== 'SENT') {
    throw conflict(`Message ${message.messageId} is ${message.status.value}; only SENT messages can be redacted`);
  }
  return { ...message, content: '', redacted: true, lastUpdatedAt: now, revision: message.revision + 1 };
}

/** An edit keeps the message's type, so a CONTROL message stays within the CONTROL limits. */
function assertControlLimits(request: UpdateChannelMessageRequest): void {
  const bytes = new TextEncoder().encode(request.Content).length;
  if (bytes > LIMITS.controlContentMaxBytes) {
    throw badRequest(`Content of a CONTROL message must be at most ${LIMITS.controlContentMaxBytes} bytes, got ${bytes}`);
  }
  if (request.Metadata !== undefined) throw badRequest('Metadata is not allowed on a CONTROL message');
}
