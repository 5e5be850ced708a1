/**
 * The Lambda functions of `FUNCTIONS`, as NodejsFunctions: bundling, runtime settings, log groups,
 * the environment each definition asks for, and the grants its definition implies (table reads and
 * writes, @connections, invoking processors).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Token } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime, Tracing, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV, FUNCTIONS, TABLES, type FunctionDefinition, type FunctionName, type TableName } from '../system';
import { grantInvokeProcessors } from './channel-flow-processing';
import { entries, pascal } from './definition';
import type { ResolvedIdentity } from './identity';

/** A deployed function by its name in `FUNCTIONS`; throws for one that is not deployed. */
export type FunctionLookup = (name: FunctionName) => IFunction;

/** Lambda function names: 1-64 characters of [a-zA-Z0-9-_]. */
const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9\-_]{1,64}$/;

/** Deny words of the shipped moderation processor when `moderationDenyWords` is not given. */
export const DEFAULT_MODERATION_DENY_WORDS: readonly string[] = ['spam'];

/** Properties of {@link createFunctions}. */
export interface FunctionsProps {
  /** Every function gets it as `ENV.appInstanceArn`. */
  readonly appInstanceArn: string;

  /** The tables, for the table-name variables and the read and write grants. */
  readonly tables: Readonly<Record<TableName, ITable>>;

  /** Token verification settings, for the functions with `verifiesTokens`. */
  readonly identity: ResolvedIdentity;

  /**
   * The WebSocket stage: its URL for `knowsWebSocketUrl`, its @connections endpoint and
   * `execute-api:ManageConnections` on it for `managesConnections`.
   */
  readonly webSocketStage: WebSocketStage;

  /**
   * The processor prefix: fills `{prefix}` in fixed function names, is handed to `processesFlows`
   * functions and limits which functions `invokesProcessors` functions may invoke.
   */
  readonly processorPrefix: string;

  /** The flow timeout in whole seconds, for the `processesFlows` functions. */
  readonly flowTimeoutSeconds: number;

  /** The shipped moderation processor. */
  readonly moderation: {
    /** Its name in `FUNCTIONS`. */
    readonly function: FunctionName;
    /** Whether to deploy it at all. */
    readonly deploy: boolean;
    /** Its deny list (`ENV.moderationDenyWords`, comma-separated). */
    readonly denyWords: readonly string[];
  };
}

/**
 * Checks a moderation deny list: the words travel comma-separated in one environment variable, so
 * none may be empty or contain a comma. Called by the `ChannelFlows` constructor before anything is built.
 */
export function validateDenyWords(words: readonly string[]): void {
  for (const word of words) {
    if (Token.isUnresolved(word)) continue;
    if (word.trim() === '' || word.includes(',')) {
      throw new Error(`Invalid moderation deny word ${JSON.stringify(word)}: words must not be empty or contain a comma (the list travels comma-separated)`);
    }
  }
}

/**
 * One NodejsFunction per `FUNCTIONS` entry (the moderation processor only when deployed),
 * `{Name}Function` in `scope` with its log group `{Name}Logs`, by its name in `FUNCTIONS`.
 */
export function createFunctions(scope: Construct, props: FunctionsProps): Partial<Record<FunctionName, NodejsFunction>> {
  const root = projectRoot();
  const { tables, moderation, processorPrefix } = props;
  const functions: Partial<Record<FunctionName, NodejsFunction>> = {};
  for (const [name, def] of entries(FUNCTIONS)) {
    if (name === moderation.function && !moderation.deploy) continue;
    const functionName = def.functionName === undefined ? undefined : def.functionName.replaceAll('{prefix}', processorPrefix);
    if (functionName !== undefined && !Token.isUnresolved(functionName) && !FUNCTION_NAME_PATTERN.test(functionName)) {
      throw new Error(`Invalid function name "${functionName}" of ${name} (FUNCTIONS.${name}.functionName with the processor prefix): use 1-64 characters of [a-zA-Z0-9-_]`);
    }
    const fn = new NodejsFunction(scope, `${pascal(name)}Function`, {
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
      logGroup: new LogGroup(scope, `${pascal(name)}Logs`, { retention: RetentionDays.ONE_MONTH }),
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
        [ENV.appInstanceArn]: props.appInstanceArn,
        ...tableEnvironment(def, tables),
        ...(def.verifiesTokens ? identityEnvironment(props.identity) : {}),
        ...(def.managesConnections ? { [ENV.connectionsEndpoint]: props.webSocketStage.callbackUrl } : {}),
        ...(def.knowsWebSocketUrl ? { [ENV.websocketUrl]: props.webSocketStage.url } : {}),
        ...(def.processesFlows
          ? { [ENV.flowTimeoutSeconds]: String(props.flowTimeoutSeconds), [ENV.processorPrefix]: processorPrefix }
          : {}),
        ...(name === moderation.function ? { [ENV.moderationDenyWords]: moderation.denyWords.join(',') } : {}),
      },
    });
    for (const t of def.writes) tables[t].grantReadWriteData(fn);
    for (const t of def.reads) if (!def.writes.includes(t)) tables[t].grantReadData(fn);
    // execute-api:ManageConnections on this stage's @connections/* only.
    if (def.managesConnections) props.webSocketStage.grantManagementApiAccess(fn);
    if (def.invokesProcessors) grantInvokeProcessors(fn, processorPrefix);
    functions[name] = fn;
  }
  return functions;
}

/** The table-name variable of every table the function reads or writes. */
function tableEnvironment(def: FunctionDefinition, tables: Readonly<Record<TableName, ITable>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const t of new Set([...def.reads, ...def.writes])) {
    env[TABLES[t].environmentVariable] = tables[t].tableName;
  }
  return env;
}

/** The token verification settings, for functions that verify tokens. */
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
