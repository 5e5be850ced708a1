/**
 * The public face of channel flows: the props, their early checks, and the order in which the
 * building blocks of `./constructs/` are put together. Every resource is created directly in this
 * construct's scope (the building blocks are functions taking `scope`, not nested constructs), so
 * that construct paths, and with them CloudFormation logical ids, do not depend on how the code is
 * split.
 *
 *   identity.ts                 Cognito user pool, or the given OIDC issuer's settings
 *   data-tables.ts              the DynamoDB tables of TABLES
 *   websocket-api.ts            WebSocket API, stage and routes
 *   functions.ts                the NodejsFunctions of FUNCTIONS: bundling, environment, grants
 *   stream-processing.ts        on-failure queues and DynamoDB stream event source mappings (with
 *                               their event filters)
 *   rest-api.ts                 REST API, authorizer, proxy and callback routes, gateway responses, CORS
 *   channel-flow-processing.ts  processor prefix and invoke permission, flow timeout, processor
 *                               async-invoke configuration and destinations, schedules
 *   alarms.ts                   CloudWatch alarms: on-failure queues, stream iterator age, errors
 */

import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { ThrottleSettings, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IAlarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createAlarms } from './constructs/alarms';
import {
  assertProcessorCandidate,
  configureProcessor,
  createSchedules,
  processorMaxEventAge,
  shippedFunction,
  validateFlowTimeout,
  validateProcessorPrefix,
} from './constructs/channel-flow-processing';
import { createDataTables } from './constructs/data-tables';
import { createFunctions, DEFAULT_MODERATION_DENY_WORDS, validateDenyWords, type FunctionLookup } from './constructs/functions';
import { createIdentity, validateIdentity } from './constructs/identity';
import { callbackUrl, createRestApi, grantCallbackRoute } from './constructs/rest-api';
import { createStreamProcessing } from './constructs/stream-processing';
import { addWebSocketRoutes, createWebSocketApi, webSocketThrottle } from './constructs/websocket-api';
import { ENV, PROCESSORS, REST_API, type FunctionName, type QueueName, type TableName } from './system';

/** Same rule as a Chime resource id: 1-64 characters of [A-Za-z0-9:-_.@], alphanumeric at both ends. */
const APP_INSTANCE_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9:\-_.@]{0,62}[A-Za-z0-9])?$/;

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

  /**
   * Where every alarm of {@link ChannelFlows.alarms} sends its notification when it goes into ALARM,
   * e.g. `new SnsAction(topic)` (`aws-cdk-lib/aws-cloudwatch-actions`). The alarms (see `ALARMS` in
   * `lib/system.ts`): messages in an on-failure queue (a stream batch was given up on), a stream
   * consumer more than a minute behind its stream (IteratorAge), and errors of the functions no
   * caller waits on (processor outcome, pending sweep, fan-out, session opener), each over one
   * 5-minute period.
   *
   * @default - the alarms are created without actions (visible in the CloudWatch console only)
   */
  readonly alarmAction?: IAlarmAction;
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

  /**
   * The CloudWatch alarms an operator needs (see {@link ChannelFlowsProps.alarmAction}): one per
   * queue, one per stream-mapped function (IteratorAge) and one per function of `ALARMS.functionErrors`.
   */
  public readonly alarms: IAlarm[];

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

    // Props, checked before anything is built.
    this.appInstanceId = props.appInstanceId ?? 'default';
    validateAppInstanceId(this.appInstanceId);
    if (props.identity) validateIdentity(props.identity);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.processorPrefix = props.processorPrefix ?? PROCESSORS.defaultPrefix;
    validateProcessorPrefix(this.processorPrefix);
    this.flowTimeout = props.flowTimeout ?? Duration.seconds(PROCESSORS.defaultFlowTimeoutSeconds);
    const flowTimeoutSeconds = validateFlowTimeout(this.flowTimeout);
    this.processorMaxEventAge = processorMaxEventAge(flowTimeoutSeconds);
    const deployModeration = props.deployModerationProcessor ?? true;
    if (props.moderationDenyWords !== undefined && !deployModeration) {
      throw new Error('moderationDenyWords is set but deployModerationProcessor is false: the deny list would configure nothing');
    }
    const denyWords = props.moderationDenyWords ?? DEFAULT_MODERATION_DENY_WORDS;
    validateDenyWords(denyWords);
    const throttle = webSocketThrottle(props.webSocketThrottle);
    const moderationFunction = shippedFunction('moderation');

    this.appInstanceArn = `arn:${stack.partition}:chime:${stack.region}:${stack.account}:app-instance/${this.appInstanceId}`;

    // Identity: the given issuer, or a user pool of our own.
    const identity = createIdentity(this, { identity: props.identity, removalPolicy });
    this.userPool = identity.userPool;
    this.userPoolClient = identity.userPoolClient;
    this.issuer = identity.settings.issuer;

    const tables = createDataTables(this, { removalPolicy });
    this.tables = tables;

    // The WebSocket API and its stage come first: the functions need the stage's URLs. Its routes
    // come after the functions.
    const webSocket = createWebSocketApi(this, { throttle });
    this.webSocketApi = webSocket.api;
    this.webSocketStage = webSocket.stage;
    this.webSocketUrl = this.webSocketStage.url;
    // Equals `https://${apiId}.execute-api.${region}.${urlSuffix}/${stageName}`.
    this.connectionsEndpoint = this.webSocketStage.callbackUrl;

    const functions = createFunctions(this, {
      appInstanceArn: this.appInstanceArn,
      tables,
      identity: identity.settings,
      webSocketStage: this.webSocketStage,
      processorPrefix: this.processorPrefix,
      flowTimeoutSeconds,
      moderation: { function: moderationFunction, deploy: deployModeration, denyWords },
    });
    this.functions = functions;
    const getFunction: FunctionLookup = (name) => this.getFunction(name);

    addWebSocketRoutes(webSocket, getFunction);

    const streams = createStreamProcessing(this, { tables, getFunction });
    this.queues = streams.queues;
    this.streamMappings = streams.mappings;

    this.restApi = createRestApi(this, {
      handler: getFunction(REST_API.function),
      authorizer: getFunction(REST_API.authorizer),
    });
    this.restUrl = this.restApi.url;
    this.callbackUrl = callbackUrl(this.restApi);

    // Scheduled functions (the pending sweep).
    this.schedules = createSchedules(this, getFunction);

    // The shipped processors are registered like anyone else's, and told where the callback route is
    // (other teams' processors learn it from the CallbackUrl output).
    for (const name of Object.values(PROCESSORS.shipped)) {
      const fn = functions[name];
      if (!fn) continue;
      fn.addEnvironment(ENV.callbackUrl, this.callbackUrl);
      this.addProcessor(fn);
    }

    this.alarms = createAlarms(this, { queues: streams.queues, getFunction, alarmAction: props.alarmAction });
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
    assertProcessorCandidate(this, fn, this.processorPrefix, this.registeredProcessors);
    configureProcessor(fn, {
      outcome: this.getFunction(PROCESSORS.outcomeFunction),
      maxEventAge: this.processorMaxEventAge,
      grantCallback: (grantee) => this.grantCallback(grantee),
      warningScope: this,
    });
    this.registeredProcessors.push(fn);
  }

  /**
   * Grants `execute-api:Invoke` on the ChannelFlowCallback route (`{callbackPathPrefix}/*` of the
   * REST API's stage, any method) and nothing else of the API.
   */
  public grantCallback(grantee: IGrantable): Grant {
    return grantCallbackRoute(this.restApi, grantee);
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
