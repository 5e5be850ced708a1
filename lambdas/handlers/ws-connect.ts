import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoDbConnectionRepository } from '../adapters/dynamodb/connection-repository';
import { createTokenVerifier } from '../adapters/token-verifier';
import { webSocketCredentials, type WebSocketRouteEvent } from '../api/websocket';
import { appInstanceFromEnvironment, tableName, tokenSettingsFromEnvironment } from '../config';
import { WEBSOCKET_API } from '../../lib/system';

const logger = new Logger({ serviceName: 'channel-flows-ws-connect' });
const verifier = createTokenVerifier(tokenSettingsFromEnvironment(), appInstanceFromEnvironment());
const connections = new DynamoDbConnectionRepository(createDocumentClient(), tableName('connections'));

interface ConnectResult {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/**
 * $connect: a connection without a valid token is refused (401, so the upgrade never happens); an
 * accepted one is recorded against its AppInstanceUser until API Gateway's 2-hour limit.
 */
export async function handler(event: WebSocketRouteEvent): Promise<ConnectResult> {
  const credentials = webSocketCredentials(event);
  if (!credentials) return { statusCode: 401, body: 'A token is required: ?token=<jwt> or Sec-WebSocket-Protocol' };
  let caller;
  try {
    caller = await verifier.verify(credentials.token);
  } catch (error) {
    logger.info('Connection refused', { reason: (error as Error).message });
    return { statusCode: 401, body: 'The token is not valid' };
  }
  const connectedAt = event.requestContext.connectedAt ?? Date.now();
  await connections.recordConnection({
    connectionId: event.requestContext.connectionId,
    userArn: caller.userArn,
    connectedAt,
    expiresAt: Math.ceil(connectedAt / 1000) + WEBSOCKET_API.maxConnectionSeconds,
  });
  return { statusCode: 200, ...(credentials.protocol !== undefined && { headers: { 'Sec-WebSocket-Protocol': credentials.protocol } }) };
}
