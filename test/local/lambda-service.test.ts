import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Context } from 'aws-lambda';
import { InvokeCommand, LambdaClient, ResourceNotFoundException, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { PROCESSORS } from '../../lib/system';
import { registerSystemFunctions, systemFunctionName } from '../../local/lambda-functions';
import {
  LambdaFunctionError,
  LocalLambdaService,
  type AsyncInvocationRecord,
  type LambdaErrorPayload,
  type LambdaFunctionRegistration,
  type LambdaServiceLogEntry,
} from '../../local/lambda-service';
import { TEST_CREDENTIALS, waitFor } from './support';

const ACCOUNT = '000000000000';
const arnOf = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

let now = 0;
let service: LocalLambdaService;
let client: LambdaClient;
let logs: LambdaServiceLogEntry[];

beforeEach(async () => {
  now = Date.parse('2030-01-01T00:00:00.000Z');
  logs = [];
  service = new LocalLambdaService({ retryDelaysMs: [5, 10], clock: () => now, log: (entry) => logs.push(entry) });
  const endpoint = await service.listen();
  client = new LambdaClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await service.stop();
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function send(input: Omit<InvokeCommandInput, 'Payload'> & { readonly event?: unknown }) {
  const { event, ...rest } = input;
  return client.send(new InvokeCommand({ ...rest, ...(event !== undefined && { Payload: encoder.encode(JSON.stringify(event)) }) }));
}

function json(payload: Uint8Array | null | undefined): unknown {
  return payload === undefined || payload === null || payload.length === 0 ? undefined : JSON.parse(decoder.decode(payload));
}

/** Registers a function whose calls are recorded; `behaviour` decides each call's outcome. */
function fn(
  name: string,
  behaviour: (event: unknown, call: number, context: Context) => unknown,
  options: Omit<LambdaFunctionRegistration, 'name' | 'invoke'> = {},
) {
  const calls: { event: unknown; context: Context }[] = [];
  service.register({
    name,
    invoke: async (event, context) => {
      calls.push({ event, context });
      return behaviour(event, calls.length, context);
    },
    ...options,
  });
  return calls;
}

function destinations() {
  const successes: AsyncInvocationRecord[] = [];
  const failures: AsyncInvocationRecord[] = [];
  return {
    successes,
    failures,
    settings: {
      onSuccess: (record: AsyncInvocationRecord) => {
        successes.push(record);
      },
      onFailure: (record: AsyncInvocationRecord) => {
        failures.push(record);
      },
    },
  };
}

describe('local Lambda service: RequestResponse', () => {
  test('runs the function and answers its JSON result, with a Lambda context', async () => {
    const calls = fn('echo', (event, _call, context) => ({ got: event, name: context.functionName, arn: context.invokedFunctionArn }));
    const result = await send({ FunctionName: 'echo', event: { hello: 'world' } });
    assert.equal(result.StatusCode, 200);
    assert.equal(result.ExecutedVersion, '$LATEST');
    assert.equal(result.FunctionError, undefined);
    assert.deepEqual(json(result.Payload), { got: { hello: 'world' }, name: 'echo', arn: arnOf('echo') });
    assert.equal(calls.length, 1);
    const context = calls[0]!.context;
    assert.equal(context.functionVersion, '$LATEST');
    assert.match(context.awsRequestId, /^[0-9a-f-]{36}$/);
    assert.ok(context.getRemainingTimeInMillis() > 2000 && context.getRemainingTimeInMillis() <= 3000, 'default timeout 3 s');
  });

  test('no result is null, and no payload is the event {}', async () => {
    const calls = fn('nothing', () => undefined);
    const result = await send({ FunctionName: 'nothing' });
    assert.equal(decoder.decode(result.Payload), 'null');
    assert.deepEqual(calls[0]!.event, {});
  });

  test('a thrown error is 200 with FunctionError Unhandled and the runtime error payload', async () => {
    fn('broken', () => {
      throw new TypeError('bad input');
    });
    const result = await send({ FunctionName: 'broken', event: {} });
    assert.equal(result.StatusCode, 200);
    assert.equal(result.FunctionError, 'Unhandled');
    assert.equal(result.ExecutedVersion, '$LATEST');
    const payload = json(result.Payload) as LambdaErrorPayload;
    assert.equal(payload.errorType, 'TypeError');
    assert.equal(payload.errorMessage, 'bad input');
    assert.ok(Array.isArray(payload.trace));
    assert.deepEqual(Object.keys(payload), ['errorType', 'errorMessage', 'trace']);
  });

  test('a function that outlasts its timeout has failed with "Task timed out"', async () => {
    fn('slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), 300)), { timeoutMs: 20 });
    const started = Date.now();
    const result = await send({ FunctionName: 'slow', event: {} });
    assert.ok(Date.now() - started < 250, 'answered at the timeout, not when the handler finished');
    assert.equal(result.FunctionError, 'Unhandled');
    const payload = json(result.Payload) as LambdaErrorPayload;
    assert.equal(payload.errorType, 'Sandbox.Timedout');
    assert.match(payload.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 0\.02 seconds$/);
  });

  test('LogType Tail returns a base64 START/END/REPORT log', async () => {
    fn('logged', () => 'ok');
    const result = await send({ FunctionName: 'logged', LogType: 'Tail', event: {} });
    const log = Buffer.from(result.LogResult!, 'base64').toString('utf8');
    assert.match(log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST\nEND RequestId: .*\nREPORT RequestId: /);
  });

  test('DryRun answers 204 without running the function', async () => {
    const calls = fn('dry', () => 'ran');
    const result = await send({ FunctionName: 'dry', InvocationType: 'DryRun', event: {} });
    assert.equal(result.StatusCode, 204);
    assert.equal(calls.length, 0);
  });

  test('a payload that is not JSON is InvalidRequestContentException', async () => {
    fn('strict', () => 'ok');
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'strict', Payload: encoder.encode('{not json') })), (error: Error) => {
      assert.equal(error.name, 'InvalidRequestContentException');
      assert.match(error.message, /^Could not parse request body into json/);
      return true;
    });
  });
});

