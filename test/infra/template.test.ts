/**
 * Holds the synthesized CloudFormation template against the system definition in lib/system.ts:
 * every expectation about tables, functions, grants and routes is derived from that data, so a
 * change there that the construct does not follow (or the reverse) fails here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { App, Duration, Stack, type CfnResource } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Code, Function as LambdaFunction, Runtime, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { CONNECTION_ENTITY } from '../../lambdas/adapters/dynamodb/connection-repository';
import { ENTITY } from '../../lambdas/adapters/dynamodb/keys';
import { ChannelFlows } from '../../lib/channel-flows';
import { ChannelFlowsStack, type ChannelFlowsStackProps } from '../../lib/channel-flows-stack';
import {
  ALARMS,
  ENV,
  FUNCTIONS,
  PROCESSORS,
  QUEUES,
  REST_API,
  SCHEDULES,
  STREAM_MAPPINGS,
  TABLES,
  WEBSOCKET_API,
  type FunctionName,
  type QueueName,
  type TableName,
} from '../../lib/system';

type Json = any; // CloudFormation template fragments

interface Built {
  readonly stack: ChannelFlowsStack;
  readonly template: Template;
  readonly resources: Record<string, Json>;
  /** Logical id of each table's AWS::DynamoDB::Table. */
  readonly tableIds: Record<TableName, string>;
  /** Logical id of each deployed function's AWS::Lambda::Function (all of them, unless a shipped processor is left out). */
  readonly functionIds: Record<FunctionName, string>;
  /** Logical ids of the registered processors that are functions of the stack. */
  readonly processorIds: string[];
  /** Logical id of the REST API. */
  readonly restApiId: string;
  /** Logical id of each SCHEDULES entry's AWS::Events::Rule. */
  readonly scheduleIds: Record<string, string>;
  /** Logical id of each queue's AWS::SQS::Queue. */
  readonly queueIds: Record<QueueName, string>;
  /** Logical ids of the AWS::ApiGatewayV2::Api (WebSocket) and its AWS::ApiGatewayV2::Stage. */
  readonly webSocketApiId: string;
  readonly webSocketStageId: string;
}

/**
 * Synthesizes one configuration without bundling (no esbuild run, no Docker); `extend` runs on the
 * stack before synthesis (to register processors of another team).
 */
function build(props: ChannelFlowsStackProps = {}, extend?: (stack: ChannelFlowsStack) => void): Built {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ChannelFlowsStack(app, 'ChannelFlowsTest', props);
  extend?.(stack);
  const template = Template.fromStack(stack);
  const cf = stack.channelFlows;
  const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnResource);
  return {
    stack,
    template,
    resources: template.toJSON().Resources,
    tableIds: mapValues(TABLES, (_, name) => logicalId(cf.tables[name])),
    functionIds: Object.fromEntries(Object.entries(cf.functions).map(([name, fn]) => [name, logicalId(fn!)])) as Record<FunctionName, string>,
    processorIds: cf.processors.filter((fn) => fn.node.defaultChild).map(logicalId),
    restApiId: logicalId(cf.restApi),
    scheduleIds: Object.fromEntries(Object.entries(cf.schedules).map(([id, rule]) => [id, logicalId(rule)])),
    queueIds: mapValues(QUEUES, (_, name) => logicalId(cf.queues[name])),
    webSocketApiId: logicalId(cf.webSocketApi),
    webSocketStageId: logicalId(cf.webSocketStage),
  };
}

function mapValues<K extends string, V, R>(record: Readonly<Record<K, V>>, f: (value: V, key: K) => R): Record<K, R> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v as V, k as K)])) as Record<K, R>;
}

const names = <K extends string>(record: Readonly<Record<K, unknown>>) => Object.keys(record) as K[];

function ofType(resources: Record<string, Json>, type: string): Array<[string, Json]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Renders a CloudFormation string expression: `{Ref: X}` → `${X}`, `{Fn::GetAtt: [A, B]}` → `${A.B}`. */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `\${${value.Ref}}`;
  if (value?.['Fn::GetAtt']) return `\${${value['Fn::GetAtt'].join('.')}}`;
  if (value?.['Fn::Join']) {
    const [sep, parts] = value['Fn::Join'];
    return (parts as Json[]).map(render).join(sep);
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** Every logical id a CloudFormation expression refers to (Ref / Fn::GetAtt), pseudo parameters excluded. */
function referencedIds(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value === null || typeof value !== 'object') return [];
  if (typeof value.Ref === 'string') return value.Ref.startsWith('AWS::') ? [] : [value.Ref];
  if (Array.isArray(value['Fn::GetAtt'])) return [value['Fn::GetAtt'][0]];
  return Object.values(value).flatMap(referencedIds);
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const DYNAMODB_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/** What a DynamoDB stream consumer needs on the stream itself (dynamodb:ListStreams takes no resource). */
const DYNAMODB_STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];

/**
 * What an IAM statement's Resource entry points at: one of our tables (its ARN, or `{arn}/index/*`),
 * one table's stream (`{Fn::GetAtt: [table, StreamArn]}`), or anything else (`*`, another service).
 * A table ARN or `{arn}/index/*` cannot match a stream ARN (`{arn}/stream/{label}`).
 */
type Target = { kind: 'table' | 'stream'; table: TableName } | { kind: 'other'; resource: Json };

function classify(resource: Json, tableById: ReadonlyMap<string, TableName>): Target {
  const getAtt = (v: Json): [string, string] | undefined => (Array.isArray(v?.['Fn::GetAtt']) ? (v['Fn::GetAtt'] as [string, string]) : undefined);
  const direct = getAtt(resource);
  const table = direct && tableById.get(direct[0]);
  if (direct && table && direct[1] === 'Arn') return { kind: 'table', table };
  if (direct && table && direct[1] === 'StreamArn') return { kind: 'stream', table };
  const join = resource?.['Fn::Join'];
  if (Array.isArray(join) && join[0] === '' && Array.isArray(join[1]) && join[1].length === 2) {
    const head = getAtt(join[1][0]);
    const indexOf = head && tableById.get(head[0]);
    if (head && indexOf && head[1] === 'Arn' && join[1][1] === '/index/*') return { kind: 'table', table: indexOf };
  }
  return { kind: 'other', resource };
}

/** Whether an IAM action pattern (with `*` / `?` wildcards, case-insensitive) covers the action. */
function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}

interface Grant {
  readonly policyId: string;
  readonly roleIds: string[];
  readonly statement: Json;
}

/** Every Allow statement of every IAM policy in the template, with the roles it applies to. */
function grants(resources: Record<string, Json>): Grant[] {
  const out: Grant[] = [];
  const add = (policyId: string, roleIds: string[], document: Json) => {
    for (const statement of asArray(document?.Statement)) {
      if (statement.Effect === 'Allow') out.push({ policyId, roleIds, statement });
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      add(id, referencedIds(r.Properties.Roles ?? []), r.Properties.PolicyDocument);
    }
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of asArray(r.Properties.Policies)) add(id, [id], (p as Json).PolicyDocument);
    }
  }
  return out;
}

/** The role each function runs as, from its `Role: {Fn::GetAtt: [role, Arn]}`. */
function roleOf(resources: Record<string, Json>, functionId: string): string {
  const [roleId] = referencedIds(resources[functionId].Properties.Role);
  assert.ok(roleId, `function ${functionId} has no role reference`);
  return roleId;
}

/** The fixed name FUNCTIONS gives a function, with the processor prefix filled in. */
const fixedName = (f: FunctionName, prefix: string = PROCESSORS.defaultPrefix) => FUNCTIONS[f].functionName?.replaceAll('{prefix}', prefix);

/** The EventBridge rate expression of a number of seconds, as CDK's Schedule.rate writes it. */
function rateExpression(seconds: number): string {
  for (const [unit, size] of [['day', 86_400], ['hour', 3_600], ['minute', 60]] as const) {
    if (seconds % size === 0) return `rate(${seconds / size} ${unit}${seconds === size ? '' : 's'})`;
  }
  throw new Error(`${seconds} s is no whole number of minutes`);
}

/** The two ARN patterns the processor-invoking role may invoke: `function:{prefix}*` and its qualified form. */
const processorArnPatterns = (prefix: string) => [
  `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${prefix}*`,
  `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${prefix}*:*`,
];

/** The execute-api ARN of the callback route: the REST stage, any method, `{callbackPathPrefix}/*`. */
const callbackArn = (restApiId: string) =>
  `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${restApiId}}/${REST_API.stageName}/*${REST_API.callbackPathPrefix}/*`;

/** A function of another team, in the stack, with a fixed name (or none). */
function otherTeamFunction(stack: Stack, id: string, functionName?: string): LambdaFunction {
  return new LambdaFunction(stack, id, {
    code: Code.fromInline('exports.handler = async () => undefined;'),
    handler: 'index.handler',
    runtime: Runtime.NODEJS_22_X,
    ...(functionName !== undefined ? { functionName } : {}),
  });
}

/** The function of the shipped moderation processor. */
const MODERATION = PROCESSORS.shipped.moderation!;

const defaults = build();

