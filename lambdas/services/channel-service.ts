import { appInstanceArn, channelArn, parseResourceArn, type AppInstance } from '../core/arns';
import {
  assertCanAddMember,
  assertCanDeleteChannel,
  assertCanRemoveMember,
  assertCanViewChannel,
  type ChannelContext,
} from '../core/access';
import { badRequest, conflict, forbidden, notFound } from '../core/errors';
import { newResourceId } from '../core/ids';
import { DEFAULT_PAGE_SIZE } from '../core/limits';
import type { Caller, Channel, ChannelPrivacy, Identity, Membership, MembershipType } from '../core/model';
import { decodeNextToken, encodeNextToken } from '../core/pagination';
import type { CreateChannelMembershipRequest, CreateChannelRequest } from '../core/validation';
import type { ChannelRepository, Clock, MessageRepository } from './ports';
import { requestHash } from './request-hash';

/** How long a CreateChannel ClientRequestToken is remembered. */
const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export interface PagedResult<T> {
  readonly items: readonly T[];
  readonly nextToken?: string;
}

/** Channels and memberships: the use cases behind the channel and membership operations. */
export class ChannelService {
  constructor(
    private readonly app: AppInstance,
    private readonly channels: ChannelRepository,
    private readonly messages: MessageRepository,
    private readonly clock: Clock,
  ) {}

  /** Loads a channel by ARN with the caller's membership; 404 when it does not exist. */
  async channelContext(caller: Caller, arn: string, field = 'ChannelArn'): Promise<ChannelContext> {
    const channelId = parseResourceArn(this.app, 'channel', arn, field);
    const [channel, membership] = await Promise.all([
      this.channels.getChannel(channelId),
      this.channels.getMembership(channelId, caller.userArn),
    ]);
    if (!channel) throw notFound(`Channel ${arn} does not exist`);
    return { channel, caller, ...(membership !== undefined && { membership }) };
  }

  async createChannel(caller: Caller, request: CreateChannelRequest): Promise<string> {
    if (request.AppInstanceArn !== appInstanceArn(this.app)) {
      throw badRequest(`AppInstanceArn must be ${appInstanceArn(this.app)}, the app instance of this deployment`);
    }
    const memberIds = (request.MemberArns ?? []).map((arn, index) => parseUser(this.app, arn, `MemberArns[${index}]`));
    (request.ModeratorArns ?? []).forEach((arn, index) => parseUser(this.app, arn, `ModeratorArns[${index}]`));
    const channelId = request.ChannelId ?? newResourceId();
    const hash = requestHash({ ...request, ChannelId: channelId });

    const earlier = await this.channels.claimCreateToken(
      caller.userArn,
      request.ClientRequestToken,
      { resourceId: channelId, requestHash: hash },
      Math.floor(this.clock.now() / 1000) + TOKEN_LIFETIME_SECONDS,
    );
    if (earlier !== undefined) {
      // A retry with the same token answers with the channel of the first request.
      if (earlier.requestHash !== requestHash({ ...request, ChannelId: request.ChannelId ?? earlier.resourceId })) {
        throw conflict('ClientRequestToken was already used for a different CreateChannel request');
      }
      return channelArn(this.app, earlier.resourceId);
    }

    const now = this.clock.now();
    const creator: Identity = { arn: caller.userArn, name: caller.name };
    const channel: Channel = {
      channelId,
      name: request.Name,
      mode: request.Mode ?? 'RESTRICTED',
      privacy: request.Privacy ?? 'PRIVATE',
      ...(request.Metadata !== undefined && { metadata: request.Metadata }),
      createdBy: creator,
      moderatorArns: [...new Set(request.ModeratorArns ?? [])],
      createdAt: now,
      lastUpdatedAt: now,
    };
    if (!(await this.channels.createChannel(channel))) {
      await this.channels.releaseCreateToken(caller.userArn, request.ClientRequestToken);
      throw conflict(`A channel with ChannelId ${channelId} already exists (or was just deleted and is being cleaned up)`);
    }
    await Promise.all(
      [...new Set(request.MemberArns ?? [])].map((memberArn, index) =>
        this.channels.putMembership(this.newMembership(channelId, memberArn, memberIds[index] as string, caller, 'DEFAULT', now)),
      ),
    );
    return channelArn(this.app, channelId);
  }

  async describeChannel(caller: Caller, arn: string): Promise<Channel> {
    const context = await this.channelContext(caller, arn);
    assertCanViewChannel(context);
    return context.channel;
  }

  async deleteChannel(caller: Caller, arn: string): Promise<void> {
    const context = await this.channelContext(caller, arn);
    assertCanDeleteChannel(context);
    await this.channels.deleteChannel(context.channel.channelId, this.clock.now());
  }

  /** After DeleteChannel: the deleted channel's messages, then its memberships and tombstone. */
  async purgeDeletedChannel(channelId: string): Promise<void> {
    await this.messages.deleteChannelMessages(channelId);
    await this.channels.purgeDeletedChannel(channelId);
  }

