import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ClientContext, Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';

/**
 * The Lambda service for the local runtime: the `Invoke` operation of the Lambda API
 * (`POST /2015-03-31/functions/{FunctionName}/invocations`) on loopback, for functions registered
 * with it, so that `@aws-sdk/client-lambda` with `endpoint` set (or `AWS_ENDPOINT_URL_LAMBDA`)
 * reaches them exactly as it reaches AWS. It follows Lambda's rules:
 *
 * - FunctionName is a name, a full ARN or a partial ARN (`{account}:function:{name}`), URL-encoded
 *   in the path, with an optional `:{qualifier}` suffix or `?Qualifier=`. There are no versions
 *   locally: every qualifier (`$LATEST`, a version, an alias) runs `$LATEST`. A function that is not
 *   registered (or an ARN of another account or region) is `404 ResourceNotFoundException`
 *   `Function not found: arn:aws:lambda:…:function:{name}`.
 * - `RequestResponse` (the default) runs the function and answers 200 with its JSON result and
 *   `X-Amz-Executed-Version: $LATEST`; a function error (a throw, a rejection, an import failure, a
 *   timeout, a result that is not JSON or too large) is still 200, with `X-Amz-Function-Error:
 *   Unhandled` and `{errorType, errorMessage, trace}` as body. `LogType: Tail` gets a synthetic
 *   START/END/REPORT log in `X-Amz-Log-Result`.
 * - `Event` answers 202 at once and queues the event. Each function's queue is worked off by at
 *   most `asyncConcurrency` invocations at a time. A function error is retried
 *   `maximumRetryAttempts` times (default 2) after `retryDelaysMs` (AWS: about 1 then 2 minutes;
 *   here 1 s then 2 s by default); an event older than `maximumEventAgeSeconds` (default 6 h) is not
 *   run again. Success, `RetriesExhausted` and `EventAgeExceeded` produce AWS's destination record
 *   for `onSuccess` / `onFailure`; a failure without `onFailure` is logged and dropped. Retries keep
 *   the invocation's request id.
 * - `DryRun` checks that the function exists and answers 204.
 * - A function that has not answered within its timeout has failed with
 *   `Task timed out after N.NN seconds` (it keeps running in this process; its result is ignored).
 * - Payloads must be JSON (`400 InvalidRequestContentException`), at most 6 MB for
 *   `RequestResponse` and `maxAsyncPayloadBytes` (1 MB, as in AWS since 2025) for `Event`
 *   (`413 RequestTooLargeException`). An empty payload is the event `{}`.
 */

export const LAMBDA_LATEST = '$LATEST';
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;
const DEFAULT_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;
const DEFAULT_MAX_RETRY_ATTEMPTS = 2;
const DEFAULT_MAX_EVENT_AGE_SECONDS = 6 * 60 * 60;

/** The FunctionName pattern of the Lambda API. */
const FUNCTION_NAME_PATTERN =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const FUNCTION_NAME_PATTERN_TEXT =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const LOCAL_NAME_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

// ---------------------------------------------------------------------------------------------
// Types

/** A function's code: Lambda's `(event, context)` handler, sync or async. */
export type LambdaInvoke = (event: unknown, context: Context) => unknown;

/** What Lambda's Node.js runtime reports for a function error. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The record Lambda sends to an asynchronous invocation's on-success / on-failure destination. */
export interface AsyncInvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    /** The function ARN with `:$LATEST`. */
    readonly functionArn: string;
    readonly condition: DestinationCondition;
    readonly approximateInvokeCount: number;
  };
  /** The event as it was invoked with. */
  readonly requestPayload: unknown;
  readonly responseContext: {
    readonly statusCode: 200;
    readonly executedVersion: '$LATEST';
    readonly functionError?: 'Unhandled';
  };
  /**
   * The function's result (null for none) on success; the error payload of the last attempt on
   * failure. Absent for an event that expired before it was ever run.
   */
  readonly responsePayload?: unknown;
}

