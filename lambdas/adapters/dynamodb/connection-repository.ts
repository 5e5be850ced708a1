import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Connection, ConnectionRepository } from '../../services/ports';
import { batchGetAll } from './batch';
import { writeIf } from './conditional';

type Item = Record<string, unknown>;

/**
 * Connections table layout: one item per connection (`CONNECTION#id`), and one item per user
 * (`USER#arn`) holding the string set of its established connection ids, so that the fan-out finds
 * the connections of 100 members with one BatchGetItem. Both expire by TTL with the connection.
 */
export const connectionKey = (connectionId: string) => ({ pk: `CONNECTION#${connectionId}`, sk: 'CONNECTION' });
export const userConnectionsKey = (userArn: string) => ({ pk: `USER#${userArn}`, sk: 'CONNECTIONS' });
export const CONNECTION_ENTITY = 'CONNECTION';


export function toConnection(item: Item): Connection {
  return {
    connectionId: item.connectionId as string,
    userArn: item.userArn as string,
    connectedAt: item.connectedAt as number,
    expiresAt: item.expiresAt as number,
  };
}

export class DynamoDbConnectionRepository implements ConnectionRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordConnection(connection: Connection): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...connectionKey(connection.connectionId), entity: CONNECTION_ENTITY, ...connection } }),
    );
  }

  async forgetConnection(connectionId: string): Promise<Connection | undefined> {
    const output = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: connectionKey(connectionId), ReturnValues: 'ALL_OLD' }),
    );
    if (!output.Attributes) return undefined;
    const connection = toConnection(output.Attributes);
    await this.withdrawConnection(connection.userArn, connectionId);
    return connection;
  }

  async withdrawConnection(userArn: string, connectionId: string): Promise<void> {
    // Only an existing user item: a DELETE on a missing one would create an empty item.
    await writeIf(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userConnectionsKey(userArn),
          UpdateExpression: 'DELETE connectionIds :ids',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':ids': new Set([connectionId]) },
        }),
      ),
    );
  }

  async enrolConnection(connection: Connection): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: userConnectionsKey(connection.userArn),
        // The user item lives as long as its longest-lived connection.
        UpdateExpression: 'ADD connectionIds :ids SET userArn = :user, expiresAt = if_not_exists(expiresAt, :expiresAt)',
        ExpressionAttributeValues: { ':ids': new Set([connection.connectionId]), ':user': connection.userArn, ':expiresAt': connection.expiresAt },
      }),
    );
    await writeIf(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userConnectionsKey(connection.userArn),
          UpdateExpression: 'SET expiresAt = :expiresAt',
          ConditionExpression: 'expiresAt < :expiresAt',
          ExpressionAttributeValues: { ':expiresAt': connection.expiresAt },
        }),
      ),
    );
  }

  async establishedConnections(userArns: readonly string[]): Promise<ReadonlyMap<string, readonly string[]>> {
    const keys = [...new Set(userArns)].map(userConnectionsKey);
    const items = await batchGetAll(this.client, this.tableName, keys, 'userArn, connectionIds');
    const found = new Map<string, readonly string[]>();
    for (const item of items) {
      const ids = item.connectionIds as Set<string> | undefined;
      if (ids && ids.size > 0) found.set(item.userArn as string, [...ids]);
    }
    return found;
  }
}
