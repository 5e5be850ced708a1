import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STREAM_MAPPINGS, type FunctionName, type StreamMappingDefinition } from '../../lib/system';
import { CONNECTION_ENTITY } from '../../lambdas/adapters/dynamodb/connection-repository';
import { ENTITY } from '../../lambdas/adapters/dynamodb/keys';
import {
  entityFilter,
  EventSourceMapping,
  localFunctionArn,
  startEventSourceMappings,
  type EventSourceMappingOptions,
  type StreamBatchFailureRecord,
} from '../../local/event-source-mapping';
import { LocalQueues } from '../../local/queues';
import { startTestDynamo, waitFor, type TestDynamo } from './support';

const FAST = { initialMs: 1, maxMs: 4 } as const;
const quiet = () => undefined;

let t: TestDynamo;
let queues: LocalQueues;
const running: { stop(): Promise<void> }[] = [];

beforeEach(async () => {
  t = await startTestDynamo();
  queues = new LocalQueues();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((mapping) => mapping.stop()));
  await t.stop();
});

function definition(overrides: Partial<StreamMappingDefinition> = {}): StreamMappingDefinition {
  return { ...STREAM_MAPPINGS.find((mapping) => mapping.id === 'MessageEvents')!, ...overrides };
}

function start(overrides: Partial<StreamMappingDefinition>, invoke: (event: DynamoDBStreamEvent) => Promise<unknown>, options: Partial<EventSourceMappingOptions> = {}) {
  const mapping = new EventSourceMapping({
    mapping: definition(overrides),
    stream: t.dynamo.streams.messages!,
    invoke,
    onFailure: (failure) => queues.send('streamFailures', failure),
    retryBackoff: FAST,
    log: quiet,
    ...options,
  }).start();
  running.push(mapping);
  return mapping;
}

/** Puts a message item (an entity the MessageEvents mapping passes, unless `extra` says otherwise). */
async function put(pk: string, extra: Record<string, unknown> = {}): Promise<void> {
  await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.messages, Item: { pk, sk: 'item', entity: ENTITY.message, ...extra } }));
}

const pkOf = (record: DynamoDBRecord): string => record.dynamodb!.Keys!.pk!.S!;
const seqOf = (record: DynamoDBRecord): string => record.dynamodb!.SequenceNumber!;
const sequenceOfItem = (pk: string): string => seqOf(t.dynamo.streams.messages!.records().find((record) => pkOf(record) === pk)!);
const failures = (): StreamBatchFailureRecord[] => queues.receiveAll('streamFailures').map((message) => JSON.parse(message.body) as StreamBatchFailureRecord);

