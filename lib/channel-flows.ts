import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import {
  Cors,
  IdentitySource,
  LambdaIntegration,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { WebSocketApi, WebSocketStage, type ThrottleSettings, type WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { UserPool, UserPoolClient, type IUserPool, type IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime, StartingPosition, Tracing, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ENV,
  FUNCTIONS,
  QUEUES,
  REST_API,
  STREAM_MAPPINGS,
  TABLES,
  WEBSOCKET_API,
  type FunctionDefinition,
  type FunctionName,
  type QueueName,
  type TableName,
} from './system';

/** Same rule as a Chime resource id: 1-64 characters of [A-Za-z0-9:-_.@], alphanumeric at both ends. */
const APP_INSTANCE_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9:\-_.@]{0,62}[A-Za-z0-9])?$/;

/** Name of the Cognito group whose members are app-instance admins when the construct creates the pool. */
const DEFAULT_ADMIN_GROUP = 'AppInstanceAdmins';

/**
 * Headers a browser client may send on a cross-origin request: the bearer token, the Chime bearer
 * ARN and everything the AWS SDK for JavaScript v3 adds to each request.
 */
const CORS_ALLOW_HEADERS = [
  ...Cors.DEFAULT_HEADERS, // Content-Type, X-Amz-Date, Authorization, X-Api-Key, X-Amz-Security-Token, X-Amz-User-Agent
  'X-Amz-Content-Sha256',
  'x-amz-chime-bearer',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
];

/**
 * Default throttling of every route of the WebSocket stage (stage-wide, shared by all clients):
 * well under the account's default of 10,000 requests/s, so that one runaway client cannot use up
 * the account's API Gateway quota, and well above what keep-alive pings of many thousands of
 * connections need (one ping per connection every few minutes).
 */
const DEFAULT_WEBSOCKET_THROTTLE: Required<ThrottleSettings> = { rateLimit: 1000, burstLimit: 2000 };

/** Response headers a browser SDK must be able to read to map an error to its typed exception. */
const CORS_EXPOSE_HEADERS = ['x-amzn-ErrorType', 'x-amzn-RequestId'];

/**
 * API Gateway's own error responses, reshaped into the Chime error shape (`{"Code","Message"}` plus
 * the `x-amzn-ErrorType` header) so that `@aws-sdk/client-chime-sdk-messaging` raises the typed
 * exception. A missing status code keeps the one API Gateway chose.
 */
