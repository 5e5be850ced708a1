import { assertCanManageChannelFlowAssociation, assertCanManageChannelFlows } from '../core/access';
import { appInstanceArn, channelFlowArn, parseResourceArn, type AppInstance } from '../core/arns';
import { badRequest, conflict, notFound } from '../core/errors';
import { assertProcessorsAllowed, toProcessors, type ProcessorScope } from '../core/flows';
import { newResourceId } from '../core/ids';
import { DEFAULT_PAGE_SIZE } from '../core/limits';
import type { Caller, Channel, ChannelFlow } from '../core/model';
import { decodeNextToken, encodeNextToken } from '../core/pagination';
import type { AssociateChannelFlowRequest, CreateChannelFlowRequest, UpdateChannelFlowRequest } from '../core/validation';
import type { ChannelService, PagedResult } from './channel-service';
import type { ChannelFlowRepository, Clock } from './ports';
import { requestHash } from './request-hash';

/** How long a CreateChannelFlow ClientRequestToken is remembered. */
const TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

export interface PageQuery {
  readonly maxResults?: number;
  readonly nextToken?: string;
}

/**
 * Channel flows: the use cases behind the flow management operations. Creating, reading, changing
 * and listing flows is for app instance admins (Chime's "developer APIs"); associating a flow with
 * a channel is for the channel's moderators and admins.
 */
export class FlowService {
  private readonly scope: ProcessorScope;

  constructor(
    private readonly app: AppInstance,
    private readonly flows: ChannelFlowRepository,
    private readonly channelService: ChannelService,
    private readonly clock: Clock,
    processorPrefix: string,
  ) {
    this.scope = { prefix: processorPrefix, region: app.region, accountId: app.accountId };
  }

  async createFlow(caller: Caller, request: CreateChannelFlowRequest): Promise<string> {
    assertCanManageChannelFlows(caller, 'CreateChannelFlow');
    if (request.AppInstanceArn !== appInstanceArn(this.app)) {
      throw badRequest(`AppInstanceArn must be ${appInstanceArn(this.app)}, the app instance of this deployment`);
    }
    assertProcessorsAllowed(request.Processors, this.scope);
    const hash = requestHash(request);
    const claim = { resourceId: newResourceId(), requestHash: hash, stored: false };
    const now = this.clock.now();
    const earlier = await this.flows.claimCreateToken(caller.userArn, request.ClientRequestToken, claim, Math.floor(now / 1000) + TOKEN_LIFETIME_SECONDS);
    if (earlier !== undefined) {
      if (earlier.requestHash !== hash) {
        throw conflict('ClientRequestToken was already used for a different CreateChannelFlow request');
      }
      // A retry answers with the first request's flow; if that request stopped before writing the
      // flow, the retry writes it (a flow deleted since is not brought back).
      if (!earlier.stored) await this.storeFlow(caller, request, earlier.resourceId, now);
      return channelFlowArn(this.app, earlier.resourceId);
    }
    await this.storeFlow(caller, request, claim.resourceId, now);
    return channelFlowArn(this.app, claim.resourceId);
  }

  private async storeFlow(caller: Caller, request: CreateChannelFlowRequest, flowId: string, now: number): Promise<void> {
    const flow: ChannelFlow = { flowId, name: request.Name, processors: toProcessors(request.Processors), createdAt: now, lastUpdatedAt: now };
    // False only when a concurrent retry of the same request wrote the very same flow id first.
    await this.flows.createFlow(flow);
    await this.flows.markCreateTokenStored(caller.userArn, request.ClientRequestToken);
  }

  async describeFlow(caller: Caller, arn: string): Promise<ChannelFlow> {
    assertCanManageChannelFlows(caller, 'DescribeChannelFlow');
    return this.existingFlow(arn, 'ChannelFlowArn');
  }

  async updateFlow(caller: Caller, arn: string, request: UpdateChannelFlowRequest): Promise<string> {
    assertCanManageChannelFlows(caller, 'UpdateChannelFlow');
    const flowId = parseResourceArn(this.app, 'channel-flow', arn, 'ChannelFlowArn');
    assertProcessorsAllowed(request.Processors, this.scope);
    const updated = await this.flows.updateFlow(flowId, {
      name: request.Name,
      processors: toProcessors(request.Processors),
      lastUpdatedAt: this.clock.now(),
    });
    if (!updated) throw notFound(`Channel flow ${arn} does not exist`);
    return channelFlowArn(this.app, flowId);
  }