/** A destination: called with the record; a rejection is logged (the record is not redelivered). */
export type Destination = (record: AsyncInvocationRecord) => unknown;

export interface AsyncInvokeSettings {
  /** 0-2; default 2. */
  readonly maximumRetryAttempts?: number;
  /** 60-21600; default 21600. */
  readonly maximumEventAgeSeconds?: number;
  readonly onSuccess?: Destination;
  readonly onFailure?: Destination;
}

export interface LambdaFunctionRegistration {
  /** The function name (1-64 of `[a-zA-Z0-9-_]`), e.g. `channel-flow-moderation`. */
  readonly name: string;
  readonly invoke: LambdaInvoke;
  /** Default 3, as Lambda's. */
  readonly timeoutSeconds?: number;
  /** Overrides `timeoutSeconds` (tests); 0 turns the timeout off. */
  readonly timeoutMs?: number;
  /** Reported in the context; default 128. */
  readonly memorySize?: number;
  readonly asyncInvoke?: AsyncInvokeSettings;
  /** Asynchronous invocations of this function run at most this many at a time; default the service's. */
  readonly asyncConcurrency?: number;
}

export type LambdaServiceLogEntry =
  | { readonly type: 'function-error'; readonly functionName: string; readonly requestId: string; readonly invocationType: 'RequestResponse' | 'Event'; readonly attempt: number; readonly error: LambdaErrorPayload }
  | { readonly type: 'retry'; readonly functionName: string; readonly requestId: string; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'async-failure'; readonly functionName: string; readonly record: AsyncInvocationRecord; readonly delivered: boolean }
  | { readonly type: 'destination-error'; readonly functionName: string; readonly condition: DestinationCondition; readonly error: unknown }
  | { readonly type: 'service-error'; readonly error: unknown };

export interface LocalLambdaServiceOptions {
  /**
   * Delay before each retry of a failed asynchronous invocation: the first retry waits `[0]`, the
   * second `[1]` (the last entry is reused). Default `[1000, 2000]` (AWS: about 1 and 2 minutes).
   */
  readonly retryDelaysMs?: readonly number[];
  /** Default for each function's asynchronous concurrency; default 4. */
  readonly asyncConcurrency?: number;
  /** Largest `Event` payload; default 1 MB. */
  readonly maxAsyncPayloadBytes?: number;
  /** Clock for event ages and record timestamps (epoch ms); tests move it forward. Default `Date.now`. */
  readonly clock?: () => number;
  /** Default: function errors, retries and failed async invocations are written to stderr. */
  readonly log?: (entry: LambdaServiceLogEntry) => void;
}

export interface LambdaFunctionStats {
  invocations: number;
  functionErrors: number;
  asyncReceived: number;
  asyncSucceeded: number;
  asyncFailed: number;
}

/** An error of the Lambda API itself (not of the function): answered with `x-amzn-errortype`. */
export class LambdaServiceError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorType: string,
    message: string,
    readonly fault: 'User' | 'Service' = 'User',
  ) {
    super(message);
    this.name = errorType;
  }
}

/** A function error of an in-process synchronous invoke (`LocalLambdaService.invoke`). */
export class LambdaFunctionError extends Error {
  readonly functionError = 'Unhandled' as const;
  constructor(
    readonly functionName: string,
    readonly payload: LambdaErrorPayload,
  ) {
    super(`${functionName}: ${payload.errorType}: ${payload.errorMessage}`);
    this.name = 'LambdaFunctionError';
  }
}

/** `arn:aws:lambda:us-east-1:000000000000:function:{name}`. */
export function lambdaFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
}

// ---------------------------------------------------------------------------------------------
// The service