const GATEWAY_RESPONSES: ReadonlyArray<{
  readonly type: ResponseType;
  readonly statusCode?: string;
  readonly errorType: string;
  readonly code: string;
}> = [
  { type: ResponseType.UNAUTHORIZED, statusCode: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
  { type: ResponseType.ACCESS_DENIED, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
  { type: ResponseType.THROTTLED, statusCode: '429', errorType: 'ThrottledClientException', code: 'Throttled' },
  { type: ResponseType.DEFAULT_4XX, errorType: 'BadRequestException', code: 'BadRequest' },
  { type: ResponseType.DEFAULT_5XX, errorType: 'ServiceFailureException', code: 'ServiceFailure' },
];

/**
 * Where REST callers' JWTs come from and how their claims are read.
 */
export interface ChannelFlowsIdentityProps {
  /**
   * The token issuer (`iss` claim), e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc`
   * or `https://example.auth0.com/`. Must be an https URL.
   */
  readonly issuer: string;

  /**
   * Where the issuer publishes its signing keys.
   *
   * @default `${issuer}/.well-known/jwks.json` (without a doubled slash when the issuer ends in `/`)
   */
  readonly jwksUri?: string;

  /**
   * The expected `aud` (or, for Cognito access tokens, `client_id`) of the tokens.
   *
   * @default - no audience check: any token of the issuer is accepted
   */
  readonly audience?: string;

  /**
   * The claim that holds the AppInstanceUser id.
   *
   * @default 'sub'
   */
  readonly userIdClaim?: string;

  /**
   * The claim that holds the user's display name.
   *
   * @default 'name'
   */
  readonly nameClaim?: string;

  /**
   * The claim (a string or a list of strings) that marks app-instance admins.
   *
   * @default 'cognito:groups'
   */
  readonly adminClaim?: string;

  /**
   * The value of `adminClaim` (or one of its values, for a list) that makes a user an app-instance admin.
   *
   * @default 'AppInstanceAdmins'
   */
  readonly adminClaimValue?: string;
}

/**
 * Properties of {@link ChannelFlows}.
 */
export interface ChannelFlowsProps {
  /**
   * The app instance id: one deployment is one app instance, and every ARN the API hands out lives
   * under `arn:{partition}:chime:{region}:{account}:app-instance/{appInstanceId}`.
   * 1-64 characters of `[A-Za-z0-9:-_.@]`, starting and ending with a letter or digit.
   *
   * @default 'default'
   */
  readonly appInstanceId?: string;

  /**
   * The OIDC issuer whose JWTs authenticate REST callers.
   *
   * @default - a Cognito user pool (self sign-up off, e-mail sign-in), an app client (no secret,
   * SRP and password auth) and an 'AppInstanceAdmins' group are created; ID tokens of that client are
   * accepted and the group marks app-instance admins
   */
  readonly identity?: ChannelFlowsIdentityProps;

  /**
   * What happens to the data when it leaves the stack: applied to the tables and to the user pool
   * that is created when `identity` is not given.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Default throttling of the WebSocket stage's routes ($connect, $disconnect, $default), shared
   * by all clients.
   *
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly webSocketThrottle?: ThrottleSettings;
}

/** Identity settings with every default filled in. */
interface ResolvedIdentity {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience?: string;
  readonly userIdClaim: string;
  readonly nameClaim: string;
  readonly adminClaim: string;
  readonly adminClaimValue: string;
}

/**
 * Amazon Chime SDK Messaging channel flows, self-hosted: the tables, the Lambda functions, the
 * Chime-compatible REST API, the WebSocket API that carries channel events, and the stream fan-out
 * (event source mappings and their on-failure queues), all built from the plain-data system
 * definition in `lib/system.ts`.
 */
export class ChannelFlows extends Construct {
  /** The app instance id of this deployment. */
  public readonly appInstanceId: string;

  /** `arn:{partition}:chime:{region}:{account}:app-instance/{appInstanceId}`. */
  public readonly appInstanceArn: string;

  /** The tables, by their name in `TABLES`. */
  public readonly tables: Record<TableName, ITable>;

  /** The functions, by their name in `FUNCTIONS`. */
  public readonly functions: Record<FunctionName, IFunction>;

  /** The Chime-compatible REST API. */
  public readonly restApi: RestApi;

  /** The URL of the REST API's stage: the `endpoint` to give the Chime SDK Messaging client. */
  public readonly restUrl: string;

  /** The WebSocket API that carries the Chime event frames to clients. */
  public readonly webSocketApi: WebSocketApi;

  /** The WebSocket API's stage (auto-deployed). */
  public readonly webSocketStage: WebSocketStage;

  /** `wss://{api}.execute-api.{region}.{urlSuffix}/{stage}`: the URL clients connect to. */
  public readonly webSocketUrl: string;

  /** `https://{api}.execute-api.{region}.{urlSuffix}/{stage}`: the base URL of the @connections API. */
  public readonly connectionsEndpoint: string;

  /** The queues, by their name in `QUEUES`. */
  public readonly queues: Record<QueueName, IQueue>;

  /** The stream event sources, by their `id` in `STREAM_MAPPINGS`. */
  public readonly streamMappings: Record<string, DynamoEventSource>;

  /** The issuer whose tokens are accepted. */
  public readonly issuer: string;

  /** The user pool, when the construct created one (no `identity` given). */
  public readonly userPool?: IUserPool;

  /** The user pool's app client, when the construct created the pool. */
  public readonly userPoolClient?: IUserPoolClient;

  constructor(scope: Construct, id: string, props: ChannelFlowsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    this.appInstanceId = props.appInstanceId ?? 'default';
    validateAppInstanceId(this.appInstanceId);
    if (props.identity) validateIdentity(props.identity);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.appInstanceArn = `arn:${stack.partition}:chime:${stack.region}:${stack.account}:app-instance/${this.appInstanceId}`;

    // Identity: the given issuer, or a user pool of our own.
    let identity: ResolvedIdentity;
    if (props.identity) {
      identity = resolveIdentity(props.identity);
    } else {
      const userPool = new UserPool(this, 'UserPool', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        autoVerify: { email: true },
        removalPolicy,
      });
      const userPoolClient = userPool.addClient('Client', {
        generateSecret: false,
        authFlows: { userSrp: true, userPassword: true },
      });
      userPool.addGroup('AdminGroup', {
        groupName: DEFAULT_ADMIN_GROUP,
        description: 'App-instance admins of channel flows',
      });
      this.userPool = userPool;
      this.userPoolClient = userPoolClient;
      identity = resolveIdentity({
        issuer: `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${userPool.userPoolId}`,
        audience: userPoolClient.userPoolClientId,
        adminClaim: 'cognito:groups',
        adminClaimValue: DEFAULT_ADMIN_GROUP,
      });
    }
    this.issuer = identity.issuer;

    // Tables
    const tables = {} as Record<TableName, Table>;
    for (const [name, def] of entries(TABLES)) {
      const table = new Table(this, `${pascal(name)}Table`, {
        partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
        sortKey: { name: def.sortKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: def.timeToLiveAttribute,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
        ...(def.stream ? { stream: StreamViewType[def.stream] } : {}),
      });
      for (const index of def.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
          projectionType: ProjectionType.ALL,
        });
      }
      tables[name] = table;
    }
    this.tables = tables;

    // WebSocket API and its stage. The routes come after the functions, which need the stage's URLs.
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      description: 'Chime SDK Messaging compatible WebSocket: channel events of the app instance',
      routeSelectionExpression: WEBSOCKET_API.routeSelectionExpression,
    });
    const throttle = { ...DEFAULT_WEBSOCKET_THROTTLE, ...props.webSocketThrottle };
    this.webSocketStage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: WEBSOCKET_API.stageName,
      autoDeploy: true,
      throttle,
    });
    this.webSocketUrl = this.webSocketStage.url;
    // Equals `https://${apiId}.execute-api.${region}.${urlSuffix}/${stageName}`.
    this.connectionsEndpoint = this.webSocketStage.callbackUrl;

    // Functions
    const root = projectRoot();
    const functions = {} as Record<FunctionName, NodejsFunction>;
    for (const [name, def] of entries(FUNCTIONS)) {
      const fn = new NodejsFunction(this, `${pascal(name)}Function`, {
        description: def.description,
        entry: path.join(root, def.entry),
        handler: def.handler,
        projectRoot: root,
        depsLockFilePath: path.join(root, 'package-lock.json'),
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: def.memorySize,
        timeout: Duration.seconds(def.timeoutSeconds),
        tracing: Tracing.ACTIVE,
        logGroup: new LogGroup(this, `${pascal(name)}Logs`, { retention: RetentionDays.ONE_MONTH }),
        bundling: {
          // CJS: the bundle then needs no createRequire banner for CommonJS dependencies.
          format: OutputFormat.CJS,
          minify: true,
          sourceMap: true,
          sourcesContent: false,
          target: 'node22',
          // Ship the SDK versions the project is tested with instead of the runtime's.
          bundleAwsSDK: true,
        },
        environment: {
          NODE_OPTIONS: '--enable-source-maps',
          [ENV.appInstanceArn]: this.appInstanceArn,
          ...tableEnvironment(def, tables),
          ...(def.verifiesTokens ? identityEnvironment(identity) : {}),
          ...(def.managesConnections ? { [ENV.connectionsEndpoint]: this.connectionsEndpoint } : {}),
          ...(def.knowsWebSocketUrl ? { [ENV.websocketUrl]: this.webSocketUrl } : {}),
        },
      });
      for (const t of def.writes) tables[t].grantReadWriteData(fn);
      for (const t of def.reads) if (!def.writes.includes(t)) tables[t].grantReadData(fn);
      // execute-api:ManageConnections on this stage's @connections/* only.
      if (def.managesConnections) this.webSocketStage.grantManagementApiAccess(fn);
      functions[name] = fn;
    }
    this.functions = functions;

    // WebSocket routes. No API Gateway authorizer on $connect: the $connect function verifies the
    // token itself, because it may come either in the `token` query parameter or in the
    // Sec-WebSocket-Protocol header, and an authorizer's identity source cannot say "either"
    // (API Gateway rejects the request before the authorizer runs when any listed source is missing).
    const twoWay: readonly string[] = WEBSOCKET_API.twoWayRoutes;
    const routes: WebSocketRoute[] = [];
    for (const [routeKey, fnName] of Object.entries(WEBSOCKET_API.routes) as Array<[string, FunctionName]>) {
      routes.push(
        this.webSocketApi.addRoute(routeKey, {
          // Not 'Default': that id clashes with the $default route's own construct.
          integration: new WebSocketLambdaIntegration(`${pascal(routeKey)}Integration`, functions[fnName]),
          returnResponse: twoWay.includes(routeKey),
        }),
      );
    }
    // The stage's first automatic deployment then already holds every route.
    this.webSocketStage.node.addDependency(...routes);

    // Queues
    const queues = {} as Record<QueueName, Queue>;
    for (const [name, def] of entries(QUEUES)) {
      queues[name] = new Queue(this, `${pascal(name)}Queue`, {
        retentionPeriod: Duration.days(def.retentionDays),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    }
    this.queues = queues;

    // DynamoDB stream → Lambda mappings. DynamoEventSource grants the stream read to the mapped
    // function only, and SqsDlq lets that function's role send to the on-failure queue.
    const streamMappings: Record<string, DynamoEventSource> = {};
    for (const m of STREAM_MAPPINGS) {
      if (streamMappings[m.id]) throw new Error(`Duplicate stream mapping id "${m.id}"`);
      const source = new DynamoEventSource(tables[m.table], {
        startingPosition: StartingPosition[m.startingPosition],
        batchSize: m.batchSize,
        maxBatchingWindow: Duration.seconds(m.maximumBatchingWindowSeconds),
        bisectBatchOnError: m.bisectBatchOnFunctionError,
        retryAttempts: m.maximumRetryAttempts,
        maxRecordAge: Duration.seconds(m.maximumRecordAgeSeconds),
        reportBatchItemFailures: m.reportBatchItemFailures,
        onFailure: new SqsDlq(queues[m.onFailure]),
      });
      functions[m.function].addEventSource(source);
      streamMappings[m.id] = source;
    }
    this.streamMappings = streamMappings;

    // REST API: one greedy proxy resource (ARNs hold slashes once API Gateway decodes the path).
    this.restApi = new RestApi(this, 'RestApi', {
      description: 'Chime SDK Messaging compatible REST API (channel flows)',
      deployOptions: { stageName: REST_API.stageName, tracingEnabled: true },
      // The account-wide CloudWatch role is an account setting, not this app's to own.
      cloudWatchRole: false,
      defaultCorsPreflightOptions: {
        allowOrigins: Cors.ALL_ORIGINS,
        allowMethods: Cors.ALL_METHODS,
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: Duration.hours(1),
      },
    });
    const authorizer = new RequestAuthorizer(this, 'Authorizer', {
      handler: functions[REST_API.authorizer],
      identitySources: [IdentitySource.header(REST_API.identityHeader)],
      resultsCacheTtl: Duration.seconds(REST_API.authorizerCacheSeconds),
    });
    const integration = new LambdaIntegration(functions[REST_API.function], { proxy: true });
    this.restApi.root.addMethod('ANY', integration, { authorizer });
    this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration, { authorizer });

    for (const r of GATEWAY_RESPONSES) {
      this.restApi.addGatewayResponse(`${pascal(r.type.responseType.toLowerCase())}Response`, {
        type: r.type,
        ...(r.statusCode ? { statusCode: r.statusCode } : {}),
        responseHeaders: {
          'x-amzn-ErrorType': `'${r.errorType}'`,
          'Access-Control-Allow-Origin': "'*'",
          'Access-Control-Expose-Headers': `'${CORS_EXPOSE_HEADERS.join(',')}'`,
        },
        templates: {
          'application/json': `{"Code":"${r.code}","Message":$context.error.messageString}`,
        },
      });
    }
    // RestApi adds an `Endpoint` output of its own; outputs belong to the stack that uses the construct.
    this.restApi.node.tryRemoveChild('Endpoint');
    this.restUrl = this.restApi.url;
  }
}

