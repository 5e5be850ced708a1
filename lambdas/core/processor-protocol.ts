import { z } from 'zod';
import { channelArn, type AppInstance } from './arns';
import { LIMITS, MESSAGE_ID_PATTERN } from './limits';
import type { ProcessorAnswer } from './messages';
import type { Message } from './model';
import { parseRequest } from './validation';
import { toWireIdentity } from './wire';

/**
 * The contract between the service and a processor: the Chime event it is invoked with, and the
 * two ways it answers (ChannelFlowCallback, or returning the same shape from the function).
 */
export interface ProcessorEvent {
  readonly EventType: 'CHANNEL_MESSAGE_EVENT';
  readonly CallbackId: string;
  readonly ChannelMessage: {
    readonly MessageId: string;
    readonly ChannelArn: string;
    readonly Content: string;
    readonly Metadata?: string;
    readonly Sender: { readonly Arn: string; readonly Name: string };
    readonly Persistence: Message['persistence'];
    readonly LastEditedTimestamp?: string;
    readonly Type: 'STANDARD';
    readonly CreatedTimestamp: string;
  };
}

/** The event for the change a message is waiting on: the send itself, or the proposed edit. */
export function processorEvent(app: AppInstance, message: Message): ProcessorEvent {
  const pending = message.pending;
  if (pending === undefined) throw new Error(`Message ${message.messageId} has no change waiting for a processor`);
  const edit = pending.change === 'UPDATE';
  const metadata = edit ? pending.metadata : message.metadata;
  const editedAt = edit ? pending.editedAt : message.lastEditedAt;
  return {
    EventType: 'CHANNEL_MESSAGE_EVENT',
    CallbackId: pending.callbackId,
    ChannelMessage: {
      MessageId: message.messageId,
      ChannelArn: channelArn(app, message.channelId),
      Content: edit ? (pending.content ?? message.content) : message.content,
      ...(metadata !== undefined && { Metadata: metadata }),
      Sender: toWireIdentity(message.sender),
      Persistence: message.persistence,
      ...(editedAt !== undefined && { LastEditedTimestamp: new Date(editedAt).toISOString() }),
      Type: 'STANDARD',
      CreatedTimestamp: new Date(message.createdAt).toISOString(),
    },
  };
}

const callbackMessage = z.object({
  MessageId: z.string().min(1).max(LIMITS.messageIdMaxLength).regex(MESSAGE_ID_PATTERN),
  Content: z.string().min(1).max(LIMITS.contentMaxLength).optional(),
  Metadata: z.string().max(LIMITS.metadataMaxLength).optional(),
  ContentType: z.string().max(LIMITS.contentTypeMaxLength).optional(),
});

/** ChannelFlowCallback's request body. */
export const channelFlowCallbackSchema = z.object({
  CallbackId: z.string().min(32).max(64),
  ChannelMessage: callbackMessage,
  DeleteResource: z.boolean().optional(),
});
export type ChannelFlowCallbackRequest = z.infer<typeof channelFlowCallbackSchema>;

/** What a processor may return instead of calling back (delivered by its on-success destination). */
const processorResultSchema = z.object({
  ChannelMessage: callbackMessage,
  DeleteResource: z.boolean().optional(),
});

export interface ParsedAnswer {
  readonly messageId: string;
  readonly answer: ProcessorAnswer;
}

function toAnswer(result: z.infer<typeof processorResultSchema>): ParsedAnswer {
  const { ChannelMessage: message, DeleteResource: deny } = result;
  return {
    messageId: message.MessageId,
    answer: deny
      ? { kind: 'DENY' }
      : { kind: 'ALLOW', ...(message.Content !== undefined && { content: message.Content }), ...(message.Metadata !== undefined && { metadata: message.Metadata }) },
  };
}

export const answerOfCallback = (request: ChannelFlowCallbackRequest): ParsedAnswer => toAnswer(request);

/**
 * A processor's return value. `undefined` when it returned nothing (it answers by callback
 * instead); an invalid answer is a processor failure, with the reason as the status detail.
 */
export function answerOfResult(payload: unknown): ParsedAnswer | { readonly invalid: string } | undefined {
  if (payload === undefined || payload === null) return undefined;
  try {
    return toAnswer(parseRequest(processorResultSchema, payload));
  } catch (error) {
    return { invalid: `The processor returned an invalid answer: ${(error as Error).message}` };
  }
}
