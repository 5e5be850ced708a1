import type { AppInstance } from './arns';
import type { ChimeEvent } from './channel-events';
import { toWireChannel, toWireMembership, toWireMessage } from './wire';

/**
 * The WebSocket frames of Chime SDK Messaging: `{"Headers":{…},"Payload":"<JSON string>"}`, the
 * payload being the ChannelMessage (or ChannelMembership, or Channel) itself, with ISO-8601 timestamps.
 */
export function eventFrame(app: AppInstance, event: ChimeEvent): string {
  const payload =
    'message' in event
      ? toWireMessage(app, event.message, 'iso-8601')
      : 'membership' in event
        ? toWireMembership(app, event.membership, 'iso-8601')
        : toWireChannel(app, event.channel, 'iso-8601');
  return JSON.stringify({
    Headers: { 'x-amz-chime-event-type': event.eventType, 'x-amz-chime-message-type': event.messageType },
    Payload: JSON.stringify(payload),
  });
}

/** The first frame on every connection; from then on the user's events reach it. */
export const SESSION_ESTABLISHED_FRAME = JSON.stringify({
  Headers: { 'x-amz-chime-event-type': 'SESSION_ESTABLISHED', 'x-amz-chime-message-type': 'SYSTEM' },
});
