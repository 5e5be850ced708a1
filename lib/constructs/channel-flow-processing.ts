/**
 * How messages reach channel flow processors and how their answers come back: the processor naming
 * rule (prefix) and the permission to invoke processors, each registered processor's asynchronous
 * invoke configuration with the outcome function as its destinations, the flow timeout that bounds
 * it all, and the scheduled functions (the pending sweep that ends what the processors never did).
 */
import { Annotations, ArnFormat, Duration, Stack, Token, TokenComparison } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, type Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { CfnFunction, type IDestination, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { LambdaDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct, IConstruct } from 'constructs';
import { FUNCTIONS, PROCESSORS, SCHEDULES, type FunctionName } from '../system';
import { pascal } from './definition';
import type { FunctionLookup } from './functions';

/** What a processor prefix may be: the start of a Lambda function name, short enough to leave room for a name after it. */
const PROCESSOR_PREFIX_PATTERN = /^[a-zA-Z0-9\-_]{1,40}$/;

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

/** Retries of an EventBridge schedule's invoke of its function (the next run comes anyway). */
const SCHEDULE_RETRY_ATTEMPTS = 2;

/** Checks a processor prefix that synth can see. Called by the `ChannelFlows` constructor before anything is built. */
export function validateProcessorPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (!PROCESSOR_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`Invalid processorPrefix "${prefix}": use 1-40 characters of [a-zA-Z0-9-_] (the start of a Lambda function name)`);
  }
}

/**
 * The flow timeout in whole seconds, or an error quoting the value. Called by the `ChannelFlows`
 * constructor before anything is built.
 */
export function validateFlowTimeout(timeout: Duration): number {
  if (timeout.isUnresolved()) throw new Error('flowTimeout must be known at synth time, not a token');
  const seconds = timeout.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < MIN_FLOW_TIMEOUT_SECONDS) {
    throw new Error(
      `Invalid flowTimeout ${timeout.toHumanString()} (${seconds} s): use a whole number of seconds, at least ${MIN_FLOW_TIMEOUT_SECONDS} s (Lambda's minimum event age of ${LAMBDA_MIN_EVENT_AGE_SECONDS} s plus ${PROCESSOR_EVENT_AGE_MARGIN_SECONDS} s, so that a processor's events expire before the flow times out)`,
    );
  }
  return seconds;
}

/**
 * The maximum event age of every processor's asynchronous invocations: the smaller of
 * `PROCESSORS.asyncInvoke.maximumEventAgeSeconds` and the (validated) flow timeout minus the margin.
 */
export function processorMaxEventAge(flowTimeoutSeconds: number): Duration {
  return Duration.seconds(
    Math.min(PROCESSORS.asyncInvoke.maximumEventAgeSeconds, flowTimeoutSeconds - PROCESSOR_EVENT_AGE_MARGIN_SECONDS),
  );
}

/** The function of a shipped processor, by its flow processor name in `PROCESSORS.shipped`. */
export function shippedFunction(processor: string): FunctionName {
  const name = PROCESSORS.shipped[processor];
  if (name === undefined || !(name in FUNCTIONS)) throw new Error(`PROCESSORS.shipped.${processor} names no function of FUNCTIONS`);
  return name;
}

/**
 * Lets `fn` invoke processors: `lambda:InvokeFunction` on the functions of this account and region
 * whose names start with `processorPrefix`, and on their versions and aliases, nothing else.
 */
export function grantInvokeProcessors(fn: IFunction, processorPrefix: string): void {
  const stack = Stack.of(fn);
  const processorArns = [
    // `function:{prefix}*` and, for qualified ARNs (version or alias), `function:{prefix}*:*`.
    stack.formatArn({ service: 'lambda', resource: 'function', resourceName: `${processorPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    stack.formatArn({ service: 'lambda', resource: 'function', resourceName: `${processorPrefix}*:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  ];
  fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: processorArns }));
}

/**
 * Throws unless `fn` may be a processor of the deployment that `scope` belongs to: its name, when
 * synth knows it, starts with `processorPrefix` (a name CloudFormation would generate does not),
 * it is in the stack's account and region, and it is not in `registered` yet.
 */
