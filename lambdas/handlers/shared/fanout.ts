import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayConnectionNotifier, createManagementClient } from '../../adapters/connection-notifier';
import { DynamoDbChannelRepository } from '../../adapters/dynamodb/channel-repository';
import { DynamoDbConnectionRepository } from '../../adapters/dynamodb/connection-repository';
import { connectionsEndpoint, tableName } from '../../config';
import type { AppInstance } from '../../core/arns';
import { FanoutService } from '../../services/fanout-service';

/** The @connections notifier of this stage, as every function that posts to connections builds it. */
export const createConnectionNotifier = (): ApiGatewayConnectionNotifier =>
  new ApiGatewayConnectionNotifier(createManagementClient(connectionsEndpoint()));

/** The fan-out as every function that delivers events builds it. */
export function createFanoutService(app: AppInstance, client: DynamoDBDocumentClient, channels = new DynamoDbChannelRepository(client, tableName('channels'))): FanoutService {
  return new FanoutService(app, channels, new DynamoDbConnectionRepository(client, tableName('connections')), createConnectionNotifier());
}
