import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AssociateChannelFlowCommand,
  ChannelFlowCallbackCommand,
  CreateChannelCommand,
  CreateChannelFlowCommand,
  GetChannelMessageCommand,
  GetChannelMessageStatusCommand,
  ListChannelMessagesCommand,
  SendChannelMessageCommand,
  UpdateChannelMessageCommand,
  type ChannelMessage,
  type ChannelMessageSummary,
  type ChimeSDKMessagingClient,
} from '@aws-sdk/client-chime-sdk-messaging';
import { createCallbackClient } from '../../lambdas/processors/callback-client';
import type { CallbackNote } from '../fixtures/processors/record';
import { expectServiceError } from '../support/expect-error';
import { startLocalSystem, type LocalSystem, type LocalUser } from '../support/local-system';
import { channelPath, rawRequest } from '../support/raw-http';
import { TableInspector, type TableKey } from '../support/table-inspector';
import { connectEvents, eventTypeOf, type ChimeFrame, type EventClient } from '../support/websocket-client';

/**
 * Channel flow processing end to end, against one local runtime (a separate process, as
 * `npm start` runs it) with a 3-second flow timeout and the test processors of
 * test/fixtures/processors registered next to the shipped `channel-flow-moderation`.
 *
 * alice sends, bob is the other member, carol is an outsider; all three hold a real `ws`
 * connection. Every row of the event table of "Sending messages" is checked with its exact
 * recipients: to prove that bob got nothing, alice then sends a CONTROL message (never processed)
 * in the same channel; the stream is ordered per channel, so once bob has that marker's
 * CREATE_CHANNEL_MESSAGE, any earlier event meant for him would have arrived before it.
 */

const FLOW_TIMEOUT_SECONDS = 3;
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** The distinctive words of the denied send and the denied edit, searched for in every table. */
const DENIED_SEND_TEXT = 'Buy Spam zebra-7731 today';
const DENIED_SEND_MARK = 'zebra-7731';
const DENIED_EDIT_TEXT = 'SPAM quokka-5519 instead';
const DENIED_EDIT_MARK = 'quokka-5519';

const FIXTURE_PROCESSORS = {
  'channel-flow-throws': 'test/fixtures/processors/throws.ts',
  'channel-flow-silent': 'test/fixtures/processors/silent.ts',
  'channel-flow-callback-modify': 'test/fixtures/processors/callback-modify.ts',
  'channel-flow-callback-twice': 'test/fixtures/processors/callback-twice.ts',
  'channel-flow-slow-callback': 'test/fixtures/processors/slow-callback.ts',
} as const;

let system: LocalSystem;
let tables: TableInspector;
let restUrl: string;
let alice: LocalUser;
let bob: LocalUser;
let carol: LocalUser;
let admin: LocalUser;
let aliceTab: EventClient;
let bobTab: EventClient;
let carolTab: EventClient;
let callbackClient: ChimeSDKMessagingClient;
let fixtureDir: string;
const flows: Record<string, string> = {};

