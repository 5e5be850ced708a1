/**
 * The one description of the deployed system: tables, functions, what each function may read and
 * write, and the routes. Plain data with no CDK import, so that both the CDK construct
 * (`lib/channel-flows.ts`) and the local runtime (`local/`) are built from it, and a template test
 * holds the synthesized stack against it.
 */

export type TableName = 'channels' | 'messages' | 'connections';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export interface TableDefinition {
  /** The environment variable through which functions learn the table's physical name. */
  readonly environmentVariable: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute holding the expiry time in epoch seconds. */
  readonly timeToLiveAttribute: string;
  /** Stream view type; absent for a table without a stream. */
  readonly stream?: 'NEW_AND_OLD_IMAGES';
}

export const TABLES: Readonly<Record<TableName, TableDefinition>> = {
  /**
   * Channels and their memberships: everything a channel's access rules are read from. Its stream
   * carries membership changes to the fan-out.
   */
  channels: {
    environmentVariable: 'CHANNELS_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
    timeToLiveAttribute: 'expiresAt',
    stream: 'NEW_AND_OLD_IMAGES',
  },
  /** Messages, keyed by channel and time-ordered message id, plus send idempotency tokens. */
  messages: {
    environmentVariable: 'MESSAGES_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    // Sparse: only messages waiting for a processor carry these, so the sweep reads just those.
    indexes: [{ indexName: 'pending', partitionKey: 'pendingPartition', sortKey: 'pendingDeadline' }],
    timeToLiveAttribute: 'expiresAt',
    stream: 'NEW_AND_OLD_IMAGES',
  },
  /**
   * WebSocket connections, and per user the set of connections that have been told
   * SESSION_ESTABLISHED, which is what the fan-out reads, by key, in batches of 100 users.
   */
  connections: {
    environmentVariable: 'CONNECTIONS_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [],
    timeToLiveAttribute: 'expiresAt',
    stream: 'NEW_AND_OLD_IMAGES',
  },
};

export type FunctionName =
  | 'restApi'
  | 'authorizer'
  | 'wsConnect'
  | 'wsDisconnect'
  | 'wsDefault'
  | 'sessionOpener'
  | 'fanout'
  | 'processorOutcome'
  | 'pendingSweeper'
  | 'moderationProcessor'
  | 'channelCleanup';

