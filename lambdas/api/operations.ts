import { channelArn, parseResourceArn, type AppInstance } from '../core/arns';
import {
  associateChannelFlowSchema,
  createChannelFlowSchema,
  createChannelMembershipSchema,
  createChannelSchema,
  listChannelFlowsQuerySchema,
  listChannelsAssociatedWithChannelFlowQuerySchema,
  listChannelMembershipsQuerySchema,
  listChannelMessagesQuerySchema,
  listChannelsQuerySchema,
  listMembershipsForUserQuerySchema,
  parseRequest,
  redactChannelMessageSchema,
  sendChannelMessageSchema,
  subChannelQuerySchema,
  updateChannelFlowSchema,
  updateChannelMessageSchema,
} from '../core/validation';
import {
  toWireChannel,
  toWireChannelAssociatedWithFlow,
  toWireChannelFlow,
  toWireChannelFlowSummary,
  toWireChannelSummary,
  toWireIdentity,
  toWireMembership,
  toWireMessage,
  toWireMessageSummary,
} from '../core/wire';
import type { ChannelService } from '../services/channel-service';
import type { FlowService } from '../services/flow-service';
import type { MessageService } from '../services/message-service';
import type { ProcessingService } from '../services/processing-service';
import { answerOfCallback, channelFlowCallbackSchema } from '../core/processor-protocol';
import { forbidden } from '../core/errors';
import { REST_API } from '../../lib/system';
import { authenticatedCaller, bearerCaller, jsonBody, type ApiRequest } from './http';
import type { OperationName } from './routes';

/**
 * One function per REST operation: parse and validate the request, call the service, shape the
 * restJson1 response. No rule of the product lives here.
 */
export interface OperationResult {
  readonly status: number;
  readonly body?: unknown;
}

export interface Services {
  readonly app: AppInstance;
  /** The WebSocket URL clients connect to for events. */
  readonly websocketUrl: string;
  readonly channels: ChannelService;
  readonly messages: MessageService;
  readonly flows: FlowService;
  readonly processing: ProcessingService;
}

type Operation = (services: Services, request: ApiRequest, labels: readonly string[]) => Promise<OperationResult>;

const label = (labels: readonly string[], index: number): string => labels[index] ?? '';

