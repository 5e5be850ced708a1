import type { IncomingMessage, ServerResponse } from 'node:http';
import { appInstanceArn } from '../lambdas/core/arns';
import { isValidResourceId, userArn } from '../lambdas/core/arns';
import { ENV, TABLES, type TableName } from '../lib/system';
import { startLocalDynamoDb } from './dynamodb';
import { applyLambdaEnvironment, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';
import { LocalFunctions } from './functions';
import { LocalRestGateway, type LocalRoute } from './rest-gateway';
import { createLocalTokenIssuer, LOCAL_ADMIN_GROUP, LOCAL_AUDIENCE } from './token-issuer';
import { LocalWebSocketGateway } from './websocket-gateway';
import { startEventSourceMappings } from './event-source-mapping';
import { LocalQueues } from './queues';

/**
 * The whole system on one machine: DynamoDB (dynalite), the REST API with its authorizer, and the
 * local token issuer, all wired from `lib/system.ts` and running the deployed handler modules.
 */
export interface LocalRuntimeOptions {
  /** TCP port of the REST API; 0 picks a free one. */
  readonly port: number;
  /** TCP port of the WebSocket API; 0 (the default) picks a free one. */
  readonly websocketPort?: number;
  readonly host?: string;
  /** Keep the data on disk in this directory; in memory when absent. */
  readonly dataDir?: string;
  readonly appInstanceId?: string;
}

export interface LocalRuntime {
  readonly restUrl: string;
  readonly websocketUrl: string;
  readonly appInstanceArn: string;
  /** The local DynamoDB endpoint and physical table names, for inspection and tests. */
  readonly dynamodb: { readonly endpoint: string; readonly tables: Readonly<Record<TableName, string>> };
  stop(): Promise<void>;
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const host = options.host ?? '127.0.0.1';
  const app = { partition: 'aws', region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, appInstanceId: options.appInstanceId ?? 'local' };
  const dynamo = await startLocalDynamoDb({ ...(options.dataDir !== undefined && { dataDir: options.dataDir }), tablePrefix: 'channel-flows' });

  const functions = new LocalFunctions();
  // Routes that exist only locally: the token issuer. They are filled in once the port is known.
  const localRoutes: LocalRoute[] = [];
  const gateway = new LocalRestGateway(functions, localRoutes);
  const webSocketGateway = new LocalWebSocketGateway(functions);
  let restUrl: string;
  try {
    restUrl = await gateway.listen(options.port, host);
    await webSocketGateway.listen(options.websocketPort ?? 0, host);
  } catch (error) {
    await gateway.stop();
    await dynamo.stop();
    throw error;
  }
  const issuerUrl = `${restUrl}/local`;
  const issuer = await createLocalTokenIssuer({ issuer: issuerUrl, ...(options.dataDir !== undefined && { dataDir: options.dataDir }) });

  applyLambdaEnvironment({
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    [ENV.appInstanceArn]: appInstanceArn(app),
    [ENV.websocketUrl]: webSocketGateway.websocketUrl,
    [ENV.connectionsEndpoint]: webSocketGateway.connectionsEndpoint,
    [ENV.jwtIssuer]: issuerUrl,
    [ENV.jwtAudience]: LOCAL_AUDIENCE,
    [ENV.jwksUri]: `${issuerUrl}/.well-known/jwks.json`,
    [ENV.userIdClaim]: 'sub',
    [ENV.nameClaim]: 'name',
    [ENV.adminClaim]: 'cognito:groups',
    [ENV.adminClaimValue]: LOCAL_ADMIN_GROUP,
    ...Object.fromEntries((Object.keys(TABLES) as TableName[]).map((table) => [TABLES[table].environmentVariable, dynamo.tableNames[table]])),
  });

  // Stream records reach the handlers through the event source mappings of lib/system.ts; batches
  // that run out of retries land in the local stand-in of their dead-letter queue.
  const queues = new LocalQueues();
  const streamMappings = startEventSourceMappings({
    streams: dynamo.streams,
    queues,
    invoke: (name, event) => functions.invoke(name, event),
  });

  localRoutes.push(
    {
      method: 'GET',
      path: '/local/queues/streamFailures',
      handle: async (_request, _body, response) => sendJson(response, 200, { Messages: queues.receiveAll('streamFailures') }),
    },
    {
      method: 'GET',
      path: '/local/.well-known/jwks.json',
      handle: async (_request, _body, response) => sendJson(response, 200, issuer.jwks),
    },
    {
      method: 'POST',
      path: '/local/tokens',
      handle: async (_request: IncomingMessage, body: string, response: ServerResponse) => {
        let input: { userId?: unknown; name?: unknown; admin?: unknown };
        try {
          input = JSON.parse(body || '{}');
        } catch {
          return sendJson(response, 400, { Code: 'BadRequest', Message: 'The request body is not valid JSON' });
        }
        if (typeof input.userId !== 'string' || !isValidResourceId(input.userId)) {
          return sendJson(response, 400, { Code: 'BadRequest', Message: 'userId is required: 1-64 characters of [A-Za-z0-9:-_.@]' });
        }
        const token = await issuer.issue({
          userId: input.userId,
          ...(typeof input.name === 'string' && { name: input.name }),
          admin: input.admin === true,
        });
        sendJson(response, 200, { token, userArn: userArn(app, input.userId) });
      },
    },
  );

  return {
    restUrl,
    websocketUrl: webSocketGateway.websocketUrl,
    appInstanceArn: appInstanceArn(app),
    dynamodb: { endpoint: dynamo.endpoint, tables: dynamo.tableNames },
    async stop() {
      await webSocketGateway.stop();
      await gateway.stop();
      await streamMappings.stop();
      await dynamo.stop();
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}