export interface FunctionDefinition {
  readonly description: string;
  /** Module path from the project root; the same module runs in Lambda and in the local runtime. */
  readonly entry: string;
  readonly handler: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly reads: readonly TableName[];
  readonly writes: readonly TableName[];
  /** Whether the function needs the token verification settings (issuer, audience, JWKS, claims). */
  readonly verifiesTokens: boolean;
  /**
   * Whether the function posts to or deletes WebSocket connections through the @connections API
   * (it then gets `ENV.connectionsEndpoint` and `execute-api:ManageConnections` on the WebSocket stage).
   */
  readonly managesConnections: boolean;
  /** Whether the function needs `ENV.websocketUrl`, the URL clients connect to. */
  readonly knowsWebSocketUrl: boolean;
  /** Whether the function needs the flow settings (`ENV.flowTimeoutSeconds`, `ENV.processorPrefix`). */
  readonly processesFlows: boolean;
  /**
   * Whether the function hands messages to processors: asynchronous `lambda:InvokeFunction`, limited
   * to functions of the deployment's account and region whose names start with the processor prefix.
   */
  readonly invokesProcessors: boolean;
  /**
   * A fixed function name, for functions other teams or flows name by ARN (the shipped processor);
   * `{prefix}` stands for the processor prefix. Other functions get generated names.
   */
  readonly functionName?: string;
}

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionDefinition>> = {
  restApi: {
    description: 'Chime SDK Messaging REST operations: channels, memberships and messages',
    entry: 'lambdas/handlers/rest-api.ts',
    handler: 'handler',
    memorySize: 512,
    timeoutSeconds: 10,
    reads: ['channels', 'messages'],
    writes: ['channels', 'messages'],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: true,
    processesFlows: true,
    invokesProcessors: true,
  },
  authorizer: {
    description: 'Verifies the bearer JWT of REST requests against the issuer JWKS',
    entry: 'lambdas/handlers/authorizer.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 5,
    reads: [],
    writes: [],
    verifiesTokens: true,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  wsConnect: {
    description: 'WebSocket $connect: verifies the token and records the connection against its AppInstanceUser',
    entry: 'lambdas/handlers/ws-connect.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 5,
    reads: [],
    writes: ['connections'],
    verifiesTokens: true,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  wsDisconnect: {
    description: 'WebSocket $disconnect: forgets the connection',
    entry: 'lambdas/handlers/ws-disconnect.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 5,
    reads: [],
    writes: ['connections'],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  wsDefault: {
    description: 'WebSocket $default: answers keep-alive pings so clients can stay under the idle timeout',
    entry: 'lambdas/handlers/ws-default.ts',
    handler: 'handler',
    memorySize: 128,
    timeoutSeconds: 3,
    reads: [],
    writes: [],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  sessionOpener: {
    description: 'Sends SESSION_ESTABLISHED to each new connection, then enrols it for channel events',
    entry: 'lambdas/handlers/session-opener.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 30,
    reads: ['connections'],
    writes: ['connections'],
    verifiesTokens: false,
    managesConnections: true,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  fanout: {
    description: 'Turns message and membership changes into typed Chime events on the right WebSocket connections',
    entry: 'lambdas/handlers/fanout.ts',
    handler: 'handler',
    memorySize: 1024,
    timeoutSeconds: 60,
    reads: ['channels', 'connections'],
    writes: ['connections'],
    verifiesTokens: false,
    managesConnections: true,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
  processorOutcome: {
    description: "Writes back a processor's answer (on-success destination) or its failure (on-failure destination)",
    entry: 'lambdas/handlers/processor-outcome.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 30,
    reads: ['channels', 'messages'],
    writes: ['messages', 'channels'],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: true,
    invokesProcessors: false,
  },
  pendingSweeper: {
    description: 'Ends every message still PENDING past its flow timeout: FAILED, or SENT unprocessed under CONTINUE',
    entry: 'lambdas/handlers/pending-sweeper.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 60,
    reads: ['channels', 'messages'],
    writes: ['messages', 'channels'],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: true,
    invokesProcessors: false,
  },
  moderationProcessor: {
    description: 'The shipped channel flow processor: denies deny-listed words, replaces e-mail addresses with [email]',
    entry: 'lambdas/processors/moderation.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 10,
    reads: [],
    writes: [],
    verifiesTokens: false,
    managesConnections: false,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
    functionName: '{prefix}moderation',
  },
  channelCleanup: {
    description: 'Announces a deleted channel to its members (DELETE_CHANNEL), then removes its messages and memberships, after DeleteChannel has answered',
    entry: 'lambdas/handlers/channel-cleanup.ts',
    handler: 'handler',
    memorySize: 512,
    timeoutSeconds: 300,
    reads: ['channels', 'messages', 'connections'],
    writes: ['channels', 'messages', 'connections'],
    verifiesTokens: false,
    managesConnections: true,
    knowsWebSocketUrl: false,
    processesFlows: false,
    invokesProcessors: false,
  },
};

/** The REST API: one greedy proxy resource, because ARNs in paths hold slashes once decoded. */
export const REST_API = {
  function: 'restApi' as FunctionName,
  authorizer: 'authorizer' as FunctionName,
  /**
   * Processors call ChannelFlowCallback under this prefix (`{restUrl}/callbacks/channels/{arn}?operation=channel-flow-callback`),
   * a `{proxy+}` resource authorized by IAM (SigV4 for `execute-api`), not by user tokens.
   */
  callbackPathPrefix: '/callbacks',
  /** The header that carries `Bearer <jwt>`; the authorizer's identity source. */
  identityHeader: 'Authorization',
  /** Seconds API Gateway caches an authorizer decision for one token. */
  authorizerCacheSeconds: 300,
  stageName: 'v1',
} as const;

/** The WebSocket API (API Gateway WebSocket): route key to function. */
export const WEBSOCKET_API = {
  stageName: 'v1',
  routeSelectionExpression: '$request.body.action',
  routes: {
    $connect: 'wsConnect',
    $disconnect: 'wsDisconnect',
    $default: 'wsDefault',
  } satisfies Record<string, FunctionName>,
  /** Routes whose function's return value is sent back to the client (two-way). */
  twoWayRoutes: ['$default'],
  /** The query parameter that may carry the JWT; the `Sec-WebSocket-Protocol` header is the other way. */
  tokenQueryParameter: 'token',
  /** API Gateway's hard limits, which the local runtime enforces too. */
  maxConnectionSeconds: 2 * 60 * 60,
  idleTimeoutSeconds: 10 * 60,
  maxFrameBytes: 128 * 1024,
} as const;

export type QueueName = 'streamFailures';

export interface QueueDefinition {
  readonly description: string;
  readonly retentionDays: number;
}

/** Queues: where stream batches that exhausted their retries are recorded for an operator. */
export const QUEUES: Readonly<Record<QueueName, QueueDefinition>> = {
  streamFailures: {
    description: 'On-failure destination of the stream event source mappings: batches that ran out of retries',
    retentionDays: 14,
  },
};

export interface StreamMappingDefinition {
  /** A stable id, used for construct ids and in the local runtime's logs. */
  readonly id: string;
  readonly table: TableName;
  readonly function: FunctionName;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Split a failing batch in two and retry each half, to isolate a bad record. */
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeSeconds: number;
  /** The function answers `{batchItemFailures}` so one bad record does not hold back the rest. */
  readonly reportBatchItemFailures: boolean;
  readonly onFailure: QueueName;
  /**
   * Event filtering: when given, only records whose new or old image has an `entity` attribute (a
   * string) equal to one of these reach the function; the others never invoke it, do not count
   * towards `batchSize`, and are checkpointed past, as Lambda does with filter criteria. Both
   * images are looked at so that inserts, updates and removals (TTL expiries included) of a
   * matching item all pass. Absent: every record reaches the function. In AWS this is the
   * mapping's FilterCriteria, two patterns that Lambda ORs:
   * `{"dynamodb":{"NewImage":{"entity":{"S":[…]}}}}` and the same on `OldImage`. The values are
   * the entity tags the repositories write (`ENTITY` in `lambdas/adapters/dynamodb/keys.ts`,
   * `CONNECTION_ENTITY`); items without the attribute (e.g. the per-user `USER#…` items) never pass.
   */
  readonly entities?: readonly string[];
}

const STREAM_DEFAULTS = {
  batchSize: 100,
  maximumBatchingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 5,
  maximumRecordAgeSeconds: 60 * 60,
  reportBatchItemFailures: true,
  onFailure: 'streamFailures',
} as const;

/**
 * DynamoDB stream → Lambda event source mappings. Each reaches its function only with the entities
 * the function acts on: the fan-out turns messages and memberships into events (not channels,
 * flows, or idempotency tokens), and the session opener handles connections (not the per-user
 * `USER#…` items it writes itself).
 */
export const STREAM_MAPPINGS: readonly StreamMappingDefinition[] = [
  { id: 'MessageEvents', table: 'messages', function: 'fanout', ...STREAM_DEFAULTS, entities: ['MESSAGE'] },
  { id: 'MembershipEvents', table: 'channels', function: 'fanout', ...STREAM_DEFAULTS, entities: ['MEMBERSHIP'] },
  // A deleted channel's memberships and messages go after DeleteChannel answered, however many.
  { id: 'ChannelCleanup', table: 'channels', function: 'channelCleanup', ...STREAM_DEFAULTS, batchSize: 10, entities: ['CHANNEL'] },
  // A SESSION_ESTABLISHED that comes late is worth nothing: give up on such records after a minute.
  {
    id: 'SessionEvents',
    table: 'connections',
    function: 'sessionOpener',
    ...STREAM_DEFAULTS,
    batchSize: 25,
    maximumRecordAgeSeconds: 60,
    entities: ['CONNECTION'],
  },
];

/**
 * CloudWatch alarms for an operator, each over one period of `periodSeconds` (a single breaching
 * period alarms; no data is not breaching). The construct derives them from the definitions above
 * (`lib/constructs/alarms.ts`) and sends them to its `alarmAction` prop when one is given.
 */
export const ALARMS = {
  periodSeconds: 5 * 60,
  /**
   * Every queue of `QUEUES`: ApproximateNumberOfMessagesVisible (Maximum) above this. A message in
   * an on-failure queue is a stream batch that ran out of retries or age, i.e. events not delivered.
   */
  queueMessagesVisibleAbove: 0,
  /**
   * Every function a `STREAM_MAPPINGS` entry maps to (one alarm per function: IteratorAge has no
   * per-mapping dimension): IteratorAge (Maximum) above this many seconds. The consumer is
   * falling behind its stream; clients get their events late.
   */
  iteratorAgeSecondsAbove: 60,
  /**
   * These functions: Errors (Sum) above 0. They run with nobody waiting on the answer (stream
   * consumers, the processors' destination, the schedule), so an error would otherwise go unseen.
   */
  functionErrors: ['processorOutcome', 'pendingSweeper', 'fanout', 'sessionOpener', 'channelCleanup'] as readonly FunctionName[],
} as const;

/**
 * Channel flow processors: Lambda functions of other teams, invoked asynchronously. The invoking
 * role may invoke only functions whose names start with the prefix, in the deployment's account
 * and region; the construct gives each registered processor the async-invoke settings below, with
 * both destinations pointing at `outcomeFunction`.
 */
export const PROCESSORS = {
  defaultPrefix: 'channel-flow-',
  outcomeFunction: 'processorOutcome' as FunctionName,
  asyncInvoke: {
    maximumRetryAttempts: 2,
    /** Shorter than the default flow timeout, so that Lambda gives up (on-failure) before the sweep. */
    maximumEventAgeSeconds: 240,
  },
  /** How long a message may stay PENDING before the sweep ends it (a construct prop). */
  defaultFlowTimeoutSeconds: 300,
  /** Processors the project ships and deploys by default: flow processor name → function. */
  shipped: { moderation: 'moderationProcessor' } as Readonly<Record<string, FunctionName>>,
} as const;

export interface ScheduleDefinition {
  readonly id: string;
  readonly function: FunctionName;
  readonly rateSeconds: number;
}

/** Functions run on a schedule (EventBridge rules in AWS, timers locally). */
export const SCHEDULES: readonly ScheduleDefinition[] = [{ id: 'PendingSweep', function: 'pendingSweeper', rateSeconds: 60 }];

/** Names of the environment variables shared by functions, the construct and the local runtime. */
export const ENV = {
  /** Seconds a message may wait for its processor before the sweep ends it. */
  flowTimeoutSeconds: 'FLOW_TIMEOUT_SECONDS',
  /** Function names a flow may name as its processor start with this. */
  processorPrefix: 'PROCESSOR_FUNCTION_PREFIX',
  /**
   * Where processors call ChannelFlowCallback: `{restUrl}/callbacks`. Set on the shipped processor;
   * other teams' processors are given it by their own deployment (it is a stack output).
   */
  callbackUrl: 'CHANNEL_FLOW_CALLBACK_URL',
  /** Comma-separated deny list of the shipped moderation processor (default `spam`). */
  moderationDenyWords: 'MODERATION_DENY_WORDS',
  /** Base URL of the @connections management API, including the stage (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
  connectionsEndpoint: 'CONNECTIONS_ENDPOINT',
  /** The wss:// URL clients connect to; GetMessagingSessionEndpoint answers with it. */
  websocketUrl: 'WEBSOCKET_URL',
  appInstanceArn: 'APP_INSTANCE_ARN',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwksUri: 'JWT_JWKS_URI',
  userIdClaim: 'JWT_USER_ID_CLAIM',
  nameClaim: 'JWT_NAME_CLAIM',
  adminClaim: 'JWT_ADMIN_CLAIM',
  adminClaimValue: 'JWT_ADMIN_CLAIM_VALUE',
} as const;