interface RegisteredFunction {
  readonly name: string;
  readonly arn: string;
  readonly invoke: LambdaInvoke;
  readonly timeoutMs: number;
  readonly memorySize: number;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly onSuccess: Destination | undefined;
  readonly onFailure: Destination | undefined;
  readonly asyncConcurrency: number;
  /** Kept when the function is registered again: queued events then run the new code. */
  readonly state: FunctionState;
}

interface FunctionState {
  readonly queue: AsyncEvent[];
  running: number;
  readonly stats: LambdaFunctionStats;
}

interface AsyncEvent {
  readonly requestId: string;
  /** The payload as received (JSON text); every attempt parses a fresh copy. */
  readonly payload: string;
  readonly invokedArn: string;
  readonly clientContext: ClientContext | undefined;
  readonly enqueuedAt: number;
  invokeCount: number;
  lastError: LambdaErrorPayload | undefined;
}

type Execution = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly error: LambdaErrorPayload };

interface ResolvedFunction {
  readonly fn: RegisteredFunction;
  /** The ARN as invoked, with the qualifier if one was given (the context's invokedFunctionArn). */
  readonly invokedArn: string;
}

export class LocalLambdaService {
  private readonly functions = new Map<string, RegisteredFunction>();
  private readonly retryDelaysMs: readonly number[];
  private readonly defaultConcurrency: number;
  private readonly maxAsyncPayloadBytes: number;
  private readonly clock: () => number;
  private readonly log: (entry: LambdaServiceLogEntry) => void;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly idleListeners = new Set<() => void>();
  private pendingDeliveries = 0;
  private server: Server | undefined;
  private url: string | undefined;
  private stopped = false;

  constructor(options: LocalLambdaServiceOptions = {}) {
    this.retryDelaysMs = options.retryDelaysMs && options.retryDelaysMs.length > 0 ? [...options.retryDelaysMs] : [1000, 2000];
    this.defaultConcurrency = Math.max(1, options.asyncConcurrency ?? 4);
    this.maxAsyncPayloadBytes = options.maxAsyncPayloadBytes ?? DEFAULT_ASYNC_PAYLOAD_BYTES;
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? defaultLog;
  }

  /** The endpoint URL (`http://127.0.0.1:PORT`); throws before `listen`. */
  get endpoint(): string {
    if (this.url === undefined) throw new Error('the local Lambda service is not listening');
    return this.url;
  }

