import type { AppInstance } from '../core/arns';
import {
  assertCanDeleteMessage,
  assertCanEditMessage,
  assertCanReadStatus,
  assertCanRedactMessage,
  assertCanSend,
  assertCanViewChannel,
  canSeeMessage,
  type ChannelContext,
} from '../core/access';
import { conflict, notFound } from '../core/errors';
import { newMessageId } from '../core/ids';
import { DEFAULT_PAGE_SIZE } from '../core/limits';
import { applyEdit, createMessage, latestStatus, redactMessage, type FlowAssignment } from '../core/messages';
import type { Caller, Channel, Message, MessageStatus, SortOrder } from '../core/model';
import { decodeNextToken, encodeNextToken } from '../core/pagination';
import { validateMessageId, type SendChannelMessageRequest, type UpdateChannelMessageRequest } from '../core/validation';
import type { ChannelService, PagedResult } from './channel-service';
import type { ChannelRepository, Clock, FlowDirectory, MessageRepository } from './ports';
import type { ProcessingService } from './processing-service';
import { requestHash } from './request-hash';
import { parseResourceArn } from '../core/arns';
import { serviceFailure } from '../core/errors';

/** How long a SendChannelMessage ClientRequestToken is remembered. */
const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export interface MessageReceipt {
  readonly messageId: string;
  readonly status: MessageStatus;
}

/** Messages: the use cases behind the message operations. */
export class MessageService {
  constructor(
    private readonly app: AppInstance,
    private readonly channelService: ChannelService,
    private readonly channels: ChannelRepository,
    private readonly messages: MessageRepository,
    private readonly flows: FlowDirectory,
    private readonly processing: ProcessingService,
    private readonly clock: Clock,
  ) {}

  /** The processor assignment for a new change in this channel, if the channel has a flow. */
  private async flowAssignment(channel: Channel): Promise<FlowAssignment | undefined> {
    if (channel.channelFlowArn === undefined) return undefined;
    const flowId = parseResourceArn(this.app, 'channel-flow', channel.channelFlowArn, 'ChannelFlowArn');
    const flow = await this.flows.getFlow(flowId);
    if (flow === undefined) throw serviceFailure(`Channel flow ${channel.channelFlowArn} of channel ${channel.channelId} no longer exists`);
    return this.processing.assign(flow);
  }

  async send(caller: Caller, channelArn: string, request: SendChannelMessageRequest): Promise<MessageReceipt> {
    const context = await this.channelService.channelContext(caller, channelArn);
    assertCanSend(context);
    request.Target?.forEach((target, index) => parseResourceArn(this.app, 'user', target.MemberArn, `Target[${index}].MemberArn`));
    const now = this.clock.now();
    const flow = request.Type === 'STANDARD' ? await this.flowAssignment(context.channel) : undefined;
    const message = createMessage({
      request,
      channel: context.channel,
      sender: { arn: caller.userArn, name: caller.name },
      messageId: newMessageId(now),
      now,
      ...(flow !== undefined && { flow }),
    });
    const { channelId } = context.channel;
    const hash = requestHash(request);
    const earlier = await this.messages.claimSendToken(
      channelId,
      caller.userArn,
      request.ClientRequestToken,
      { requestHash: hash, messageId: message.messageId, message, stored: false },
      Math.floor(now / 1000) + TOKEN_LIFETIME_SECONDS,
    );
    if (earlier !== undefined) return this.answerRetry(caller, channelId, request, hash, earlier);

    await this.messages.createMessage(message);
    await this.messages.markSendTokenStored(channelId, caller.userArn, request.ClientRequestToken);
    // A message waiting for its processor becomes the channel's latest once it is SENT, if ever.
    if (message.status.value === 'SENT') await this.channels.recordLastMessage(channelId, now);
    // Whoever added this member could only name it by its id; its own token knows its display name.
    if (context.membership !== undefined && context.membership.member.name !== caller.name) {
      await this.channels.renameMember(channelId, caller.userArn, caller.name);
    }
    const dispatched = await this.processing.dispatch(message);
    return { messageId: message.messageId, status: dispatched.status };
  }