describe('event source mapping', () => {
  test('a record reported in batchItemFailures is retried maximumRetryAttempts times, then sent to the on-failure queue', async () => {
    for (let index = 0; index < 10; index += 1) await put(`m${index}`);
    const invocations: string[][] = [];
    const handled = new Set<string>();
    const mapping = start({ maximumRetryAttempts: 3, bisectBatchOnFunctionError: false, reportBatchItemFailures: true }, async (event) => {
      invocations.push(event.Records.map(pkOf));
      for (const record of event.Records) if (pkOf(record) !== 'm4') handled.add(pkOf(record));
      return { batchItemFailures: event.Records.filter((record) => pkOf(record) === 'm4').map((record) => ({ itemIdentifier: seqOf(record) })) };
    });

    const [failure] = await waitFor(() => failures().length > 0 && failures(), 'the on-failure record');
    await mapping.caughtUp();

    const all = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'];
    const fromPoison = ['m4', 'm5', 'm6', 'm7', 'm8', 'm9'];
    // The first delivery, then retries from the checkpoint before m4 (later records come again, as in AWS).
    assert.deepEqual(invocations, [all, fromPoison, fromPoison, fromPoison]);
    assert.equal(invocations.filter((batch) => batch.includes('m4')).length, 1 + 3, 'delivered once and retried exactly 3 times');
    assert.deepEqual([...handled].sort(), all.filter((pk) => pk !== 'm4'));

    const stream = t.dynamo.streams.messages!;
    assert.equal(failures().length, 1);
    assert.equal(failure!.version, '1.0');
    assert.match(failure!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(failure!.requestContext.requestId, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...failure!.requestContext, requestId: '' }, {
      requestId: '',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:channel-flows-fanout',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    });
    assert.deepEqual(failure!.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    const info = failure!.DDBStreamBatchInfo;
    assert.equal(info.shardId, stream.shardId);
    assert.match(info.shardId, /^shardId-\d{20}-[0-9a-f]{8}$/);
    assert.equal(info.streamArn, stream.streamArn);
    assert.equal(info.startSequenceNumber, sequenceOfItem('m4'));
    assert.equal(info.endSequenceNumber, sequenceOfItem('m9'));
    assert.equal(info.batchSize, 6);
    assert.match(info.approximateArrivalOfFirstRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(info.approximateArrivalOfLastRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(info.approximateArrivalOfFirstRecord <= info.approximateArrivalOfLastRecord);

    // Processing moves on: later records flow, and the poison record is not seen again.
    invocations.length = 0;
    await put('m10');
    await put('m11');
    await mapping.caughtUp();
    assert.deepEqual(invocations.flat(), ['m10', 'm11']);
    assert.ok(handled.has('m10') && handled.has('m11'));
    assert.equal(failures().length, 1);
    assert.equal(mapping.checkpoint, stream.latestSequenceNumber);
  });

  test('a function error bisects the batch until the poison record is alone; the others are delivered exactly once', async () => {
    for (let index = 0; index < 8; index += 1) await put(`m${index}`);
    const invocations: string[][] = [];
    const delivered: string[] = [];
    const mapping = start({ maximumRetryAttempts: 2, bisectBatchOnFunctionError: true }, async (event) => {
      const pks = event.Records.map(pkOf);
      invocations.push(pks);
      if (pks.includes('m5')) throw new Error('poison');
      delivered.push(...pks);
      return undefined;
    });
    await waitFor(() => failures().length > 0, 'the on-failure record');
    await mapping.caughtUp();

    assert.deepEqual(invocations, [
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'],
      ['m0', 'm1', 'm2', 'm3'],
      ['m4', 'm5', 'm6', 'm7'],
      ['m4', 'm5'],
      ['m4'],
      ['m5'],
      ['m5'],
      ['m5'],
      ['m6', 'm7'],
    ]);
    assert.deepEqual(delivered, ['m0', 'm1', 'm2', 'm3', 'm4', 'm6', 'm7'], 'every other record once, in order');
    const [failure] = failures();
    assert.equal(failures().length, 1);
    assert.equal(failure!.requestContext.condition, 'RetryAttemptsExhausted');
    assert.equal(failure!.requestContext.approximateInvokeCount, 3, 'the isolated record: one try and two retries; bisecting spent none');
    assert.deepEqual(failure!.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(failure!.DDBStreamBatchInfo.batchSize, 1);
    assert.equal(failure!.DDBStreamBatchInfo.startSequenceNumber, sequenceOfItem('m5'));
    assert.equal(failure!.DDBStreamBatchInfo.endSequenceNumber, sequenceOfItem('m5'));
    assert.equal(mapping.stats.discardedRecords, 1);
  });

  test('order is kept for every item through function errors, partial failures and retries', async () => {
    const invocations: string[][] = [];
    const acknowledged: string[] = [];
    let count = 0;
    const mapping = start({ batchSize: 4, maximumRetryAttempts: 10, bisectBatchOnFunctionError: true, reportBatchItemFailures: true }, async (event) => {
      const sequenceNumbers = event.Records.map(seqOf);
      invocations.push(sequenceNumbers);
      const turn = count++ % 3;
      if (turn === 0) throw new Error('transient');
      if (turn === 1 && event.Records.length > 1) {
        const failedAt = Math.floor(event.Records.length / 2);
        acknowledged.push(...sequenceNumbers.slice(0, failedAt));
        return { batchItemFailures: event.Records.slice(failedAt).map((record) => ({ itemIdentifier: seqOf(record) })) };
      }
      acknowledged.push(...sequenceNumbers);
      return { batchItemFailures: [] };
    });
    const items = ['a', 'b', 'c'];
    for (let version = 1; version <= 10; version += 1) for (const item of items) await put(item, { version });
    await mapping.caughtUp();

    const stream = t.dynamo.streams.messages!;
    const inStream = stream.records().map(seqOf);
    assert.equal(inStream.length, 30);
    assert.equal(failures().length, 0);
    const firstAcknowledgements = [...new Set(acknowledged)];
    assert.deepEqual(firstAcknowledgements, inStream, 'records are acknowledged for the first time in stream order, all of them');
    for (let index = 1; index < invocations.length; index += 1) {
      assert.ok(invocations[index]![0]! >= invocations[index - 1]![0]!, 'no batch starts before the one before it');
    }
    assert.ok(invocations.every((batch) => batch.length <= 4));
    const bySequence = new Map(stream.records().map((record) => [seqOf(record), record]));
    for (const item of items) {
      const versions = firstAcknowledgements.map((sequenceNumber) => bySequence.get(sequenceNumber)!).filter((record) => pkOf(record) === item);
      assert.deepEqual(
        versions.map((record) => Number(record.dynamodb!.NewImage!.version!.N)),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    }
  });

  test('batches hold at most batchSize records, and a batching window gathers records before invoking', async () => {
    for (let index = 0; index < 7; index += 1) await put(`m${index}`);
    const sizes: number[] = [];
    const first = start({ batchSize: 3 }, async (event) => {
      sizes.push(event.Records.length);
    });
    await first.caughtUp();
    assert.deepEqual(sizes, [3, 3, 1]);
    await first.stop();

    const batches: { pks: string[]; at: number }[] = [];
    const windowed = start({ batchSize: 2, maximumBatchingWindowSeconds: 5, startingPosition: 'LATEST' }, async (event) => {
      batches.push({ pks: event.Records.map(pkOf), at: Date.now() });
    });
    const started = Date.now();
    await put('w1');
    await put('w2');
    await windowed.caughtUp();
    assert.deepEqual(batches.map((batch) => batch.pks), [['w1', 'w2']], 'a full batch does not wait for the window');
    assert.ok(batches[0]!.at - started < 2000);
    await windowed.stop();

    const partial: { pks: string[]; at: number }[] = [];
    const short = start({ batchSize: 10, maximumBatchingWindowSeconds: 0.3, startingPosition: 'LATEST' }, async (event) => {
      partial.push({ pks: event.Records.map(pkOf), at: Date.now() });
    });
    const written = Date.now();
    await put('w3');
    await short.caughtUp();
    assert.deepEqual(partial.map((batch) => batch.pks), [['w3']]);
    assert.ok(partial[0]!.at - written >= 200, `waited ${partial[0]!.at - written} ms for the window`);
  });

  test('LATEST skips what is already in the stream; TRIM_HORIZON starts from the oldest record', async () => {
    await put('old');
    const latest: string[] = [];
    const horizon: string[] = [];
    const fromLatest = start({ startingPosition: 'LATEST' }, async (event) => void latest.push(...event.Records.map(pkOf)));
    const fromHorizon = start({ startingPosition: 'TRIM_HORIZON' }, async (event) => void horizon.push(...event.Records.map(pkOf)));
    await put('new');
    await Promise.all([fromLatest.caughtUp(), fromHorizon.caughtUp()]);
    assert.deepEqual(latest, ['new']);
    assert.deepEqual(horizon, ['old', 'new']);
  });

  test('a record older than maximumRecordAgeSeconds is not retried but sent to the on-failure queue', async () => {
    let offset = 0;
    let failing = true;
    const invocations: string[][] = [];
    const mapping = start(
      { maximumRetryAttempts: -1, maximumRecordAgeSeconds: 60, bisectBatchOnFunctionError: false },
      async (event) => {
        invocations.push(event.Records.map(pkOf));
        if (failing) throw new Error('down');
      },
      { clock: () => Date.now() + offset },
    );
    await put('stale');
    await waitFor(() => invocations.length >= 2, 'a retry');
    offset = 61_000; // the record is now 61 seconds old
    const [failure] = await waitFor(() => failures().length > 0 && failures(), 'the on-failure record');
    const invokedBeforeDiscard = invocations.length;
    assert.equal(failure!.requestContext.condition, 'RecordAgeExceeded');
    assert.equal(failure!.responseContext.functionError, 'Unhandled');
    assert.ok(failure!.requestContext.approximateInvokeCount >= 2);
    assert.equal(failure!.DDBStreamBatchInfo.batchSize, 1);
    assert.equal(failure!.DDBStreamBatchInfo.startSequenceNumber, sequenceOfItem('stale'));

    offset = 0;
    failing = false;
    await put('fresh');
    await mapping.caughtUp();
    assert.deepEqual(invocations.slice(invokedBeforeDiscard).flat().filter((pk) => pk === 'stale'), []);
    assert.deepEqual(invocations.at(-1), ['fresh']);
    assert.equal(failures().length, 1);
  });

  test('malformed batchItemFailures fail the whole batch; empty or null answers are success', async () => {
    await put('a');
    await put('b');
    await put('c');
    const answers: unknown[] = [
      { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ wrongKey: 'x' }] },
      { batchItemFailures: [] },
      null,
      {},
      { batchItemFailures: null },
    ];
    const invocations: string[][] = [];
    const mapping = start({ maximumRetryAttempts: 5 }, async (event) => {
      invocations.push(event.Records.map(pkOf));
      return answers[invocations.length - 1];
    });
    await mapping.caughtUp();
    assert.deepEqual(invocations, [['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']], 'retried whole, not bisected');
    for (const pk of ['d', 'e', 'f']) {
      await put(pk);
      await mapping.caughtUp();
    }
    assert.deepEqual(invocations.slice(4), [['d'], ['e'], ['f']]);
    assert.equal(failures().length, 0);

    // Without reportBatchItemFailures the answer is not read at all.
    await mapping.stop();
    const ignored: string[][] = [];
    const plain = start({ reportBatchItemFailures: false, startingPosition: 'LATEST' }, async (event) => {
      ignored.push(event.Records.map(pkOf));
      return { batchItemFailures: [{ itemIdentifier: seqOf(event.Records[0]!) }] };
    });
    await put('g');
    await plain.caughtUp();
    assert.deepEqual(ignored, [['g']]);
  });

  test('a function that outlasts its timeout has failed; stop() waits neither for a backoff nor for a hung invocation', async () => {
    const invocations: string[][] = [];
    const mapping = start(
      { maximumRetryAttempts: 0, bisectBatchOnFunctionError: false },
      async (event) => {
        invocations.push(event.Records.map(pkOf));
        if (invocations.length === 1) await new Promise((resolve) => setTimeout(resolve, 200));
      },
      { invokeTimeoutMs: 20 },
    );
    await put('slow');
    const [failure] = await waitFor(() => failures().length > 0 && failures(), 'the on-failure record of the timed-out batch');
    assert.equal(failure!.responseContext.functionError, 'Unhandled');
    assert.equal(failure!.requestContext.approximateInvokeCount, 1);
    await mapping.stop();

    const stuck = start({ maximumRetryAttempts: -1, startingPosition: 'LATEST' }, async () => {
      throw new Error('down');
    }, { retryBackoff: { initialMs: 60_000, maxMs: 60_000 } });
    await put('never');
    await waitFor(() => stuck.stats.invocations >= 1, 'the first invocation');
    const stopping = Date.now();
    await stuck.stop();
    assert.ok(Date.now() - stopping < 1000);

    // Nor for a function that never answers.
    const hung = start({ startingPosition: 'LATEST' }, () => new Promise<never>(() => undefined));
    await put('hangs');
    await waitFor(() => hung.stats.invocations >= 1, 'the hanging invocation');
    const checkpoint = hung.checkpoint;
    await hung.stop();
    assert.equal(hung.checkpoint, checkpoint, 'nothing checkpointed past an unfinished batch');
  });

  test('startEventSourceMappings runs every mapping of lib/system.ts with the on-failure queue', async () => {
    const calls: { fn: FunctionName; arn: string; pks: string[] }[] = [];
    const mappings = startEventSourceMappings({
      streams: t.dynamo.streams,
      queues,
      retryBackoff: FAST,
      log: quiet,
      invoke: async (fn, event) => {
        calls.push({ fn, arn: event.Records[0]!.eventSourceARN!, pks: event.Records.map(pkOf) });
        if (fn === 'sessionOpener' && event.Records.some((record) => pkOf(record) === 'conn#poison')) throw new Error('cannot open');
        return { batchItemFailures: [] };
      },
    });
    running.push(mappings);
    assert.deepEqual([...mappings.mappings.keys()], STREAM_MAPPINGS.map((mapping) => mapping.id));

    await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.messages, Item: { pk: 'msg', sk: '1', entity: ENTITY.message } }));
    await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.channels, Item: { pk: 'ch', sk: 'member', entity: ENTITY.membership } }));
    await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.connections, Item: { pk: 'conn#poison', sk: 'c', entity: CONNECTION_ENTITY } }));
    await waitFor(() => failures().length > 0, 'the on-failure record');
    await mappings.caughtUp();

    const { streams } = t.dynamo;
    assert.deepEqual(calls.filter((call) => call.pks.includes('msg')), [{ fn: 'fanout', arn: streams.messages!.streamArn, pks: ['msg'] }]);
    assert.deepEqual(calls.filter((call) => call.pks.includes('ch')), [{ fn: 'fanout', arn: streams.channels!.streamArn, pks: ['ch'] }]);
    const sessionMapping = STREAM_MAPPINGS.find((mapping) => mapping.id === 'SessionEvents')!;
    assert.equal(calls.filter((call) => call.fn === 'sessionOpener').length, 1 + sessionMapping.maximumRetryAttempts);
    const [failure] = failures();
    assert.equal(failure!.requestContext.functionArn, localFunctionArn('sessionOpener'));
    assert.equal(failure!.DDBStreamBatchInfo.streamArn, streams.connections!.streamArn);
    assert.equal(failure!.requestContext.approximateInvokeCount, 1 + sessionMapping.maximumRetryAttempts);
  });
});