describe('tables', () => {
  const { resources, tableIds } = defaults;

  test('one table per entry of TABLES, and no other', () => {
    assert.equal(ofType(resources, 'AWS::DynamoDB::Table').length + ofType(resources, 'AWS::DynamoDB::GlobalTable').length, names(TABLES).length);
  });

  for (const name of names(TABLES)) {
    const def = TABLES[name];
    test(`${name}: keys, on-demand billing, TTL, point-in-time recovery`, () => {
      const p = resources[tableIds[name]].Properties;
      assert.deepEqual(p.KeySchema, [
        { AttributeName: def.partitionKey, KeyType: 'HASH' },
        { AttributeName: def.sortKey, KeyType: 'RANGE' },
      ]);
      assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: def.timeToLiveAttribute, Enabled: true });
      assert.equal(p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled, true);
      assert.equal(resources[tableIds[name]].DeletionPolicy, 'Retain');
      for (const key of [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
        assert.deepEqual(
          p.AttributeDefinitions.find((a: Json) => a.AttributeName === key),
          { AttributeName: key, AttributeType: 'S' },
          `attribute ${key} is a string`,
        );
      }
    });

    test(`${name}: exactly the indexes of TABLES, with their keys and ALL projection`, () => {
      const gsis: Json[] = resources[tableIds[name]].Properties.GlobalSecondaryIndexes ?? [];
      assert.deepEqual(gsis.map((g) => g.IndexName).sort(), def.indexes.map((i) => i.indexName).sort());
      for (const index of def.indexes) {
        const gsi = gsis.find((g) => g.IndexName === index.indexName);
        assert.deepEqual(gsi.KeySchema, [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ]);
        assert.deepEqual(gsi.Projection, { ProjectionType: 'ALL' });
      }
    });

    test(`${name}: stream ${def.stream ?? 'absent'}, as TABLES says`, () => {
      const spec = resources[tableIds[name]].Properties.StreamSpecification;
      if (def.stream) assert.deepEqual(spec, { StreamViewType: def.stream });
      else assert.equal(spec, undefined);
    });
  }

  test('every table a STREAM_MAPPINGS entry reads streams NEW_AND_OLD_IMAGES', () => {
    // The fan-out compares old and new images; spelled out in case the loop above is ever emptied.
    assert.ok(STREAM_MAPPINGS.length > 0);
    for (const m of STREAM_MAPPINGS) {
      assert.equal(TABLES[m.table].stream, 'NEW_AND_OLD_IMAGES', `TABLES.${m.table}.stream`);
      assert.equal(resources[tableIds[m.table]].Properties.StreamSpecification?.StreamViewType, 'NEW_AND_OLD_IMAGES', m.id);
    }
  });

  test('streams exactly on the tables with `stream` in TABLES', () => {
    const streamed = ofType(resources, 'AWS::DynamoDB::Table').filter(([, r]) => r.Properties.StreamSpecification).map(([id]) => id);
    assert.deepEqual(streamed.sort(), names(TABLES).filter((t) => TABLES[t].stream).map((t) => tableIds[t]).sort());
  });
});

describe('functions', () => {
  const { resources, functionIds, tableIds } = defaults;

  test('one function per entry of FUNCTIONS, and no other', () => {
    assert.deepEqual(
      ofType(resources, 'AWS::Lambda::Function').map(([id]) => id).sort(),
      Object.values(functionIds).sort(),
    );
  });

  test('every function runs on nodejs22.x or newer, arm64', () => {
    for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function')) {
      const m = /^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime);
      assert.ok(m && Number(m[1]) >= 22, `${id} runs ${fn.Properties.Runtime}`);
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
    }
  });

  for (const name of names(FUNCTIONS)) {
    const def = FUNCTIONS[name];
    test(`${name}: memory, timeout, handler, tracing and log retention from FUNCTIONS`, () => {
      const p = resources[functionIds[name]].Properties;
      assert.equal(p.MemorySize, def.memorySize);
      assert.equal(p.Timeout, def.timeoutSeconds);
      assert.equal(p.Handler, `index.${def.handler}`);
      assert.equal(p.Description, def.description);
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      const [logGroupId] = referencedIds(p.LoggingConfig?.LogGroup);
      assert.ok(logGroupId, 'has its own log group');
      assert.equal(resources[logGroupId!].Properties.RetentionInDays, 30);
    });

    test(`${name}: environment names exactly the tables it reads or writes, each the right one`, () => {
      const env: Record<string, Json> = resources[functionIds[name]].Properties.Environment.Variables;
      assert.equal(env.NODE_OPTIONS, '--enable-source-maps');
      const used = new Set<TableName>([...def.reads, ...def.writes]);
      for (const t of names(TABLES)) {
        const value = env[TABLES[t].environmentVariable];
        if (used.has(t)) assert.deepEqual(value, { Ref: tableIds[t] }, `${TABLES[t].environmentVariable}`);
        else assert.equal(value, undefined, `${name} must not learn table ${t}`);
      }
      assert.equal(
        render(env[ENV.appInstanceArn]),
        'arn:${AWS::Partition}:chime:${AWS::Region}:${AWS::AccountId}:app-instance/default',
      );
      const jwtVars = [ENV.jwtIssuer, ENV.jwksUri, ENV.userIdClaim, ENV.nameClaim, ENV.adminClaim, ENV.adminClaimValue];
      for (const v of jwtVars) assert.equal(v in env, def.verifiesTokens, `${v} present iff verifiesTokens`);
    });

    test(`${name}: ${ENV.connectionsEndpoint} iff managesConnections, ${ENV.websocketUrl} iff knowsWebSocketUrl, both of the WebSocket stage`, () => {
      const env: Record<string, Json> = resources[functionIds[name]].Properties.Environment.Variables;
      const host = `\${${defaults.webSocketApiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${WEBSOCKET_API.stageName}`;
      if (def.managesConnections) assert.equal(render(env[ENV.connectionsEndpoint]), `https://${host}`);
      else assert.equal(env[ENV.connectionsEndpoint], undefined);
      if (def.knowsWebSocketUrl) assert.equal(render(env[ENV.websocketUrl]), `wss://${host}`);
      else assert.equal(env[ENV.websocketUrl], undefined);
    });

    test(`${name}: ${ENV.flowTimeoutSeconds} and ${ENV.processorPrefix} iff processesFlows, with the defaults of PROCESSORS`, () => {
      const env: Record<string, Json> = resources[functionIds[name]].Properties.Environment.Variables;
      assert.equal(env[ENV.flowTimeoutSeconds], def.processesFlows ? String(PROCESSORS.defaultFlowTimeoutSeconds) : undefined);
      assert.equal(env[ENV.processorPrefix], def.processesFlows ? PROCESSORS.defaultPrefix : undefined);
    });

    test(`${name}: ${def.functionName ? `named ${fixedName(name)}` : 'a generated name'}; ${ENV.moderationDenyWords} iff the shipped moderation processor`, () => {
      const p = resources[functionIds[name]].Properties;
      assert.equal(p.FunctionName, fixedName(name));
      assert.equal(p.Environment.Variables[ENV.moderationDenyWords], name === MODERATION ? 'spam' : undefined);
    });
  }

  test(`${ENV.callbackUrl}: the callback URL, on the shipped processors only`, () => {
    const shipped: readonly FunctionName[] = Object.values(PROCESSORS.shipped);
    const url = render(defaults.template.toJSON().Outputs.CallbackUrl.Value);
    for (const f of names(FUNCTIONS)) {
      const value = resources[functionIds[f]].Properties.Environment.Variables[ENV.callbackUrl];
      if (shipped.includes(f)) assert.equal(render(value), url, f);
      else assert.equal(value, undefined, f);
    }
  });

  test(`the shipped moderation processor is ${PROCESSORS.defaultPrefix}moderation, i.e. channel-flow-moderation`, () => {
    assert.equal(resources[functionIds[MODERATION]].Properties.FunctionName, 'channel-flow-moderation');
  });
});