before(async () => {
  // The fixture processors run inside the runtime, which inherits this environment.
  fixtureDir = mkdtempSync(join(tmpdir(), 'channel-flow-fixtures-'));
  process.env.CHANNEL_FLOW_FIXTURE_DIR = fixtureDir;
  system = await startLocalSystem([
    '--flow-timeout-seconds',
    String(FLOW_TIMEOUT_SECONDS),
    ...Object.entries(FIXTURE_PROCESSORS).flatMap(([name, path]) => ['--processor', `${name}=${path}`]),
  ]);
  restUrl = system.ready.restUrl;
  tables = new TableInspector(system.ready);
  [alice, bob, carol, admin] = await Promise.all([
    system.user('alice'),
    system.user('bob'),
    system.user('carol'),
    system.user('root', { admin: true }),
  ]);
  [aliceTab, bobTab, carolTab] = await Promise.all([connect(alice), connect(bob), connect(carol)]);
  callbackClient = createCallbackClient(`${restUrl}/callbacks`, {
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

  const flowSpecs: Record<string, [string, 'ABORT' | 'CONTINUE']> = {
    moderation: [lambdaArn('channel-flow-moderation'), 'ABORT'],
    missing: [lambdaArn('channel-flow-does-not-exist'), 'ABORT'],
    throwsAbort: [lambdaArn('channel-flow-throws'), 'ABORT'],
    throwsContinue: [lambdaArn('channel-flow-throws'), 'CONTINUE'],
    silent: [lambdaArn('channel-flow-silent'), 'ABORT'],
    callbackModify: [lambdaArn('channel-flow-callback-modify'), 'ABORT'],
    callbackTwice: [lambdaArn('channel-flow-callback-twice'), 'ABORT'],
    slowCallback: [lambdaArn('channel-flow-slow-callback'), 'ABORT'],
  };
  for (const [key, [resourceArn, fallbackAction]] of Object.entries(flowSpecs)) {
    const output = await admin.client.send(
      new CreateChannelFlowCommand({
        AppInstanceArn: system.ready.appInstanceArn,
        Name: `${key}-flow`,
        ClientRequestToken: randomUUID(),
        Processors: [
          {
            Name: key,
            ExecutionOrder: 1,
            FallbackAction: fallbackAction,
            Configuration: { Lambda: { ResourceArn: resourceArn, InvocationType: 'ASYNC' } },
          },
        ],
      }),
    );
    flows[key] = output.ChannelFlowArn as string;
  }
});

after(async () => {
  await Promise.all([aliceTab, bobTab, carolTab].filter(Boolean).map((client) => client.close()));
  callbackClient?.destroy();
  tables?.destroy();
  await system?.stop();
  if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
  delete process.env.CHANNEL_FLOW_FIXTURE_DIR;
});

// ---------------------------------------------------------------------------------------------
// helpers

async function connect(user: LocalUser): Promise<EventClient> {
  const client = await connectEvents(system.ready.websocketUrl, user.token);
  await client.waitFor((frame) => eventTypeOf(frame) === 'SESSION_ESTABLISHED');
  return client;
}

let channelCounter = 0;
/** A private channel of alice (its creator, so a moderator) with bob as member, and the flow `flowKey` if given. */
async function channel(flowKey?: keyof typeof flows | string): Promise<string> {
  const output = await alice.client.send(
    new CreateChannelCommand({
      AppInstanceArn: system.ready.appInstanceArn,
      Name: `processing-${(channelCounter += 1)}`,
      ChimeBearer: alice.arn,
      MemberArns: [alice.arn, bob.arn],
      ClientRequestToken: randomUUID(),
    }),
  );
  const channelArn = output.ChannelArn as string;
  if (flowKey !== undefined) await associate(channelArn, flowKey);
  return channelArn;
}

async function associate(channelArn: string, flowKey: string): Promise<void> {
  const flowArn = flows[flowKey];
  assert.ok(flowArn, `flow ${flowKey} exists`);
  await alice.client.send(new AssociateChannelFlowCommand({ ChannelArn: channelArn, ChannelFlowArn: flowArn, ChimeBearer: alice.arn }));
}

const channelIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

async function send(channelArn: string, content: string, type: 'STANDARD' | 'CONTROL' = 'STANDARD') {
  const output = await alice.client.send(
    new SendChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, Content: content, Type: type, Persistence: 'PERSISTENT' }),
  );
  assert.equal(output.$metadata.httpStatusCode, 201);
  assert.ok(output.MessageId);
  return { messageId: output.MessageId, status: output.Status?.Value };
}

async function edit(channelArn: string, messageId: string, content: string) {
  const output = await alice.client.send(
    new UpdateChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: alice.arn, Content: content }),
  );
  return output.Status?.Value;
}

async function getMessage(user: LocalUser, channelArn: string, messageId: string): Promise<ChannelMessage> {
  const output = await user.client.send(new GetChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: user.arn }));
  assert.ok(output.ChannelMessage);
  return output.ChannelMessage;
}

const getMessageOf = (user: LocalUser, channelArn: string, messageId: string) =>
  user.client.send(new GetChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: user.arn }));

async function statusOf(channelArn: string, messageId: string, user: LocalUser = alice) {
  const output = await user.client.send(new GetChannelMessageStatusCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: user.arn }));
  assert.ok(output.Status);
  return output.Status;
}

const statusCall = (channelArn: string, messageId: string, user: LocalUser = alice) =>
  user.client.send(new GetChannelMessageStatusCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: user.arn }));

async function listed(user: LocalUser, channelArn: string): Promise<ChannelMessageSummary[]> {
  const output = await user.client.send(new ListChannelMessagesCommand({ ChannelArn: channelArn, ChimeBearer: user.arn, MaxResults: 50 }));
  return output.ChannelMessages ?? [];
}

async function listedOne(user: LocalUser, channelArn: string, messageId: string): Promise<ChannelMessageSummary | undefined> {
  return (await listed(user, channelArn)).find((message) => message.MessageId === messageId);
}

interface Payload {
  readonly ChannelArn?: string;
  readonly MessageId?: string;
  readonly Content?: string;
  readonly Status?: { readonly Value?: string; readonly Detail?: string };
  readonly LastEditedTimestamp?: string;
  readonly [key: string]: unknown;
}
const payloadOf = (frame: ChimeFrame): Payload => JSON.parse(frame.Payload ?? '{}') as Payload;

const about = (eventType: string, messageId: string) => (frame: ChimeFrame) =>
  eventTypeOf(frame) === eventType && payloadOf(frame).MessageId === messageId;

/** Waits for the event and returns its parsed payload (and checks the envelope's message type). */
async function event(client: EventClient, eventType: string, messageId: string, timeoutMs = 5000): Promise<Payload> {
  const frame = await client.waitFor(about(eventType, messageId), timeoutMs);
  assert.equal(frame.Headers['x-amz-chime-message-type'], 'STANDARD', `${eventType} is about a STANDARD message`);
  return payloadOf(frame);
}

