/**
 * The fan-out with real parts: dynalite (with the project's stream/TTL layer) behind the real
 * DocumentClient and repositories, and a real HTTP server playing API Gateway's @connections API
 * behind the real ApiGatewayManagementApiClient and notifier. What is asserted is what a user or
 * the operator would notice: who gets which bytes, how many DynamoDB requests one event costs, and
 * what happens to gone, throttled and failing connections.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ApiGatewayConnectionNotifier, createManagementClient, type NotifierOptions } from '../../lambdas/adapters/connection-notifier';
import { DynamoDbChannelRepository } from '../../lambdas/adapters/dynamodb/channel-repository';
import { connectionKey, DynamoDbConnectionRepository, userConnectionsKey } from '../../lambdas/adapters/dynamodb/connection-repository';
import { messageKey } from '../../lambdas/adapters/dynamodb/keys';
import { messageItem } from '../../lambdas/adapters/dynamodb/message-repository';
import { appInstanceArn, userArn } from '../../lambdas/core/arns';
import { eventsForMessageChange, type ChimeEvent } from '../../lambdas/core/channel-events';
import { eventFrame, SESSION_ESTABLISHED_FRAME } from '../../lambdas/core/frames';
import type { Message } from '../../lambdas/core/model';
import { FanoutService, type FanoutOptions } from '../../lambdas/services/fanout-service';
import type { Connection } from '../../lambdas/services/ports';
import { SessionService } from '../../lambdas/services/session-service';
import { ENV, TABLES } from '../../lib/system';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../local/dynamodb';
import { APP, membership, message } from '../unit/fixtures';
import { CountingProxy, FakeConnectionsApi, GONE, OK, SERVER_ERROR, THROTTLED, type ReceivedPost } from './support';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const REGION = 'us-east-1';

let dynamo: LocalDynamoDb;
let proxy: CountingProxy;
let api: FakeConnectionsApi;
let base: DynamoDBClient;
let seedBase: DynamoDBClient;
/** Reads and writes of the code under test: through the counting proxy and the stream layer. */
let doc: DynamoDBDocumentClient;
/** Test setup only: straight to dynalite, so that seeding thousands of items stays fast. */
let seedDoc: DynamoDBDocumentClient;
let channels: DynamoDbChannelRepository;
let connections: DynamoDbConnectionRepository;
let seedChannels: DynamoDbChannelRepository;
let seedConnections: DynamoDbConnectionRepository;

/** A unique prefix per test, so tests share one DynamoDB without sharing data. */
const unique = () => randomBytes(3).toString('hex');
/** Connection ids shaped like API Gateway's (base64, with `=`), which must be URL-encoded in the path. */
const connectionId = (label: string) => `${label}_+AbC=`;
const user = (id: string) => userArn(APP, id);
const expiresAt = () => Math.floor(Date.now() / 1000) + 2 * 60 * 60;

async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/** Adds members to a channel with the repository's own putMembership (straight to dynalite). */
async function addMembers(channelId: string, userIds: readonly string[]): Promise<void> {
  await inParallel(userIds, 50, (id) => seedChannels.putMembership(membership({ userId: id, userArn: user(id), name: id.toUpperCase(), isAdmin: false }, channelId)));
}

/** A connection that was told SESSION_ESTABLISHED: its item, and its id in its user's set. */
async function connect(userId: string, id: string, repository: DynamoDbConnectionRepository = seedConnections): Promise<Connection> {
  const connection: Connection = { connectionId: id, userArn: user(userId), connectedAt: Date.now(), expiresAt: expiresAt() };
  await repository.recordConnection(connection);
  await repository.enrolConnection(connection);
  return connection;
}

function fanout(options: FanoutOptions = {}, notifierOptions: NotifierOptions = {}): FanoutService {
  const notifier = new ApiGatewayConnectionNotifier(createManagementClient(api.endpoint), notifierOptions);
  return new FanoutService(APP, channels, connections, notifier, options);
}

function messageOf(channelId: string, overrides: Partial<Message> = {}): Message {
  return message({ channelId, messageId: `018d0c9a1f2a${randomBytes(26).toString('hex')}`, content: `hello ${channelId} ✓`, ...overrides });
}