describe('IAM: least privilege from reads / writes', () => {
  const { resources, functionIds, tableIds } = defaults;
  const all = grants(resources);
  const tableById = new Map(names(TABLES).map((t) => [tableIds[t], t] as const));
  const functionByRole = new Map(names(FUNCTIONS).map((f) => [roleOf(resources, functionIds[f]), f] as const));
  const isDynamo = (s: Json) => asArray<string>(s.Action).some((a) => covers(a, 'dynamodb:GetItem') || /^dynamodb:/i.test(a) || a === '*');
  const isWrite = (s: Json) => asArray<string>(s.Action).some((a) => DYNAMODB_WRITE_ACTIONS.some((w) => covers(a, w)));
  const targetsOf = (s: Json): Target[] => asArray(s.Resource).map((r: Json) => classify(r, tableById));
  /** The tables a statement names; a resource that is not one of our tables or indexes (a stream, `*`) is `undefined`. */
  const tablesOf = (s: Json): Array<TableName | undefined> => targetsOf(s).map((t) => (t.kind === 'table' ? t.table : undefined));
  const mappedTables = (f: FunctionName) => new Set(STREAM_MAPPINGS.filter((m) => m.function === f).map((m) => m.table));

  test('the grant analysis sees the write grants that exist (not vacuous)', () => {
    const writes = all.filter((g) => isWrite(g.statement));
    assert.ok(writes.length > 0);
    for (const f of names(FUNCTIONS)) {
      const role = roleOf(resources, functionIds[f]);
      for (const t of FUNCTIONS[f].writes) {
        assert.ok(
          writes.some((g) => g.roleIds.includes(role) && tablesOf(g.statement).includes(t)),
          `${f} should be able to write ${t}`,
        );
      }
    }
  });

  test('every statement granting a DynamoDB write names only tables its function lists in `writes`', () => {
    for (const g of all.filter((x) => isWrite(x.statement))) {
      assert.ok(g.roleIds.length > 0, `${g.policyId} grants writes to no known role`);
      for (const role of g.roleIds) {
        const f = functionByRole.get(role);
        assert.ok(f, `${g.policyId} lets role ${role}, which runs none of FUNCTIONS, write DynamoDB`);
        for (const t of tablesOf(g.statement)) {
          assert.ok(t, `${g.policyId} lets ${f} write a resource that is not a table of TABLES: ${JSON.stringify(g.statement.Resource)}`);
          assert.ok(FUNCTIONS[f].writes.includes(t), `${f} can write table ${t}, which it does not list in writes`);
        }
      }
    }
  });

  test('every DynamoDB statement on a table or its indexes names only tables its function reads or writes', () => {
    for (const g of all.filter((x) => isDynamo(x.statement))) {
      for (const role of g.roleIds) {
        const f = functionByRole.get(role);
        assert.ok(f, `${g.policyId} gives role ${role}, which runs none of FUNCTIONS, DynamoDB access`);
        for (const t of targetsOf(g.statement)) {
          if (t.kind !== 'table') continue;
          assert.ok(FUNCTIONS[f].reads.includes(t.table) || FUNCTIONS[f].writes.includes(t.table), `${f} can reach table ${t.table}`);
        }
      }
    }
  });

  test('every other DynamoDB statement is the stream read of a STREAM_MAPPINGS entry of its function', () => {
    for (const g of all.filter((x) => isDynamo(x.statement))) {
      const targets = targetsOf(g.statement);
      if (targets.every((t) => t.kind === 'table')) continue;
      assert.ok(targets.every((t) => t.kind !== 'table'), `${g.policyId} mixes tables and other resources in one statement`);
      const actions = asArray<string>(g.statement.Action);
      for (const role of g.roleIds) {
        const f = functionByRole.get(role)!;
        assert.ok(f, `${g.policyId}: role ${role} runs none of FUNCTIONS`);
        for (const t of targets) {
          if (t.kind === 'stream') {
            assert.ok(mappedTables(f).has(t.table), `${f} can read the stream of ${t.table} but no STREAM_MAPPINGS entry maps it there`);
            for (const a of actions) assert.ok(DYNAMODB_STREAM_READ_ACTIONS.includes(a), `${f} may ${a} on the stream of ${t.table}`);
          } else {
            // ListStreams is list-only and takes no resource, so `*` is its only form; it reads no record.
            assert.deepEqual(actions, ['dynamodb:ListStreams'], `${f} may ${JSON.stringify(actions)} on ${JSON.stringify(t.kind === 'other' ? t.resource : t)}`);
            assert.equal(g.statement.Resource, '*');
            assert.ok(mappedTables(f).size > 0, `${f} may list streams but consumes none`);
          }
        }
      }
    }
  });

  test('dynamodb:GetRecords etc. reach a table\'s stream for exactly the functions STREAM_MAPPINGS maps to it', () => {
    const granted = new Set<string>();
    for (const g of all) {
      const actions = asArray<string>(g.statement.Action);
      for (const needed of DYNAMODB_STREAM_READ_ACTIONS) {
        if (!actions.some((a) => covers(a, needed))) continue;
        for (const t of targetsOf(g.statement)) {
          // A table ARN or `{arn}/index/*` (CDK's grantReadData lists GetRecords there) cannot match `{arn}/stream/...`.
          if (t.kind === 'table') continue;
          assert.equal(t.kind, 'stream', `${g.policyId} allows ${needed} on ${JSON.stringify(t.kind === 'other' ? t.resource : t)}, which may be any stream`);
          for (const role of g.roleIds) granted.add(`${functionByRole.get(role)} ${t.table} ${needed}`);
        }
      }
    }
    const expected = new Set(STREAM_MAPPINGS.flatMap((m) => DYNAMODB_STREAM_READ_ACTIONS.map((a) => `${m.function} ${m.table} ${a}`)));
    assert.deepEqual([...granted].sort(), [...expected].sort());
  });

  test('execute-api:ManageConnections only for functions with managesConnections, on the WebSocket stage\'s @connections only', () => {
    const manage = all.filter((g) => asArray<string>(g.statement.Action).some((a) => covers(a, 'execute-api:ManageConnections')));
    const holders = new Set<FunctionName>();
    const expectedArn =
      `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${defaults.webSocketApiId}}/${WEBSOCKET_API.stageName}/*/@connections/*`;
    for (const g of manage) {
      assert.deepEqual(asArray(g.statement.Action), ['execute-api:ManageConnections'], `${g.policyId} grants no other execute-api action with it`);
      assert.deepEqual(asArray(g.statement.Resource).map(render), [expectedArn]);
      for (const role of g.roleIds) {
        const f = functionByRole.get(role);
        assert.ok(f && FUNCTIONS[f].managesConnections, `${f ?? role} may manage connections`);
        holders.add(f);
      }
    }
    assert.deepEqual([...holders].sort(), names(FUNCTIONS).filter((f) => FUNCTIONS[f].managesConnections).sort());
  });

  test('the write checks above cover every function of FUNCTIONS, each with a role of its own', () => {
    // functionByRole is what maps a write grant back to a function: a function missing from it (or
    // sharing a role) would escape "names only tables its function lists in `writes`".
    assert.equal(functionByRole.size, names(FUNCTIONS).length);
    for (const f of [PROCESSORS.outcomeFunction, ...SCHEDULES.map((x) => x.function)]) {
      assert.equal(functionByRole.get(roleOf(resources, functionIds[f])), f);
    }
  });

  test('lambda:InvokeFunction: the processor prefix for invokesProcessors functions, the outcome function for processors, nothing else', () => {
    const invoke = all.filter((g) => asArray<string>(g.statement.Action).some((a) => covers(a, 'lambda:InvokeFunction')));
    const processorRoles = new Map(defaults.processorIds.map((id) => [roleOf(resources, id), id] as const));
    const outcomeArn = `\${${functionIds[PROCESSORS.outcomeFunction]}.Arn}`;
    const invokers = new Set<FunctionName>();
    const destinations = new Set<string>();
    for (const g of invoke) {
      assert.deepEqual(asArray(g.statement.Action), ['lambda:InvokeFunction'], `${g.policyId} grants no other action with it`);
      assert.equal(g.statement.Condition, undefined);
      const resourcesOf = asArray(g.statement.Resource).map(render);
      for (const role of g.roleIds) {
        const f = functionByRole.get(role);
        if (f && FUNCTIONS[f].invokesProcessors) {
          assert.deepEqual(resourcesOf, processorArnPatterns(PROCESSORS.defaultPrefix), `${f} may invoke processors only`);
          invokers.add(f);
        } else if (processorRoles.has(role)) {
          // Lambda delivers a processor's destination records with the processor's own role.
          assert.deepEqual(resourcesOf, [outcomeArn, `${outcomeArn}:*`], `processor ${processorRoles.get(role)} may invoke the outcome function only`);
          destinations.add(processorRoles.get(role)!);
        } else {
          assert.fail(`${g.policyId} lets ${f ?? role} invoke ${JSON.stringify(resourcesOf)}`);
        }
      }
    }
    assert.deepEqual([...invokers].sort(), names(FUNCTIONS).filter((f) => FUNCTIONS[f].invokesProcessors).sort());
    assert.deepEqual([...destinations].sort(), [...defaults.processorIds].sort());
    assert.ok(invokers.size > 0 && destinations.size > 0, 'not vacuous');
  });

  test('resource-based invoke permissions: API Gateway on its routes and authorizer, EventBridge on scheduled functions, no one else', () => {
    const scheduled = new Map(SCHEDULES.map((x) => [functionIds[x.function], defaults.scheduleIds[x.id]] as const));
    for (const [id, p] of ofType(resources, 'AWS::Lambda::Permission').map(([i, r]) => [i, r.Properties] as const)) {
      assert.equal(p.Action, 'lambda:InvokeFunction', id);
      assert.ok(p.SourceArn, `${id} is limited to one source`);
      const [fnId] = referencedIds(p.FunctionName);
      if (p.Principal === 'events.amazonaws.com') {
        assert.ok(scheduled.has(fnId!), `${id}: EventBridge may invoke ${fnId}, which SCHEDULES does not name`);
        assert.deepEqual(p.SourceArn, { 'Fn::GetAtt': [scheduled.get(fnId!), 'Arn'] });
      } else {
        assert.equal(p.Principal, 'apigateway.amazonaws.com', id);
        assert.match(render(p.SourceArn), /^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:/);
        assert.ok(!defaults.processorIds.includes(fnId!), `${id}: API Gateway may invoke processor ${fnId}`);
      }
    }
  });

  test('execute-api:Invoke: the registered processors, on the callback route of the REST stage only', () => {
    const grantsOfInvoke = all.filter((g) => asArray<string>(g.statement.Action).some((a) => covers(a, 'execute-api:Invoke')));
    const processorRoles = new Map(defaults.processorIds.map((id) => [roleOf(resources, id), id] as const));
    const holders = new Set<string>();
    for (const g of grantsOfInvoke) {
      assert.deepEqual(asArray(g.statement.Action), ['execute-api:Invoke'], `${g.policyId} grants no other execute-api action with it`);
      assert.deepEqual(asArray(g.statement.Resource).map(render), [callbackArn(defaults.restApiId)]);
      for (const role of g.roleIds) {
        assert.ok(processorRoles.has(role), `${functionByRole.get(role) ?? role} may call the callback route`);
        holders.add(processorRoles.get(role)!);
      }
    }
    assert.deepEqual([...holders].sort(), [...defaults.processorIds].sort());
  });

  test('no statement allows every action, or every action of a service', () => {
    for (const g of all) {
      for (const a of asArray<string>(g.statement.Action)) assert.doesNotMatch(a, /^(\*|[a-z0-9-]+:\*)$/i, `${g.policyId} allows ${a}`);
    }
  });

  test('only the functions whose stream mappings fail over to a queue may send to it', () => {
    const { queueIds } = defaults;
    for (const q of names(QUEUES)) {
      const senders = new Set<FunctionName>();
      for (const g of all) {
        if (!asArray<string>(g.statement.Action).some((a) => covers(a, 'sqs:SendMessage'))) continue;
        if (!referencedIds(g.statement.Resource).includes(queueIds[q])) continue;
        for (const role of g.roleIds) senders.add(functionByRole.get(role)!);
      }
      const expected = new Set(STREAM_MAPPINGS.filter((m) => m.onFailure === q).map((m) => m.function));
      assert.deepEqual([...senders].sort(), [...expected].sort(), q);
    }
  });

  test('the authorizer has no DynamoDB access at all', () => {
    const role = roleOf(resources, functionIds[REST_API.authorizer]);
    const statements = all.filter((g) => g.roleIds.includes(role)).map((g) => g.statement);
    for (const s of statements) assert.ok(!isDynamo(s), `authorizer may ${JSON.stringify(s.Action)}`);
    const managed = resources[role].Properties.ManagedPolicyArns ?? [];
    for (const arn of managed) assert.doesNotMatch(render(arn), /dynamodb/i);
  });
});

