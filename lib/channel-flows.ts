import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack, Token, TokenComparison } from 'aws-cdk-lib';
import {
  AuthorizationType,
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
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Architecture, CfnFunction, Runtime, StartingPosition, Tracing, type IDestination, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { LambdaDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ENV,
  FUNCTIONS,
  PROCESSORS,
  QUEUES,
  REST_API,
  SCHEDULES,
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

/** What a processor prefix may be: the start of a Lambda function name, short enough to leave room for a name after it. */
const PROCESSOR_PREFIX_PATTERN = /^[a-zA-Z0-9\-_]{1,40}$/;

/** Lambda function names: 1-64 characters of [a-zA-Z0-9-_]. */
const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9\-_]{1,64}$/;

/** Lambda's lower bound on an asynchronous invocation's maximum event age. */
const LAMBDA_MIN_EVENT_AGE_SECONDS = 60;

/**
 * How much sooner than the flow timeout Lambda gives up on a processor event. Lambda retries an
 * asynchronous event one and then two minutes after a failure and notices that an event is too old
 * only when it picks it up again; with a minute to spare, the on-failure destination (which records
 * why the processor failed) usually ends the change before the sweep does. Either way the status
 * write is conditional, so whichever comes second changes nothing.
 */
const PROCESSOR_EVENT_AGE_MARGIN_SECONDS = 60;

/** The shortest flow timeout: Lambda's minimum event age plus the margin. */
const MIN_FLOW_TIMEOUT_SECONDS = LAMBDA_MIN_EVENT_AGE_SECONDS + PROCESSOR_EVENT_AGE_MARGIN_SECONDS;

/** Deny words of the shipped moderation processor when `moderationDenyWords` is not given. */
const DEFAULT_MODERATION_DENY_WORDS: readonly string[] = ['spam'];

/** Retries of an EventBridge schedule's invoke of its function (the next run comes anyway). */
const SCHEDULE_RETRY_ATTEMPTS = 2;

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
  // Processors sign callback requests (IAM); a bad or expired signature is a refusal, not a bad request.
  { type: ResponseType.INVALID_SIGNATURE, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
  { type: ResponseType.EXPIRED_TOKEN, statusCode: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
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

  /**
   * Channel flow processors must be Lambda functions of this account and region whose names start
   * with this prefix: the functions that hand messages to processors may invoke only
   * `arn:{partition}:lambda:{region}:{account}:function:{processorPrefix}*`, CreateChannelFlow
   * refuses other processor ARNs, and {@link ChannelFlows.addProcessor} refuses other functions.
   * The shipped moderation processor is named `{processorPrefix}moderation`. Give each deployment in
   * one account and region its own prefix. 1-40 characters of `[a-zA-Z0-9-_]`.
   *
   * @default 'channel-flow-'
   */
  readonly processorPrefix?: string;

  /**
   * How long a new message or an edit may wait for its processor's answer; the pending sweep then
   * ends it (FAILED, or SENT unprocessed when the flow's FallbackAction is CONTINUE). A whole number
   * of seconds, at least 2 minutes. Each processor's maximum event age is the smaller of 240 seconds
   * (`PROCESSORS.asyncInvoke.maximumEventAgeSeconds`) and this timeout minus one minute, so that
   * Lambda gives up (on-failure destination, FAILED with the reason) before the sweep runs.
   *
   * @default Duration.seconds(300)
   */
  readonly flowTimeout?: Duration;

  /**
   * The deny list of the shipped moderation processor: a message containing one of these words
   * (whole word, any case) is DENIED. Words must not be empty or contain a comma. An empty list
   * denies nothing (the processor then only replaces e-mail addresses). Only with
   * `deployModerationProcessor`.
   *
   * @default ['spam']
   */
  readonly moderationDenyWords?: string[];

  /**
   * Whether to deploy and register the shipped moderation processor, `{processorPrefix}moderation`.
   *
   * @default true
   */
  readonly deployModerationProcessor?: boolean;
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

  /**
   * The functions, by their name in `FUNCTIONS`: all of them, except the shipped moderation
   * processor when `deployModerationProcessor` is false. See {@link ChannelFlows.getFunction}.
   */
  public readonly functions: Readonly<Partial<Record<FunctionName, IFunction>>>;

  /** Function names of channel flow processors start with this. */
  public readonly processorPrefix: string;

  /** How long a change may wait for its processor before the pending sweep ends it. */
  public readonly flowTimeout: Duration;

  /**
   * The maximum event age of every registered processor's asynchronous invocations: the smaller of
   * `PROCESSORS.asyncInvoke.maximumEventAgeSeconds` and the flow timeout minus one minute.
   */
  public readonly processorMaxEventAge: Duration;

  /** The EventBridge rules that run the functions of `SCHEDULES`, by their `id`. */
  public readonly schedules: Record<string, Rule>;

  /**
   * `{restUrl}callbacks`: the base URL of the ChannelFlowCallback route for processors
   * (`{callbackUrl}/channels/{channelArn}?operation=channel-flow-callback`), authorized by IAM
   * (SigV4 for `execute-api`), not by user tokens. The shipped processors get it as `ENV.callbackUrl`.
   */
  public readonly callbackUrl: string;

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

  private readonly registeredProcessors: IFunction[] = [];

  constructor(scope: Construct, id: string, props: ChannelFlowsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    this.appInstanceId = props.appInstanceId ?? 'default';
    validateAppInstanceId(this.appInstanceId);
    if (props.identity) validateIdentity(props.identity);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.processorPrefix = props.processorPrefix ?? PROCESSORS.defaultPrefix;
    validateProcessorPrefix(this.processorPrefix);
    this.flowTimeout = props.flowTimeout ?? Duration.seconds(PROCESSORS.defaultFlowTimeoutSeconds);
    const flowTimeoutSeconds = validateFlowTimeout(this.flowTimeout);
    this.processorMaxEventAge = Duration.seconds(
      Math.min(PROCESSORS.asyncInvoke.maximumEventAgeSeconds, flowTimeoutSeconds - PROCESSOR_EVENT_AGE_MARGIN_SECONDS),
    );
    const deployModeration = props.deployModerationProcessor ?? true;
    if (props.moderationDenyWords !== undefined && !deployModeration) {
      throw new Error('moderationDenyWords is set but deployModerationProcessor is false: the deny list would configure nothing');
    }
    const denyWords = props.moderationDenyWords ?? DEFAULT_MODERATION_DENY_WORDS;
    validateDenyWords(denyWords);
    const moderationFunction = shippedFunction('moderation');

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
    const functions: Partial<Record<FunctionName, NodejsFunction>> = {};
    const processorArns = [
      // `function:{prefix}*` and, for qualified ARNs (version or alias), `function:{prefix}*:*`.
      stack.formatArn({ service: 'lambda', resource: 'function', resourceName: `${this.processorPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      stack.formatArn({ service: 'lambda', resource: 'function', resourceName: `${this.processorPrefix}*:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    ];
    for (const [name, def] of entries(FUNCTIONS)) {
      if (name === moderationFunction && !deployModeration) continue;
      const functionName = def.functionName === undefined ? undefined : def.functionName.replaceAll('{prefix}', this.processorPrefix);
      if (functionName !== undefined && !Token.isUnresolved(functionName) && !FUNCTION_NAME_PATTERN.test(functionName)) {
        throw new Error(`Invalid function name "${functionName}" of ${name} (FUNCTIONS.${name}.functionName with the processor prefix): use 1-64 characters of [a-zA-Z0-9-_]`);
      }
      const fn = new NodejsFunction(this, `${pascal(name)}Function`, {
        ...(functionName !== undefined ? { functionName } : {}),
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
          ...(def.processesFlows
            ? { [ENV.flowTimeoutSeconds]: String(flowTimeoutSeconds), [ENV.processorPrefix]: this.processorPrefix }
            : {}),
          ...(name === moderationFunction ? { [ENV.moderationDenyWords]: denyWords.join(',') } : {}),
        },
      });
      for (const t of def.writes) tables[t].grantReadWriteData(fn);
      for (const t of def.reads) if (!def.writes.includes(t)) tables[t].grantReadData(fn);
      // execute-api:ManageConnections on this stage's @connections/* only.
      if (def.managesConnections) this.webSocketStage.grantManagementApiAccess(fn);
      // Asynchronous invoke of processors: this account and region, names with the prefix, nothing else.
      if (def.invokesProcessors) fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: processorArns }));
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
          integration: new WebSocketLambdaIntegration(`${pascal(routeKey)}Integration`, this.getFunction(fnName)),
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
      this.getFunction(m.function).addEventSource(source);
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
      handler: this.getFunction(REST_API.authorizer),
      identitySources: [IdentitySource.header(REST_API.identityHeader)],
      resultsCacheTtl: Duration.seconds(REST_API.authorizerCacheSeconds),
    });
    const integration = new LambdaIntegration(this.getFunction(REST_API.function), { proxy: true });
    this.restApi.root.addMethod('ANY', integration, { authorizer });
    this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration, { authorizer });
    // The ChannelFlowCallback route of processors: the same function, but signed requests (SigV4 for
    // `execute-api`) authorized by IAM instead of user tokens. A static resource outranks the root's
    // {proxy+}, so these paths never reach the token authorizer.
    let callbacks = this.restApi.root;
    for (const part of callbackPathParts()) callbacks = callbacks.addResource(part);
    callbacks.addResource('{proxy+}').addMethod('ANY', integration, { authorizationType: AuthorizationType.IAM });

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
    this.callbackUrl = this.restApi.urlForPath(REST_API.callbackPathPrefix);

    // Scheduled functions (the pending sweep).
    const schedules: Record<string, Rule> = {};
    for (const s of SCHEDULES) {
      if (schedules[s.id]) throw new Error(`Duplicate schedule id "${s.id}"`);
      if (!Number.isInteger(s.rateSeconds) || s.rateSeconds <= 0 || s.rateSeconds % 60 !== 0) {
        throw new Error(`Schedule ${s.id}: rateSeconds ${s.rateSeconds} is not a whole number of minutes, which EventBridge rates need`);
      }
      schedules[s.id] = new Rule(this, `${pascal(s.id)}Schedule`, {
        description: `Runs ${s.function} every ${s.rateSeconds} seconds`,
        schedule: Schedule.rate(Duration.seconds(s.rateSeconds)),
        targets: [new LambdaFunction(this.getFunction(s.function), { retryAttempts: SCHEDULE_RETRY_ATTEMPTS })],
      });
    }
    this.schedules = schedules;

    // The shipped processors are registered like anyone else's, and told where the callback route is
    // (other teams' processors learn it from the CallbackUrl output).
    for (const name of Object.values(PROCESSORS.shipped)) {
      const fn = functions[name];
      if (!fn) continue;
      fn.addEnvironment(ENV.callbackUrl, this.callbackUrl);
      this.addProcessor(fn);
    }
  }

  /** The processors registered so far (the shipped ones and those given to {@link addProcessor}). */
  public get processors(): IFunction[] {
    return [...this.registeredProcessors];
  }

  /**
   * A deployed function, by its name in `FUNCTIONS`; throws when it is not deployed (the shipped
   * moderation processor with `deployModerationProcessor: false`).
   */
  public getFunction(name: FunctionName): IFunction {
    const fn = this.functions[name];
    if (!fn) throw new Error(`Function ${name} is not deployed`);
    return fn;
  }

  /**
   * Registers a channel flow processor: a Lambda function (of another team) that channel flows may
   * name. Its asynchronous invocations get `PROCESSORS.asyncInvoke.maximumRetryAttempts` retries and
   * {@link processorMaxEventAge}, with the outcome function (`PROCESSORS.outcomeFunction`) as both
   * the on-success and the on-failure destination (it receives the whole destination record).
   *
   * Grants, when the function has an execution role CDK knows: that role may invoke the outcome
   * function (which is how Lambda delivers to a destination) and call the ChannelFlowCallback route
   * ({@link grantCallback}). For a function imported without a role, grant its role
   * `getFunction(PROCESSORS.outcomeFunction).grantInvoke(role)` and `grantCallback(role)` yourself.
   *
   * The function must be in this stack's account and region and, when its name is known at synth
   * time, named with {@link processorPrefix}: otherwise this throws, as it does for a function whose
   * name CloudFormation would generate. A function can be registered once (Lambda allows one
   * asynchronous invoke configuration per function and qualifier).
   */
  public addProcessor(fn: IFunction): void {
    const known = knownFunctionName(fn);
    if (known === GENERATED_NAME) {
      throw new Error(
        `Processor ${fn.node.path} has no functionName, so CloudFormation would generate one that does not start with the processor prefix "${this.processorPrefix}": give it functionName: '${this.processorPrefix}…'`,
      );
    }
    const name = known;
    const where = name ?? fn.node.path;
    if (name !== undefined && !Token.isUnresolved(this.processorPrefix) && !name.startsWith(this.processorPrefix)) {
      throw new Error(`Processor function "${name}" does not start with the processor prefix "${this.processorPrefix}", so channel flows could not invoke it`);
    }
    const stack = Stack.of(this);
    for (const [what, theirs, ours] of [['account', fn.env.account, stack.account], ['region', fn.env.region, stack.region]] as const) {
      if (Token.compareStrings(theirs, ours) === TokenComparison.DIFFERENT) {
        throw new Error(`Processor ${where} is in ${what} ${theirs}, not in this deployment's ${what} ${ours}`);
      }
    }
    if (this.registeredProcessors.includes(fn)) throw new Error(`Processor ${where} is already registered`);

    const outcome = this.getFunction(PROCESSORS.outcomeFunction);
    // LambdaDestination grants the processor's role lambda:InvokeFunction on the outcome function; it
    // cannot for a role CDK does not know, so such a processor gets the same destination without it.
    const destination: IDestination = fn.role
      ? new LambdaDestination(outcome, { responseOnly: false })
      : { bind: () => ({ destination: outcome.functionArn }) };
    fn.configureAsyncInvoke({
      retryAttempts: PROCESSORS.asyncInvoke.maximumRetryAttempts,
      maxEventAge: this.processorMaxEventAge,
      onSuccess: destination,
      onFailure: destination,
    });
    if (fn.role) {
      // Lambda checks the role's permission on the destination when the configuration is created.
      const config = fn.node.tryFindChild('EventInvokeConfig');
      if (config) outcome.grantInvoke(fn).applyBefore(config);
      this.grantCallback(fn);
    } else {
      Annotations.of(this).addWarningV2(
        'channel-flows:processorWithoutRole',
        `Processor ${where} was imported without its role: grant that role lambda:InvokeFunction on the outcome function and execute-api:Invoke on the callback route (grantCallback)`,
      );
    }
    this.registeredProcessors.push(fn);
  }

  /**
   * Grants `execute-api:Invoke` on the ChannelFlowCallback route (`{callbackPathPrefix}/*` of the
   * REST API's stage, any method) and nothing else of the API.
   */
  public grantCallback(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.restApi.arnForExecuteApi('*', `${REST_API.callbackPathPrefix}/*`, REST_API.stageName)],
    });
  }
}