/** The event a new message stands for, built by the same core function the stream handler uses. */
function newMessageEvent(m: Message): ChimeEvent {
  const [event, ...rest] = eventsForMessageChange({ after: m });
  assert.ok(event !== undefined && rest.length === 0);
  assert.equal(event.audience.kind, 'CHANNEL_MEMBERS');
  return event;
}

async function connectionItem(id: string): Promise<Record<string, unknown> | undefined> {
  return (await seedDoc.send(new GetCommand({ TableName: dynamo.tableNames.connections, Key: connectionKey(id), ConsistentRead: true }))).Item;
}

async function establishedIds(userId: string): Promise<string[]> {
  const item = (await seedDoc.send(new GetCommand({ TableName: dynamo.tableNames.connections, Key: userConnectionsKey(user(userId)), ConsistentRead: true })))
    .Item;
  return [...((item?.connectionIds as Set<string> | undefined) ?? [])].sort();
}

const gapsBetween = (posts: readonly ReceivedPost[]) => posts.slice(1).map((post, index) => post.arrivedAt - posts[index]!.arrivedAt);

before(async () => {
  // What the SDK clients of the notifier (which takes only an endpoint) read, as in Lambda.
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  dynamo = await startLocalDynamoDb({ tablePrefix: `fanout${unique()}`, ttlSweepIntervalMs: 0 });
  proxy = await CountingProxy.start(dynamo.endpoint);
  api = await FakeConnectionsApi.start('v1');
  base = new DynamoDBClient({ endpoint: proxy.endpoint, region: REGION, credentials: CREDENTIALS });
  seedBase = new DynamoDBClient({ endpoint: dynamo.dynaliteEndpoint, region: REGION, credentials: CREDENTIALS });
  doc = DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
  seedDoc = DynamoDBDocumentClient.from(seedBase, { marshallOptions: { removeUndefinedValues: true } });
  channels = new DynamoDbChannelRepository(doc, dynamo.tableNames.channels);
  connections = new DynamoDbConnectionRepository(doc, dynamo.tableNames.connections);
  seedChannels = new DynamoDbChannelRepository(seedDoc, dynamo.tableNames.channels);
  seedConnections = new DynamoDbConnectionRepository(seedDoc, dynamo.tableNames.connections);
});

after(async () => {
  base?.destroy();
  seedBase?.destroy();
  await api?.stop();
  await proxy?.stop();
  await dynamo?.stop();
});

beforeEach(() => {
  api.reset();
  proxy.reset();
});