describe('REST API', () => {
  const { resources, functionIds } = defaults;
  const [[apiId]] = ofType(resources, 'AWS::ApiGateway::RestApi') as [[string, Json]];
  const [[authorizerId, authorizer]] = ofType(resources, 'AWS::ApiGateway::Authorizer') as [[string, Json]];
  const methods = ofType(resources, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties);
  const invokes = (uri: Json, fn: FunctionName) => referencedIds(uri).includes(functionIds[fn]);

  test(`stage ${REST_API.stageName}`, () => {
    const stages = ofType(resources, 'AWS::ApiGateway::Stage');
    assert.deepEqual(stages.map(([, s]) => s.Properties.StageName), [REST_API.stageName]);
  });

  test('a REQUEST authorizer on the identity header, cached as REST_API says, running the authorizer function', () => {
    assert.equal(authorizer.Properties.Type, 'REQUEST');
    assert.equal(authorizer.Properties.IdentitySource, `method.request.header.${REST_API.identityHeader}`);
    assert.equal(authorizer.Properties.AuthorizerResultTtlInSeconds, REST_API.authorizerCacheSeconds);
    assert.ok(invokes(authorizer.Properties.AuthorizerUri, REST_API.authorizer));
  });

  const checkAny = (m: Json | undefined, where: string) => {
    assert.ok(m, `ANY method on ${where}`);
    assert.equal(m.AuthorizationType, 'CUSTOM');
    assert.deepEqual(m.AuthorizerId, { Ref: authorizerId });
    assert.equal(m.Integration.Type, 'AWS_PROXY');
    assert.equal(m.Integration.IntegrationHttpMethod, 'POST');
    assert.ok(invokes(m.Integration.Uri, REST_API.function), `${where} invokes ${REST_API.function}`);
  };

  const apiResources = ofType(resources, 'AWS::ApiGateway::Resource');
  const rootRef = { 'Fn::GetAtt': [apiId, 'RootResourceId'] };
  const childOf = (parent: Json, pathPart: string) =>
    apiResources.filter(([, r]) => r.Properties.PathPart === pathPart && JSON.stringify(r.Properties.ParentId) === JSON.stringify(parent));
  /** The resource of `/callbacks/{proxy+}` (segment by segment from REST_API.callbackPathPrefix). */
  const callbackProxy = (() => {
    let parent: Json = rootRef;
    for (const part of [...REST_API.callbackPathPrefix.split('/').slice(1), '{proxy+}']) {
      const found = childOf(parent, part);
      assert.equal(found.length, 1, `one resource ${part}`);
      parent = { Ref: found[0]![0] };
    }
    return (parent as { Ref: string }).Ref;
  })();

  test('exactly two greedy {proxy+} resources: under the root, and under the callback prefix', () => {
    const proxies = apiResources.filter(([, r]) => r.Properties.PathPart === '{proxy+}').map(([id]) => id);
    assert.deepEqual(proxies.sort(), [childOf(rootRef, '{proxy+}')[0]![0], callbackProxy].sort());
  });

  test('the root {proxy+}: ANY through the authorizer into the REST function', () => {
    const [[proxyId]] = childOf(rootRef, '{proxy+}') as [[string, Json]];
    checkAny(methods.find((m) => m.HttpMethod === 'ANY' && m.ResourceId?.Ref === proxyId), '{proxy+}');
  });

  test(`${REST_API.callbackPathPrefix}/{proxy+}: ANY authorized by IAM (no authorizer) into the same REST function, invokable on that path`, () => {
    const callback = methods.filter((m) => m.ResourceId?.Ref === callbackProxy && m.HttpMethod !== 'OPTIONS');
    assert.equal(callback.length, 1);
    const [m] = callback as [Json];
    assert.equal(m.HttpMethod, 'ANY');
    assert.equal(m.AuthorizationType, 'AWS_IAM');
    assert.equal(m.AuthorizerId, undefined);
    assert.equal(m.Integration.Type, 'AWS_PROXY');
    assert.equal(m.Integration.IntegrationHttpMethod, 'POST');
    assert.deepEqual(m.Integration.Uri, methods.find((x) => x.ResourceId?.['Fn::GetAtt']?.[0] === apiId && x.HttpMethod === 'ANY').Integration.Uri);
    // The callback path of the stage itself carries no method: only {proxy+} under it does.
    const prefixId = JSON.stringify(resources[callbackProxy].Properties.ParentId);
    assert.deepEqual(methods.filter((x) => JSON.stringify(x.ResourceId) === prefixId).map((x) => x.HttpMethod), ['OPTIONS']);
    const permitted = ofType(resources, 'AWS::Lambda::Permission')
      .map(([, p]) => p.Properties)
      .filter((p) => invokes(p.FunctionName, REST_API.function))
      .map((p) => render(p.SourceArn));
    assert.ok(permitted.some((arn) => arn.endsWith(`/*${REST_API.callbackPathPrefix}/*`) && !arn.includes('test-invoke-stage')), permitted.join('\n'));
  });

  test('callbackUrl (and the CallbackUrl output) is the stage URL plus the callback prefix', () => {
    const outputs = defaults.template.toJSON().Outputs;
    const url = render(outputs.CallbackUrl.Value);
    const [[stageId]] = ofType(resources, 'AWS::ApiGateway::Stage') as [[string, Json]];
    assert.equal(url, `https://\${${apiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/\${${stageId}}${REST_API.callbackPathPrefix}`);
    assert.equal(render(defaults.stack.resolve(defaults.stack.channelFlows.callbackUrl)), url);
    assert.equal(render(outputs.RestApiUrl.Value) + REST_API.callbackPathPrefix.slice(1), url);
  });

  test('the root ANY method, through the authorizer into the REST function', () => {
    checkAny(
      methods.find((m) => m.HttpMethod === 'ANY' && m.ResourceId?.['Fn::GetAtt']?.[0] === apiId),
      '/',
    );
  });

  test('CORS preflight (OPTIONS) needs no authorizer and allows the headers the Chime SDK sends', () => {
    const options = methods.filter((m) => m.HttpMethod === 'OPTIONS');
    assert.equal(options.length, apiResources.length + 1, 'on / and on every resource');
    for (const m of options) {
      assert.equal(m.AuthorizationType, 'NONE');
      assert.equal(m.AuthorizerId, undefined);
      const params = m.Integration.IntegrationResponses[0].ResponseParameters;
      assert.equal(params['method.response.header.Access-Control-Allow-Origin'], "'*'");
      const allowed = params['method.response.header.Access-Control-Allow-Headers'].toLowerCase();
      for (const h of ['authorization', 'content-type', 'x-amz-chime-bearer', 'x-amz-date', 'x-amz-user-agent', 'x-amz-content-sha256', 'amz-sdk-invocation-id', 'amz-sdk-request']) {
        assert.ok(allowed.includes(h), `preflight allows ${h}`);
      }
    }
  });

  test('no method but the preflight and the IAM-authorized callback route skips the authorizer', () => {
    for (const m of methods.filter((x) => x.HttpMethod !== 'OPTIONS' && x.ResourceId?.Ref !== callbackProxy)) {
      assert.equal(m.AuthorizationType, 'CUSTOM');
      assert.deepEqual(m.AuthorizerId, { Ref: authorizerId });
    }
  });

  // The Chime error shape: what @aws-sdk/client-chime-sdk-messaging turns into typed exceptions.
  const expected: Record<string, { status?: string; errorType: string; code: string }> = {
    UNAUTHORIZED: { status: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
    MISSING_AUTHENTICATION_TOKEN: { status: '401', errorType: 'UnauthorizedClientException', code: 'Unauthorized' },
    ACCESS_DENIED: { status: '403', errorType: 'ForbiddenException', code: 'Forbidden' },
    THROTTLED: { status: '429', errorType: 'ThrottledClientException', code: 'Throttled' },
    DEFAULT_4XX: { errorType: 'BadRequestException', code: 'BadRequest' },
    DEFAULT_5XX: { errorType: 'ServiceFailureException', code: 'ServiceFailure' },
  };
  const responses = new Map(ofType(resources, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]));

  for (const [type, e] of Object.entries(expected)) {
    test(`gateway response ${type} → ${e.status ?? 'its own status'} ${e.errorType}`, () => {
      const r = responses.get(type);
      assert.ok(r, `${type} is customised`);
      if (e.status) assert.equal(r.StatusCode, e.status);
      const headers = r.ResponseParameters;
      assert.equal(headers['gatewayresponse.header.x-amzn-ErrorType'], `'${e.errorType}'`);
      assert.equal(headers['gatewayresponse.header.Access-Control-Allow-Origin'], "'*'");
      assert.match(headers['gatewayresponse.header.Access-Control-Expose-Headers'], /x-amzn-ErrorType/);
      for (const v of Object.values(headers)) assert.match(String(v), /^'.*'$/, 'static header values are single-quoted');
      const body = r.ResponseTemplates['application/json'].replace('$context.error.messageString', JSON.stringify('a "quoted" message'));
      assert.deepEqual(JSON.parse(body), { Code: e.code, Message: 'a "quoted" message' });
    });
  }

  test('no account-wide CloudWatch role', () => {
    assert.equal(ofType(resources, 'AWS::ApiGateway::Account').length, 0);
  });
});

