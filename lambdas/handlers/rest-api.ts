import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoDbChannelRepository } from '../adapters/dynamodb/channel-repository';
import { DynamoDbFlowRepository } from '../adapters/dynamodb/flow-repository';
import { DynamoDbMessageRepository } from '../adapters/dynamodb/message-repository';
import { errorResponse, jsonResponse, toApiRequest } from '../api/http';
import { OPERATIONS, type Services } from '../api/operations';
import { matchRoute } from '../api/routes';
import { appInstanceFromEnvironment, processorPrefix, tableName, websocketUrl } from '../config';
import { isChimeError } from '../core/errors';
import { ChannelService } from '../services/channel-service';
import { FlowService } from '../services/flow-service';
import { MessageService } from '../services/message-service';
import { systemClock } from '../services/ports';
import { createProcessingService } from './shared/processing';

const logger = new Logger({ serviceName: 'channel-flows-rest-api' });

function createServices(): Services {
  const app = appInstanceFromEnvironment();
  const client = createDocumentClient();
  const channelRepository = new DynamoDbChannelRepository(client, tableName('channels'));
  const messageRepository = new DynamoDbMessageRepository(client, tableName('messages'));
  const flowRepository = new DynamoDbFlowRepository(client, tableName('channels'));
  const channels = new ChannelService(app, channelRepository, messageRepository, systemClock);
  const processing = createProcessingService(app, messageRepository, channelRepository);
  const messages = new MessageService(app, channels, channelRepository, messageRepository, flowRepository, processing, systemClock);
  const flows = new FlowService(app, flowRepository, channels, systemClock, processorPrefix());
  return { app, websocketUrl: websocketUrl(), channels, messages, flows, processing };
}

const services = createServices();

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const requestId = event.requestContext?.requestId ?? '';
  try {
    const request = toApiRequest(event);
    const route = matchRoute(request.method, request.path, request.query);
    logger.appendKeys({ operation: route.operation, requestId });
    const result = await OPERATIONS[route.operation](services, request, route.labels);
    return jsonResponse(result.status, result.body, requestId);
  } catch (error) {
    if (isChimeError(error)) {
      logger.info('Request refused', { errorType: error.shape, reason: error.message });
    } else {
      logger.error('Request failed', error as Error);
    }
    return errorResponse(error, requestId);
  } finally {
    logger.resetKeys();
  }
}