describe('fan-out, with dynalite and a real @connections server', () => {
  test('DynamoDB requests grow with members / 100, not with members; one POST per established connection, all the same frame', async () => {
    const channelId = `big${unique()}`;
    const smallId = `small${unique()}`;
    const members = Array.from({ length: 2500 }, (_, index) => `m${channelId}${index}`);
    await addMembers(channelId, members);
    await addMembers(smallId, members.slice(0, 250));
    // 300 members, spread over every block of 100, have one or two established connections.
    const expected: string[] = [];
    const smallExpected: string[] = [];
    await inParallel(
      members.flatMap((id, index) => (index % 25 < 3 ? [{ id, index }] : [])),
      25,
      async ({ id, index }) => {
        const ids = index % 2 === 0 ? [connectionId(`${id}a`), connectionId(`${id}b`)] : [connectionId(`${id}a`)];
        for (const cid of ids) {
          expected.push(cid);
          if (index < 250) smallExpected.push(cid);
          await connect(id, cid);
        }
      },
    );
    assert.equal(expected.length, 300 + 150);

    const event = newMessageEvent(messageOf(channelId));
    proxy.reset();
    const report = await fanout().publish(event);
    const requests = proxy.snapshot();

    assert.deepEqual(report, { delivered: 450, gone: 0 });
    assert.deepEqual(Object.keys(requests).sort(), ['BatchGetItem', 'Query'], `only key-only Query pages and BatchGetItem: ${JSON.stringify(requests)}`);
    assert.equal(requests.BatchGetItem, Math.ceil(2500 / 100), 'one BatchGetItem per 100 members');
    assert.ok(requests.Query! >= 1 && requests.Query! <= 3, `a handful of member pages, got ${requests.Query}`);

    const frame = Buffer.from(eventFrame(APP, event), 'utf8');
    assert.equal(api.posts.length, expected.length, 'exactly one POST per established connection');
    assert.deepEqual([...new Set(api.posts.map((post) => post.connectionId))].sort(), [...expected].sort());
    for (const post of api.posts) assert.ok(post.body.equals(frame), `connection ${post.connectionId} got a different frame`);
    const parsed = JSON.parse(frame.toString('utf8')) as { Headers: Record<string, string>; Payload: string };
    assert.equal(parsed.Headers['x-amz-chime-event-type'], 'CREATE_CHANNEL_MESSAGE');
    assert.equal((JSON.parse(parsed.Payload) as { Content: string }).Content, `hello ${channelId} ✓`);

    // A tenth of the members: a tenth of the BatchGetItem requests.
    api.reset();
    proxy.reset();
    const smallReport = await fanout().publish(newMessageEvent(messageOf(smallId)));
    assert.deepEqual(proxy.snapshot(), { BatchGetItem: 3, Query: 1 });
    assert.deepEqual(smallReport, { delivered: smallExpected.length, gone: 0 });
    assert.deepEqual(api.posts.map((post) => post.connectionId).sort(), smallExpected.sort());
  });

  test('410 Gone deletes exactly that connection, item and set entry; the others keep it and get the frame', async () => {
    const channelId = `gone${unique()}`;
    const owner = `u${channelId}`;
    const [c1, c2, c3] = [connectionId(`${owner}1`), connectionId(`${owner}2`), connectionId(`${owner}3`)];
    await addMembers(channelId, [owner, `${owner}-other`]);
    for (const cid of [c1, c2, c3]) await connect(owner, cid);
    const bystander = await connect(`${owner}-other`, connectionId(`${owner}-other`));
    api.script(c3, GONE);

    const event = newMessageEvent(messageOf(channelId));
    const report = await fanout().publish(event);

    assert.deepEqual(report, { delivered: 3, gone: 1 });
    assert.equal(await connectionItem(c3), undefined, 'the gone connection item is deleted');
    assert.deepEqual(await establishedIds(owner), [c1, c2].sort(), 'the gone id leaves the user set, the others stay');
    assert.ok(await connectionItem(c1));
    assert.ok(await connectionItem(c2));
    assert.deepEqual(await establishedIds(`${owner}-other`), [bystander.connectionId]);
    const frame = eventFrame(APP, event);
    assert.deepEqual(api.framesDeliveredTo(c1), [frame]);
    assert.deepEqual(api.framesDeliveredTo(c2), [frame]);
    assert.equal(api.postsTo(c3).length, 1, '410 is not retried');

    // The next event no longer costs a post to the gone connection.
    api.reset();
    assert.deepEqual(await fanout().publish(newMessageEvent(messageOf(channelId))), { delivered: 3, gone: 0 });
    assert.equal(api.postsTo(c3).length, 0);
  });

  test('410 for a connection whose item already expired still takes its id out of the user set', async () => {
    const owner = `u${unique()}`;
    const live = await connect(owner, connectionId(`${owner}live`));
    const stale: Connection = { connectionId: connectionId(`${owner}stale`), userArn: user(owner), connectedAt: 0, expiresAt: expiresAt() };
    await seedConnections.enrolConnection(stale); // in the set, but no connection item (expired by TTL)
    api.script(stale.connectionId, GONE);

    const event: ChimeEvent = { ...newMessageEvent(messageOf('any')), audience: { kind: 'USERS', userArns: [user(owner)] } };
    assert.deepEqual(await fanout().publish(event), { delivered: 1, gone: 1 });
    assert.deepEqual(await establishedIds(owner), [live.connectionId]);
  });

  test('429 is retried with jittered exponential backoff; a connection throttled for good fails the event only after the others got it', async () => {
    const channelId = `thr${unique()}`;
    const ids = ['calm', 'twice', 'stuck1', 'stuck2'].map((label) => `${label}${channelId}`);
    const [calm, twice, stuck1, stuck2] = ids.map((id) => connectionId(id)) as [string, string, string, string];
    await addMembers(channelId, ids);
    await Promise.all(ids.map((id, index) => connect(id, [calm, twice, stuck1, stuck2][index]!)));
    const notifierOptions = { maxThrottleRetries: 5, baseDelayMs: 20, maxDelayMs: 80 };

    // Throttled twice, then accepted: delivered exactly once, and the event succeeds.
    api.script(twice, THROTTLED, THROTTLED, OK);
    api.script(stuck1, OK);
    api.script(stuck2, OK);
    const first = newMessageEvent(messageOf(channelId));
    assert.deepEqual(await fanout({}, notifierOptions).publish(first), { delivered: 4, gone: 0 });
    assert.deepEqual(api.postsTo(twice).map((post) => post.status), [429, 429, 200]);
    assert.deepEqual(api.framesDeliveredTo(twice), [eventFrame(APP, first)]);

    // Throttled for good: 1 + maxThrottleRetries attempts each, then the event fails; the others still got it.
    api.reset();
    api.script(stuck1, THROTTLED);
    api.script(stuck2, THROTTLED);
    const second = newMessageEvent(messageOf(channelId));
    const started = performance.now();
    await assert.rejects(fanout({}, notifierOptions).publish(second), (error: unknown) => {
      assert.ok(error instanceof AggregateError, `expected an AggregateError, got ${String(error)}`);
      assert.match(error.message, /2 of 4 posts failed/);
      assert.equal(error.errors.length, 2);
      for (const cause of error.errors) assert.equal((cause as Error).name, 'LimitExceededException');
      return true;
    });
    assert.equal(api.postsTo(stuck1).length, 1 + notifierOptions.maxThrottleRetries);
    assert.equal(api.postsTo(stuck2).length, 1 + notifierOptions.maxThrottleRetries);
    assert.deepEqual(api.framesDeliveredTo(calm), [eventFrame(APP, second)]);
    assert.deepEqual(api.framesDeliveredTo(twice), [eventFrame(APP, second)]);
    // Not held up behind the throttled connection: delivered before its retries were over.
    assert.ok(api.postsTo(calm)[0]!.arrivedAt < api.postsTo(stuck1).at(-1)!.arrivedAt);

    const gaps1 = gapsBetween(api.postsTo(stuck1));
    const gaps2 = gapsBetween(api.postsTo(stuck2));
    const ceilings = gaps1.map((_, attempt) => Math.min(notifierOptions.maxDelayMs, notifierOptions.baseDelayMs * 2 ** attempt));
    for (const gaps of [gaps1, gaps2]) {
      // Full jitter: each wait is somewhere in [0, ceiling]; the waits add up to more than the round trips alone.
      gaps.forEach((gap, attempt) => assert.ok(gap <= ceilings[attempt]! + 100, `wait ${attempt} was ${gap.toFixed(1)} ms, ceiling ${ceilings[attempt]} ms`));
      assert.ok(gaps.reduce((sum, gap) => sum + gap, 0) >= 30, `the retries backed off: ${gaps.map((gap) => gap.toFixed(1)).join(', ')}`);
    }
    // Jitter: two connections throttled the same way do not retry in lockstep.
    assert.ok(
      gaps1.some((gap, index) => Math.abs(gap - gaps2[index]!) > 1),
      `the waits of two connections should differ: ${gaps1.map((gap) => gap.toFixed(1))} vs ${gaps2.map((gap) => gap.toFixed(1))}`,
    );
    assert.ok(performance.now() - started < 3000);
  });

  test('a 500 from one connection fails the event with an AggregateError counting the failures, after every other connection was posted to', async () => {
    const channelId = `err${unique()}`;
    const ids = Array.from({ length: 5 }, (_, index) => `u${index}${channelId}`);
    await addMembers(channelId, ids);
    const cids = ids.map((id) => connectionId(id));
    await Promise.all(ids.map((id, index) => connect(id, cids[index]!)));
    const bad = cids[2]!;
    api.script(bad, SERVER_ERROR);

    const event = newMessageEvent(messageOf(channelId));
    // One post at a time: whatever order the connections come in, the failure must not stop the rest.
    await assert.rejects(fanout({ concurrency: 1 }).publish(event), (error: unknown) => {
      assert.ok(error instanceof AggregateError, `expected an AggregateError, got ${String(error)}`);
      assert.equal(error.message, 'CREATE_CHANNEL_MESSAGE: 1 of 5 posts failed');
      assert.equal(error.errors.length, 1);
      assert.equal((error.errors[0] as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 500);
      return true;
    });
    for (const cid of cids.filter((cid) => cid !== bad)) assert.deepEqual(api.framesDeliveredTo(cid), [eventFrame(APP, event)], cid);
    assert.equal(api.postsTo(bad).length, 1, 'a 500 is not retried by the notifier (the stream retries the record)');
    assert.ok(await connectionItem(bad), 'a 500 is not a gone connection: it is kept');
    assert.ok((await establishedIds(ids[2]!)).includes(bad));
  });

  test('posts in flight never exceed the concurrency option', async () => {
    const channelId = `crowd${unique()}`;
    const ids = Array.from({ length: 150 }, (_, index) => `u${index}${channelId}`);
    await addMembers(channelId, ids);
    await inParallel(ids, 25, (id) => connect(id, connectionId(id)));
    const limit = 8;
    // Hold every post until `limit` are in flight (or 50 ms passed, at the end of a block of
    // users), then a little longer, so that a post beyond the limit would show up.
    api.beforeReply = async (post) => {
      while (api.inFlight < limit && performance.now() - post.arrivedAt < 50) await new Promise((resolve) => setTimeout(resolve, 1));
      await new Promise((resolve) => setTimeout(resolve, 5));
    };

    const report = await fanout({ concurrency: limit }).publish(newMessageEvent(messageOf(channelId)));

    assert.deepEqual(report, { delivered: 150, gone: 0 });
    assert.equal(api.posts.length, 150);
    assert.equal(api.maxInFlight, limit, `at most (and, here, exactly) ${limit} posts in flight`);
  });

  test('the same event published twice produces byte-identical frames', async () => {
    const channelId = `twice${unique()}`;
    const ids = ['a', 'b', 'c'].map((label) => `${label}${channelId}`);
    await addMembers(channelId, ids);
    await Promise.all(ids.map((id) => connect(id, connectionId(id))));
    const m = messageOf(channelId, { metadata: '{"ü":"ß"}', messageAttributes: { k: { stringValues: ['v1', 'v2'] } } });

    // As a retried stream record would: the event is derived again from the same item.
    await fanout().publish(newMessageEvent(m));
    await fanout().publish(newMessageEvent(structuredClone(m)));

    const reference = api.posts[0]!.body;
    assert.equal(api.posts.length, 6);
    for (const id of ids) {
      const posts = api.postsTo(connectionId(id));
      assert.equal(posts.length, 2);
      for (const post of posts) assert.ok(post.body.equals(reference), `${post.connectionId}: ${post.body.toString()} != ${reference.toString()}`);
    }
  });
});

describe('SessionService.establish, with dynalite and a real @connections server', () => {
  const sessions = (notifierOptions: NotifierOptions = {}) =>
    new SessionService(connections, new ApiGatewayConnectionNotifier(createManagementClient(api.endpoint), notifierOptions));

  test('SESSION_ESTABLISHED is posted first, and only then is the connection enrolled for the fan-out', async () => {
    const owner = `s${unique()}`;
    const connection: Connection = { connectionId: connectionId(owner), userArn: user(owner), connectedAt: Date.now(), expiresAt: expiresAt() };
    await connections.recordConnection(connection); // what $connect stores
    let enrolledWhilePosting: string[] | undefined;
    api.beforeReply = async (post) => {
      if (post.connectionId === connection.connectionId) enrolledWhilePosting = await establishedIds(owner);
    };

    assert.equal(await sessions().establish(connection), 'ESTABLISHED');

    assert.deepEqual(enrolledWhilePosting, [], 'not enrolled while SESSION_ESTABLISHED was in flight');
    assert.deepEqual(await establishedIds(owner), [connection.connectionId]);
    const event: ChimeEvent = { ...newMessageEvent(messageOf('any')), audience: { kind: 'USERS', userArns: [user(owner)] } };
    await fanout().publish(event);
    assert.deepEqual(api.framesDeliveredTo(connection.connectionId), [SESSION_ESTABLISHED_FRAME, eventFrame(APP, event)]);
  });

  test('a connection that answers SESSION_ESTABLISHED with 410 is deleted and never enrolled', async () => {
    const owner = `s${unique()}`;
    const connection: Connection = { connectionId: connectionId(owner), userArn: user(owner), connectedAt: Date.now(), expiresAt: expiresAt() };
    await connections.recordConnection(connection);
    api.script(connection.connectionId, GONE);

    assert.equal(await sessions().establish(connection), 'GONE');

    assert.equal(await connectionItem(connection.connectionId), undefined);
    assert.deepEqual(await establishedIds(owner), []);
    const event: ChimeEvent = { ...newMessageEvent(messageOf('any')), audience: { kind: 'USERS', userArns: [user(owner)] } };
    assert.deepEqual(await fanout().publish(event), { delivered: 0, gone: 0 });
    assert.equal(api.postsTo(connection.connectionId).length, 1, 'only the SESSION_ESTABLISHED attempt');
  });
});

describe('the fan-out Lambda handler', () => {
  let sequence = 100_000_000_000_000_000_000n;

  function insertRecord(m: Message): DynamoDBRecord {
    sequence += 1n;
    return {
      eventID: randomBytes(16).toString('hex'),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      eventSourceARN: `arn:aws:dynamodb:${REGION}:000000000000:table/${dynamo.tableNames.messages}/stream/2024-01-15T10:30:00.000`,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(m.createdAt / 1000),
        Keys: marshall(messageKey(m.channelId, m.messageId)) as never,
        NewImage: marshall(messageItem(m), { removeUndefinedValues: true }) as never,
        SequenceNumber: String(sequence),
        SizeBytes: 512,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  }

  test('a record whose fan-out fails is the only one in batchItemFailures; the others are delivered; the retry sends the same frame', async () => {
    const prefix = unique();
    const channelIds = ['one', 'two', 'three'].map((name) => `${name}${prefix}`);
    const owners = channelIds.map((channelId) => `u${channelId}`);
    for (const [index, channelId] of channelIds.entries()) await addMembers(channelId, [owners[index]!, `shared${prefix}`]);
    await connect(`shared${prefix}`, connectionId(`shared${prefix}`));
    for (const owner of owners) await connect(owner, connectionId(owner));
    const failing = connectionId(owners[1]!);
    api.script(failing, SERVER_ERROR);

    Object.assign(process.env, {
      [TABLES.channels.environmentVariable]: dynamo.tableNames.channels,
      [TABLES.connections.environmentVariable]: dynamo.tableNames.connections,
      [TABLES.messages.environmentVariable]: dynamo.tableNames.messages,
      [ENV.appInstanceArn]: appInstanceArn(APP),
      [ENV.connectionsEndpoint]: api.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const { handler } = await import('../../lambdas/handlers/fanout');
    const context = { functionName: 'fanout', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

    const messages = channelIds.map((channelId) => messageOf(channelId));
    const records = messages.map(insertRecord);
    const event: DynamoDBStreamEvent = { Records: records };
    const response = (await handler(event, context)) as DynamoDBBatchResponse;

    assert.deepEqual(response, { batchItemFailures: [{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber! }] });
    const frames = messages.map((m) => eventFrame(APP, newMessageEvent(m)));
    assert.deepEqual(api.framesDeliveredTo(connectionId(owners[0]!)), [frames[0]]);
    assert.deepEqual(api.framesDeliveredTo(connectionId(owners[2]!)), [frames[2]]);
    // The shared member is in all three channels: it got the middle event too, before the failure was reported.
    assert.deepEqual(api.framesDeliveredTo(connectionId(`shared${prefix}`)), frames);
    assert.deepEqual(api.framesDeliveredTo(failing), []);

    // The event source mapping retries the failed record; once the connection recovers it gets the same bytes.
    api.script(failing, OK);
    const retried = (await handler({ Records: [records[1]!] }, context)) as DynamoDBBatchResponse;
    assert.deepEqual(retried, { batchItemFailures: [] });
    assert.deepEqual(api.framesDeliveredTo(failing), [frames[1]]);
    const sharedFrames = api.framesDeliveredTo(connectionId(`shared${prefix}`));
    assert.equal(sharedFrames.length, 4);
    assert.equal(sharedFrames[3], sharedFrames[1], 'a retried record is byte-identical, recognisable by its MessageId');
  });
});