/** The message events a client received for one channel, as `TYPE label` (labels name the message ids). */
function eventsIn(client: EventClient, channelArn: string, labels: Readonly<Record<string, string>>): string[] {
  return client.frames
    .filter((frame) => (eventTypeOf(frame) ?? '').endsWith('_CHANNEL_MESSAGE'))
    .map((frame) => ({ type: eventTypeOf(frame), payload: payloadOf(frame) }))
    .filter(({ payload }) => payload.ChannelArn === channelArn)
    .map(({ type, payload }) => `${type} ${labels[payload.MessageId ?? ''] ?? payload.MessageId}`);
}

/**
 * Sends a CONTROL marker (never processed) and waits until alice and bob both have it; returns the
 * events each of them received in the channel, the marker last. Anything meant for bob before the
 * marker has arrived by then.
 */
async function settle(channelArn: string, labels: Readonly<Record<string, string>>) {
  const { messageId: marker, status } = await send(channelArn, 'marker', 'CONTROL');
  assert.equal(status, 'SENT', 'a CONTROL marker skips the flow');
  await Promise.all([aliceTab, bobTab].map((client) => client.waitFor(about('CREATE_CHANNEL_MESSAGE', marker))));
  const all = { ...labels, [marker]: 'marker' };
  return { alice: eventsIn(aliceTab, channelArn, all), bob: eventsIn(bobTab, channelArn, all) };
}