export const OPERATIONS: Readonly<Record<OperationName, Operation>> = {
  async CreateChannel({ channels }, request) {
    const caller = bearerCaller(request);
    const arn = await channels.createChannel(caller, parseRequest(createChannelSchema, jsonBody(request)));
    return { status: 201, body: { ChannelArn: arn } };
  },

  async DescribeChannel({ app, channels }, request, labels) {
    const channel = await channels.describeChannel(bearerCaller(request), label(labels, 0));
    return { status: 200, body: { Channel: toWireChannel(app, channel) } };
  },

  async DeleteChannel({ channels }, request, labels) {
    await channels.deleteChannel(bearerCaller(request), label(labels, 0));
    return { status: 204 };
  },

  async ListChannels({ app, channels }, request) {
    const caller = bearerCaller(request);
    const query = parseRequest(listChannelsQuerySchema, request.query);
    const page = await channels.listChannels(caller, {
      appInstanceArn: query['app-instance-arn'],
      ...(query.privacy !== undefined && { privacy: query.privacy }),
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return { status: 200, body: { Channels: page.items.map((channel) => toWireChannelSummary(app, channel)), NextToken: page.nextToken } };
  },

  async ListChannelMembershipsForAppInstanceUser({ app, channels }, request) {
    const caller = bearerCaller(request);
    const query = parseRequest(listMembershipsForUserQuerySchema, request.query);
    const page = await channels.listChannelsOfCaller(caller, {
      ...(query['app-instance-user-arn'] !== undefined && { userArn: query['app-instance-user-arn'] }),
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return {
      status: 200,
      body: {
        ChannelMemberships: page.items.map(({ channel, membership }) => ({
          ChannelSummary: toWireChannelSummary(app, channel),
          AppInstanceUserMembershipSummary: { Type: membership.type },
        })),
        NextToken: page.nextToken,
      },
    };
  },

  async CreateChannelMembership({ app, channels }, request, labels) {
    const caller = bearerCaller(request);
    const membership = await channels.createMembership(caller, label(labels, 0), parseRequest(createChannelMembershipSchema, jsonBody(request)));
    return { status: 201, body: { ChannelArn: channelArn(app, membership.channelId), Member: toWireIdentity(membership.member) } };
  },

  async DescribeChannelMembership({ app, channels }, request, labels) {
    parseRequest(subChannelQuerySchema, request.query);
    const membership = await channels.describeMembership(bearerCaller(request), label(labels, 0), label(labels, 1));
    return { status: 200, body: { ChannelMembership: toWireMembership(app, membership) } };
  },

  async ListChannelMemberships({ channels }, request, labels) {
    const caller = bearerCaller(request);
    const query = parseRequest(listChannelMembershipsQuerySchema, request.query);
    const page = await channels.listMemberships(caller, label(labels, 0), {
      ...(query.type !== undefined && { type: query.type }),
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return {
      status: 200,
      body: {
        ChannelArn: label(labels, 0),
        ChannelMemberships: page.items.map((membership) => ({ Member: toWireIdentity(membership.member) })),
        NextToken: page.nextToken,
      },
    };
  },

  async DeleteChannelMembership({ channels }, request, labels) {
    parseRequest(subChannelQuerySchema, request.query);
    await channels.deleteMembership(bearerCaller(request), label(labels, 0), label(labels, 1));
    return { status: 204 };
  },

  async SendChannelMessage({ messages }, request, labels) {
    const caller = bearerCaller(request);
    const receipt = await messages.send(caller, label(labels, 0), parseRequest(sendChannelMessageSchema, jsonBody(request)));
    return { status: 201, body: { ChannelArn: label(labels, 0), MessageId: receipt.messageId, Status: { Value: receipt.status.value } } };
  },

  async UpdateChannelMessage({ messages }, request, labels) {
    const caller = bearerCaller(request);
    const receipt = await messages.update(caller, label(labels, 0), label(labels, 1), parseRequest(updateChannelMessageSchema, jsonBody(request)));
    return { status: 200, body: { ChannelArn: label(labels, 0), MessageId: receipt.messageId, Status: { Value: receipt.status.value } } };
  },

  async GetChannelMessage({ app, messages }, request, labels) {
    parseRequest(subChannelQuerySchema, request.query);
    const message = await messages.get(bearerCaller(request), label(labels, 0), label(labels, 1));
    return { status: 200, body: { ChannelMessage: toWireMessage(app, message, 'epoch-seconds') } };
  },

  async GetChannelMessageStatus({ messages }, request, labels) {
    const caller = bearerCaller(request);
    const { scope: _scope, ...rest } = request.query;
    parseRequest(subChannelQuerySchema, rest);
    const status = await messages.status(caller, label(labels, 0), label(labels, 1));
    return { status: 200, body: { Status: { Value: status.value, ...(status.detail !== undefined && { Detail: status.detail }) } } };
  },

  async ListChannelMessages({ messages }, request, labels) {
    const caller = bearerCaller(request);
    const query = parseRequest(listChannelMessagesQuerySchema, request.query);
    const page = await messages.list(caller, label(labels, 0), {
      ...(query['sort-order'] !== undefined && { sortOrder: query['sort-order'] }),
      ...(query['not-before'] !== undefined && { notBefore: query['not-before'] }),
      ...(query['not-after'] !== undefined && { notAfter: query['not-after'] }),
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return {
      status: 200,
      body: { ChannelArn: label(labels, 0), ChannelMessages: page.items.map(toWireMessageSummary), NextToken: page.nextToken },
    };
  },

  async DeleteChannelMessage({ messages }, request, labels) {
    parseRequest(subChannelQuerySchema, request.query);
    await messages.delete(bearerCaller(request), label(labels, 0), label(labels, 1));
    return { status: 204 };
  },

  /**
   * A processor's answer. Only processors may give one: the route is served on the IAM-authorized
   * callback resource, and refused to user tokens.
   */
  async ChannelFlowCallback({ app, processing }, request, labels) {
    if (request.iamCaller === undefined) {
      throw forbidden(`ChannelFlowCallback is for processors: call it through the IAM-authorized callback endpoint ({restUrl}${REST_API.callbackPathPrefix})`);
    }
    const channelId = parseResourceArn(app, 'channel', label(labels, 0), 'ChannelArn');
    const body = parseRequest(channelFlowCallbackSchema, jsonBody(request));
    const { messageId, answer } = answerOfCallback(body);
    await processing.answer(channelId, messageId, body.CallbackId, answer);
    return { status: 200, body: { ChannelArn: label(labels, 0), CallbackId: body.CallbackId } };
  },

  /** The URL of the WebSocket API; a developer API in Chime, open to every authenticated caller here. */
  async GetMessagingSessionEndpoint({ websocketUrl }) {
    return { status: 200, body: { Endpoint: { Url: websocketUrl } } };
  },

  // Channel flows. The management operations are Chime "developer APIs": no x-amz-chime-bearer,
  // the token's own identity decides (app instance admins only). Associations carry the bearer.
  async CreateChannelFlow({ flows }, request) {
    const caller = authenticatedCaller(request);
    const arn = await flows.createFlow(caller, parseRequest(createChannelFlowSchema, jsonBody(request)));
    return { status: 201, body: { ChannelFlowArn: arn } };
  },

  async DescribeChannelFlow({ app, flows }, request, labels) {
    const flow = await flows.describeFlow(authenticatedCaller(request), label(labels, 0));
    return { status: 200, body: { ChannelFlow: toWireChannelFlow(app, flow) } };
  },

  async UpdateChannelFlow({ flows }, request, labels) {
    const caller = authenticatedCaller(request);
    const arn = await flows.updateFlow(caller, label(labels, 0), parseRequest(updateChannelFlowSchema, jsonBody(request)));
    return { status: 200, body: { ChannelFlowArn: arn } };
  },

  async DeleteChannelFlow({ flows }, request, labels) {
    await flows.deleteFlow(authenticatedCaller(request), label(labels, 0));
    return { status: 204 };
  },

  async ListChannelFlows({ app, flows }, request) {
    const caller = authenticatedCaller(request);
    const query = parseRequest(listChannelFlowsQuerySchema, request.query);
    const page = await flows.listFlows(caller, {
      appInstanceArn: query['app-instance-arn'],
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return { status: 200, body: { ChannelFlows: page.items.map((flow) => toWireChannelFlowSummary(app, flow)), NextToken: page.nextToken } };
  },

  async AssociateChannelFlow({ flows }, request, labels) {
    const caller = bearerCaller(request);
    await flows.associate(caller, label(labels, 0), parseRequest(associateChannelFlowSchema, jsonBody(request)));
    return { status: 200, body: {} };
  },

  async DisassociateChannelFlow({ flows }, request, labels) {
    await flows.disassociate(bearerCaller(request), label(labels, 0), label(labels, 1));
    return { status: 204 };
  },

  async ListChannelsAssociatedWithChannelFlow({ app, flows }, request) {
    const caller = authenticatedCaller(request);
    const { scope: _scope, ...rest } = request.query;
    const query = parseRequest(listChannelsAssociatedWithChannelFlowQuerySchema, rest);
    const page = await flows.listAssociatedChannels(caller, {
      channelFlowArn: query['channel-flow-arn'],
      ...(query['max-results'] !== undefined && { maxResults: query['max-results'] }),
      ...(query['next-token'] !== undefined && { nextToken: query['next-token'] }),
    });
    return { status: 200, body: { Channels: page.items.map((channel) => toWireChannelAssociatedWithFlow(app, channel)), NextToken: page.nextToken } };
  },

  async RedactChannelMessage({ messages }, request, labels) {
    const caller = bearerCaller(request);
    parseRequest(redactChannelMessageSchema, jsonBody(request));
    await messages.redact(caller, label(labels, 0), label(labels, 1));
    return { status: 200, body: { ChannelArn: label(labels, 0), MessageId: label(labels, 1) } };
  },
};
