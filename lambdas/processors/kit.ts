import type { ProcessorEvent } from '../core/processor-protocol';

/**
 * What a processor team needs to write a channel flow processor for this service (and for Amazon
 * Chime SDK Messaging): the event it is invoked with and the answers it can give. A processor either
 * returns one of these answers from its handler (delivered by its on-success destination), or
 * calls ChannelFlowCallback with the same fields plus the event's CallbackId.
 *
 * The event a processor is invoked with; `LastEditedTimestamp` is present only for an edit.
 */
export type ChannelMessageEvent = ProcessorEvent;

export interface ProcessorAnswer {
  readonly ChannelMessage: { readonly MessageId: string; readonly Content?: string; readonly Metadata?: string };
  readonly DeleteResource?: boolean;
}

/** Let the message through, with new content and/or metadata if given (content 1–4096 characters). */
export function allow(event: ChannelMessageEvent, changes: { readonly content?: string; readonly metadata?: string } = {}): ProcessorAnswer {
  return {
    ChannelMessage: {
      MessageId: event.ChannelMessage.MessageId,
      ...(changes.content !== undefined && { Content: changes.content }),
      ...(changes.metadata !== undefined && { Metadata: changes.metadata }),
    },
  };
}

/** Deny the message (or the edit): the sender is told DENIED and the content is not kept. */
export function deny(event: ChannelMessageEvent): ProcessorAnswer {
  return { ChannelMessage: { MessageId: event.ChannelMessage.MessageId }, DeleteResource: true };
}

/** Whether the event is for an edit of a SENT message rather than a new message. */
export const isEdit = (event: ChannelMessageEvent): boolean => event.ChannelMessage.LastEditedTimestamp !== undefined;
