import type { IncomingMessage, ServerResponse } from 'node:http';
import { appInstanceArn } from '../lambdas/core/arns';
import { isValidResourceId, userArn } from '../lambdas/core/arns';
import { ENV, PROCESSORS, REST_API, TABLES, type TableName } from '../lib/system';
import { startLocalDynamoDb } from './dynamodb';
import { applyLambdaEnvironment, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';
import { LocalFunctions } from './functions';
import { LocalRestGateway, type LocalRoute } from './rest-gateway';
import { createLocalTokenIssuer, LOCAL_ADMIN_GROUP, LOCAL_AUDIENCE } from './token-issuer';
import { LocalWebSocketGateway } from './websocket-gateway';
import { startEventSourceMappings } from './event-source-mapping';
import { LocalQueues } from './queues';
import { LocalLambdaService } from './lambda-service';
import { registerSystemFunctions, type ExtraProcessor } from './lambda-functions';
import { startSchedules } from './schedules';

/**
 * The whole system on one machine: DynamoDB (dynalite with streams and TTL), the REST and WebSocket
 * APIs, the stream event source mappings, Lambda's asynchronous invoke for processors, the
 * schedules and the local token issuer, all wired from `lib/system.ts` and running the deployed
 * handler modules.
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
  /** Processor modules to register besides the shipped one; names must carry the processor prefix. */
  readonly processors?: readonly ExtraProcessor[];
  /** How long a change may wait for its processor (default PROCESSORS.defaultFlowTimeoutSeconds). */
  readonly flowTimeoutSeconds?: number;
  /** How often scheduled functions run locally (default every second, instead of their AWS rate). */
  readonly scheduleIntervalMs?: number;
}

export interface LocalRuntime {
  readonly restUrl: string;
  readonly websocketUrl: string;
  readonly appInstanceArn: string;
  /** The local DynamoDB endpoint and physical table names, for inspection and tests. */
  readonly dynamodb: { readonly endpoint: string; readonly tables: Readonly<Record<TableName, string>> };
  /** Registered processors: function name → function ARN. */
  readonly processors: Readonly<Record<string, string>>;
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
  // Lambda's own API, for asynchronous invokes of processors and their destinations.
  const lambda = new LocalLambdaService();
  const lambdaEndpoint = await lambda.listen(0, host);
  const functionNames = registerSystemFunctions(lambda, {
    processorPrefix: PROCESSORS.defaultPrefix,
    ...(options.processors !== undefined && { extraProcessors: options.processors }),
  });
  const processorNames = [functionNames.moderationProcessor, ...(options.processors ?? []).map((processor) => processor.name)];

  // The `iss` claim names the app instance, not the port, so that with --data-dir a token stays
  // valid across restarts on other ports; the keys are served by this run's REST server.
  const issuerId = `urn:channel-flows:local:${app.appInstanceId}`;
  const jwksUri = `${restUrl}/local/.well-known/jwks.json`;
  const issuer = await createLocalTokenIssuer({ issuer: issuerId, ...(options.dataDir !== undefined && { dataDir: options.dataDir }) });

  applyLambdaEnvironment({
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint,
    [ENV.processorPrefix]: PROCESSORS.defaultPrefix,
    [ENV.callbackUrl]: `${restUrl}${REST_API.callbackPathPrefix}`,
    [ENV.flowTimeoutSeconds]: String(options.flowTimeoutSeconds ?? PROCESSORS.defaultFlowTimeoutSeconds),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    [ENV.appInstanceArn]: appInstanceArn(app),
    [ENV.websocketUrl]: webSocketGateway.websocketUrl,
    [ENV.connectionsEndpoint]: webSocketGateway.connectionsEndpoint,
    [ENV.jwtIssuer]: issuerId,
    [ENV.jwtAudience]: LOCAL_AUDIENCE,
    [ENV.jwksUri]: jwksUri,
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
  const schedules = startSchedules({
    invoke: (name, event) => lambda.invoke(functionNames[name], event),
    intervalMs: options.scheduleIntervalMs ?? 1000,
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
    processors: Object.fromEntries(processorNames.map((name) => [name, lambda.functionArn(name)])),
    async stop() {
      await webSocketGateway.stop();
      await gateway.stop();
      await schedules.stop();
      await lambda.stop();
      await streamMappings.stop();
      await dynamo.stop();
    },
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}