/** {@link knownFunctionName}'s answer for a function of this app without a fixed name. */
const GENERATED_NAME = Symbol('generated function name');

/** The function's name when synth knows it, {@link GENERATED_NAME} when CloudFormation will make one up. */
function knownFunctionName(fn: IFunction): string | typeof GENERATED_NAME | undefined {
  if (!Token.isUnresolved(fn.functionName)) return fn.functionName;
  const cfn = fn.node.defaultChild;
  if (cfn instanceof CfnFunction) {
    // A function of this app: its FunctionName property, which is absent when none was given.
    const resolved: unknown = Stack.of(cfn).resolve(cfn.functionName);
    if (resolved === undefined) return GENERATED_NAME;
    return typeof resolved === 'string' ? resolved : undefined;
  }
  // Imported by name or ARN: the literal tail of the ARN, `…:function:{name}` or `…:function:{name}:{qualifier}`.
  return /:function:([a-zA-Z0-9\-_]+)(?::[a-zA-Z0-9$\-_]+)?$/.exec(fn.functionArn)?.[1];
}

/** The function of a shipped processor, by its flow processor name in `PROCESSORS.shipped`. */
function shippedFunction(processor: string): FunctionName {
  const name = PROCESSORS.shipped[processor];
  if (name === undefined || !(name in FUNCTIONS)) throw new Error(`PROCESSORS.shipped.${processor} names no function of FUNCTIONS`);
  return name;
}