describe('local Lambda service: function names', () => {
  test('an unknown function is ResourceNotFoundException with Lambda\'s message, for every invocation type', async () => {
    for (const InvocationType of ['RequestResponse', 'Event', 'DryRun'] as const) {
      await assert.rejects(send({ FunctionName: 'nope', InvocationType, event: {} }), (error: unknown) => {
        assert.ok(error instanceof ResourceNotFoundException, `${InvocationType}: ${String(error)}`);
        assert.equal(error.message, `Function not found: ${arnOf('nope')}`);
        assert.equal(error.$metadata.httpStatusCode, 404);
        return true;
      });
    }
    await assert.rejects(send({ FunctionName: 'nope', Qualifier: 'live', event: {} }), { name: 'ResourceNotFoundException', message: `Function not found: ${arnOf('nope')}:live` });
  });

  test('the full ARN (URL-encoded by the SDK), a partial ARN and qualifiers all reach the function', async () => {
    const calls = fn('named', (_event, _call, context) => context.invokedFunctionArn);
    const names: [InvokeCommandInput['FunctionName'], string | undefined, string][] = [
      ['named', undefined, arnOf('named')],
      [arnOf('named'), undefined, arnOf('named')],
      [`${arnOf('named')}:$LATEST`, undefined, `${arnOf('named')}:$LATEST`],
      [`${ACCOUNT}:function:named`, undefined, arnOf('named')],
      ['named:live', undefined, `${arnOf('named')}:live`],
      [arnOf('named'), '$LATEST', `${arnOf('named')}:$LATEST`],
      [arnOf('named'), 'live', `${arnOf('named')}:live`],
    ];
    for (const [FunctionName, Qualifier, invokedArn] of names) {
      const result = await send({ FunctionName, ...(Qualifier !== undefined && { Qualifier }), event: {} });
      assert.equal(result.StatusCode, 200, String(FunctionName));
      assert.equal(result.ExecutedVersion, '$LATEST');
      assert.equal(json(result.Payload), invokedArn, `${FunctionName} ${Qualifier ?? ''}`);
    }
    assert.equal(calls.length, names.length);

    const event = await send({ FunctionName: arnOf('named'), InvocationType: 'Event', event: { async: true } });
    assert.equal(event.StatusCode, 202);
    await service.idle(2000);
    assert.deepEqual(calls.at(-1)!.event, { async: true });
  });

  test('an ARN of another account or region is not found, a qualifier conflict is InvalidParameterValueException', async () => {
    fn('named', () => 'ok');
    const other = 'arn:aws:lambda:us-east-1:123456789012:function:named';
    await assert.rejects(send({ FunctionName: other, event: {} }), { name: 'ResourceNotFoundException', message: `Function not found: ${other}` });
    await assert.rejects(send({ FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:named', event: {} }), { name: 'ResourceNotFoundException' });
    await assert.rejects(send({ FunctionName: 'named:live', Qualifier: 'prod', event: {} }), { name: 'InvalidParameterValueException' });
  });
});

describe('local Lambda service: Event (asynchronous) invocation', () => {
  test('answers 202 with no payload at once, then runs the function', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { successes, settings } = destinations();
    const calls = fn('later', async () => {
      await gate;
      return { done: true };
    }, { asyncInvoke: settings });
    const result = await send({ FunctionName: 'later', InvocationType: 'Event', event: { n: 1 } });
    assert.equal(result.StatusCode, 202);
    assert.equal(json(result.Payload), undefined);
    assert.equal(result.FunctionError, undefined);
    await waitFor(() => calls.length === 1, 'the function to start');
    assert.equal(successes.length, 0, 'the 202 did not wait for the function');
    release();
    await service.idle(2000);
    assert.deepEqual(calls[0]!.event, { n: 1 });
    assert.equal(successes.length, 1);
    assert.deepEqual(successes[0]!.responsePayload, { done: true });
  });

  test('a function that throws twice then succeeds is invoked 3 times; onSuccess gets the AWS record', async () => {
    const { successes, failures, settings } = destinations();
    const calls = fn('flaky', (_event, call) => {
      if (call < 3) throw new Error(`failure ${call}`);
      return { ChannelMessage: { MessageId: 'm-1' } };
    }, { asyncInvoke: settings });
    const result = await send({ FunctionName: 'flaky', InvocationType: 'Event', event: { EventType: 'CHANNEL_MESSAGE_EVENT' } });
    await service.idle(2000);

    assert.equal(calls.length, 3);
    const requestIds = new Set(calls.map((call) => call.context.awsRequestId));
    assert.equal(requestIds.size, 1, 'retries keep the request id');
    assert.equal(failures.length, 0);
    assert.equal(successes.length, 1);
    const record = successes[0]!;
    assert.deepEqual(Object.keys(record), ['version', 'timestamp', 'requestContext', 'requestPayload', 'responseContext', 'responsePayload']);
    assert.deepEqual(record, {
      version: '1.0',
      timestamp: new Date(now).toISOString(),
      requestContext: {
        requestId: calls[0]!.context.awsRequestId,
        functionArn: `${arnOf('flaky')}:$LATEST`,
        condition: 'Success',
        approximateInvokeCount: 3,
      },
      requestPayload: { EventType: 'CHANNEL_MESSAGE_EVENT' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: { ChannelMessage: { MessageId: 'm-1' } },
    });
    assert.equal(result.$metadata.requestId, record.requestContext.requestId, 'the 202 carries the invocation request id');
    assert.deepEqual(
      logs.filter((entry) => entry.type === 'retry').map((entry) => entry.type === 'retry' && entry.delayMs),
      [5, 10],
      'the configured delays before the first and second retry',
    );
  });

  test('a function that always throws is invoked 3 times, then onFailure gets RetriesExhausted with the error', async () => {
    const { successes, failures, settings } = destinations();
    const calls = fn('doomed', (_event, call) => {
      throw new RangeError(`no luck ${call}`);
    }, { asyncInvoke: settings });
    await send({ FunctionName: 'doomed', InvocationType: 'Event', event: { id: 7 } });
    await service.idle(2000);

    assert.equal(calls.length, 3);
    assert.equal(successes.length, 0);
    assert.equal(failures.length, 1);
    const record = failures[0]!;
    assert.deepEqual(record.requestContext, {
      requestId: calls[0]!.context.awsRequestId,
      functionArn: `${arnOf('doomed')}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    assert.deepEqual(record.requestPayload, { id: 7 });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    const payload = record.responsePayload as LambdaErrorPayload;
    assert.equal(payload.errorType, 'RangeError');
    assert.equal(payload.errorMessage, 'no luck 3', 'the error of the last attempt');
    assert.deepEqual(service.stats('doomed'), { invocations: 3, functionErrors: 3, asyncReceived: 1, asyncSucceeded: 0, asyncFailed: 1 });
  });

  test('maximumRetryAttempts 0 gives up after the first failure', async () => {
    const { failures, settings } = destinations();
    const calls = fn('once', () => {
      throw new Error('nope');
    }, { asyncInvoke: { ...settings, maximumRetryAttempts: 0 } });
    await send({ FunctionName: 'once', InvocationType: 'Event', event: {} });
    await service.idle(2000);
    assert.equal(calls.length, 1);
    assert.equal(failures[0]!.requestContext.condition, 'RetriesExhausted');
    assert.equal(failures[0]!.requestContext.approximateInvokeCount, 1);
  });

  test('an event older than maximumEventAgeSeconds is not retried: onFailure gets EventAgeExceeded', async () => {
    const { successes, failures, settings } = destinations();
    const calls = fn('aging', () => {
      now += 61_000; // the first attempt fails and, by the retry, the event is older than 60 s
      throw new Error('still failing');
    }, { asyncInvoke: { ...settings, maximumEventAgeSeconds: 60 } });
    await send({ FunctionName: 'aging', InvocationType: 'Event', event: { id: 'old' } });
    await service.idle(2000);

    assert.equal(calls.length, 1);
    assert.equal(successes.length, 0);
    assert.equal(failures.length, 1);
    const record = failures[0]!;
    assert.equal(record.requestContext.condition, 'EventAgeExceeded');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.deepEqual(record.requestPayload, { id: 'old' });
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal((record.responsePayload as LambdaErrorPayload).errorMessage, 'still failing');
  });

  test('an event that expires while queued is never run (approximateInvokeCount 0, no responsePayload)', async () => {
    const { failures, successes, settings } = destinations();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls = fn('backlog', async () => {
      await gate;
      return 'ok';
    }, { asyncInvoke: { ...settings, maximumEventAgeSeconds: 60 }, asyncConcurrency: 1 });
    await send({ FunctionName: 'backlog', InvocationType: 'Event', event: { n: 1 } });
    await send({ FunctionName: 'backlog', InvocationType: 'Event', event: { n: 2 } });
    await waitFor(() => calls.length === 1, 'the first event to start');
    now += 120_000; // the second event waits behind the first for two minutes
    release();
    await service.idle(2000);
    assert.deepEqual(calls.map((call) => call.event), [{ n: 1 }]);
    assert.equal(successes.length, 1);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.requestContext.condition, 'EventAgeExceeded');
    assert.equal(failures[0]!.requestContext.approximateInvokeCount, 0);
    assert.deepEqual(failures[0]!.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.equal('responsePayload' in failures[0]!, false);
  });

  test('a timeout is a function error, retried like any other', async () => {
    const { failures, settings } = destinations();
    const calls = fn('sleepy', () => new Promise((resolve) => setTimeout(resolve, 200)), { timeoutMs: 10, asyncInvoke: settings });
    await send({ FunctionName: 'sleepy', InvocationType: 'Event', event: {} });
    await service.idle(2000);
    assert.equal(calls.length, 3);
    assert.equal(failures[0]!.requestContext.condition, 'RetriesExhausted');
    assert.match((failures[0]!.responsePayload as LambdaErrorPayload).errorMessage, /Task timed out after 0\.01 seconds$/);
  });

  test('events of one function run at most asyncConcurrency at a time, in arrival order', async () => {
    let active = 0;
    let maxActive = 0;
    const calls = fn('serial', async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active -= 1;
    }, { asyncConcurrency: 1 });
    for (let n = 0; n < 5; n += 1) await send({ FunctionName: 'serial', InvocationType: 'Event', event: { n } });
    await service.idle(2000);
    assert.equal(maxActive, 1);
    assert.deepEqual(calls.map((call) => (call.event as { n: number }).n), [0, 1, 2, 3, 4]);
  });

  test('a destination that is a function gets the record by asynchronous invoke; idle waits for it', async () => {
    const outcome = fn('outcome', () => 'recorded');
    fn('processor', () => ({ ChannelMessage: { MessageId: 'm-9' } }), {
      asyncInvoke: { onSuccess: service.functionDestination('outcome'), onFailure: service.functionDestination('outcome') },
    });
    await send({ FunctionName: 'processor', InvocationType: 'Event', event: { CallbackId: 'cb' } });
    await service.idle(2000);
    assert.equal(outcome.length, 1);
    const record = outcome[0]!.event as AsyncInvocationRecord;
    assert.equal(record.requestContext.condition, 'Success');
    assert.equal(record.requestContext.functionArn, `${arnOf('processor')}:$LATEST`);
    assert.deepEqual(record.requestPayload, { CallbackId: 'cb' });
    assert.deepEqual(record.responsePayload, { ChannelMessage: { MessageId: 'm-9' } });
  });

  test('a failed destination is logged and does not stall the service', async () => {
    fn('fine', () => 'ok', {
      asyncInvoke: {
        onSuccess: () => {
          throw new Error('destination down');
        },
      },
    });
    await send({ FunctionName: 'fine', InvocationType: 'Event', event: {} });
    await service.idle(2000);
    assert.ok(logs.some((entry) => entry.type === 'destination-error' && entry.condition === 'Success'));
  });

  test('stop drops pending retries: no further attempt and no destination', async () => {
    const slow = new LocalLambdaService({ retryDelaysMs: [60_000], log: () => undefined });
    const failures: AsyncInvocationRecord[] = [];
    let calls = 0;
    slow.register({
      name: 'failing',
      invoke: () => {
        calls += 1;
        throw new Error('x');
      },
      asyncInvoke: { onFailure: (record) => void failures.push(record) },
    });
    slow.invokeAsync('failing', {});
    await waitFor(() => calls === 1, 'the first attempt');
    await assert.rejects(slow.idle(20), /still busy .*1 retries waiting/);
    const started = Date.now();
    await slow.stop();
    assert.ok(Date.now() - started < 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(calls, 1);
    assert.equal(failures.length, 0);
    assert.throws(() => slow.invokeAsync('failing', {}), { name: 'ServiceException' });
  });
});

describe('local Lambda service: in-process calls and system functions', () => {
  test('invoke returns the result or throws LambdaFunctionError; invokeAsync queues', async () => {
    fn('double', (event) => (event as { n: number }).n * 2);
    fn('fails', () => {
      throw new Error('kaput');
    });
    assert.equal(await service.invoke('double', { n: 21 }), 42);
    await assert.rejects(service.invoke('fails', {}), (error: unknown) => {
      assert.ok(error instanceof LambdaFunctionError);
      assert.equal(error.payload.errorMessage, 'kaput');
      return true;
    });
    await assert.rejects(service.invoke('missing', {}), { name: 'ResourceNotFoundException', message: `Function not found: ${arnOf('missing')}` });
    const requestId = service.invokeAsync(arnOf('double'), { n: 1 });
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    await service.idle(2000);
    assert.equal(service.stats('double').asyncSucceeded, 1);
  });

  test('a client configured only by AWS_ENDPOINT_URL_LAMBDA (as the handlers are) reaches the service', async () => {
    fn('env', () => 'via env');
    const saved = process.env.AWS_ENDPOINT_URL_LAMBDA;
    process.env.AWS_ENDPOINT_URL_LAMBDA = service.endpoint;
    const envClient = new LambdaClient({ region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      const result = await envClient.send(new InvokeCommand({ FunctionName: arnOf('env'), InvocationType: 'RequestResponse' }));
      assert.equal(json(result.Payload), 'via env');
    } finally {
      envClient.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_LAMBDA;
      else process.env.AWS_ENDPOINT_URL_LAMBDA = saved;
    }
  });

  test('registerSystemFunctions: deployed names, processor settings, outcome destinations', async () => {
    const outcomeRecords: AsyncInvocationRecord[] = [];
    const names = registerSystemFunctions(service, {
      code: {
        moderationProcessor: () => {
          throw new Error('moderation broken');
        },
        processorOutcome: (event) => void outcomeRecords.push(event as AsyncInvocationRecord),
      },
    });
    assert.equal(names.moderationProcessor, 'channel-flow-moderation');
    assert.equal(names.processorOutcome, 'channel-flows-processorOutcome');
    assert.equal(systemFunctionName('pendingSweeper', 'team-'), 'channel-flows-pendingSweeper');
    assert.equal(systemFunctionName('moderationProcessor', 'team-'), 'team-moderation');

    await send({ FunctionName: arnOf('channel-flow-moderation'), InvocationType: 'Event', event: { EventType: 'CHANNEL_MESSAGE_EVENT' } });
    await service.idle(2000);
    assert.equal(service.stats('channel-flow-moderation').invocations, PROCESSORS.asyncInvoke.maximumRetryAttempts + 1);
    assert.equal(outcomeRecords.length, 1);
    assert.equal(outcomeRecords[0]!.requestContext.condition, 'RetriesExhausted');
    assert.equal(outcomeRecords[0]!.requestContext.functionArn, `${arnOf('channel-flow-moderation')}:$LATEST`);
    assert.equal((outcomeRecords[0]!.responsePayload as LambdaErrorPayload).errorMessage, 'moderation broken');
  });
});