function validateAppInstanceId(appInstanceId: string): void {
  if (Token.isUnresolved(appInstanceId)) return;
  if (!APP_INSTANCE_ID_PATTERN.test(appInstanceId)) {
    throw new Error(
      `Invalid appInstanceId "${appInstanceId}": use 1-64 characters of [A-Za-z0-9:-_.@], starting and ending with a letter or digit`,
    );
  }
}

function validateIdentity(identity: ChannelFlowsIdentityProps): void {
  for (const [field, value] of [['issuer', identity.issuer], ['jwksUri', identity.jwksUri]] as const) {
    if (value === undefined || Token.isUnresolved(value)) continue;
    if (!/^https:\/\/[^/\s]+/.test(value)) {
      throw new Error(`Invalid identity.${field} "${value}": it must be an https URL`);
    }
  }
}

function resolveIdentity(identity: ChannelFlowsIdentityProps): ResolvedIdentity {
  const issuer = identity.issuer;
  const jwksBase = Token.isUnresolved(issuer) ? issuer : issuer.replace(/\/+$/, '');
  return {
    issuer,
    jwksUri: identity.jwksUri ?? `${jwksBase}/.well-known/jwks.json`,
    ...(identity.audience !== undefined ? { audience: identity.audience } : {}),
    userIdClaim: identity.userIdClaim ?? 'sub',
    nameClaim: identity.nameClaim ?? 'name',
    adminClaim: identity.adminClaim ?? 'cognito:groups',
    adminClaimValue: identity.adminClaimValue ?? DEFAULT_ADMIN_GROUP,
  };
}

function identityEnvironment(identity: ResolvedIdentity): Record<string, string> {
  return {
    [ENV.jwtIssuer]: identity.issuer,
    [ENV.jwksUri]: identity.jwksUri,
    ...(identity.audience !== undefined ? { [ENV.jwtAudience]: identity.audience } : {}),
    [ENV.userIdClaim]: identity.userIdClaim,
    [ENV.nameClaim]: identity.nameClaim,
    [ENV.adminClaim]: identity.adminClaim,
    [ENV.adminClaimValue]: identity.adminClaimValue,
  };
}

function tableEnvironment(def: FunctionDefinition, tables: Record<TableName, ITable>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const t of new Set([...def.reads, ...def.writes])) {
    env[TABLES[t].environmentVariable] = tables[t].tableName;
  }
  return env;
}

/** The folder that holds package.json, found upwards from this module (works from lib/ or a build output). */
function projectRoot(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${import.meta.dirname}`);
    dir = parent;
  }
}

function entries<K extends string, V>(record: Readonly<Record<K, V>>): Array<[K, V]> {
  return Object.entries(record) as Array<[K, V]>;
}

/** `rest-api` / `restApi` / `default_4xx` → `RestApi` / `Default4xx`. */
function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