/** The notes a fixture processor left after calling back (waits until they are there). */
async function callbackNotes(processor: string, messageId: string, timeoutMs = 10_000): Promise<CallbackNote[]> {
  const path = join(fixtureDir, `${processor}-${messageId}.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) assert.fail(`${processor} left no callback note for ${messageId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return JSON.parse(readFileSync(path, 'utf8')) as CallbackNote[];
}

/** The pending change's real CallbackId, read from the messages table. */
async function storedCallbackId(channelArn: string, messageId: string): Promise<string> {
  const items = await tables.messageItems(channelIdOf(channelArn));
  const item = items.find((candidate) => candidate.messageId === messageId) as { pending?: { callbackId?: string } } | undefined;
  const callbackId = item?.pending?.callbackId;
  assert.ok(callbackId, `message ${messageId} has a pending change with a CallbackId`);
  return callbackId;
}

const seconds = (since: number) => (Date.now() - since) / 1000;

// ---------------------------------------------------------------------------------------------

describe('channel flow processing, end to end', () => {
  test('the runtime registers the fixture processors and lists them in its ready line', () => {
    const processors = system.ready.processors as Record<string, string>;
    assert.equal(processors['channel-flow-moderation'], lambdaArn('channel-flow-moderation'));
    for (const name of Object.keys(FIXTURE_PROCESSORS)) assert.equal(processors[name], lambdaArn(name), name);
  });

  test('allowed send: PENDING to the sender, then CREATE to all; SendChannelMessage answers PENDING', async () => {
    const channelArn = await channel('moderation');
    const { messageId, status } = await send(channelArn, 'hello, clean world');
    assert.equal(status, 'PENDING');

    const pending = await event(aliceTab, 'PENDING_CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(pending.Content, 'hello, clean world');
    assert.deepEqual(pending.Status, { Value: 'PENDING' });
    const created = await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(created.Content, 'hello, clean world');
    assert.deepEqual(created.Status, { Value: 'SENT' });

    const seen = await settle(channelArn, { [messageId]: 'sent' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE sent', 'CREATE_CHANNEL_MESSAGE sent', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE sent', 'CREATE_CHANNEL_MESSAGE marker']);

    assert.deepEqual(await statusOf(channelArn, messageId), { Value: 'SENT' });
    for (const user of [alice, bob]) {
      const message = await getMessage(user, channelArn, messageId);
      assert.equal(message.Content, 'hello, clean world');
      assert.equal(message.Status?.Value, 'SENT');
      const summary = await listedOne(user, channelArn, messageId);
      assert.equal(summary?.Content, 'hello, clean world', `${user.userId} lists it`);
      assert.equal(summary?.Status?.Value, 'SENT');
    }
  });

  test('modified send: the processor replaces the e-mail address; everyone sees only the processed content', async () => {
    const channelArn = await channel('moderation');
    const original = 'reach me at alice@example.com today';
    const processed = 'reach me at [email] today';
    const { messageId, status } = await send(channelArn, original);
    assert.equal(status, 'PENDING');

    assert.equal((await event(aliceTab, 'PENDING_CREATE_CHANNEL_MESSAGE', messageId)).Content, original, 'the sender is shown its own text while pending');
    assert.equal((await event(aliceTab, 'CREATE_CHANNEL_MESSAGE', messageId)).Content, processed);
    const created = await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(created.Content, processed);
    assert.deepEqual(created.Status, { Value: 'SENT' });

    const seen = await settle(channelArn, { [messageId]: 'modified' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE modified', 'CREATE_CHANNEL_MESSAGE modified', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE modified', 'CREATE_CHANNEL_MESSAGE marker']);

    assert.deepEqual(await statusOf(channelArn, messageId), { Value: 'SENT' });
    for (const user of [alice, bob]) {
      assert.equal((await getMessage(user, channelArn, messageId)).Content, processed);
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, processed);
    }
  });

  test('denied send: PENDING then DENIED to the sender only; afterwards the message is nowhere (404 for message and status)', async () => {
    const channelArn = await channel('moderation');
    const { messageId, status } = await send(channelArn, DENIED_SEND_TEXT);
    assert.equal(status, 'PENDING');

    assert.equal((await event(aliceTab, 'PENDING_CREATE_CHANNEL_MESSAGE', messageId)).Content, DENIED_SEND_TEXT);
    const denied = await event(aliceTab, 'DENIED_CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(denied.Status?.Value, 'DENIED');
    assert.equal(denied.Content, DENIED_SEND_TEXT, 'the sender is shown its rejected text once');

    const seen = await settle(channelArn, { [messageId]: 'denied' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE denied', 'DENIED_CREATE_CHANNEL_MESSAGE denied', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE marker'], 'bob hears nothing of a denied send');

    await expectServiceError(statusCall(channelArn, messageId), 'NotFoundException', 404);
    for (const user of [alice, bob]) {
      await expectServiceError(getMessageOf(user, channelArn, messageId), 'NotFoundException', 404);
      assert.equal(await listedOne(user, channelArn, messageId), undefined, `not listed for ${user.userId}`);
    }
  });

  test('allowed and modified edits of a SENT message: PENDING_UPDATE to the sender, UPDATE with the processed content to all', async () => {
    const channelArn = await channel('moderation');
    const { messageId } = await send(channelArn, 'first draft');
    await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);

    assert.equal(await edit(channelArn, messageId, 'second draft'), 'PENDING');
    const allowedPending = await event(aliceTab, 'PENDING_UPDATE_CHANNEL_MESSAGE', messageId);
    assert.equal(allowedPending.Content, 'second draft', 'the sender is shown the proposed edit');
    assert.deepEqual(allowedPending.Status, { Value: 'PENDING' });
    const allowed = await bobTab.waitFor((frame) => about('UPDATE_CHANNEL_MESSAGE', messageId)(frame) && payloadOf(frame).Content === 'second draft');
    assert.deepEqual(payloadOf(allowed).Status, { Value: 'SENT' });
    assert.equal(typeof payloadOf(allowed).LastEditedTimestamp, 'string');

    assert.equal(await edit(channelArn, messageId, 'write to carol@example.net instead'), 'PENDING');
    await aliceTab.waitFor((frame) => about('PENDING_UPDATE_CHANNEL_MESSAGE', messageId)(frame) && payloadOf(frame).Content === 'write to carol@example.net instead');
    await bobTab.waitFor((frame) => about('UPDATE_CHANNEL_MESSAGE', messageId)(frame) && payloadOf(frame).Content === 'write to [email] instead');

    const seen = await settle(channelArn, { [messageId]: 'm' });
    assert.deepEqual(seen.alice, [
      'PENDING_CREATE_CHANNEL_MESSAGE m',
      'CREATE_CHANNEL_MESSAGE m',
      'PENDING_UPDATE_CHANNEL_MESSAGE m',
      'UPDATE_CHANNEL_MESSAGE m',
      'PENDING_UPDATE_CHANNEL_MESSAGE m',
      'UPDATE_CHANNEL_MESSAGE m',
      'CREATE_CHANNEL_MESSAGE marker',
    ]);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE m', 'UPDATE_CHANNEL_MESSAGE m', 'UPDATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(
      aliceTab.frames.filter((frame) => about('UPDATE_CHANNEL_MESSAGE', messageId)(frame)).map((frame) => payloadOf(frame).Content),
      ['second draft', 'write to [email] instead'],
    );

    assert.deepEqual(await statusOf(channelArn, messageId), { Value: 'SENT' });
    for (const user of [alice, bob]) {
      const message = await getMessage(user, channelArn, messageId);
      assert.equal(message.Content, 'write to [email] instead');
      assert.ok(message.LastEditedTimestamp instanceof Date, 'LastEditedTimestamp is set');
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, 'write to [email] instead');
    }
  });

  test('while an edit is pending, others keep the last SENT version; a processor that never answers ends it FAILED_UPDATE (sender only)', async () => {
    const channelArn = await channel();
    const { messageId } = await send(channelArn, 'original words');
    await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    await associate(channelArn, 'silent');

    const editedAt = Date.now();
    assert.equal(await edit(channelArn, messageId, 'replacement words'), 'PENDING');
    assert.equal((await event(aliceTab, 'PENDING_UPDATE_CHANNEL_MESSAGE', messageId)).Content, 'replacement words');

    // Pending: bob reads and lists the last SENT version; alice's status is PENDING.
    const forBob = await getMessage(bob, channelArn, messageId);
    assert.equal(forBob.Content, 'original words');
    assert.equal(forBob.Status?.Value, 'SENT');
    assert.equal(forBob.LastEditedTimestamp, undefined);
    assert.equal((await listedOne(bob, channelArn, messageId))?.Content, 'original words');
    assert.equal((await statusOf(channelArn, messageId)).Value, 'PENDING');
    await expectServiceError(edit(channelArn, messageId, 'third words'), 'ConflictException', 409);

    const failed = await event(aliceTab, 'FAILED_UPDATE_CHANNEL_MESSAGE', messageId, 10_000);
    assert.ok(seconds(editedAt) >= FLOW_TIMEOUT_SECONDS - 0.5, `ended by the timeout, after ${seconds(editedAt)} s`);
    assert.equal(failed.Status?.Value, 'FAILED');
    assert.equal(failed.Content, 'replacement words', 'the sender is shown its failed edit');

    const seen = await settle(channelArn, { [messageId]: 'm' });
    assert.deepEqual(seen.alice, ['CREATE_CHANNEL_MESSAGE m', 'PENDING_UPDATE_CHANNEL_MESSAGE m', 'FAILED_UPDATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);

    assert.equal((await statusOf(channelArn, messageId)).Value, 'FAILED');
    for (const user of [alice, bob]) {
      const message = await getMessage(user, channelArn, messageId);
      assert.equal(message.Content, 'original words', `${user.userId} still reads the last SENT version`);
      assert.equal(message.Status?.Value, 'SENT');
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, 'original words');
    }
  });

  test('denied edit: PENDING_UPDATE then DENIED_UPDATE to the sender only; the last SENT version stays for everyone', async () => {
    const channelArn = await channel('moderation');
    const { messageId } = await send(channelArn, 'a perfectly fine note');
    await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);

    assert.equal(await edit(channelArn, messageId, DENIED_EDIT_TEXT), 'PENDING');
    assert.equal((await event(aliceTab, 'PENDING_UPDATE_CHANNEL_MESSAGE', messageId)).Content, DENIED_EDIT_TEXT);
    const denied = await event(aliceTab, 'DENIED_UPDATE_CHANNEL_MESSAGE', messageId);
    assert.equal(denied.Status?.Value, 'DENIED');

    const seen = await settle(channelArn, { [messageId]: 'm' });
    assert.deepEqual(seen.alice, [
      'PENDING_CREATE_CHANNEL_MESSAGE m',
      'CREATE_CHANNEL_MESSAGE m',
      'PENDING_UPDATE_CHANNEL_MESSAGE m',
      'DENIED_UPDATE_CHANNEL_MESSAGE m',
      'CREATE_CHANNEL_MESSAGE marker',
    ]);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);

    assert.equal((await statusOf(channelArn, messageId)).Value, 'DENIED', 'the status of the latest change');
    for (const user of [alice, bob]) {
      const message = await getMessage(user, channelArn, messageId);
      assert.equal(message.Content, 'a perfectly fine note');
      assert.equal(message.Status?.Value, 'SENT');
      assert.equal(message.LastEditedTimestamp, undefined, 'the denied edit did not count as an edit');
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, 'a perfectly fine note');
    }
  });

  test('FAILED send under ABORT, processor missing: SendChannelMessage answers FAILED; FAILED_CREATE to the sender only', async () => {
    const channelArn = await channel('missing');
    const { messageId, status } = await send(channelArn, 'is anyone there?');
    assert.equal(status, 'FAILED', 'the invoke fails while the request is served, so the answer is already FAILED');

    const failed = await event(aliceTab, 'FAILED_CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(failed.Status?.Value, 'FAILED');
    assert.equal(failed.Content, 'is anyone there?');

    const seen = await settle(channelArn, { [messageId]: 'failed' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE failed', 'FAILED_CREATE_CHANNEL_MESSAGE failed', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE marker']);

    const status2 = await statusOf(channelArn, messageId);
    assert.equal(status2.Value, 'FAILED');
    assert.match(status2.Detail ?? '', /could not be invoked/);
    assert.equal((await getMessage(alice, channelArn, messageId)).Status?.Value, 'FAILED');
    assert.equal((await listedOne(alice, channelArn, messageId))?.Status?.Value, 'FAILED', 'the sender lists its failed message');
    await expectServiceError(getMessageOf(bob, channelArn, messageId), 'NotFoundException', 404);
    assert.equal(await listedOne(bob, channelArn, messageId), undefined, 'bob does not list it');
    await expectServiceError(statusCall(channelArn, messageId, bob), 'ForbiddenException', 403);
  });

  test('FAILED edit under ABORT, processor missing: UpdateChannelMessage answers FAILED; the last SENT version stays', async () => {
    const channelArn = await channel();
    const { messageId } = await send(channelArn, 'stable text');
    await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    await associate(channelArn, 'missing');

    assert.equal(await edit(channelArn, messageId, 'unstable text'), 'FAILED');
    assert.equal((await event(aliceTab, 'FAILED_UPDATE_CHANNEL_MESSAGE', messageId)).Content, 'unstable text');

    const seen = await settle(channelArn, { [messageId]: 'm' });
    assert.deepEqual(seen.alice, ['CREATE_CHANNEL_MESSAGE m', 'PENDING_UPDATE_CHANNEL_MESSAGE m', 'FAILED_UPDATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE m', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'FAILED');
    for (const user of [alice, bob]) assert.equal((await getMessage(user, channelArn, messageId)).Content, 'stable text');
  });

  test('FAILED send under ABORT, processor throwing on every attempt: FAILED_CREATE after about 3 s, sender only', async (t) => {
    const channelArn = await channel('throwsAbort');
    const sentAt = Date.now();
    const { messageId, status } = await send(channelArn, 'this will not go through');
    assert.equal(status, 'PENDING', 'the asynchronous invoke is accepted; the failure comes later');

    const failed = await event(aliceTab, 'FAILED_CREATE_CHANNEL_MESSAGE', messageId, 10_000);
    assert.ok(seconds(sentAt) >= 2.5, `not before the retries (1 s + 2 s) or the timeout, got ${seconds(sentAt)} s`);
    assert.equal(failed.Status?.Value, 'FAILED');

    const seen = await settle(channelArn, { [messageId]: 'failed' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE failed', 'FAILED_CREATE_CHANNEL_MESSAGE failed', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE marker']);

    const stored = await statusOf(channelArn, messageId);
    assert.equal(stored.Value, 'FAILED');
    // The retries end at about the flow timeout, so either the destination or the sweep ends it.
    assert.match(stored.Detail ?? '', /RetriesExhausted|did not answer/);
    t.diagnostic(`ended by: ${stored.Detail}`);
    assert.equal((await getMessage(alice, channelArn, messageId)).Status?.Value, 'FAILED');
    await expectServiceError(getMessageOf(bob, channelArn, messageId), 'NotFoundException', 404);
    assert.equal(await listedOne(bob, channelArn, messageId), undefined);
  });

  test('CONTINUE with a throwing processor: the message is delivered unprocessed as SENT to all', async () => {
    const channelArn = await channel('throwsContinue');
    const { messageId, status } = await send(channelArn, 'deliver me anyway, dan@example.com');
    assert.equal(status, 'PENDING');

    const created = await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId, 10_000);
    assert.equal(created.Content, 'deliver me anyway, dan@example.com', 'unprocessed');
    assert.deepEqual(created.Status, { Value: 'SENT' });

    const seen = await settle(channelArn, { [messageId]: 'continued' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE continued', 'CREATE_CHANNEL_MESSAGE continued', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE continued', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'SENT');
    for (const user of [alice, bob]) {
      assert.equal((await getMessage(user, channelArn, messageId)).Content, 'deliver me anyway, dan@example.com');
      assert.equal((await listedOne(user, channelArn, messageId))?.Status?.Value, 'SENT');
    }
  });

  test('a processor that never answers: PENDING (the sender alone sees it) until the 3 s timeout, then FAILED', async () => {
    const channelArn = await channel('silent');
    const sentAt = Date.now();
    const { messageId, status } = await send(channelArn, 'waiting for an answer');
    assert.equal(status, 'PENDING');
    await event(aliceTab, 'PENDING_CREATE_CHANNEL_MESSAGE', messageId);

    // Pending: the sender's alone.
    assert.equal((await statusOf(channelArn, messageId)).Value, 'PENDING');
    assert.equal((await getMessage(alice, channelArn, messageId)).Status?.Value, 'PENDING');
    assert.equal((await listedOne(alice, channelArn, messageId))?.Status?.Value, 'PENDING');
    await expectServiceError(getMessageOf(bob, channelArn, messageId), 'NotFoundException', 404);
    assert.equal(await listedOne(bob, channelArn, messageId), undefined);

    const failed = await event(aliceTab, 'FAILED_CREATE_CHANNEL_MESSAGE', messageId, 10_000);
    assert.ok(seconds(sentAt) >= FLOW_TIMEOUT_SECONDS - 0.5, `ended by the timeout, after ${seconds(sentAt)} s`);
    assert.equal(failed.Status?.Value, 'FAILED');

    const seen = await settle(channelArn, { [messageId]: 'silent' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE silent', 'FAILED_CREATE_CHANNEL_MESSAGE silent', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE marker']);
    const stored = await statusOf(channelArn, messageId);
    assert.equal(stored.Value, 'FAILED');
    assert.match(stored.Detail ?? '', new RegExp(`did not answer within ${FLOW_TIMEOUT_SECONDS} seconds`));
  });

  test('callback answer: a processor calling ChannelFlowCallback gets its uppercased content delivered', async () => {
    const channelArn = await channel('callbackModify');
    const { messageId, status } = await send(channelArn, 'make me loud');
    assert.equal(status, 'PENDING');

    const created = await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(created.Content, 'MAKE ME LOUD');
    const [note] = await callbackNotes('callback-modify', messageId);
    assert.equal(note?.ok, true, `the callback succeeded: ${JSON.stringify(note)}`);
    assert.equal(note?.httpStatusCode, 200);

    const seen = await settle(channelArn, { [messageId]: 'loud' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE loud', 'CREATE_CHANNEL_MESSAGE loud', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE loud', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'SENT');
    for (const user of [alice, bob]) {
      assert.equal((await getMessage(user, channelArn, messageId)).Content, 'MAKE ME LOUD');
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, 'MAKE ME LOUD');
    }
  });

  test('callback answer given twice: the second changes nothing', async (t) => {
    const channelArn = await channel('callbackTwice');
    const { messageId } = await send(channelArn, 'only once');
    assert.equal((await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId)).Content, 'ONLY ONCE');
    const notes = await callbackNotes('callback-twice', messageId);
    assert.equal(notes.length, 2);
    assert.equal(notes[0]?.ok, true, `the first callback succeeded: ${JSON.stringify(notes[0])}`);
    // Whatever the second call answered (a duplicate may be acknowledged or refused), it must change nothing.
    t.diagnostic(`second callback answered ${JSON.stringify(notes[1])}`);

    const seen = await settle(channelArn, { [messageId]: 'twice' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE twice', 'CREATE_CHANNEL_MESSAGE twice', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE twice', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'SENT');
    for (const user of [alice, bob]) {
      const message = await getMessage(user, channelArn, messageId);
      assert.equal(message.Content, 'ONLY ONCE');
      assert.equal(message.LastEditedTimestamp, undefined);
      assert.equal((await listedOne(user, channelArn, messageId))?.Content, 'ONLY ONCE');
    }
  });

  test('a callback after the flow timeout changes nothing: the message stays FAILED', async (t) => {
    const channelArn = await channel('slowCallback');
    const { messageId, status } = await send(channelArn, 'too late');
    assert.equal(status, 'PENDING');
    await event(aliceTab, 'FAILED_CREATE_CHANNEL_MESSAGE', messageId, 10_000);

    const [note] = await callbackNotes('slow-callback', messageId, 15_000);
    assert.ok(note, 'the slow processor called back');
    t.diagnostic(`late callback answered ${JSON.stringify(note)}`);

    const seen = await settle(channelArn, { [messageId]: 'late' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE late', 'FAILED_CREATE_CHANNEL_MESSAGE late', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'FAILED');
    const message = await getMessage(alice, channelArn, messageId);
    assert.equal(message.Status?.Value, 'FAILED');
    assert.equal(message.Content, 'too late', 'the late answer did not replace the content');
    await expectServiceError(getMessageOf(bob, channelArn, messageId), 'NotFoundException', 404);
    assert.equal(await listedOne(bob, channelArn, messageId), undefined);
  });

  test('ChannelFlowCallback is refused: an unknown CallbackId (403), a user token on the REST endpoint (403), no SigV4 signature at /callbacks (403)', async () => {
    const channelArn = await channel('silent');
    const { messageId } = await send(channelArn, 'guard me');
    const callbackId = await storedCallbackId(channelArn, messageId);
    const answer = { ChannelArn: channelArn, ChannelMessage: { MessageId: messageId, Content: 'HIJACKED' } };

    await expectServiceError(
      callbackClient.send(new ChannelFlowCallbackCommand({ ...answer, CallbackId: randomBytes(24).toString('hex') })),
      'ForbiddenException',
      403,
    );
    // Even with the right CallbackId: a user token on the normal endpoint is not a processor.
    await expectServiceError(alice.client.send(new ChannelFlowCallbackCommand({ ...answer, CallbackId: callbackId })), 'ForbiddenException', 403);
    const unsigned = await rawRequest(restUrl, {
      method: 'POST',
      path: `/callbacks${channelPath(channelArn)}?operation=channel-flow-callback`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...answer, CallbackId: callbackId }),
    });
    assert.equal(unsigned.status, 401, unsigned.text);
    assert.equal(unsigned.errorType, 'UnauthorizedClientException');
    const withUserToken = await rawRequest(restUrl, {
      method: 'POST',
      path: `/callbacks${channelPath(channelArn)}?operation=channel-flow-callback`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ ...answer, CallbackId: callbackId }),
    });
    assert.equal(withUserToken.status, 403, `a bearer token is no signature at /callbacks: ${withUserToken.text}`);

    // None of them answered the change.
    assert.equal((await statusOf(channelArn, messageId)).Value, 'PENDING');
    assert.equal((await getMessage(alice, channelArn, messageId)).Content, 'guard me');
    assert.equal(await storedCallbackId(channelArn, messageId), callbackId);
  });

  test('ChannelFlowCallback with an unknown CallbackId for a MessageId that does not exist is refused (403)', async () => {
    const channelArn = await channel();
    await expectServiceError(
      callbackClient.send(
        new ChannelFlowCallbackCommand({ ChannelArn: channelArn, CallbackId: randomBytes(24).toString('hex'), ChannelMessage: { MessageId: 'no-such-message', Content: 'x' } }),
      ),
      'ForbiddenException',
      403,
    );
  });

  test('ChannelFlowCallback with the right CallbackId and MessageId but another channel\'s ARN is refused (403) and answers nothing', async () => {
    const channelArn = await channel('silent');
    const other = await channel('silent');
    const { messageId } = await send(channelArn, 'answer me properly');
    const callbackId = await storedCallbackId(channelArn, messageId);
    try {
      await expectServiceError(
        callbackClient.send(new ChannelFlowCallbackCommand({ ChannelArn: other, CallbackId: callbackId, ChannelMessage: { MessageId: messageId, Content: 'MISROUTED' } })),
        'ForbiddenException',
        403,
      );
    } finally {
      // Whatever it answered, the misrouted answer did not resolve the change.
      assert.equal((await statusOf(channelArn, messageId)).Value, 'PENDING');
    }
  });

  test('a NON_PERSISTENT STANDARD message goes through the flow too, and is not readable afterwards', async () => {
    const channelArn = await channel('moderation');
    const output = await alice.client.send(
      new SendChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, Content: 'ping erin@example.com', Type: 'STANDARD', Persistence: 'NON_PERSISTENT' }),
    );
    assert.equal(output.Status?.Value, 'PENDING');
    const messageId = output.MessageId as string;
    const created = await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    assert.equal(created.Content, 'ping [email]');
    assert.equal(created.Persistence, 'NON_PERSISTENT');
    const seen = await settle(channelArn, { [messageId]: 'ephemeral' });
    assert.deepEqual(seen.alice, ['PENDING_CREATE_CHANNEL_MESSAGE ephemeral', 'CREATE_CHANNEL_MESSAGE ephemeral', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE ephemeral', 'CREATE_CHANNEL_MESSAGE marker']);
    await expectServiceError(getMessageOf(bob, channelArn, messageId), 'NotFoundException', 404);
    assert.equal(await listedOne(bob, channelArn, messageId), undefined);
  });

  test('CONTROL messages in a flow channel skip the flow: SENT at once, CREATE (and UPDATE) to all, never PENDING', async () => {
    const channelArn = await channel('moderation');
    const { messageId, status } = await send(channelArn, 'spam ping', 'CONTROL');
    assert.equal(status, 'SENT', 'not processed, so not even the deny list applies');
    const created = await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', messageId));
    assert.equal(created.Headers['x-amz-chime-message-type'], 'CONTROL');
    assert.equal(payloadOf(created).Content, 'spam ping');

    assert.equal(await edit(channelArn, messageId, 'spam pong'), 'SENT');
    await bobTab.waitFor((frame) => about('UPDATE_CHANNEL_MESSAGE', messageId)(frame) && payloadOf(frame).Content === 'spam pong');

    const seen = await settle(channelArn, { [messageId]: 'control' });
    assert.deepEqual(seen.alice, ['CREATE_CHANNEL_MESSAGE control', 'UPDATE_CHANNEL_MESSAGE control', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.deepEqual(seen.bob, ['CREATE_CHANNEL_MESSAGE control', 'UPDATE_CHANNEL_MESSAGE control', 'CREATE_CHANNEL_MESSAGE marker']);
    assert.equal((await statusOf(channelArn, messageId)).Value, 'SENT');
    assert.equal((await getMessage(bob, channelArn, messageId)).Content, 'spam pong');
  });

  test('carol, who is in none of the channels, received no message event and cannot read them', async () => {
    assert.deepEqual(
      carolTab.frames.map((frame) => eventTypeOf(frame)).filter((type) => type !== 'SESSION_ESTABLISHED'),
      [],
      'carol got no frame at all',
    );
    const channelArn = await channel('moderation');
    const { messageId } = await send(channelArn, 'members only');
    await event(bobTab, 'CREATE_CHANNEL_MESSAGE', messageId);
    await expectServiceError(getMessageOf(carol, channelArn, messageId), 'ForbiddenException', 403);
    await expectServiceError(statusCall(channelArn, messageId, carol), 'ForbiddenException', 403);
    assert.deepEqual(
      carolTab.frames.map((frame) => eventTypeOf(frame)).filter((type) => type !== 'SESSION_ESTABLISHED'),
      [],
    );
  });

  test('denied content is stored nowhere: no item of any table holds the denied send or the denied edit', async () => {
    const tableKeys: readonly TableKey[] = ['channels', 'messages', 'connections'];
    const scanAll = async () => {
      const texts: string[] = [];
      for (const table of tableKeys) for (const item of await tables.scan(table)) texts.push(`${table}: ${JSON.stringify(item)}`);
      return texts;
    };
    const texts = await scanAll();
    // The scan does see message content: a SENT message of an earlier test is there.
    assert.ok(texts.some((text) => text.includes('hello, clean world')), 'the scan finds stored content');
    assert.ok(texts.some((text) => text.includes('a perfectly fine note')), 'the message whose edit was denied is kept');
    for (const mark of [DENIED_SEND_MARK, DENIED_EDIT_MARK]) {
      const holders = texts.filter((text) => text.includes(mark));
      assert.deepEqual(holders, [], `no item holds "${mark}"`);
    }
  });
});
