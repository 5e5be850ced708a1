import type { AppInstance } from '../core/arns';
import { forbidden } from '../core/errors';
import { newCallbackId } from '../core/ids';
import { resolvePending, type FlowAssignment, type ProcessorAnswer } from '../core/messages';
import type { ChannelFlow, Message } from '../core/model';
import { processorEvent } from '../core/processor-protocol';
import type { ChannelActivity, Clock, MessageRepository, PendingMessageIndex, ProcessorInvoker } from './ports';

export interface ProcessingSettings {
  /** How long a change may wait for its processor's answer. */
  readonly timeoutMs: number;
}

export type AnswerOutcome = 'APPLIED' | 'ALREADY_ANSWERED';

/** How many times an answer is re-applied after losing a race with another write to the message. */
const MAX_WRITE_ATTEMPTS = 5;
const SWEEP_PAGE = 100;

/**
 * Channel flow processing: hands a change to the flow's processor and writes back its answer, its
 * failure or its silence. Every outcome is one write conditional on the revision that still has
 * the change pending, so exactly one outcome wins and a duplicate or late answer changes nothing.
 */
export class ProcessingService {
  constructor(
    private readonly app: AppInstance,
    private readonly messages: MessageRepository,
    private readonly pendingIndex: PendingMessageIndex,
    private readonly channels: ChannelActivity,
    private readonly invoker: ProcessorInvoker,
    private readonly clock: Clock,
    private readonly settings: ProcessingSettings,
  ) {}

  /** The processor, callback token and deadline of a new change in a channel with `flow`. */
  assign(flow: ChannelFlow): FlowAssignment {
    const processor = flow.processors[0];
    if (processor === undefined) throw new Error(`Channel flow ${flow.flowId} has no processor`);
    return { processor, callbackId: newCallbackId(), deadline: this.clock.now() + this.settings.timeoutMs };
  }

  /**
   * Invokes the processor of a stored, pending change. If the invoke itself fails (no such function,
   * not allowed, throttled) the change fails at once, by the processor's fallback action.
   * Resolves the message as it now stands.
   */
  async dispatch(message: Message): Promise<Message> {
    const pending = message.pending;
    if (pending === undefined) return message;
    try {
      await this.invoker.invoke(pending.processorArn, processorEvent(this.app, message));
      return message;
    } catch (error) {
      const detail = `The processor could not be invoked: ${(error as Error).name}: ${(error as Error).message}`;
      await this.answer(message.channelId, message.messageId, pending.callbackId, { kind: 'FAIL', detail });
      return (await this.messages.getMessage(message.channelId, message.messageId)) ?? message;
    }
  }

  /** Writes back the answer for `callbackId`; refuses a CallbackId that no change is waiting for. */
  async answer(channelId: string, messageId: string, callbackId: string, answer: ProcessorAnswer): Promise<AnswerOutcome> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const message = await this.messages.getMessage(channelId, messageId);
      if (message?.pending?.callbackId !== callbackId) {
        // An answered change remembers its CallbackId, so a duplicate is acknowledged and ignored.
        // Anything else (another CallbackId, another channel, a message that is gone) is refused.
        if (message !== undefined && message.resolution?.callbackId === callbackId) return 'ALREADY_ANSWERED';
        throw forbidden(`CallbackId ${callbackId} is not awaiting an answer for message ${messageId} in this channel`);
      }
      const resolved = resolvePending(message, answer, this.clock.now());
      if (await this.messages.replaceMessage(resolved.message, message.revision)) {
        if (resolved.deleteAfterwards) await this.messages.deleteMessage(channelId, messageId);
        // A message counts as the channel's latest only once the others can see it.
        if (message.pending.change === 'CREATE' && resolved.message.status.value === 'SENT') {
          await this.channels.recordLastMessage(channelId, message.createdAt);
        }
        return 'APPLIED';
      }
    }
    throw new Error(`Message ${messageId} kept changing; the answer for ${callbackId} was not written`);
  }

  /** Ends every change whose processor did not answer in time; resolves how many it ended. */
  async sweep(): Promise<number> {
    let ended = 0;
    for (;;) {
      const overdue = await this.pendingIndex.overduePending(this.clock.now(), SWEEP_PAGE);
      let progressed = 0;
      for (const { channelId, messageId } of overdue) {
        const message = await this.messages.getMessage(channelId, messageId);
        const pending = message?.pending;
        if (pending === undefined || pending.deadline > this.clock.now()) continue;
        const seconds = Math.round(this.settings.timeoutMs / 1000);
        const outcome = await this.answer(channelId, messageId, pending.callbackId, {
          kind: 'FAIL',
          detail: `The processor did not answer within ${seconds} seconds`,
        }).catch(() => undefined);
        if (outcome === 'APPLIED') ended += 1;
        progressed += 1;
      }
      if (overdue.length < SWEEP_PAGE || progressed === 0) return ended;
    }
  }
}
