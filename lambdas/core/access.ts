import { forbidden } from './errors';
import type { Caller, Channel, Membership, Message } from './model';

/**
 * Who may do what in a channel (Chime SDK Messaging's authorization by role). Every check takes
 * the facts it needs and throws ForbiddenException with the reason, so a refusal always explains
 * itself and no handler re-derives the rules.
 */
export interface ChannelContext {
  readonly channel: Channel;
  readonly caller: Caller;
  /** The caller's own membership of the channel, when it has one. */
  readonly membership?: Membership;
}

/** AppInstanceAdmins moderate every channel; a channel's creator and listed moderators moderate it. */
export function isModerator({ channel, caller }: ChannelContext): boolean {
  return caller.isAdmin || channel.createdBy.arn === caller.userArn || channel.moderatorArns.includes(caller.userArn);
}

export const isMember = (context: ChannelContext): boolean => context.membership !== undefined;

/** Private channels are hidden from everyone who is neither a member nor a moderator. */
export function assertCanViewChannel(context: ChannelContext): void {
  if (context.channel.privacy === 'PUBLIC' || isMember(context) || isModerator(context)) return;
  throw forbidden(`${context.caller.userArn} is not a member of private channel ${context.channel.channelId}`);
}

/** Admins and moderators, too, must first add themselves as members before sending. */
export function assertCanSend(context: ChannelContext): void {
  if (isMember(context)) return;
  throw forbidden(`${context.caller.userArn} is not a member of channel ${context.channel.channelId}; only members can send messages`);
}

export function assertCanAddMember(context: ChannelContext, memberArn: string): void {
  if (isModerator(context)) return;
  const { channel, caller } = context;
  if (channel.mode === 'UNRESTRICTED' && isMember(context)) return;
  if (channel.mode === 'UNRESTRICTED' && channel.privacy === 'PUBLIC' && memberArn === caller.userArn) return;
  throw forbidden(
    channel.mode === 'RESTRICTED'
      ? `Only moderators can add members to RESTRICTED channel ${channel.channelId}`
      : `${caller.userArn} must be a member of channel ${channel.channelId} to add members`,
  );
}

/** Members may leave; moderators may remove anyone. */
export function assertCanRemoveMember(context: ChannelContext, memberArn: string): void {
  if (memberArn === context.caller.userArn || isModerator(context)) return;
  throw forbidden(`Only moderators can remove other members from channel ${context.channel.channelId}`);
}

export function assertCanDeleteChannel(context: ChannelContext): void {
  if (isModerator(context)) return;
  throw forbidden(`Only moderators and app instance admins can delete channel ${context.channel.channelId}`);
}

const isSender = (message: Message, caller: Caller) => message.sender.arn === caller.userArn;

/**
 * Whether the caller may see a message at all: a message that is not yet SENT (or never will be)
 * is the sender's alone, and a targeted message belongs to its sender and target.
 */
export function canSeeMessage(message: Message, caller: Caller): boolean {
  // A denied send is not kept; should its tombstone outlive the write that records DENIED, it is still nobody's.
  if (message.status.value === 'DENIED') return false;
  if (isSender(message, caller)) return true;
  if (message.status.value !== 'SENT') return false;
  return message.target === undefined || message.target.includes(caller.userArn);
}

export function assertCanEditMessage(context: ChannelContext, message: Message): void {
  if (!isSender(message, context.caller)) {
    throw forbidden(`Only the sender of message ${message.messageId} can edit it`);
  }
  if (!isMember(context)) {
    throw forbidden(`${context.caller.userArn} is no longer a member of channel ${context.channel.channelId}`);
  }
}

export function assertCanRedactMessage(context: ChannelContext, message: Message): void {
  if (isModerator(context)) return;
  if (isSender(message, context.caller) && isMember(context)) return;
  if (isSender(message, context.caller)) {
    throw forbidden(`${context.caller.userArn} is no longer a member of channel ${context.channel.channelId}`);
  }
  throw forbidden(`Only the sender or a moderator can redact message ${message.messageId}`);
}

export function assertCanDeleteMessage(context: ChannelContext): void {
  if (context.caller.isAdmin) return;
  throw forbidden('Only app instance admins can delete channel messages');
}

export function assertCanReadStatus(message: Message, caller: Caller): void {
  if (isSender(message, caller)) return;
  throw forbidden(`Only the sender of message ${message.messageId} can read its status`);
}

/**
 * The channel flow "developer APIs" (Create/Describe/Update/Delete/ListChannelFlows and
 * ListChannelsAssociatedWithChannelFlow) carry no x-amz-chime-bearer in Chime: they are for the
 * app instance's administrators, which here means callers whose token carries the admin claim.
 */
export function assertCanManageChannelFlows(caller: Caller, operation: string): void {
  if (caller.isAdmin) return;
  throw forbidden(`Only app instance admins can call ${operation}; ${caller.userArn} is not an app instance admin`);
}

/** AppInstanceAdmins and the channel's moderators associate and disassociate its flow; members may not. */
export function assertCanManageChannelFlowAssociation(context: ChannelContext): void {
  if (isModerator(context)) return;
  throw forbidden(
    `Only moderators of channel ${context.channel.channelId} and app instance admins can associate or disassociate its channel flow`,
  );
}
