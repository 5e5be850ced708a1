import type { MessageStatusValue } from './model';

/** Whether a change came from SendChannelMessage (CREATE) or UpdateChannelMessage (UPDATE). */
export type MessageChange = 'CREATE' | 'UPDATE';

export type MessageEventType =
  | 'CREATE_CHANNEL_MESSAGE'
  | 'UPDATE_CHANNEL_MESSAGE'
  | 'PENDING_CREATE_CHANNEL_MESSAGE'
  | 'PENDING_UPDATE_CHANNEL_MESSAGE'
  | 'FAILED_CREATE_CHANNEL_MESSAGE'
  | 'FAILED_UPDATE_CHANNEL_MESSAGE'
  | 'DENIED_CREATE_CHANNEL_MESSAGE'
  | 'DENIED_UPDATE_CHANNEL_MESSAGE';

/** Who is told about an event: every member of the channel, or only the message's sender. */
export type Recipients = 'ALL_MEMBERS' | 'SENDER_ONLY';

export interface MessageEventRoute {
  readonly eventType: MessageEventType;
  readonly recipients: Recipients;
}

/**
 * The event table of the seed document ("Sending messages"): the event type and recipients of a
 * message change, by whether it is a send or an edit and by the status it reached.
 */
export function routeMessageEvent(change: MessageChange, status: MessageStatusValue): MessageEventRoute {
  if (status === 'SENT') {
    return { eventType: `${change}_CHANNEL_MESSAGE`, recipients: 'ALL_MEMBERS' };
  }
  return { eventType: `${status}_${change}_CHANNEL_MESSAGE`, recipients: 'SENDER_ONLY' };
}