describe('event filtering (entities)', () => {
  const mappingOf = (id: string) => STREAM_MAPPINGS.find((mapping) => mapping.id === id)!;

  test('each mapping of lib/system.ts passes exactly the entities its handler acts on, named as the repositories write them', () => {
    assert.deepEqual(mappingOf('MessageEvents').entities, [ENTITY.message]);
    assert.deepEqual(mappingOf('MembershipEvents').entities, [ENTITY.membership]);
    assert.deepEqual(mappingOf('SessionEvents').entities, [CONNECTION_ENTITY]);
  });

  test('the filter: new or old image with a string entity among those listed; no entities, no filter; an empty list is refused', () => {
    const image = (entity: unknown) => (entity === undefined ? { pk: { S: 'p' } } : { pk: { S: 'p' }, entity });
    const record = (newImage?: object, oldImage?: object): DynamoDBRecord => ({
      dynamodb: { ...(newImage && { NewImage: newImage }), ...(oldImage && { OldImage: oldImage }) },
    }) as DynamoDBRecord;
    const passes = entityFilter(definition({ entities: ['MESSAGE', 'MEMBERSHIP'] }))!;
    assert.equal(passes(record(image({ S: 'MESSAGE' }))), true, 'insert');
    assert.equal(passes(record(image({ S: 'MEMBERSHIP' }), image({ S: 'MEMBERSHIP' }))), true, 'modify');
    assert.equal(passes(record(undefined, image({ S: 'MESSAGE' }))), true, 'remove');
    assert.equal(passes(record(image(undefined), image({ S: 'MESSAGE' }))), true, 'either image is enough');
    assert.equal(passes(record(image({ S: 'SEND_TOKEN' }))), false);
    assert.equal(passes(record(image({ S: 'message' }))), false, 'case matters');
    assert.equal(passes(record(image({ SS: ['MESSAGE'] }))), false, 'only a string attribute');
    assert.equal(passes(record(image(undefined), image(undefined))), false, 'no entity attribute');
    assert.equal(passes(record()), false);
    assert.equal(entityFilter(definition({ entities: undefined })), undefined);
    assert.throws(() => entityFilter(definition({ entities: [] })), /MessageEvents: entities must list at least one/);
    assert.throws(() => start({ entities: [''] }, async () => undefined), /entities must list at least one non-empty entity/);
  });

  test('records of other entities never reach the function, do not count towards batchSize, and are checkpointed past', async () => {
    const stream = t.dynamo.streams.messages!;
    const expected: string[] = [];
    for (let index = 0; index < 12; index += 1) {
      if (index % 3 === 1) {
        await put(`m${index}`);
        expected.push(`m${index}`);
      } else if (index % 3 === 0) {
        await put(`token${index}`, { entity: ENTITY.sendToken });
      } else {
        await put(`bare${index}`, { entity: undefined });
      }
    }
    await put('tail-token', { entity: ENTITY.sendToken }); // a filtered-out record at the very end
    const invocations: string[][] = [];
    const mapping = start({ batchSize: 2 }, async (event) => {
      invocations.push(event.Records.map(pkOf));
      return { batchItemFailures: [] };
    });
    await mapping.caughtUp();
    assert.deepEqual(invocations, [['m1', 'm4'], ['m7', 'm10']], 'full batches of matching records, in stream order');
    assert.equal(mapping.checkpoint, stream.latestSequenceNumber, 'the trailing filtered-out record is checkpointed past');
    assert.equal(mapping.stats.filteredRecords, 9);
    assert.equal(mapping.stats.invocations, 2);

    // Only filtered-out records: no invocation at all, yet caught up.
    await put('token-only', { entity: ENTITY.sendToken });
    await put('bare-only', { entity: undefined });
    await mapping.caughtUp();
    assert.equal(mapping.stats.invocations, 2);
    assert.equal(mapping.checkpoint, stream.latestSequenceNumber);
    assert.equal(mapping.stats.filteredRecords, 11);

    // Updates and removals of a matching item pass on either image; a mapping without entities gets everything.
    await t.doc.send(new UpdateCommand({
      TableName: t.dynamo.tableNames.messages,
      Key: { pk: 'm1', sk: 'item' },
      UpdateExpression: 'SET edited = :yes',
      ExpressionAttributeValues: { ':yes': true },
    }));
    await t.doc.send(new DeleteCommand({ TableName: t.dynamo.tableNames.messages, Key: { pk: 'm4', sk: 'item' } }));
    await t.doc.send(new DeleteCommand({ TableName: t.dynamo.tableNames.messages, Key: { pk: 'token0', sk: 'item' } }));
    await mapping.caughtUp();
    assert.deepEqual(invocations.slice(2).flat(), ['m1', 'm4']);
    const everything: string[] = [];
    const unfiltered = start({ entities: undefined }, async (event) => void everything.push(...event.Records.map(pkOf)));
    await unfiltered.caughtUp();
    assert.equal(everything.length, stream.records().length);
    assert.equal(unfiltered.stats.filteredRecords, 0);
  });

  test('retries, partial failures and the on-failure record see only the matching records, in order', async () => {
    for (let index = 0; index < 10; index += 1) {
      await put(`m${index}`);
      await put(`token${index}`, { entity: ENTITY.sendToken });
    }
    const invocations: string[][] = [];
    const mapping = start({ maximumRetryAttempts: 2, bisectBatchOnFunctionError: false, reportBatchItemFailures: true }, async (event) => {
      invocations.push(event.Records.map(pkOf));
      return { batchItemFailures: event.Records.filter((record) => pkOf(record) === 'm4').map((record) => ({ itemIdentifier: seqOf(record) })) };
    });
    const [failure] = await waitFor(() => failures().length > 0 && failures(), 'the on-failure record');
    await mapping.caughtUp();
    const all = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'];
    const fromPoison = ['m4', 'm5', 'm6', 'm7', 'm8', 'm9'];
    assert.deepEqual(invocations, [all, fromPoison, fromPoison]);
    assert.equal(failure!.requestContext.condition, 'RetryAttemptsExhausted');
    assert.equal(failure!.requestContext.approximateInvokeCount, 3);
    assert.equal(failure!.DDBStreamBatchInfo.startSequenceNumber, sequenceOfItem('m4'));
    assert.equal(failure!.DDBStreamBatchInfo.endSequenceNumber, sequenceOfItem('m9'));
    assert.equal(failure!.DDBStreamBatchInfo.batchSize, 6, 'the filtered-out records between them are not part of the batch');
    assert.equal(mapping.checkpoint, t.dynamo.streams.messages!.latestSequenceNumber);
    assert.equal(mapping.stats.filteredRecords, 10);

    // Bisecting, too, splits the matching records only.
    await mapping.stop();
    const bisected: string[][] = [];
    const bisecting = start({ startingPosition: 'LATEST', maximumRetryAttempts: 0, bisectBatchOnFunctionError: true }, async (event) => {
      const pks = event.Records.map(pkOf);
      bisected.push(pks);
      if (pks.includes('b2')) throw new Error('poison');
    });
    for (let index = 0; index < 4; index += 1) {
      await put(`skip${index}`, { entity: ENTITY.sendToken });
      await put(`b${index}`);
    }
    await waitFor(() => failures().length > 1, 'the second on-failure record');
    await bisecting.caughtUp();
    assert.deepEqual(bisected.flat().filter((pk) => pk.startsWith('skip')), []);
    assert.ok(bisected.some((batch) => batch.length === 1 && batch[0] === 'b2'), 'the poison record was isolated');
    const delivered = new Set(bisected.filter((batch) => !batch.includes('b2')).flat());
    assert.deepEqual([...delivered].sort(), ['b0', 'b1', 'b3']);
    assert.equal(failures()[1]!.DDBStreamBatchInfo.batchSize, 1);
  });

  test('startEventSourceMappings applies each mapping\'s entities: tokens, channels and USER# items reach no function', async () => {
    const calls: { fn: FunctionName; keys: string[] }[] = [];
    const mappings = startEventSourceMappings({
      streams: t.dynamo.streams,
      queues,
      retryBackoff: FAST,
      log: quiet,
      invoke: async (fn, event) => {
        calls.push({ fn, keys: event.Records.map((record) => `${pkOf(record)} ${record.dynamodb!.Keys!.sk!.S!}`) });
        return { batchItemFailures: [] };
      },
    });
    running.push(mappings);
    const { tableNames } = t.dynamo;
    const items: Array<[string, Record<string, unknown>]> = [
      [tableNames.messages, { pk: 'CHANNEL#c', sk: 'SEND_TOKEN#u#t', entity: ENTITY.sendToken }],
      [tableNames.messages, { pk: 'CHANNEL#c', sk: 'MESSAGE#1', entity: ENTITY.message }],
      [tableNames.channels, { pk: 'CHANNEL#c', sk: 'CHANNEL', entity: ENTITY.channel }],
      [tableNames.channels, { pk: 'CREATE_TOKEN#u#t', sk: 'TOKEN', entity: ENTITY.createToken }],
      [tableNames.channels, { pk: 'FLOW#f', sk: 'FLOW', entity: ENTITY.channelFlow }],
      [tableNames.channels, { pk: 'FLOW#f', sk: 'CHANNEL#c', entity: ENTITY.flowAssociation }],
      [tableNames.channels, { pk: 'FLOW_CREATE_TOKEN#u#t', sk: 'TOKEN', entity: ENTITY.flowCreateToken }],
      [tableNames.channels, { pk: 'CHANNEL#c', sk: 'MEMBER#u', entity: ENTITY.membership }],
      [tableNames.connections, { pk: 'USER#u', sk: 'CONNECTIONS', connectionIds: new Set(['x']) }],
      [tableNames.connections, { pk: 'CONNECTION#x', sk: 'CONNECTION', entity: CONNECTION_ENTITY }],
    ];
    for (const [TableName, Item] of items) await t.doc.send(new PutCommand({ TableName, Item }));
    await mappings.caughtUp();

    const keysOf = (fn: FunctionName) => calls.filter((call) => call.fn === fn).map((call) => call.keys);
    assert.deepEqual(keysOf('fanout').sort(), [['CHANNEL#c MEMBER#u'], ['CHANNEL#c MESSAGE#1']], 'the message and the membership, nothing else');
    assert.deepEqual(keysOf('sessionOpener'), [['CONNECTION#x CONNECTION']], 'the connection, not the user item');
    assert.equal(mappings.mappings.get('MessageEvents')!.stats.filteredRecords, 1);
    assert.equal(mappings.mappings.get('MembershipEvents')!.stats.filteredRecords, 5);
    assert.equal(mappings.mappings.get('SessionEvents')!.stats.filteredRecords, 1);
    for (const [id, mapping] of mappings.mappings) {
      const table = STREAM_MAPPINGS.find((definition) => definition.id === id)!.table;
      assert.equal(mapping.checkpoint, t.dynamo.streams[table]!.latestSequenceNumber, `${id} checkpointed past everything`);
    }
    assert.equal(failures().length, 0);
  });
});