/** `/callbacks` → `['callbacks']`. */
function callbackPathParts(): string[] {
  const prefix: string = REST_API.callbackPathPrefix;
  const parts = prefix.split('/').slice(1);
  if (!prefix.startsWith('/') || parts.length === 0 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new Error(`REST_API.callbackPathPrefix "${prefix}" must be a path of plain segments, starting with "/"`);
  }
  return parts;
}

function validateProcessorPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (!PROCESSOR_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`Invalid processorPrefix "${prefix}": use 1-40 characters of [a-zA-Z0-9-_] (the start of a Lambda function name)`);
  }
}

/** The flow timeout in whole seconds, or an error quoting the value. */
function validateFlowTimeout(timeout: Duration): number {
  if (timeout.isUnresolved()) throw new Error('flowTimeout must be known at synth time, not a token');
  const seconds = timeout.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < MIN_FLOW_TIMEOUT_SECONDS) {
    throw new Error(
      `Invalid flowTimeout ${timeout.toHumanString()} (${seconds} s): use a whole number of seconds, at least ${MIN_FLOW_TIMEOUT_SECONDS} s (Lambda's minimum event age of ${LAMBDA_MIN_EVENT_AGE_SECONDS} s plus ${PROCESSOR_EVENT_AGE_MARGIN_SECONDS} s, so that a processor's events expire before the flow times out)`,
    );
  }
  return seconds;
}

function validateDenyWords(words: readonly string[]): void {
  for (const word of words) {
    if (Token.isUnresolved(word)) continue;
    if (word.trim() === '' || word.includes(',')) {
      throw new Error(`Invalid moderation deny word ${JSON.stringify(word)}: words must not be empty or contain a comma (the list travels comma-separated)`);
    }
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