  async deleteFlow(caller: Caller, arn: string): Promise<void> {
    assertCanManageChannelFlows(caller, 'DeleteChannelFlow');
    const flowId = parseResourceArn(this.app, 'channel-flow', arn, 'ChannelFlowArn');
    const outcome = await this.flows.deleteFlow(flowId, this.clock.now());
    if (outcome === 'NOT_FOUND') throw notFound(`Channel flow ${arn} does not exist`);
    if (outcome === 'IN_USE') {
      throw conflict(`Channel flow ${arn} is associated with one or more channels; disassociate it from every channel before deleting it`);
    }
  }

  async listFlows(caller: Caller, query: PageQuery & { readonly appInstanceArn: string }): Promise<PagedResult<ChannelFlow>> {
    assertCanManageChannelFlows(caller, 'ListChannelFlows');
    if (query.appInstanceArn !== appInstanceArn(this.app)) {
      throw badRequest(`app-instance-arn must be ${appInstanceArn(this.app)}, the app instance of this deployment`);
    }
    const page = await this.flows.listFlows({
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      ...(query.nextToken !== undefined && { after: decodeNextToken(query.nextToken, { gsi1pk: 'FLOWS' }) }),
    });
    return { items: page.items, ...(page.next && { nextToken: encodeNextToken(page.next) }) };
  }

  async associate(caller: Caller, arn: string, request: AssociateChannelFlowRequest): Promise<void> {
    const flowId = parseResourceArn(this.app, 'channel-flow', request.ChannelFlowArn, 'ChannelFlowArn');
    const context = await this.channelService.channelContext(caller, arn);
    assertCanManageChannelFlowAssociation(context);
    const flowArn = channelFlowArn(this.app, flowId);
    const result = await this.flows.associateFlow(context.channel.channelId, flowId, flowArn, this.clock.now());
    switch (result.outcome) {
      case 'ASSOCIATED':
      case 'ALREADY_ASSOCIATED':
        return;
      case 'CHANNEL_NOT_FOUND':
        throw notFound(`Channel ${arn} does not exist`);
      case 'FLOW_NOT_FOUND':
        throw notFound(`Channel flow ${flowArn} does not exist`);
      case 'FLOW_BEING_DELETED':
        throw conflict(`Channel flow ${flowArn} is being deleted`);
      case 'OTHER_FLOW_ASSOCIATED':
        throw conflict(
          `Channel ${arn} is already associated with channel flow ${result.channelFlowArn}; a channel has at most one flow, so disassociate that one first`,
        );
    }
  }

  async disassociate(caller: Caller, arn: string, flowArnLabel: string): Promise<void> {
    const flowId = parseResourceArn(this.app, 'channel-flow', flowArnLabel, 'ChannelFlowArn');
    const context = await this.channelService.channelContext(caller, arn);
    assertCanManageChannelFlowAssociation(context);
    const flowArn = channelFlowArn(this.app, flowId);
    const result = await this.flows.disassociateFlow(context.channel.channelId, flowId, flowArn, this.clock.now());
    switch (result.outcome) {
      case 'DISASSOCIATED':
        return;
      case 'CHANNEL_NOT_FOUND':
        throw notFound(`Channel ${arn} does not exist`);
      case 'NOT_ASSOCIATED':
        if (result.channelFlowArn === undefined) throw notFound(`Channel ${arn} has no channel flow; ${flowArn} is not associated with it`);
        throw conflict(`Channel ${arn} is associated with channel flow ${result.channelFlowArn}, not with ${flowArn}`);
    }
  }

  async listAssociatedChannels(caller: Caller, query: PageQuery & { readonly channelFlowArn: string }): Promise<PagedResult<Channel>> {
    assertCanManageChannelFlows(caller, 'ListChannelsAssociatedWithChannelFlow');
    const flow = await this.existingFlow(query.channelFlowArn, 'channel-flow-arn');
    const page = await this.flows.listAssociatedChannels(flow.flowId, {
      limit: query.maxResults ?? DEFAULT_PAGE_SIZE,
      ...(query.nextToken !== undefined && { after: decodeNextToken(query.nextToken, { pk: `FLOW#${flow.flowId}` }) }),
    });
    return { items: page.items, ...(page.next && { nextToken: encodeNextToken(page.next) }) };
  }

  private async existingFlow(arn: string, field: string): Promise<ChannelFlow> {
    const flowId = parseResourceArn(this.app, 'channel-flow', arn, field);
    const flow = await this.flows.getFlow(flowId);
    if (!flow) throw notFound(`Channel flow ${arn} does not exist`);
    return flow;
  }
}