  /** Starts the HTTP server; resolves with the endpoint URL for the SDK client. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.url !== undefined) return this.url;
    if (this.stopped) throw new Error('the local Lambda service has been stopped');
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.log({ type: 'service-error', error });
        if (!response.headersSent) sendError(response, randomUUID(), new LambdaServiceError(500, 'ServiceException', 'Internal error', 'Service'));
        else response.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the local Lambda service has no TCP address');
    this.server = server;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    return this.url;
  }

  /** Registers (or replaces) a function; returns its ARN. */
  register(registration: LambdaFunctionRegistration): string {
    const { name } = registration;
    if (!LOCAL_NAME_PATTERN.test(name)) throw new Error(`invalid function name ${JSON.stringify(name)}: 1-64 characters of [a-zA-Z0-9-_]`);
    const settings = registration.asyncInvoke ?? {};
    const maximumRetryAttempts = settings.maximumRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS;
    const maximumEventAgeSeconds = settings.maximumEventAgeSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS;
    if (!Number.isInteger(maximumRetryAttempts) || maximumRetryAttempts < 0 || maximumRetryAttempts > 2) {
      throw new Error(`${name}: maximumRetryAttempts must be 0, 1 or 2 (got ${maximumRetryAttempts})`);
    }
    if (!Number.isInteger(maximumEventAgeSeconds) || maximumEventAgeSeconds < 60 || maximumEventAgeSeconds > DEFAULT_MAX_EVENT_AGE_SECONDS) {
      throw new Error(`${name}: maximumEventAgeSeconds must be 60-21600 (got ${maximumEventAgeSeconds})`);
    }
    const timeoutMs = registration.timeoutMs ?? (registration.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const previous = this.functions.get(name);
    this.functions.set(name, {
      name,
      arn: lambdaFunctionArn(name),
      invoke: registration.invoke,
      timeoutMs,
      memorySize: registration.memorySize ?? DEFAULT_MEMORY_MB,
      maximumRetryAttempts,
      maximumEventAgeSeconds,
      onSuccess: settings.onSuccess,
      onFailure: settings.onFailure,
      asyncConcurrency: Math.max(1, registration.asyncConcurrency ?? this.defaultConcurrency),
      state: previous?.state ?? { queue: [], running: 0, stats: { invocations: 0, functionErrors: 0, asyncReceived: 0, asyncSucceeded: 0, asyncFailed: 0 } },
    });
    return lambdaFunctionArn(name);
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  /** `arn:aws:lambda:us-east-1:000000000000:function:{name}` (registered or not). */
  functionArn(name: string): string {
    return lambdaFunctionArn(name);
  }

  /** Counters of a registered function. */
  stats(name: string): Readonly<LambdaFunctionStats> {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function ${name}`);
    return { ...fn.state.stats };
  }

  /**
   * A synchronous (RequestResponse) invoke from this process, without HTTP: the result as the
   * caller would get it from the Payload (a JSON copy; null for none). Rejects with
   * `LambdaFunctionError` on a function error and `LambdaServiceError` for an unknown function.
   */
  async invoke(functionName: string, event: unknown = {}): Promise<unknown> {
    const { fn, invokedArn } = this.resolve(functionName, undefined);
    const requestId = randomUUID();
    const execution = await this.execute(fn, toPayload(event), requestId, invokedArn, undefined);
    if (!execution.ok) {
      this.log({ type: 'function-error', functionName: fn.name, requestId, invocationType: 'RequestResponse', attempt: 1, error: execution.error });
      throw new LambdaFunctionError(fn.name, execution.error);
    }
    return JSON.parse(execution.body) as unknown;
  }

  /**
   * An asynchronous (Event) invoke from this process, without HTTP, e.g. a destination that is a
   * function: queues the event and returns its request id.
   */
  invokeAsync(functionName: string, event: unknown = {}): string {
    const resolved = this.resolve(functionName, undefined);
    const payload = toPayload(event);
    if (Buffer.byteLength(payload) > this.maxAsyncPayloadBytes) throw tooLarge(this.maxAsyncPayloadBytes);
    return this.enqueue(resolved, payload, undefined);
  }

  /** A destination that invokes the function `name` asynchronously with the record, as Lambda does. */
  functionDestination(name: string): Destination {
    return (record) => {
      this.invokeAsync(name, record);
    };
  }

  /**
   * Resolves once nothing asynchronous is left: no queued or running event, no retry waiting, no
   * destination being delivered (including asynchronous invokes that destinations started).
   * Rejects after `timeoutMs` or when the service stops.
   */
  idle(timeoutMs = 10_000): Promise<void> {
    if (this.busy() === 0) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('the local Lambda service has been stopped'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleListeners.delete(check);
        reject(new Error(`the local Lambda service is still busy after ${timeoutMs} ms (${this.describeBusy()})`));
      }, timeoutMs);
      const check = () => {
        if (this.busy() === 0) {
          clearTimeout(timer);
          this.idleListeners.delete(check);
          resolve();
        } else if (this.stopped) {
          clearTimeout(timer);
          this.idleListeners.delete(check);
          reject(new Error('the local Lambda service stopped before it was idle'));
        }
      };
      this.idleListeners.add(check);
    });
  }

  /**
   * Stops at once: the server closes (open connections are cut), queued events and retries are
   * dropped, and invocations still running are not awaited (their outcome goes nowhere).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const fn of this.functions.values()) fn.state.queue.length = 0;
    this.notify();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      await this.route(request, response, requestId);
    } catch (error) {
      if (!(error instanceof LambdaServiceError)) throw error;
      if (!response.headersSent) sendError(response, requestId, error);
      else response.end();
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(url.pathname);
    const legacy = /^\/2014-11-13\/functions\/([^/]+)\/invoke-async\/?$/.exec(url.pathname);
    const match = invoke ?? legacy;
    if (!match || request.method !== 'POST') {
      await drain(request);
      throw new LambdaServiceError(404, 'UnknownOperationException', `Unknown operation ${request.method ?? ''} ${url.pathname}`);
    }
    if (this.stopped) throw new LambdaServiceError(503, 'ServiceException', 'The local Lambda service is stopping', 'Service');

    let functionName: string;
    try {
      functionName = decodeURIComponent(match[1]!);
    } catch {
      throw new LambdaServiceError(400, 'InvalidParameterValueException', 'The function name is not correctly URL-encoded');
    }
    const body = await readBody(request, MAX_SYNC_PAYLOAD_BYTES);
    const qualifier = invoke ? (url.searchParams.get('Qualifier') ?? undefined) : undefined;
    const resolved = this.resolve(functionName, qualifier);

    const header = (name: string): string | undefined => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const invocationType = legacy ? 'Event' : (header('x-amz-invocation-type') ?? 'RequestResponse');
    if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
      throw new LambdaServiceError(
        400,
        'ValidationException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
    }
    if (invocationType === 'DryRun') {
      response.writeHead(204, { 'x-amzn-RequestId': requestId });
      response.end();
      return;
    }
    if (body === undefined) throw tooLarge(MAX_SYNC_PAYLOAD_BYTES);
    const payload = parsePayload(body);
    const clientContext = parseClientContext(header('x-amz-client-context'));

    if (invocationType === 'Event') {
      if (Buffer.byteLength(payload) > this.maxAsyncPayloadBytes) throw tooLarge(this.maxAsyncPayloadBytes);
      this.enqueue(resolved, payload, clientContext, requestId);
      if (legacy) {
        response.writeHead(202, { 'Content-Type': 'application/json', 'x-amzn-RequestId': requestId });
        response.end(JSON.stringify({ Status: 202 }));
      } else {
        response.writeHead(202, { 'x-amzn-RequestId': requestId, 'Content-Length': '0' });
        response.end();
      }
      return;
    }

    const started = Date.now();
    const execution = await this.execute(resolved.fn, payload, requestId, resolved.invokedArn, clientContext);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'x-amzn-RequestId': requestId,
      'X-Amz-Executed-Version': LAMBDA_LATEST,
    };
    if (header('x-amz-log-type') === 'Tail') headers['X-Amz-Log-Result'] = tailLog(requestId, Date.now() - started, resolved.fn, execution);
    if (execution.ok) {
      response.writeHead(200, headers);
      response.end(execution.body);
    } else {
      this.log({ type: 'function-error', functionName: resolved.fn.name, requestId, invocationType: 'RequestResponse', attempt: 1, error: execution.error });
      response.writeHead(200, { ...headers, 'X-Amz-Function-Error': 'Unhandled' });
      response.end(JSON.stringify(execution.error));
    }
  }

  /** The registered function a FunctionName (and Qualifier) names. */
  private resolve(functionName: string, qualifierParameter: string | undefined): ResolvedFunction {
    const match = FUNCTION_NAME_PATTERN.exec(functionName);
    if (!match || functionName.length > 170) {
      throw new LambdaServiceError(
        400,
        'ValidationException',
        `1 validation error detected: Value '${functionName}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN_TEXT}`,
      );
    }
    const region = match[3]?.slice(0, -1) ?? LOCAL_REGION;
    const account = match[5]?.slice(0, -1) ?? LOCAL_ACCOUNT_ID;
    const name = match[7]!;
    const derivedQualifier = match[9];
    if (qualifierParameter !== undefined && qualifierParameter !== '' && !/^(\$LATEST|[a-zA-Z0-9-_]+)$/.test(qualifierParameter)) {
      throw new LambdaServiceError(
        400,
        'ValidationException',
        `1 validation error detected: Value '${qualifierParameter}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`,
      );
    }
    const explicitQualifier = qualifierParameter === '' ? undefined : qualifierParameter;
    if (derivedQualifier !== undefined && explicitQualifier !== undefined && derivedQualifier !== explicitQualifier) {
      throw new LambdaServiceError(400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
    }
    const qualifier = derivedQualifier ?? explicitQualifier;
    const arn = `arn:aws:lambda:${region}:${account}:function:${name}${qualifier !== undefined ? `:${qualifier}` : ''}`;
    const fn = region === LOCAL_REGION && account === LOCAL_ACCOUNT_ID ? this.functions.get(name) : undefined;
    if (!fn) throw new LambdaServiceError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
    return { fn, invokedArn: qualifier !== undefined ? `${fn.arn}:${qualifier}` : fn.arn };
  }

  // -------------------------------------------------------------------------------------------
  // Running a function

  /** One invocation: the handler with a Lambda context, its timeout and Lambda's result rules. */
  private async execute(fn: RegisteredFunction, payload: string, requestId: string, invokedArn: string, clientContext: ClientContext | undefined): Promise<Execution> {
    fn.state.stats.invocations += 1;
    const deadline = Date.now() + (fn.timeoutMs > 0 ? fn.timeoutMs : 15 * 60 * 1000);
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: LAMBDA_LATEST,
      invokedFunctionArn: invokedArn,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
      ...(clientContext !== undefined && { clientContext }),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let result: unknown;
    try {
      const event = JSON.parse(payload) as unknown;
      result = await withTimeout(
        Promise.resolve().then(() => fn.invoke(event, context)),
        fn.timeoutMs,
        requestId,
      );
    } catch (error) {
      fn.state.stats.functionErrors += 1;
      return { ok: false, error: errorPayload(error) };
    }
    let body: string;
    try {
      body = JSON.stringify(result === undefined ? null : result) ?? 'null';
    } catch (error) {
      fn.state.stats.functionErrors += 1;
      return { ok: false, error: { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${messageOf(error)}`, trace: [] } };
    }
    if (Buffer.byteLength(body) > MAX_RESPONSE_PAYLOAD_BYTES) {
      fn.state.stats.functionErrors += 1;
      return {
        ok: false,
        error: { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`, trace: [] },
      };
    }
    return { ok: true, body };
  }

  // -------------------------------------------------------------------------------------------
  // Asynchronous invocation

  private enqueue(resolved: ResolvedFunction, payload: string, clientContext: ClientContext | undefined, requestId: string = randomUUID()): string {
    if (this.stopped) throw new LambdaServiceError(503, 'ServiceException', 'The local Lambda service is stopping', 'Service');
    const { fn } = resolved;
    fn.state.stats.asyncReceived += 1;
    fn.state.queue.push({ requestId, payload, invokedArn: resolved.invokedArn, clientContext, enqueuedAt: this.clock(), invokeCount: 0, lastError: undefined });
    // Not in this tick: the caller gets its 202 (or request id) before the function starts.
    setImmediate(() => this.pump(fn.name));
    return requestId;
  }

  private pump(name: string): void {
    const fn = this.functions.get(name);
    if (!fn || this.stopped) return;
    while (fn.state.running < fn.asyncConcurrency && fn.state.queue.length > 0) {
      const event = fn.state.queue.shift()!;
      fn.state.running += 1;
      this.attempt(fn, event)
        .catch((error: unknown) => this.log({ type: 'service-error', error }))
        .finally(() => {
          fn.state.running -= 1;
          this.pump(name);
          this.notify();
        });
    }
  }

  private async attempt(fn: RegisteredFunction, event: AsyncEvent): Promise<void> {
    if (this.clock() - event.enqueuedAt > fn.maximumEventAgeSeconds * 1000) {
      this.finish(fn, event, 'EventAgeExceeded', undefined);
      return;
    }
    event.invokeCount += 1;
    const execution = await this.execute(fn, event.payload, event.requestId, event.invokedArn, event.clientContext);
    if (this.stopped) return;
    if (execution.ok) {
      this.finish(fn, event, 'Success', JSON.parse(execution.body) as unknown);
      return;
    }
    event.lastError = execution.error;
    this.log({ type: 'function-error', functionName: fn.name, requestId: event.requestId, invocationType: 'Event', attempt: event.invokeCount, error: execution.error });
    if (event.invokeCount > fn.maximumRetryAttempts) {
      this.finish(fn, event, 'RetriesExhausted', undefined);
      return;
    }
    const delayMs = this.retryDelaysMs[Math.min(event.invokeCount - 1, this.retryDelaysMs.length - 1)]!;
    this.log({ type: 'retry', functionName: fn.name, requestId: event.requestId, attempt: event.invokeCount + 1, delayMs });
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.stopped) return;
      // Back in the function's queue, behind what arrived meanwhile, as in Lambda's internal queue.
      fn.state.queue.push(event);
      this.pump(fn.name);
      this.notify();
    }, delayMs);
    this.retryTimers.add(timer);
  }

  /** Builds the destination record and hands it to the destination, if any. */
  private finish(fn: RegisteredFunction, event: AsyncEvent, condition: DestinationCondition, result: unknown): void {
    const success = condition === 'Success';
    if (success) fn.state.stats.asyncSucceeded += 1;
    else fn.state.stats.asyncFailed += 1;
    const failedRun = !success && event.lastError !== undefined;
    const record: AsyncInvocationRecord = {
      version: '1.0',
      timestamp: new Date(this.clock()).toISOString(),
      requestContext: {
        requestId: event.requestId,
        functionArn: `${fn.arn}:${LAMBDA_LATEST}`,
        condition,
        approximateInvokeCount: event.invokeCount,
      },
      requestPayload: JSON.parse(event.payload) as unknown,
      responseContext: { statusCode: 200, executedVersion: LAMBDA_LATEST, ...(failedRun && { functionError: 'Unhandled' as const }) },
      ...(success ? { responsePayload: result } : failedRun ? { responsePayload: event.lastError } : {}),
    };
    const destination = success ? fn.onSuccess : fn.onFailure;
    if (!success) this.log({ type: 'async-failure', functionName: fn.name, record, delivered: destination !== undefined });
    if (!destination) return;
    this.pendingDeliveries += 1;
    Promise.resolve()
      .then(() => destination(record))
      .catch((error: unknown) => this.log({ type: 'destination-error', functionName: fn.name, condition, error }))
      .finally(() => {
        this.pendingDeliveries -= 1;
        this.notify();
      });
  }

  private busy(): number {
    let count = this.retryTimers.size + this.pendingDeliveries;
    for (const fn of this.functions.values()) count += fn.state.queue.length + fn.state.running;
    return count;
  }

  private describeBusy(): string {
    const parts: string[] = [];
    for (const fn of this.functions.values()) {
      if (fn.state.queue.length > 0 || fn.state.running > 0) parts.push(`${fn.name}: ${fn.state.queue.length} queued, ${fn.state.running} running`);
    }
    if (this.retryTimers.size > 0) parts.push(`${this.retryTimers.size} retries waiting`);
    if (this.pendingDeliveries > 0) parts.push(`${this.pendingDeliveries} destination deliveries`);
    return parts.join('; ');
  }

  private notify(): void {
    for (const listener of [...this.idleListeners]) listener();
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

class TimeoutError extends Error {}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, requestId: string): Promise<T> {
  if (timeoutMs <= 0) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TimeoutError(`RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
      timeoutMs,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The payload Lambda's Node.js runtime reports for a thrown value. */
function errorPayload(error: unknown): LambdaErrorPayload {
  if (error instanceof TimeoutError) return { errorType: 'Sandbox.Timedout', errorMessage: error.message, trace: [] };
  if (error instanceof Error) {
    const trace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    return { errorType: error.name || error.constructor?.name || 'Error', errorMessage: error.message, trace };
  }
  return { errorType: typeof error === 'string' ? 'string' : 'Error', errorMessage: messageOf(error), trace: [] };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** The event as JSON text; an in-process caller's value is copied through JSON as a payload would be. */
function toPayload(event: unknown): string {
  const payload = JSON.stringify(event === undefined ? {} : event);
  if (payload === undefined) throw new LambdaServiceError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
  return payload;
}

/** Validates the request body as JSON; an empty body is `{}`. Returns the JSON text. */
function parsePayload(body: Buffer): string {
  const text = body.toString('utf8');
  if (text.trim() === '') return '{}';
  try {
    JSON.parse(text);
  } catch (error) {
    throw new LambdaServiceError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${messageOf(error)}`);
  }
  return text;
}