describe('WebSocket API', () => {
  const { resources, functionIds, webSocketApiId, webSocketStageId } = defaults;
  const routeEntries = Object.entries(WEBSOCKET_API.routes) as Array<[string, FunctionName]>;
  const twoWay: readonly string[] = WEBSOCKET_API.twoWayRoutes;
  const routes = ofType(resources, 'AWS::ApiGatewayV2::Route');
  const routeFor = (key: string) => routes.find(([, r]) => r.Properties.RouteKey === key);

  test('one WebSocket API with the route selection expression of WEBSOCKET_API', () => {
    const apis = ofType(resources, 'AWS::ApiGatewayV2::Api');
    assert.deepEqual(apis.map(([id]) => id), [webSocketApiId]);
    const p = resources[webSocketApiId].Properties;
    assert.equal(p.ProtocolType, 'WEBSOCKET');
    assert.equal(p.RouteSelectionExpression, WEBSOCKET_API.routeSelectionExpression);
  });

  test(`one auto-deployed stage ${WEBSOCKET_API.stageName}, throttled, deployed once its routes exist`, () => {
    const stages = ofType(resources, 'AWS::ApiGatewayV2::Stage');
    assert.deepEqual(stages.map(([id]) => id), [webSocketStageId]);
    const stage = resources[webSocketStageId];
    assert.equal(stage.Properties.StageName, WEBSOCKET_API.stageName);
    assert.deepEqual(stage.Properties.ApiId, { Ref: webSocketApiId });
    assert.equal(stage.Properties.AutoDeploy, true);
    const settings = stage.Properties.DefaultRouteSettings;
    assert.ok(settings.ThrottlingRateLimit > 0 && settings.ThrottlingBurstLimit > 0, JSON.stringify(settings));
    for (const [id] of routes) assert.ok(asArray(stage.DependsOn).includes(id), `stage waits for route ${id}`);
  });

  test('exactly the routes of WEBSOCKET_API, none behind an API Gateway authorizer', () => {
    assert.deepEqual(routes.map(([, r]) => r.Properties.RouteKey).sort(), routeEntries.map(([k]) => k).sort());
    for (const [, r] of routes) assert.equal(r.Properties.AuthorizationType, 'NONE');
    assert.equal(ofType(resources, 'AWS::ApiGatewayV2::Authorizer').length, 0);
  });

  test('so the $connect function verifies tokens itself', () => {
    assert.equal(FUNCTIONS[WEBSOCKET_API.routes.$connect].verifiesTokens, true);
  });

  for (const [key, fn] of routeEntries) {
    test(`${key} → ${fn}: Lambda proxy integration, invokable by this API only`, () => {
      const found = routeFor(key);
      assert.ok(found, `route ${key}`);
      const [integrationId] = referencedIds(found[1].Properties.Target);
      assert.equal(render(found[1].Properties.Target), `integrations/\${${integrationId}}`);
      const integration = resources[integrationId!];
      assert.equal(integration.Type, 'AWS::ApiGatewayV2::Integration');
      assert.equal(integration.Properties.IntegrationType, 'AWS_PROXY');
      assert.deepEqual(referencedIds(integration.Properties.IntegrationUri), [functionIds[fn]]);
      const permissions = ofType(resources, 'AWS::Lambda::Permission')
        .map(([, p]) => p.Properties)
        .filter((p) => referencedIds(p.FunctionName).includes(functionIds[fn]) && p.Principal === 'apigateway.amazonaws.com');
      assert.ok(permissions.length > 0, `${fn} may be invoked by API Gateway`);
      for (const p of permissions) {
        assert.equal(p.Action, 'lambda:InvokeFunction');
        // Any stage of this API, this route only.
        assert.equal(render(p.SourceArn), `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${webSocketApiId}}/*${key}`);
      }
    });

    test(`${key}: ${twoWay.includes(key) ? 'two-way (route response)' : 'one-way (no route response)'}, as WEBSOCKET_API.twoWayRoutes says`, () => {
      const [routeId, route] = routeFor(key)!;
      const responses = ofType(resources, 'AWS::ApiGatewayV2::RouteResponse').filter(([, r]) => r.Properties.RouteId?.Ref === routeId);
      if (twoWay.includes(key)) {
        assert.equal(route.Properties.RouteResponseSelectionExpression, '$default');
        assert.deepEqual(responses.map(([, r]) => r.Properties.RouteResponseKey), ['$default']);
      } else {
        assert.equal(route.Properties.RouteResponseSelectionExpression, undefined);
        assert.equal(responses.length, 0);
      }
    });
  }
});

describe('stream event source mappings', () => {
  const { resources, tableIds, functionIds, queueIds } = defaults;
  const mappings = ofType(resources, 'AWS::Lambda::EventSourceMapping');

  test('one AWS::Lambda::EventSourceMapping per STREAM_MAPPINGS entry, and no other', () => {
    assert.equal(mappings.length, STREAM_MAPPINGS.length);
    assert.equal(new Set(STREAM_MAPPINGS.map((m) => m.id)).size, STREAM_MAPPINGS.length, 'ids are unique');
    assert.deepEqual(Object.keys(defaults.stack.channelFlows.streamMappings).sort(), STREAM_MAPPINGS.map((m) => m.id).sort());
  });

  for (const m of STREAM_MAPPINGS) {
    test(`${m.id}: ${m.table} stream → ${m.function}, batching, retries and on-failure queue from STREAM_MAPPINGS`, () => {
      const found = mappings.filter(
        ([, r]) =>
          JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [tableIds[m.table], 'StreamArn'] }) &&
          JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: functionIds[m.function] }),
      );
      assert.equal(found.length, 1, `one mapping from the ${m.table} stream to ${m.function}`);
      const p = found[0]![1].Properties;
      assert.equal(p.BatchSize, m.batchSize);
      assert.equal(p.MaximumBatchingWindowInSeconds, m.maximumBatchingWindowSeconds);
      assert.equal(p.StartingPosition, m.startingPosition);
      assert.equal(p.BisectBatchOnFunctionError, m.bisectBatchOnFunctionError);
      assert.equal(p.MaximumRetryAttempts, m.maximumRetryAttempts);
      assert.equal(p.MaximumRecordAgeInSeconds, m.maximumRecordAgeSeconds);
      assert.deepEqual(p.FunctionResponseTypes, m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : undefined);
      assert.deepEqual(p.DestinationConfig, { OnFailure: { Destination: { 'Fn::GetAtt': [queueIds[m.onFailure], 'Arn'] } } });
      assert.notEqual(p.Enabled, false);
    });

    const filterTitle = m.entities
      ? `only records whose new or old image has entity ${m.entities.join(' or ')}`
      : 'no event filter (every record)';
    test(`${m.id}: FilterCriteria as the definition's entities say: ${filterTitle}`, () => {
      const [[, mapping]] = mappings.filter(
        ([, r]) =>
          JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': [tableIds[m.table], 'StreamArn'] }) &&
          JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: functionIds[m.function] }),
      ) as [[string, Json]];
      const criteria = mapping.Properties.FilterCriteria;
      if (!m.entities) {
        assert.equal(criteria, undefined);
        return;
      }
      assert.deepEqual(Object.keys(criteria), ['Filters']);
      for (const filter of criteria.Filters) {
        assert.deepEqual(Object.keys(filter), ['Pattern']);
        assert.equal(typeof filter.Pattern, 'string', 'a JSON string, as Lambda takes it');
        assert.ok(filter.Pattern.length <= 4096);
      }
      // Lambda ORs the filters: the new image's entity, or the old one's (removals have only the old image).
      assert.deepEqual(criteria.Filters.map((filter: Json) => JSON.parse(filter.Pattern)), [
        { dynamodb: { NewImage: { entity: { S: [...m.entities] } } } },
        { dynamodb: { OldImage: { entity: { S: [...m.entities] } } } },
      ]);
    });
  }

  test('the fan-out gets messages and memberships, the session opener connections: entities as the handlers and repositories name them', () => {
    const entitiesOf = (id: string) => STREAM_MAPPINGS.find((m) => m.id === id)?.entities;
    assert.deepEqual(entitiesOf('MessageEvents'), [ENTITY.message]);
    assert.deepEqual(entitiesOf('MembershipEvents'), [ENTITY.membership]);
    assert.deepEqual(entitiesOf('SessionEvents'), [CONNECTION_ENTITY]);
    for (const m of STREAM_MAPPINGS) {
      if (m.entities) assert.equal(TABLES[m.table].stream, 'NEW_AND_OLD_IMAGES', `${m.id} filters on both images`);
    }
  });
});

