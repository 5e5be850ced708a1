import type { MessageStatusValue, MessageType } from './model';

/**
 * The message status state machine: PENDING is the only state with a way out, and it leads to
 * exactly one terminal state. Writes apply a transition only when the stored status is still the
 * `from` of that transition, so a duplicate or late answer changes nothing.
 */
const TRANSITIONS: Readonly<Record<MessageStatusValue, readonly MessageStatusValue[]>> = {
  PENDING: ['SENT', 'DENIED', 'FAILED'],
  SENT: [],
  DENIED: [],
  FAILED: [],
};

export const TERMINAL_STATUSES: readonly MessageStatusValue[] = ['SENT', 'DENIED', 'FAILED'];

export const isTerminal = (status: MessageStatusValue): boolean => TRANSITIONS[status].length === 0;

export const canTransition = (from: MessageStatusValue, to: MessageStatusValue): boolean =>
  TRANSITIONS[from].includes(to);

/**
 * The status a new message or edit starts in. CONTROL messages never go through a flow, and a
 * channel without a flow delivers at once.
 */
export function initialStatus(options: { readonly channelHasFlow: boolean; readonly type: MessageType }): MessageStatusValue {
  return options.channelHasFlow && options.type === 'STANDARD' ? 'PENDING' : 'SENT';
}