describe('local queues', () => {
  test('send, receive-all, purge, and retention', () => {
    let now = 1_000_000;
    const local = new LocalQueues(undefined, () => now);
    assert.deepEqual(local.names(), ['streamFailures']);
    const seen: string[] = [];
    const unsubscribe = local.subscribe('streamFailures', (message) => seen.push(message.body));
    const first = local.send('streamFailures', { a: 1 });
    local.send('streamFailures', 'plain text');
    unsubscribe();
    local.send('streamFailures', 'unseen');
    assert.deepEqual(seen, ['{"a":1}', 'plain text']);
    assert.match(first.messageId, /^[0-9a-f-]{36}$/);
    assert.equal(first.sentTimestamp, now);
    assert.deepEqual(local.receiveAll('streamFailures').map((message) => message.body), ['{"a":1}', 'plain text', 'unseen']);
    assert.equal(local.receiveAll('streamFailures').length, 3, 'receiving does not remove');
    assert.equal(local.purge('streamFailures'), 3);
    assert.deepEqual(local.receiveAll('streamFailures'), []);

    local.send('streamFailures', 'old');
    now += 14 * 24 * 60 * 60 * 1000 + 1;
    local.send('streamFailures', 'new');
    assert.deepEqual(local.receiveAll('streamFailures').map((message) => message.body), ['new'], 'kept for retentionDays only');
    assert.throws(() => local.send('nope' as 'streamFailures', 'x'), /no queue named nope/);
  });
});