export function assertProcessorCandidate(scope: Construct, fn: IFunction, processorPrefix: string, registered: readonly IFunction[]): void {
  const known = knownFunctionName(fn);
  if (known === GENERATED_NAME) {
    throw new Error(
      `Processor ${fn.node.path} has no functionName, so CloudFormation would generate one that does not start with the processor prefix "${processorPrefix}": give it functionName: '${processorPrefix}…'`,
    );
  }
  const name = known;
  const where = processorDescription(fn, name);
  if (name !== undefined && !Token.isUnresolved(processorPrefix) && !name.startsWith(processorPrefix)) {
    throw new Error(`Processor function "${name}" does not start with the processor prefix "${processorPrefix}", so channel flows could not invoke it`);
  }
  const stack = Stack.of(scope);
  for (const [what, theirs, ours] of [['account', fn.env.account, stack.account], ['region', fn.env.region, stack.region]] as const) {
    if (Token.compareStrings(theirs, ours) === TokenComparison.DIFFERENT) {
      throw new Error(`Processor ${where} is in ${what} ${theirs}, not in this deployment's ${what} ${ours}`);
    }
  }
  if (registered.includes(fn)) throw new Error(`Processor ${where} is already registered`);
}

/** Properties of {@link configureProcessor}. */
export interface ProcessorInvokeProps {
  /** The outcome function (`PROCESSORS.outcomeFunction`): both destinations of the processor's invocations. */
  readonly outcome: IFunction;

  /** The maximum event age of the processor's asynchronous invocations. */
  readonly maxEventAge: Duration;

  /** Grants the processor's role the ChannelFlowCallback route. */
  readonly grantCallback: (grantee: IGrantable) => Grant;

  /** Where the warning about a processor imported without its role is attached. */
  readonly warningScope: IConstruct;
}

/**
 * Gives a processor its asynchronous invoke configuration (`PROCESSORS.asyncInvoke` retries, the max
 * event age, the outcome function as on-success and on-failure destination with the whole record)
 * and, when CDK knows its role, lets that role invoke the outcome function (before the configuration
 * is created, which is when Lambda checks it) and call the callback route. Without a role: the same
 * destinations, no grants, and a warning saying what to grant.
 */
export function configureProcessor(fn: IFunction, props: ProcessorInvokeProps): void {
  const { outcome } = props;
  // LambdaDestination grants the processor's role lambda:InvokeFunction on the outcome function; it
  // cannot for a role CDK does not know, so such a processor gets the same destination without it.
  const destination: IDestination = fn.role
    ? new LambdaDestination(outcome, { responseOnly: false })
    : { bind: () => ({ destination: outcome.functionArn }) };
  fn.configureAsyncInvoke({
    retryAttempts: PROCESSORS.asyncInvoke.maximumRetryAttempts,
    maxEventAge: props.maxEventAge,
    onSuccess: destination,
    onFailure: destination,
  });
  if (fn.role) {
    // Lambda checks the role's permission on the destination when the configuration is created.
    const config = fn.node.tryFindChild('EventInvokeConfig');
    if (config) outcome.grantInvoke(fn).applyBefore(config);
    props.grantCallback(fn);
  } else {
    const where = processorDescription(fn, knownFunctionName(fn));
    Annotations.of(props.warningScope).addWarningV2(
      'channel-flows:processorWithoutRole',
      `Processor ${where} was imported without its role: grant that role lambda:InvokeFunction on the outcome function and execute-api:Invoke on the callback route (grantCallback)`,
    );
  }
}

/** One EventBridge rule `{Id}Schedule` in `scope` per `SCHEDULES` entry, by its `id`. */
export function createSchedules(scope: Construct, getFunction: FunctionLookup): Record<string, Rule> {
  const schedules: Record<string, Rule> = {};
  for (const s of SCHEDULES) {
    if (schedules[s.id]) throw new Error(`Duplicate schedule id "${s.id}"`);
    if (!Number.isInteger(s.rateSeconds) || s.rateSeconds <= 0 || s.rateSeconds % 60 !== 0) {
      throw new Error(`Schedule ${s.id}: rateSeconds ${s.rateSeconds} is not a whole number of minutes, which EventBridge rates need`);
    }
    schedules[s.id] = new Rule(scope, `${pascal(s.id)}Schedule`, {
      description: `Runs ${s.function} every ${s.rateSeconds} seconds`,
      schedule: Schedule.rate(Duration.seconds(s.rateSeconds)),
      targets: [new LambdaFunction(getFunction(s.function), { retryAttempts: SCHEDULE_RETRY_ATTEMPTS })],
    });
  }
  return schedules;
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

/** How messages name a processor: its function name when known, else its construct path. */
function processorDescription(fn: IFunction, name: string | typeof GENERATED_NAME | undefined): string {
  return typeof name === 'string' ? name : fn.node.path;
}