function parseClientContext(header: string | undefined): ClientContext | undefined {
  if (header === undefined || header === '') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientContext;
  } catch {
    throw new LambdaServiceError(400, 'InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
  }
}

function tooLarge(limit: number): LambdaServiceError {
  return new LambdaServiceError(413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
}

/** The body, or undefined once it exceeds `limit` bytes (the rest is drained). */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) tooBig = true;
    if (!tooBig) chunks.push(chunk as Buffer);
  }
  return tooBig ? undefined : Buffer.concat(chunks);
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _chunk of request) {
    // discard
  }
}

function sendError(response: ServerResponse, requestId: string, error: LambdaServiceError): void {
  response.writeHead(error.statusCode, {
    'Content-Type': 'application/json',
    'x-amzn-errortype': error.errorType,
    'x-amzn-RequestId': requestId,
  });
  response.end(JSON.stringify({ Type: error.fault, message: error.message }));
}

/** The last lines of the log as Lambda returns them for `LogType: Tail` (base64). */
function tailLog(requestId: string, durationMs: number, fn: RegisteredFunction, execution: Execution): string {
  const lines = [`START RequestId: ${requestId} Version: ${LAMBDA_LATEST}`];
  if (!execution.ok) lines.push(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(execution.error)}`);
  lines.push(
    `END RequestId: ${requestId}`,
    `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${fn.memorySize} MB\tMax Memory Used: ${Math.round(process.memoryUsage().rss / 1048576)} MB\t`,
    '',
  );
  return Buffer.from(lines.join('\n')).subarray(-4096).toString('base64');
}

function defaultLog(entry: LambdaServiceLogEntry): void {
  switch (entry.type) {
    case 'function-error':
      process.stderr.write(
        `[lambda ${entry.functionName}] ${entry.invocationType} attempt ${entry.attempt} failed: ${entry.error.errorType}: ${entry.error.errorMessage}\n`,
      );
      break;
    case 'async-failure':
      process.stderr.write(
        `[lambda ${entry.functionName}] ${entry.record.requestContext.condition} after ${entry.record.requestContext.approximateInvokeCount} attempt(s), request ${entry.record.requestContext.requestId}${entry.delivered ? ', sent to the on-failure destination' : ', dropped (no on-failure destination)'}\n`,
      );
      break;
    case 'destination-error':
      process.stderr.write(`[lambda ${entry.functionName}] ${entry.condition} destination failed: ${messageOf(entry.error)}\n`);
      break;
    case 'service-error':
      process.stderr.write(`[lambda] internal error: ${entry.error instanceof Error ? (entry.error.stack ?? entry.error.message) : String(entry.error)}\n`);
      break;
    case 'retry':
      break;
  }
}