  /**
   * A send retried with the same token answers with the first message and stores nothing new. If
   * the first attempt stopped between claiming the token and storing the message, the retry
   * finishes it, so an accepted message is never lost.
   */
  private async answerRetry(
    caller: Caller,
    channelId: string,
    request: SendChannelMessageRequest,
    hash: string,
    earlier: { readonly requestHash: string; readonly messageId: string; readonly message?: Message; readonly stored: boolean },
  ): Promise<MessageReceipt> {
    if (earlier.requestHash !== hash) {
      throw conflict('ClientRequestToken was already used for a different SendChannelMessage request in this channel');
    }
    if (!earlier.stored && earlier.message) {
      const created = await this.messages.createMessage(earlier.message);
      await this.messages.markSendTokenStored(channelId, caller.userArn, request.ClientRequestToken);
      if (earlier.message.status.value === 'SENT') await this.channels.recordLastMessage(channelId, earlier.message.createdAt);
      if (created) {
        const dispatched = await this.processing.dispatch(earlier.message);
        return { messageId: earlier.message.messageId, status: dispatched.status };
      }
    }
    const current = await this.messages.getMessage(channelId, earlier.messageId);
    // A denied send is not stored any more; its status is told once, by the event, not re-derived here.
    return { messageId: earlier.messageId, status: current ? latestStatus(current) : { value: 'DENIED' } };
  }

  async update(caller: Caller, channelArn: string, messageId: string, request: UpdateChannelMessageRequest): Promise<MessageReceipt> {
    const context = await this.channelService.channelContext(caller, channelArn);
    const message = await this.visibleMessage(context, messageId);
    assertCanEditMessage(context, message);
    const flow = message.type === 'STANDARD' ? await this.flowAssignment(context.channel) : undefined;
    const edited = applyEdit(message, request, this.clock.now(), flow);
    if (!(await this.messages.replaceMessage(edited, message.revision))) {
      throw conflict(`Message ${messageId} was changed by another request; read it again and retry`);
    }
    return { messageId, status: latestStatus(await this.processing.dispatch(edited)) };
  }

  async get(caller: Caller, channelArn: string, messageId: string): Promise<Message> {
    const context = await this.channelService.channelContext(caller, channelArn);
    return this.visibleMessage(context, messageId);
  }

  async status(caller: Caller, channelArn: string, messageId: string): Promise<MessageStatus> {
    const context = await this.channelService.channelContext(caller, channelArn);
    validateMessageId(messageId);
    const message = await this.messages.getMessage(context.channel.channelId, messageId);
    // Denied messages are not stored, so they have no status to read (as in Chime).
    if (!message || message.status.value === 'DENIED') throw notFound(`Message ${messageId} does not exist in channel ${channelArn}`);
    assertCanReadStatus(message, caller);
    return latestStatus(message);
  }

  async list(
    caller: Caller,
    channelArn: string,
    query: {
      readonly sortOrder?: SortOrder;
      readonly notBefore?: number;
      readonly notAfter?: number;
      readonly maxResults?: number;
      readonly nextToken?: string;
    },
  ): Promise<PagedResult<Message>> {
    const context = await this.channelService.channelContext(caller, channelArn);
    assertCanViewChannel(context);
    const { channelId } = context.channel;
    const page = await this.messages.listMessages(channelId, {
      order: query.sortOrder ?? 'DESCENDING',
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      ...(query.notBefore !== undefined && { notBefore: query.notBefore }),
      ...(query.notAfter !== undefined && { notAfter: query.notAfter }),
      ...(query.nextToken !== undefined && { after: decodeNextToken(query.nextToken, { pk: `CHANNEL#${channelId}` }) }),
    });
    return {
      items: page.items.filter((message) => canSeeMessage(message, caller)),
      ...(page.next && { nextToken: encodeNextToken(page.next) }),
    };
  }

  async redact(caller: Caller, channelArn: string, messageId: string): Promise<void> {
    const context = await this.channelService.channelContext(caller, channelArn);
    const message = await this.visibleMessage(context, messageId);
    assertCanRedactMessage(context, message);
    if (message.redacted) return;
    if (!(await this.messages.replaceMessage(redactMessage(message, this.clock.now()), message.revision))) {
      throw conflict(`Message ${messageId} was changed by another request; retry the redaction`);
    }
  }

  async delete(caller: Caller, channelArn: string, messageId: string): Promise<void> {
    const context = await this.channelService.channelContext(caller, channelArn);
    assertCanDeleteMessage(context);
    validateMessageId(messageId);
    // Deleting is idempotent, as the real service's 204 for an already deleted message suggests.
    await this.messages.deleteMessage(context.channel.channelId, messageId);
  }

  /** The message if the caller may see it; 404 otherwise, so hidden messages do not leak existence. */
  private async visibleMessage(context: ChannelContext, messageId: string): Promise<Message> {
    assertCanViewChannel(context);
    validateMessageId(messageId);
    const message = await this.messages.getMessage(context.channel.channelId, messageId);
    if (!message || message.persistence === 'NON_PERSISTENT' || !canSeeMessage(message, context.caller)) {
      throw notFound(`Message ${messageId} does not exist in channel ${context.channel.channelId}`);
    }
    return message;
  }
}
