import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoDbConnectionRepository } from '../adapters/dynamodb/connection-repository';
import type { WebSocketRouteEvent } from '../api/websocket';
import { tableName } from '../config';

const connections = new DynamoDbConnectionRepository(createDocumentClient(), tableName('connections'));

/** $disconnect: API Gateway's best-effort notice that a connection closed. */
export async function handler(event: WebSocketRouteEvent): Promise<{ statusCode: number }> {
  await connections.forgetConnection(event.requestContext.connectionId);
  return { statusCode: 200 };
}