  async listChannels(
    caller: Caller,
    query: { readonly appInstanceArn: string; readonly privacy?: ChannelPrivacy; readonly maxResults?: number; readonly nextToken?: string },
  ): Promise<PagedResult<Channel>> {
    if (query.appInstanceArn !== appInstanceArn(this.app)) {
      throw badRequest(`app-instance-arn must be ${appInstanceArn(this.app)}, the app instance of this deployment`);
    }
    const privacy = query.privacy ?? 'PUBLIC';
    if (privacy === 'PRIVATE' && !caller.isAdmin) {
      throw forbidden('Only app instance admins can list private channels');
    }
    const page = await this.channels.listChannelsByPrivacy(privacy, {
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      ...(query.nextToken !== undefined && { after: decodeNextToken(query.nextToken, { gsi1pk: `PRIVACY#${privacy}` }) }),
    });
    return { items: page.items, ...(page.next && { nextToken: encodeNextToken(page.next) }) };
  }

  /** The caller's own channels with its membership of each (ListChannelMembershipsForAppInstanceUser). */
  async listChannelsOfCaller(
    caller: Caller,
    query: { readonly userArn?: string; readonly maxResults?: number; readonly nextToken?: string },
  ): Promise<PagedResult<{ readonly channel: Channel; readonly membership: Membership }>> {
    const userArn = query.userArn ?? caller.userArn;
    parseUser(this.app, userArn, 'app-instance-user-arn');
    if (userArn !== caller.userArn && !caller.isAdmin) {
      throw forbidden('Only app instance admins can list the memberships of another user');
    }
    const page = await this.channels.listChannelIdsOfMember(userArn, {
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      ...(query.nextToken !== undefined && { after: decodeNextToken(query.nextToken, { gsi1pk: `MEMBER#${userArn}` }) }),
    });
    const channels = await this.channels.getChannels(page.items);
    const memberships = await Promise.all(channels.map((channel) => this.channels.getMembership(channel.channelId, userArn)));
    const items = channels.flatMap((channel, index) => {
      const membership = memberships[index];
      return membership ? [{ channel, membership }] : [];
    });
    return { items, ...(page.next && { nextToken: encodeNextToken(page.next) }) };
  }

  async createMembership(caller: Caller, arn: string, request: CreateChannelMembershipRequest): Promise<Membership> {
    const context = await this.channelContext(caller, arn);
    const memberId = parseUser(this.app, request.MemberArn, 'MemberArn');
    assertCanAddMember(context, request.MemberArn);
    const membership = this.newMembership(context.channel.channelId, request.MemberArn, memberId, caller, request.Type, this.clock.now());
    return this.channels.putMembership(membership);
  }

  async describeMembership(caller: Caller, arn: string, memberArn: string): Promise<Membership> {
    const context = await this.channelContext(caller, arn);
    parseUser(this.app, memberArn, 'MemberArn');
    assertCanViewChannel(context);
    const membership = await this.channels.getMembership(context.channel.channelId, memberArn);
    if (!membership) throw notFound(`${memberArn} is not a member of channel ${arn}`);
    return membership;
  }

  async listMemberships(
    caller: Caller,
    arn: string,
    query: { readonly type?: MembershipType; readonly maxResults?: number; readonly nextToken?: string },
  ): Promise<PagedResult<Membership>> {
    const context = await this.channelContext(caller, arn);
    assertCanViewChannel(context);
    const page = await this.channels.listMemberships(context.channel.channelId, {
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      // As in Chime: HIDDEN members are listed only when asked for by type.
      type: query.type ?? 'DEFAULT',
      ...(query.nextToken !== undefined && {
        after: decodeNextToken(query.nextToken, { pk: `CHANNEL#${context.channel.channelId}` }),
      }),
    });
    return { items: page.items, ...(page.next && { nextToken: encodeNextToken(page.next) }) };
  }

  async deleteMembership(caller: Caller, arn: string, memberArn: string): Promise<void> {
    const context = await this.channelContext(caller, arn);
    parseUser(this.app, memberArn, 'MemberArn');
    assertCanRemoveMember(context, memberArn);
    if (!(await this.channels.deleteMembership(context.channel.channelId, memberArn))) {
      throw notFound(`${memberArn} is not a member of channel ${arn}`);
    }
  }

  private newMembership(channelId: string, memberArn: string, memberId: string, caller: Caller, type: MembershipType, now: number): Membership {
    return {
      channelId,
      // A user's display name is known only from its own token: others are named by their id until
      // they send (MessageService refreshes it then).
      member: { arn: memberArn, name: memberArn === caller.userArn ? caller.name : memberId },
      type,
      invitedBy: { arn: caller.userArn, name: caller.name },
      createdAt: now,
      lastUpdatedAt: now,
    };
  }
}

function parseUser(app: AppInstance, arn: string, field: string): string {
  return parseResourceArn(app, 'user', arn, field);
}
