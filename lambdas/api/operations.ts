import { channelArn, type AppInstance } from '../core/arns';
import {
  createChannelMembershipSchema,
  createChannelSchema,
  listChannelMembershipsQuerySchema,
  listChannelMessagesQuerySchema,
  listChannelsQuerySchema,
  listMembershipsForUserQuerySchema,
  parseRequest,
  redactChannelMessageSchema,
  sendChannelMessageSchema,
  subChannelQuerySchema,
  updateChannelMessageSchema,
} from '../core/validation';
import { toWireChannel, toWireChannelSummary, toWireIdentity, toWireMembership, toWireMessage, toWireMessageSummary } from '../core/wire';
import type { ChannelService } from '../services/channel-service';
import type { MessageService } from '../services/message-service';
import { bearerCaller, jsonBody, type ApiRequest } from './http';
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

  /** The URL of the WebSocket API; a developer API in Chime, open to every authenticated caller here. */
  async GetMessagingSessionEndpoint({ websocketUrl }) {
    return { status: 200, body: { Endpoint: { Url: websocketUrl } } };
  },

  async RedactChannelMessage({ messages }, request, labels) {
    const caller = bearerCaller(request);
    parseRequest(redactChannelMessageSchema, jsonBody(request));
    await messages.redact(caller, label(labels, 0), label(labels, 1));
    return { status: 200, body: { ChannelArn: label(labels, 0), MessageId: label(labels, 1) } };
  },
};
