import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  DeleteChannelCommand,
  DeleteChannelMessageCommand,
  GetMessagingSessionEndpointCommand,
  RedactChannelMessageCommand,
  SendChannelMessageCommand,
  UpdateChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import { startLocalSystem, type LocalSystem, type LocalUser } from '../support/local-system';
import { TableInspector } from '../support/table-inspector';
import { connectEvents, eventTypeOf, refusedUpgradeStatus, type ChimeFrame, type EventClient } from '../support/websocket-client';

/**
 * Live events end to end: real `ws` clients against `npm start`'s runtime, messages sent with the
 * official Chime SDK client, events produced by the DynamoDB stream fan-out.
 */
let system: LocalSystem;
let tables: TableInspector;
let websocketUrl: string;
let alice: LocalUser;
let bob: LocalUser;
let carol: LocalUser;
let admin: LocalUser;
let channelArn: string;
let carolsChannelArn: string;
const clients: EventClient[] = [];

async function connect(user: LocalUser, options?: Parameters<typeof connectEvents>[2]): Promise<EventClient> {
  const client = await connectEvents(websocketUrl, user.token, options);
  clients.push(client);
  await client.waitFor((frame) => eventTypeOf(frame) === 'SESSION_ESTABLISHED');
  return client;
}

async function send(user: LocalUser, channel: string, content: string, extra: { Persistence?: 'PERSISTENT' | 'NON_PERSISTENT'; Type?: 'STANDARD' | 'CONTROL' } = {}) {
  const output = await user.client.send(
    new SendChannelMessageCommand({
      ChannelArn: channel,
      ChimeBearer: user.arn,
      Content: content,
      Type: extra.Type ?? 'STANDARD',
      Persistence: extra.Persistence ?? 'PERSISTENT',
    }),
  );
  return output.MessageId as string;
}

const about = (eventType: string, messageId: string) => (frame: ChimeFrame) =>
  eventTypeOf(frame) === eventType && (JSON.parse(frame.Payload ?? '{}') as { MessageId?: string }).MessageId === messageId;

before(async () => {
  system = await startLocalSystem();
  tables = new TableInspector(system.ready);
  websocketUrl = system.ready.websocketUrl as string;
  [alice, bob, carol, admin] = await Promise.all([
    system.user('alice', { name: 'Alice' }),
    system.user('bob', { name: 'Bob' }),
    system.user('carol', { name: 'Carol' }),
    system.user('root', { name: 'Root', admin: true }),
  ]);
  const created = await alice.client.send(
    new CreateChannelCommand({
      AppInstanceArn: system.ready.appInstanceArn,
      Name: 'events',
      ChimeBearer: alice.arn,
      MemberArns: [alice.arn, bob.arn, admin.arn],
    }),
  );
  channelArn = created.ChannelArn as string;
  const carols = await carol.client.send(
    new CreateChannelCommand({ AppInstanceArn: system.ready.appInstanceArn, Name: 'carol only', ChimeBearer: carol.arn, MemberArns: [carol.arn] }),
  );
  carolsChannelArn = carols.ChannelArn as string;
});

after(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await system.stop();
});