describe('alarms', () => {
  const { stack, resources, queueIds, functionIds } = defaults;
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
  const streamFunctions = [...new Set(STREAM_MAPPINGS.map((m) => m.function))];

  /** The alarms on one metric of one resource (by its single dimension). */
  const alarmsOn = (all: Array<[string, Json]>, namespace: string, metricName: string, dimension: Json) =>
    all.filter(
      ([, a]) =>
        a.Properties.Namespace === namespace &&
        a.Properties.MetricName === metricName &&
        JSON.stringify(a.Properties.Dimensions) === JSON.stringify([dimension]),
    );

  /** One period of ALARMS.periodSeconds above the threshold alarms; no data is not breaching. */
  function assertAlarm(found: Array<[string, Json]>, statistic: string, threshold: number): void {
    assert.equal(found.length, 1, 'exactly one alarm on this metric');
    const p = found[0]![1].Properties;
    assert.equal(p.Statistic, statistic);
    assert.equal(p.Threshold, threshold);
    assert.equal(p.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(p.Period, ALARMS.periodSeconds);
    assert.equal(p.EvaluationPeriods, 1);
    assert.equal(p.DatapointsToAlarm, 1);
    assert.equal(p.TreatMissingData, 'notBreaching');
    assert.equal(p.ExtendedStatistic, undefined);
    assert.equal(p.Metrics, undefined, 'a plain metric, not a math expression');
    assert.ok(typeof p.AlarmDescription === 'string' && p.AlarmDescription.length > 0);
  }

  test('the operator\'s alarms: 5-minute periods, any visible queue message, IteratorAge above 60 s, errors of the five background functions', () => {
    assert.equal(ALARMS.periodSeconds, 300);
    assert.equal(ALARMS.queueMessagesVisibleAbove, 0);
    assert.equal(ALARMS.iteratorAgeSecondsAbove, 60);
    assert.deepEqual([...ALARMS.functionErrors].sort(), ['channelCleanup', 'fanout', 'pendingSweeper', 'processorOutcome', 'sessionOpener']);
  });

  test('one alarm per queue, per stream-mapped function and per function of ALARMS.functionErrors, and no other; all exposed as `alarms`', () => {
    assert.equal(alarms.length, names(QUEUES).length + streamFunctions.length + ALARMS.functionErrors.length);
    const exposed = stack.channelFlows.alarms.map((alarm) => stack.getLogicalId(alarm.node.defaultChild as CfnResource)).sort();
    assert.deepEqual(exposed, alarms.map(([id]) => id).sort());
  });

  for (const name of names(QUEUES)) {
    test(`${name} queue: ApproximateNumberOfMessagesVisible Maximum > ${ALARMS.queueMessagesVisibleAbove} (a batch was dead-lettered)`, () => {
      const dimension = { Name: 'QueueName', Value: { 'Fn::GetAtt': [queueIds[name], 'QueueName'] } };
      assertAlarm(alarmsOn(alarms, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', dimension), 'Maximum', ALARMS.queueMessagesVisibleAbove);
    });
  }

  for (const m of STREAM_MAPPINGS) {
    test(`${m.id}: IteratorAge of ${m.function} Maximum > ${ALARMS.iteratorAgeSecondsAbove} s (in milliseconds)`, () => {
      const dimension = { Name: 'FunctionName', Value: { Ref: functionIds[m.function] } };
      assertAlarm(alarmsOn(alarms, 'AWS/Lambda', 'IteratorAge', dimension), 'Maximum', ALARMS.iteratorAgeSecondsAbove * 1000);
    });
  }

  for (const name of ALARMS.functionErrors) {
    test(`${name}: Errors Sum > 0`, () => {
      const dimension = { Name: 'FunctionName', Value: { Ref: functionIds[name] } };
      assertAlarm(alarmsOn(alarms, 'AWS/Lambda', 'Errors', dimension), 'Sum', 0);
    });
  }

  test('no IteratorAge alarm on a function without a stream mapping, no Errors alarm on a function not listed', () => {
    for (const name of names(FUNCTIONS)) {
      const dimension = { Name: 'FunctionName', Value: { Ref: functionIds[name] } };
      if (!streamFunctions.includes(name)) assert.equal(alarmsOn(alarms, 'AWS/Lambda', 'IteratorAge', dimension).length, 0, name);
      if (!ALARMS.functionErrors.includes(name)) assert.equal(alarmsOn(alarms, 'AWS/Lambda', 'Errors', dimension).length, 0, name);
    }
  });

  test('without alarmAction: no alarm has an action, and no SNS topic is created', () => {
    for (const [id, a] of alarms) {
      assert.equal(a.Properties.AlarmActions, undefined, id);
      assert.equal(a.Properties.OKActions, undefined, id);
      assert.equal(a.Properties.InsufficientDataActions, undefined, id);
    }
    assert.equal(ofType(resources, 'AWS::SNS::Topic').length, 0);
  });

  test('with alarmAction (an SNS topic): every alarm notifies it on ALARM, and only then', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const own = new Stack(app, 'Operations');
    const topic = new Topic(own, 'OnCall');
    const cf = new ChannelFlows(own, 'ChannelFlows', { alarmAction: new SnsAction(topic) });
    const withAction = ofType(Template.fromStack(own).toJSON().Resources, 'AWS::CloudWatch::Alarm');
    assert.equal(withAction.length, alarms.length);
    assert.equal(cf.alarms.length, alarms.length);
    const topicRef = { Ref: own.getLogicalId(topic.node.defaultChild as CfnResource) };
    for (const [id, a] of withAction) {
      assert.deepEqual(a.Properties.AlarmActions, [topicRef], id);
      assert.equal(a.Properties.OKActions, undefined, id);
      assert.equal(a.Properties.InsufficientDataActions, undefined, id);
    }
  });

  test('ChannelFlowsStack hands alarmAction to the construct', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:on-call';
    const topic = Topic.fromTopicArn(new Stack(new App(), 'Elsewhere'), 'OnCall', arn);
    const { resources: withTopic } = build({ alarmAction: new SnsAction(topic) });
    const withAction = ofType(withTopic, 'AWS::CloudWatch::Alarm');
    assert.equal(withAction.length, alarms.length);
    for (const [id, a] of withAction) assert.deepEqual(a.Properties.AlarmActions, [arn], id);
  });
});

describe('queues', () => {
  const { resources, queueIds } = defaults;

  test('one queue per entry of QUEUES, and no other', () => {
    assert.deepEqual(ofType(resources, 'AWS::SQS::Queue').map(([id]) => id).sort(), Object.values(queueIds).sort());
  });

  for (const name of names(QUEUES)) {
    test(`${name}: retention of ${QUEUES[name].retentionDays} days, SQS-managed encryption, TLS only`, () => {
      const p = resources[queueIds[name]].Properties;
      assert.equal(p.MessageRetentionPeriod, QUEUES[name].retentionDays * 24 * 60 * 60);
      assert.equal(p.SqsManagedSseEnabled, true);
      assert.equal(p.KmsMasterKeyId, undefined);
      const policies = ofType(resources, 'AWS::SQS::QueuePolicy').filter(([, q]) => referencedIds(q.Properties.Queues).includes(queueIds[name]));
      const denyPlain = policies
        .flatMap(([, q]) => asArray<Json>(q.Properties.PolicyDocument.Statement))
        .find((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      assert.ok(denyPlain, 'requests without TLS are denied');
      assert.deepEqual(denyPlain.Principal, { AWS: '*' });
    });
  }
});

describe('identity', () => {
  test('by default: a user pool without self sign-up, an SRP/password client without secret, the admin group, and their outputs', () => {
    const { template, resources, functionIds } = defaults;
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    const [[poolId, pool]] = ofType(resources, 'AWS::Cognito::UserPool') as [[string, Json]];
    assert.equal(pool.Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly, true);
    assert.deepEqual(pool.Properties.UsernameAttributes, ['email']);
    const [[clientId, client]] = ofType(resources, 'AWS::Cognito::UserPoolClient') as [[string, Json]];
    assert.equal(client.Properties.GenerateSecret, false);
    for (const flow of ['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH']) assert.ok(client.Properties.ExplicitAuthFlows.includes(flow));
    const groups = ofType(resources, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties.GroupName);
    assert.deepEqual(groups, ['AppInstanceAdmins']);

    const env = resources[functionIds[REST_API.authorizer]].Properties.Environment.Variables;
    assert.equal(render(env[ENV.jwtIssuer]), `https://cognito-idp.\${AWS::Region}.\${AWS::URLSuffix}/\${${poolId}}`);
    assert.equal(render(env[ENV.jwksUri]), `https://cognito-idp.\${AWS::Region}.\${AWS::URLSuffix}/\${${poolId}}/.well-known/jwks.json`);
    assert.deepEqual(env[ENV.jwtAudience], { Ref: clientId });
    assert.equal(env[ENV.userIdClaim], 'sub');
    assert.equal(env[ENV.adminClaim], 'cognito:groups');
    assert.equal(env[ENV.adminClaimValue], 'AppInstanceAdmins');

    const outputs = template.toJSON().Outputs;
    const queueOutputs = names(QUEUES).map((q) => `${q[0]!.toUpperCase()}${q.slice(1)}QueueUrl`);
    assert.deepEqual(
      Object.keys(outputs).sort(),
      ['AppInstanceArn', 'CallbackUrl', 'RestApiUrl', 'UserPoolClientId', 'UserPoolId', 'WebSocketUrl', ...queueOutputs].sort(),
    );
    assert.equal(
      render(outputs.WebSocketUrl.Value),
      `wss://\${${defaults.webSocketApiId}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/${WEBSOCKET_API.stageName}`,
    );
    for (const q of names(QUEUES)) {
      assert.deepEqual(outputs[`${q[0]!.toUpperCase()}${q.slice(1)}QueueUrl`].Value, { Ref: defaults.queueIds[q] });
    }
    assert.equal(render(outputs.AppInstanceArn.Value), 'arn:${AWS::Partition}:chime:${AWS::Region}:${AWS::AccountId}:app-instance/default');
  });

  test('with a given issuer: no user pool, and the token-verifying functions get that issuer', () => {
    const issuer = 'https://issuer.example.com/';
    const { template, resources, functionIds } = build({
      appInstanceId: 'prod-1',
      identity: { issuer, audience: 'my-client', adminClaim: 'roles', adminClaimValue: 'chime-admin' },
    });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    assert.equal(template.toJSON().Outputs.UserPoolId, undefined);
    for (const f of names(FUNCTIONS)) {
      const env = resources[functionIds[f]].Properties.Environment.Variables;
      assert.match(render(env[ENV.appInstanceArn]), /:app-instance\/prod-1$/);
      if (!FUNCTIONS[f].verifiesTokens) {
        assert.equal(env[ENV.jwtIssuer], undefined);
        continue;
      }
      assert.equal(env[ENV.jwtIssuer], issuer);
      assert.equal(env[ENV.jwksUri], 'https://issuer.example.com/.well-known/jwks.json');
      assert.equal(env[ENV.jwtAudience], 'my-client');
      assert.equal(env[ENV.userIdClaim], 'sub');
      assert.equal(env[ENV.nameClaim], 'name');
      assert.equal(env[ENV.adminClaim], 'roles');
      assert.equal(env[ENV.adminClaimValue], 'chime-admin');
    }
  });
});

describe('props validation', () => {
  for (const bad of ['bad/id', '-leading-dash', 'x'.repeat(65), '']) {
    test(`appInstanceId ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 10)}…` : bad)} is refused, quoting the value`, () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      assert.throws(
        () => new ChannelFlowsStack(app, 'Bad', { appInstanceId: bad }),
        (e: Error) => e.message.includes(`"${bad}"`),
      );
    });
  }

  test('webSocketThrottle overrides the stage throttling, the rest keeps its default', () => {
    const { resources, webSocketStageId } = build({ webSocketThrottle: { rateLimit: 10 } });
    const settings = resources[webSocketStageId].Properties.DefaultRouteSettings;
    assert.equal(settings.ThrottlingRateLimit, 10);
    assert.equal(settings.ThrottlingBurstLimit, defaults.resources[defaults.webSocketStageId].Properties.DefaultRouteSettings.ThrottlingBurstLimit);
  });

  test('webSocketThrottle: a field given as undefined keeps its default; a negative limit is refused with its value', () => {
    const { resources, webSocketStageId } = build({ webSocketThrottle: { rateLimit: 50, burstLimit: undefined } });
    assert.equal(
      resources[webSocketStageId].Properties.DefaultRouteSettings.ThrottlingBurstLimit,
      defaults.resources[defaults.webSocketStageId].Properties.DefaultRouteSettings.ThrottlingBurstLimit,
    );
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    assert.throws(() => new ChannelFlowsStack(app, 'Bad', { webSocketThrottle: { rateLimit: -5 } }), /rateLimit.*-5/);
  });

  test('an issuer that is not an https URL is refused', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    assert.throws(() => new ChannelFlowsStack(app, 'Bad', { identity: { issuer: 'issuer.example.com' } }), /issuer\.example\.com/);
  });
});

describe('channel flow processors', () => {
  const { resources, functionIds, processorIds, stack } = defaults;
  const outcomeArn = { 'Fn::GetAtt': [functionIds[PROCESSORS.outcomeFunction], 'Arn'] };
  const configs = ofType(resources, 'AWS::Lambda::EventInvokeConfig');

  /** Holds one processor's AWS::Lambda::EventInvokeConfig against PROCESSORS.asyncInvoke. */
  const checkConfig = (all: Array<[string, Json]>, functionName: Json, maximumEventAgeSeconds: number = PROCESSORS.asyncInvoke.maximumEventAgeSeconds) => {
    const found = all.filter(([, c]) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify(functionName));
    assert.equal(found.length, 1, `one async-invoke configuration of ${JSON.stringify(functionName)}`);
    const p = found[0]![1].Properties;
    assert.equal(p.Qualifier, '$LATEST');
    assert.equal(p.MaximumRetryAttempts, PROCESSORS.asyncInvoke.maximumRetryAttempts);
    assert.equal(p.MaximumEventAgeInSeconds, maximumEventAgeSeconds);
    assert.deepEqual(p.DestinationConfig, { OnSuccess: { Destination: outcomeArn }, OnFailure: { Destination: outcomeArn } });
  };

  test('the shipped processors are deployed and registered', () => {
    assert.deepEqual(processorIds.sort(), Object.values(PROCESSORS.shipped).map((f) => functionIds[f]).sort());
    assert.equal(stack.channelFlows.processors.length, Object.keys(PROCESSORS.shipped).length);
  });

  test('one async-invoke configuration per registered processor and no other: retries and event age of PROCESSORS.asyncInvoke, the outcome function on success and on failure', () => {
    assert.equal(configs.length, processorIds.length);
    for (const id of processorIds) checkConfig(configs, { Ref: id });
  });

  test('the default flow timeout leaves the event age of PROCESSORS.asyncInvoke as it is, a minute short of the timeout', () => {
    assert.ok(PROCESSORS.asyncInvoke.maximumEventAgeSeconds <= PROCESSORS.defaultFlowTimeoutSeconds - 60);
    assert.equal(stack.channelFlows.processorMaxEventAge.toSeconds(), PROCESSORS.asyncInvoke.maximumEventAgeSeconds);
  });

  test('a custom prefix names the shipped processor, scopes the invoke permission and reaches the flow functions; deny words reach the moderation function', () => {
    const prefix = 'acme_flows-';
    const custom = build({ processorPrefix: prefix, moderationDenyWords: ['spam', 'scam'] });
    const moderation = custom.resources[custom.functionIds[MODERATION]].Properties;
    assert.equal(moderation.FunctionName, `${prefix}moderation`);
    assert.equal(moderation.FunctionName, fixedName(MODERATION, prefix));
    assert.equal(moderation.Environment.Variables[ENV.moderationDenyWords], 'spam,scam');
    for (const f of names(FUNCTIONS)) {
      const env = custom.resources[custom.functionIds[f]].Properties.Environment.Variables;
      assert.equal(env[ENV.processorPrefix], FUNCTIONS[f].processesFlows ? prefix : undefined, f);
    }
    const invokers = grants(custom.resources).filter((g) => asArray<string>(g.statement.Action).includes('lambda:InvokeFunction'));
    const expectedRoles = names(FUNCTIONS).filter((f) => FUNCTIONS[f].invokesProcessors).map((f) => roleOf(custom.resources, custom.functionIds[f]));
    const scoped = invokers.filter((g) => g.roleIds.some((r) => expectedRoles.includes(r)));
    assert.ok(scoped.length > 0);
    for (const g of scoped) assert.deepEqual(asArray(g.statement.Resource).map(render), processorArnPatterns(prefix));
  });

  test('a longer flow timeout reaches the flow functions and keeps the event age; a short one caps the event age a minute below it', () => {
    const long = build({ flowTimeout: Duration.minutes(10) });
    for (const f of names(FUNCTIONS).filter((x) => FUNCTIONS[x].processesFlows)) {
      assert.equal(long.resources[long.functionIds[f]].Properties.Environment.Variables[ENV.flowTimeoutSeconds], '600', f);
    }
    checkConfig(ofType(long.resources, 'AWS::Lambda::EventInvokeConfig'), { Ref: long.functionIds[MODERATION] });

    const short = build({ flowTimeout: Duration.minutes(3) });
    checkConfig(ofType(short.resources, 'AWS::Lambda::EventInvokeConfig'), { Ref: short.functionIds[MODERATION] }, 120);
    const shortest = build({ flowTimeout: Duration.minutes(2) });
    checkConfig(ofType(shortest.resources, 'AWS::Lambda::EventInvokeConfig'), { Ref: shortest.functionIds[MODERATION] }, 60);
  });

  test('deployModerationProcessor: false leaves the shipped processor out, and with it every processor grant', () => {
    const without = build({ deployModerationProcessor: false });
    const functions = ofType(without.resources, 'AWS::Lambda::Function');
    assert.equal(functions.length, names(FUNCTIONS).length - 1);
    assert.ok(functions.every(([, f]) => f.Properties.FunctionName === undefined), 'no fixed name is left');
    assert.equal(without.stack.channelFlows.functions[MODERATION], undefined);
    assert.throws(() => without.stack.channelFlows.getFunction(MODERATION), new RegExp(MODERATION));
    assert.deepEqual(without.stack.channelFlows.processors, []);
    assert.equal(ofType(without.resources, 'AWS::Lambda::EventInvokeConfig').length, 0);
    const all = grants(without.resources);
    assert.ok(!all.some((g) => asArray<string>(g.statement.Action).includes('execute-api:Invoke')));
    const invokers = all.filter((g) => asArray<string>(g.statement.Action).includes('lambda:InvokeFunction'));
    const expectedRoles = names(FUNCTIONS).filter((f) => FUNCTIONS[f].invokesProcessors).map((f) => roleOf(without.resources, without.functionIds[f]));
    assert.deepEqual([...new Set(invokers.flatMap((g) => g.roleIds))].sort(), expectedRoles.sort());
  });

  describe('addProcessor', () => {
    test('registers a function of another team named with the prefix: async invoke, destinations, the outcome and callback grants', () => {
      let team: LambdaFunction | undefined;
      const built = build({}, (s) => {
        team = otherTeamFunction(s, 'Translate', `${PROCESSORS.defaultPrefix}translate`);
        s.channelFlows.addProcessor(team);
      });
      const teamId = built.stack.getLogicalId(team!.node.defaultChild as CfnResource);
      assert.ok(built.processorIds.includes(teamId));
      const all = ofType(built.resources, 'AWS::Lambda::EventInvokeConfig');
      assert.equal(all.length, built.processorIds.length);
      checkConfig(all, { Ref: teamId });
      const role = roleOf(built.resources, teamId);
      const statements = grants(built.resources).filter((g) => g.roleIds.includes(role)).map((g) => g.statement);
      const outcome = `\${${built.functionIds[PROCESSORS.outcomeFunction]}.Arn}`;
      assert.deepEqual(
        statements.map((st) => [asArray(st.Action), asArray(st.Resource).map(render)]),
        [
          [['lambda:InvokeFunction'], [outcome, `${outcome}:*`]],
          [['execute-api:Invoke'], [callbackArn(built.restApiId)]],
        ],
      );
      // Lambda checks the destination permission when the configuration is created.
      const [[configId, config]] = all.filter(([, c]) => c.Properties.FunctionName.Ref === teamId) as [[string, Json]];
      const policyId = grants(built.resources).find((g) => g.roleIds.includes(role))!.policyId;
      assert.ok(asArray(config.DependsOn).includes(policyId) || asArray(built.resources[teamId].DependsOn).includes(policyId), `${configId} waits for ${policyId}`);
    });

    test('refuses a function named without the prefix, quoting the name and the prefix', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new ChannelFlowsStack(app, 'Bad');
      const fn = otherTeamFunction(stack, 'Other', 'other-team-translate');
      assert.throws(
        () => stack.channelFlows.addProcessor(fn),
        (e: Error) => e.message.includes('"other-team-translate"') && e.message.includes(`"${PROCESSORS.defaultPrefix}"`),
      );
      const imported = LambdaFunction.fromFunctionName(stack, 'Imported', 'other-team-imported');
      assert.throws(() => stack.channelFlows.addProcessor(imported), /"other-team-imported".*"channel-flow-"/);
    });

    test('refuses a function whose name CloudFormation would generate, and one registered twice', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new ChannelFlowsStack(app, 'Bad');
      assert.throws(() => stack.channelFlows.addProcessor(otherTeamFunction(stack, 'Unnamed')), /no functionName.*"channel-flow-"/);
      const fn = otherTeamFunction(stack, 'Named', `${PROCESSORS.defaultPrefix}twice`);
      stack.channelFlows.addProcessor(fn);
      assert.throws(() => stack.channelFlows.addProcessor(fn), /already registered/);
    });

    test('refuses a function of another account', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new ChannelFlowsStack(app, 'Bad', { env: { account: '111111111111', region: 'eu-west-1' } });
      const fn = LambdaFunction.fromFunctionArn(stack, 'Elsewhere', `arn:aws:lambda:eu-west-1:222222222222:function:${PROCESSORS.defaultPrefix}x`);
      assert.throws(() => stack.channelFlows.addProcessor(fn), /222222222222/);
    });

    test('a function imported without its role gets the destinations, no grant, and a warning saying what to grant', () => {
      let imported: IFunction | undefined;
      const built = build({}, (s) => {
        imported = LambdaFunction.fromFunctionName(s, 'Imported', `${PROCESSORS.defaultPrefix}imported`);
        s.channelFlows.addProcessor(imported);
      });
      assert.ok(built.stack.channelFlows.processors.includes(imported!));
      const configs = ofType(built.resources, 'AWS::Lambda::EventInvokeConfig');
      assert.equal(configs.length, built.processorIds.length + 1);
      const [[, config]] = configs.filter(([, c]) => !built.processorIds.includes(c.Properties.FunctionName.Ref)) as [[string, Json]];
      assert.match(JSON.stringify(config.Properties.FunctionName), new RegExp(`:function:${PROCESSORS.defaultPrefix}imported`));
      checkConfig(configs, config.Properties.FunctionName);
      assert.equal(grants(built.resources).length, grants(defaults.resources).length);
      const warnings = Annotations.fromStack(built.stack).findWarning('*', Match.stringLikeRegexp('imported without its role'));
      assert.equal(warnings.length, 1);
    });
  });
});

describe('schedules', () => {
  const { resources, functionIds, scheduleIds } = defaults;
  const rules = ofType(resources, 'AWS::Events::Rule');

  test('one EventBridge rule per SCHEDULES entry, and no other', () => {
    assert.deepEqual(rules.map(([id]) => id).sort(), SCHEDULES.map((x) => scheduleIds[x.id]).sort());
  });

  test('the pending sweep runs every minute', () => {
    const sweep = SCHEDULES.find((x) => x.function === 'pendingSweeper');
    assert.ok(sweep);
    assert.equal(resources[scheduleIds[sweep.id]!].Properties.ScheduleExpression, 'rate(1 minute)');
  });

  for (const x of SCHEDULES) {
    test(`${x.id}: ${rateExpression(x.rateSeconds)} → ${x.function}, retried twice`, () => {
      const p = resources[scheduleIds[x.id]!].Properties;
      assert.equal(p.ScheduleExpression, rateExpression(x.rateSeconds));
      assert.equal(p.State, 'ENABLED');
      assert.equal(p.Targets.length, 1);
      assert.deepEqual(p.Targets[0].Arn, { 'Fn::GetAtt': [functionIds[x.function], 'Arn'] });
      assert.deepEqual(p.Targets[0].RetryPolicy, { MaximumRetryAttempts: 2 });
      const permissions = ofType(resources, 'AWS::Lambda::Permission')
        .map(([, q]) => q.Properties)
        .filter((q) => q.Principal === 'events.amazonaws.com' && JSON.stringify(q.SourceArn) === JSON.stringify({ 'Fn::GetAtt': [scheduleIds[x.id], 'Arn'] }));
      assert.deepEqual(permissions.map((q) => q.FunctionName), [{ 'Fn::GetAtt': [functionIds[x.function], 'Arn'] }]);
    });
  }
});

describe('props validation: channel flows', () => {
  const attempt = (props: ChannelFlowsStackProps) => () => new ChannelFlowsStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad', props);

  for (const bad of ['', 'x'.repeat(41), 'has space-', 'slash/', 'ünicode-', 'colon:']) {
    test(`processorPrefix ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 10)}…` : bad)} is refused, quoting the value`, () => {
      assert.throws(attempt({ processorPrefix: bad }), (e: Error) => e.message.includes(`"${bad}"`));
    });
  }

  test('a processorPrefix of 40 characters is accepted', () => {
    assert.doesNotThrow(attempt({ processorPrefix: 'a'.repeat(40) }));
  });

  for (const [label, bad] of [
    ['119 seconds', Duration.seconds(119)],
    ['1 minute', Duration.minutes(1)],
    ['150.5 seconds', Duration.millis(150_500)],
  ] as const) {
    test(`flowTimeout of ${label} is refused, quoting the value`, () => {
      assert.throws(attempt({ flowTimeout: bad }), (e: Error) => e.message.includes(bad.toHumanString()) && /at least 120 s/.test(e.message));
    });
  }

  for (const bad of ['a,b', ' ', '']) {
    test(`moderation deny word ${JSON.stringify(bad)} is refused, quoting it`, () => {
      assert.throws(attempt({ moderationDenyWords: ['spam', bad] }), (e: Error) => e.message.includes(JSON.stringify(bad)));
    });
  }

  test('an empty deny list is accepted (the processor then only replaces e-mail addresses)', () => {
    const built = build({ moderationDenyWords: [] });
    assert.equal(built.resources[built.functionIds[MODERATION]].Properties.Environment.Variables[ENV.moderationDenyWords], '');
  });

  test('moderationDenyWords without the moderation processor is refused', () => {
    assert.throws(attempt({ moderationDenyWords: ['spam'], deployModerationProcessor: false }), /deployModerationProcessor/);
  });
});