describe('WebSocket events', () => {
  test('GetMessagingSessionEndpoint names the WebSocket URL', async () => {
    const output = await alice.client.send(new GetMessagingSessionEndpointCommand({}));
    assert.equal(output.Endpoint?.Url, websocketUrl);
  });

  test('every connection starts with SESSION_ESTABLISHED', async () => {
    const client = await connect(alice);
    assert.equal(eventTypeOf(client.frames[0] as ChimeFrame), 'SESSION_ESTABLISHED');
    assert.equal((client.frames[0] as ChimeFrame).Headers['x-amz-chime-message-type'], 'SYSTEM');
  });

  test('a connection without a token, or with a bad one, is refused', async () => {
    assert.equal(await refusedUpgradeStatus(websocketUrl), 401);
    assert.equal(await refusedUpgradeStatus(`${websocketUrl}?token=not-a-jwt`), 401);
    const [header, payload] = alice.token.split('.');
    assert.equal(await refusedUpgradeStatus(`${websocketUrl}?token=${header}.${payload}.c2lnbmF0dXJl`), 401);
  });

  test('the token can travel in Sec-WebSocket-Protocol, and the offered subprotocol is echoed', async () => {
    const client = await connect(bob, { via: 'protocol', protocols: ['chime'] });
    assert.equal(client.socket.protocol, 'chime');
  });

  test('a send reaches every connection of every member, with the Chime envelope; the outsider gets nothing', async () => {
    const aliceTab1 = await connect(alice);
    const aliceTab2 = await connect(alice);
    const bobTab = await connect(bob);
    const carolTab = await connect(carol);

    const messageId = await send(alice, channelArn, 'hello, live world');
    const frames = await Promise.all([aliceTab1, aliceTab2, bobTab].map((client) => client.waitFor(about('CREATE_CHANNEL_MESSAGE', messageId))));
    for (const frame of frames) {
      assert.deepEqual(frame.Headers, { 'x-amz-chime-event-type': 'CREATE_CHANNEL_MESSAGE', 'x-amz-chime-message-type': 'STANDARD' });
      assert.equal(typeof frame.Payload, 'string');
      const payload = JSON.parse(frame.Payload as string) as Record<string, unknown>;
      assert.equal(payload.ChannelArn, channelArn);
      assert.equal(payload.MessageId, messageId);
      assert.equal(payload.Content, 'hello, live world');
      assert.equal(payload.Type, 'STANDARD');
      assert.equal(payload.Persistence, 'PERSISTENT');
      assert.equal(payload.Redacted, false);
      assert.deepEqual(payload.Sender, { Arn: alice.arn, Name: 'Alice' });
      assert.deepEqual(payload.Status, { Value: 'SENT' });
      assert.match(payload.CreatedTimestamp as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      assert.equal(payload.LastUpdatedTimestamp, payload.CreatedTimestamp);
    }

    // The stream is delivered in order, so once carol has the event of a later message in her own
    // channel, an event for alice's message would have reached her before it.
    const marker = await send(carol, carolsChannelArn, 'marker');
    await carolTab.waitFor(about('CREATE_CHANNEL_MESSAGE', marker));
    assert.deepEqual(
      carolTab.frames.map(eventTypeOf).filter((type) => type !== 'SESSION_ESTABLISHED'),
      ['CREATE_CHANNEL_MESSAGE'],
    );
    assert.equal(carolTab.payloads('CREATE_CHANNEL_MESSAGE')[0]?.MessageId, marker);
  });

  test('an edit produces UPDATE_CHANNEL_MESSAGE with the new content; a redaction REDACT_CHANNEL_MESSAGE', async () => {
    const bobTab = await connect(bob);
    const messageId = await send(alice, channelArn, 'first draft');
    await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', messageId));

    await alice.client.send(new UpdateChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: alice.arn, Content: 'final' }));
    const updated = JSON.parse((await bobTab.waitFor(about('UPDATE_CHANNEL_MESSAGE', messageId))).Payload as string) as Record<string, unknown>;
    assert.equal(updated.Content, 'final');
    assert.equal(typeof updated.LastEditedTimestamp, 'string');

    await alice.client.send(new RedactChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: alice.arn }));
    const redacted = JSON.parse((await bobTab.waitFor(about('REDACT_CHANNEL_MESSAGE', messageId))).Payload as string) as Record<string, unknown>;
    assert.equal(redacted.Redacted, true);
    assert.equal(redacted.Content, '');
  });

  test('a deletion by an admin produces DELETE_CHANNEL_MESSAGE for the members', async () => {
    const bobTab = await connect(bob);
    const messageId = await send(alice, channelArn, 'to be deleted');
    await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', messageId));
    await admin.client.send(new DeleteChannelMessageCommand({ ChannelArn: channelArn, MessageId: messageId, ChimeBearer: admin.arn }));
    const frame = await bobTab.waitFor(about('DELETE_CHANNEL_MESSAGE', messageId));
    assert.equal(frame.Headers['x-amz-chime-message-type'], 'STANDARD');
  });

  test('a NON_PERSISTENT message is delivered to connected members, and a CONTROL message says CONTROL', async () => {
    const bobTab = await connect(bob);
    const ephemeral = await send(alice, channelArn, 'typing…', { Persistence: 'NON_PERSISTENT' });
    const frame = await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', ephemeral));
    assert.equal((JSON.parse(frame.Payload as string) as { Persistence: string }).Persistence, 'NON_PERSISTENT');

    const control = await send(alice, channelArn, 'ping', { Type: 'CONTROL' });
    const controlFrame = await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', control));
    assert.equal(controlFrame.Headers['x-amz-chime-message-type'], 'CONTROL');
  });

  test('a new member is announced with CREATE_CHANNEL_MEMBERSHIP', async () => {
    const aliceTab = await connect(alice);
    const dave = await system.user('dave', { name: 'Dave' });
    await alice.client.send(new CreateChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: dave.arn, Type: 'DEFAULT' }));
    const frame = await aliceTab.waitFor(
      (candidate) => eventTypeOf(candidate) === 'CREATE_CHANNEL_MEMBERSHIP' && (candidate.Payload ?? '').includes(dave.arn),
    );
    assert.equal(frame.Headers['x-amz-chime-message-type'], 'SYSTEM');
    const payload = JSON.parse(frame.Payload as string) as { Member: { Arn: string }; ChannelArn: string; Type: string };
    assert.equal(payload.Member.Arn, dave.arn);
    assert.equal(payload.ChannelArn, channelArn);
    assert.equal(payload.Type, 'DEFAULT');
  });

  test('a connection dropped without a close frame is cleaned up after the next post, and the others still receive', async () => {
    const bobStays = await connect(bob);
    const bobDrops = await connect(bob);
    const connectionItems = async () => (await tables.scan('connections')).filter((item) => item.entity === 'CONNECTION' && item.userArn === bob.arn);
    const before = (await connectionItems()).length;

    bobDrops.socket.terminate(); // no closing handshake: the server only finds out when it next writes
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await connectionItems()).length, before, 'the record stays until a post finds the connection gone');

    const messageId = await send(alice, channelArn, 'are you there?');
    await bobStays.waitFor(about('CREATE_CHANNEL_MESSAGE', messageId));
    await waitUntil(async () => (await connectionItems()).length === before - 1);
    const userItem = (await tables.query('connections', `USER#${bob.arn}`))[0] as { connectionIds?: Set<string> };
    assert.equal(userItem.connectionIds?.size, before - 1);
  });

  test('a deleted channel is announced once with DELETE_CHANNEL, and its members are not told one by one that they left', async () => {
    const bobTab = await connect(bob);
    const { ChannelArn: doomed } = await alice.client.send(
      new CreateChannelCommand({ AppInstanceArn: system.ready.appInstanceArn, Name: 'doomed', ChimeBearer: alice.arn, MemberArns: [alice.arn, bob.arn, admin.arn] }),
    );
    await alice.client.send(new DeleteChannelCommand({ ChannelArn: doomed, ChimeBearer: alice.arn }));
    const frame = await bobTab.waitFor((candidate) => eventTypeOf(candidate) === 'DELETE_CHANNEL' && (candidate.Payload ?? '').includes(doomed as string));
    assert.equal(frame.Headers['x-amz-chime-message-type'], 'SYSTEM');
    const payload = JSON.parse(frame.Payload as string) as { ChannelArn: string; Name: string; CreatedTimestamp: string };
    assert.equal(payload.ChannelArn, doomed);
    assert.equal(payload.Name, 'doomed');
    assert.match(payload.CreatedTimestamp, /^\d{4}-\d{2}-\d{2}T/);

    // Once the cleanup is done (the channel's memberships are gone), a later event shows that no
    // DELETE_CHANNEL_MEMBERSHIP for the doomed channel came in between.
    const partition = `CHANNEL#${(doomed as string).slice((doomed as string).lastIndexOf('/') + 1)}`;
    await waitUntil(async () => (await tables.query('channels', partition)).length === 0);
    const marker = await send(alice, channelArn, 'after the deletion');
    await bobTab.waitFor(about('CREATE_CHANNEL_MESSAGE', marker));
    assert.deepEqual(
      bobTab.payloads('DELETE_CHANNEL_MEMBERSHIP').filter((membership) => membership.ChannelArn === doomed),
      [],
    );
  });

  test('a ping is answered with a pong', async () => {
    const client = await connect(alice);
    const pong = new Promise<string>((resolve) => client.socket.once('message', (data) => resolve(data.toString())));
    client.socket.send(JSON.stringify({ action: 'ping' }));
    assert.deepEqual(JSON.parse(await pong), { action: 'pong' });
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
