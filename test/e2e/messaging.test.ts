import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  DeleteChannelCommand,
  DeleteChannelMembershipCommand,
  DeleteChannelMessageCommand,
  DescribeChannelCommand,
  DescribeChannelMembershipCommand,
  GetChannelMessageCommand,
  GetChannelMessageStatusCommand,
  ListChannelMembershipsCommand,
  ListChannelMembershipsForAppInstanceUserCommand,
  ListChannelMessagesCommand,
  ListChannelsCommand,
  RedactChannelMessageCommand,
  SendChannelMessageCommand,
  UpdateChannelMessageCommand,
  type ChannelMessageSummary,
  type ChannelSummary,
  type CreateChannelCommandInput,
  type ListChannelMessagesCommandInput,
  type SendChannelMessageCommandInput,
} from '@aws-sdk/client-chime-sdk-messaging';
import { expectServiceError } from '../support/expect-error';
import { startLocalSystem, type LocalSystem, type LocalUser } from '../support/local-system';
import { TableInspector } from '../support/table-inspector';

/**
 * Messaging behaviour end to end: one local runtime (a separate process, as `npm start` runs it),
 * driven only through the official Chime SDK Messaging client, with the DynamoDB tables read
 * directly where a test must show what was or was not stored.
 */

let system: LocalSystem;
let tables: TableInspector;
let appInstanceArn: string;

before(async () => {
  system = await startLocalSystem();
  appInstanceArn = system.ready.appInstanceArn;
  tables = new TableInspector(system.ready);
});

after(async () => {
  tables?.destroy();
  await system?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers

let counter = 0;
/** Ids unique within this runtime, so that every test starts with users and channels of its own. */
const unique = (prefix: string) => `${prefix}-${(counter += 1)}`;

const user = (prefix: string, name?: string, admin = false): Promise<LocalUser> =>
  system.user(unique(prefix), { name: name ?? prefix, admin });

const channelIdOf = (channelArn: string) => channelArn.slice(channelArn.lastIndexOf('/') + 1);

async function createChannel(owner: LocalUser, input: Partial<CreateChannelCommandInput> = {}): Promise<string> {
  const output = await owner.client.send(
    new CreateChannelCommand({
      AppInstanceArn: appInstanceArn,
      Name: unique('channel'),
      ChimeBearer: owner.arn,
      ClientRequestToken: randomUUID(),
      ...input,
    }),
  );
  assert.ok(output.ChannelArn, 'CreateChannel returns a ChannelArn');
  return output.ChannelArn;
}

async function send(sender: LocalUser, channelArn: string, content: string, input: Partial<SendChannelMessageCommandInput> = {}) {
  const output = await sender.client.send(
    new SendChannelMessageCommand({
      ChannelArn: channelArn,
      ChimeBearer: sender.arn,
      Content: content,
      Type: 'STANDARD',
      Persistence: 'PERSISTENT',
      ClientRequestToken: randomUUID(),
      ...input,
    }),
  );
  assert.ok(output.MessageId, 'SendChannelMessage returns a MessageId');
  // Creation times have millisecond resolution; keep consecutive sends apart so that their order is defined.
  await sleep(2);
  return { ...output, MessageId: output.MessageId };
}

const listMessages = (reader: LocalUser, channelArn: string, input: Partial<ListChannelMessagesCommandInput> = {}) =>
  reader.client.send(new ListChannelMessagesCommand({ ChannelArn: channelArn, ChimeBearer: reader.arn, ...input }));

/** Every page of ListChannelMessages, with the size of each page. */
async function allMessagePages(reader: LocalUser, channelArn: string, input: Partial<ListChannelMessagesCommandInput> = {}) {
  const pages: ChannelMessageSummary[][] = [];
  const tokens: (string | undefined)[] = [];
  let nextToken: string | undefined;
  do {
    const page = await listMessages(reader, channelArn, { ...input, ...(nextToken !== undefined && { NextToken: nextToken }) });
    pages.push(page.ChannelMessages ?? []);
    tokens.push(page.NextToken);
    nextToken = page.NextToken;
    assert.ok(pages.length <= 20, 'pagination must end');
  } while (nextToken !== undefined);
  return { pages, tokens, messages: pages.flat() };
}

const getMessage = (reader: LocalUser, channelArn: string, messageId: string) =>
  reader.client.send(new GetChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: reader.arn, MessageId: messageId }));

async function allPublicOrPrivateChannels(reader: LocalUser, privacy?: 'PUBLIC' | 'PRIVATE'): Promise<ChannelSummary[]> {
  const channels: ChannelSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await reader.client.send(
      new ListChannelsCommand({
        AppInstanceArn: appInstanceArn,
        ChimeBearer: reader.arn,
        MaxResults: 50,
        ...(privacy !== undefined && { Privacy: privacy }),
        ...(nextToken !== undefined && { NextToken: nextToken }),
      }),
    );
    channels.push(...(page.Channels ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return channels;
}

async function channelArnsOfUser(reader: LocalUser): Promise<string[]> {
  const output = await reader.client.send(new ListChannelMembershipsForAppInstanceUserCommand({ ChimeBearer: reader.arn }));
  return (output.ChannelMemberships ?? []).map((membership) => membership.ChannelSummary?.ChannelArn ?? '<missing>').sort();
}

function assertNearNow(value: Date | undefined, label: string): void {
  assert.ok(value instanceof Date, `${label} is a Date, got ${String(value)}`);
  assert.ok(Math.abs(value.getTime() - Date.now()) < 60_000, `${label} ${value.toISOString()} is within a minute of now`);
}

const ids = (messages: readonly ChannelMessageSummary[]) => messages.map((message) => message.MessageId);

// ---------------------------------------------------------------------------------------------

describe('two members exchanging messages', () => {
  test('both members see both messages, with content, sender, type, status and creation time', async () => {
    const alice = await user('alice', 'Alice Liddell');
    const bob = await user('bob', 'Bob Builder');
    const channelArn = await createChannel(alice, { Name: 'Tea party', MemberArns: [alice.arn, bob.arn] });
    assert.match(channelArn, new RegExp(`^${appInstanceArn}/channel/[A-Za-z0-9]+$`));

    const fromAlice = await send(alice, channelArn, 'Hello Bob', {
      Metadata: '{"mood":"curious"}',
      ContentType: 'text/plain',
      MessageAttributes: { topic: { StringValues: ['tea', 'time'] } },
    });
    assert.equal(fromAlice.$metadata.httpStatusCode, 201);
    assert.equal(fromAlice.ChannelArn, channelArn);
    assert.deepEqual(fromAlice.Status, { Value: 'SENT' });
    const fromBob = await send(bob, channelArn, 'Hi Alice');
    assert.notEqual(fromBob.MessageId, fromAlice.MessageId);

    const seenByAlice = await listMessages(alice, channelArn);
    const seenByBob = await listMessages(bob, channelArn);
    assert.equal(seenByAlice.ChannelArn, channelArn);
    assert.equal(seenByAlice.NextToken, undefined);
    for (const seen of [seenByAlice.ChannelMessages ?? [], seenByBob.ChannelMessages ?? []]) {
      // Newest first.
      assert.deepEqual(ids(seen), [fromBob.MessageId, fromAlice.MessageId]);
      const [bobsMessage, alicesMessage] = seen as [ChannelMessageSummary, ChannelMessageSummary];

      assert.equal(alicesMessage.Content, 'Hello Bob');
      assert.deepEqual(alicesMessage.Sender, { Arn: alice.arn, Name: 'Alice Liddell' });
      assert.equal(alicesMessage.Type, 'STANDARD');
      assert.deepEqual(alicesMessage.Status, { Value: 'SENT' });
      assert.equal(alicesMessage.Redacted, false);
      assert.equal(alicesMessage.Metadata, '{"mood":"curious"}');
      assert.equal(alicesMessage.ContentType, 'text/plain');
      assert.deepEqual(alicesMessage.MessageAttributes, { topic: { StringValues: ['tea', 'time'] } });
      assertNearNow(alicesMessage.CreatedTimestamp, 'CreatedTimestamp');
      assert.equal(alicesMessage.LastEditedTimestamp, undefined);
      // ChannelMessageSummary carries no Persistence (it lists persistent messages only).
      assert.equal((alicesMessage as Record<string, unknown>).Persistence, undefined);

      assert.equal(bobsMessage.Content, 'Hi Alice');
      assert.deepEqual(bobsMessage.Sender, { Arn: bob.arn, Name: 'Bob Builder' });
      assert.equal(bobsMessage.Type, 'STANDARD');
      assert.deepEqual(bobsMessage.Status, { Value: 'SENT' });
      assert.equal(bobsMessage.Metadata, undefined);
      assertNearNow(bobsMessage.CreatedTimestamp, 'CreatedTimestamp');
      assert.ok(bobsMessage.CreatedTimestamp! > alicesMessage.CreatedTimestamp!, 'the later message has the later CreatedTimestamp');
    }

    const got = await getMessage(bob, channelArn, fromAlice.MessageId);
    const message = got.ChannelMessage;
    assert.ok(message);
    assert.equal(message.ChannelArn, channelArn);
    assert.equal(message.MessageId, fromAlice.MessageId);
    assert.equal(message.Content, 'Hello Bob');
    assert.equal(message.Metadata, '{"mood":"curious"}');
    assert.equal(message.Type, 'STANDARD');
    assert.equal(message.Persistence, 'PERSISTENT');
    assert.deepEqual(message.Sender, { Arn: alice.arn, Name: 'Alice Liddell' });
    assert.deepEqual(message.Status, { Value: 'SENT' });
    assert.equal(message.Redacted, false);
    assert.equal(message.ContentType, 'text/plain');
    assert.deepEqual(message.MessageAttributes, { topic: { StringValues: ['tea', 'time'] } });
    assertNearNow(message.CreatedTimestamp, 'CreatedTimestamp');
    assert.equal(message.LastUpdatedTimestamp?.getTime(), message.CreatedTimestamp?.getTime());
    assert.equal(message.LastEditedTimestamp, undefined);
    assert.equal(message.CreatedTimestamp?.getTime(), (seenByBob.ChannelMessages ?? [])[1]?.CreatedTimestamp?.getTime());
  });

  test('DescribeChannel, ListChannelMemberships and DescribeChannelMembership describe the channel and its members', async () => {
    const alice = await user('alice', 'Alice Liddell');
    const bob = await user('bob', 'Bob Builder');
    const carol = await user('carol');
    const channelArn = await createChannel(alice, { Name: 'Garden', Metadata: 'roses', MemberArns: [alice.arn, bob.arn] });

    const before = (await bob.client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn }))).Channel;
    assert.ok(before);
    assert.equal(before.ChannelArn, channelArn);
    assert.equal(before.Name, 'Garden');
    assert.equal(before.Metadata, 'roses');
    assert.equal(before.Mode, 'RESTRICTED');
    assert.equal(before.Privacy, 'PRIVATE');
    assert.deepEqual(before.CreatedBy, { Arn: alice.arn, Name: 'Alice Liddell' });
    assertNearNow(before.CreatedTimestamp, 'CreatedTimestamp');
    assert.equal(before.LastMessageTimestamp, undefined);

    await send(bob, channelArn, 'the roses are red');
    const afterSend = (await alice.client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn }))).Channel;
    assertNearNow(afterSend?.LastMessageTimestamp, 'LastMessageTimestamp');
    assert.ok(afterSend!.LastMessageTimestamp! >= before.CreatedTimestamp!);

    const memberships = await alice.client.send(new ListChannelMembershipsCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn }));
    assert.equal(memberships.ChannelArn, channelArn);
    assert.equal(memberships.NextToken, undefined);
    assert.deepEqual((memberships.ChannelMemberships ?? []).map((m) => m.Member?.Arn).sort(), [alice.arn, bob.arn].sort());

    const bobsMembership = (
      await alice.client.send(new DescribeChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: bob.arn }))
    ).ChannelMembership;
    assert.ok(bobsMembership);
    assert.equal(bobsMembership.ChannelArn, channelArn);
    assert.equal(bobsMembership.Member?.Arn, bob.arn);
    assert.equal(bobsMembership.Type, 'DEFAULT');
    assert.deepEqual(bobsMembership.InvitedBy, { Arn: alice.arn, Name: 'Alice Liddell' });
    assertNearNow(bobsMembership.CreatedTimestamp, 'CreatedTimestamp');

    const alicesMembership = (
      await bob.client.send(new DescribeChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MemberArn: alice.arn }))
    ).ChannelMembership;
    assert.deepEqual(alicesMembership?.Member, { Arn: alice.arn, Name: 'Alice Liddell' });

    await expectServiceError(
      alice.client.send(new DescribeChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: carol.arn })),
      'NotFoundException',
      404,
      carol.arn,
    );
  });

  test('ListChannelMembershipsForAppInstanceUser shows each user exactly their own channels', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const shared = await createChannel(alice, { Name: 'shared', MemberArns: [alice.arn, bob.arn] });
    const alone = await createChannel(alice, { Name: 'alone', MemberArns: [alice.arn] });
    const bobsOwn = await createChannel(bob, { Name: 'bobs own', MemberArns: [bob.arn], Privacy: 'PUBLIC', Mode: 'UNRESTRICTED' });

    assert.deepEqual(await channelArnsOfUser(alice), [shared, alone].sort());
    assert.deepEqual(await channelArnsOfUser(bob), [shared, bobsOwn].sort());
    assert.deepEqual(await channelArnsOfUser(carol), []);

    const output = await bob.client.send(new ListChannelMembershipsForAppInstanceUserCommand({ ChimeBearer: bob.arn }));
    const own = output.ChannelMemberships?.find((membership) => membership.ChannelSummary?.ChannelArn === bobsOwn);
    assert.equal(own?.ChannelSummary?.Name, 'bobs own');
    assert.equal(own?.ChannelSummary?.Privacy, 'PUBLIC');
    assert.equal(own?.ChannelSummary?.Mode, 'UNRESTRICTED');
    assert.equal(own?.AppInstanceUserMembershipSummary?.Type, 'DEFAULT');

    // A user cannot list somebody else's channels.
    await expectServiceError(
      carol.client.send(new ListChannelMembershipsForAppInstanceUserCommand({ ChimeBearer: carol.arn, AppInstanceUserArn: alice.arn })),
      'ForbiddenException',
      403,
    );
  });

  test('ListChannels lists public channels by default; PRIVATE is for app instance admins only', async () => {
    const alice = await user('alice');
    const root = await system.user('root', { admin: true });
    const publicChannel = await createChannel(alice, { Name: 'town square', Privacy: 'PUBLIC', MemberArns: [alice.arn] });
    const privateChannel = await createChannel(alice, { Name: 'diary', Privacy: 'PRIVATE', MemberArns: [alice.arn] });

    const listed = await allPublicOrPrivateChannels(alice);
    const mine = listed.find((channel) => channel.ChannelArn === publicChannel);
    assert.equal(mine?.Name, 'town square');
    assert.equal(mine?.Privacy, 'PUBLIC');
    assert.equal(listed.some((channel) => channel.ChannelArn === privateChannel), false, 'a private channel is not listed as public');
    assert.deepEqual([...new Set(listed.map((channel) => channel.Privacy))], ['PUBLIC']);

    await expectServiceError(
      alice.client.send(new ListChannelsCommand({ AppInstanceArn: appInstanceArn, ChimeBearer: alice.arn, Privacy: 'PRIVATE' })),
      'ForbiddenException',
      403,
      'admin',
    );

    const privateListed = await allPublicOrPrivateChannels(root, 'PRIVATE');
    assert.equal(privateListed.find((channel) => channel.ChannelArn === privateChannel)?.Name, 'diary');
    assert.equal(privateListed.some((channel) => channel.ChannelArn === publicChannel), false);
    assert.deepEqual([...new Set(privateListed.map((channel) => channel.Privacy))], ['PRIVATE']);
  });
});

describe('non-members', () => {
  test('a non-member cannot send to, list or read a PRIVATE channel', async () => {
    const alice = await user('alice');
    const carol = await user('carol');
    const channelArn = await createChannel(alice, { Privacy: 'PRIVATE', MemberArns: [alice.arn] });
    const { MessageId } = await send(alice, channelArn, 'secret');

    await expectServiceError(send(carol, channelArn, 'let me in'), 'ForbiddenException', 403, carol.arn);
    await expectServiceError(listMessages(carol, channelArn), 'ForbiddenException', 403, carol.arn);
    await expectServiceError(getMessage(carol, channelArn, MessageId), 'ForbiddenException', 403, carol.arn);
    await expectServiceError(
      carol.client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: carol.arn })),
      'ForbiddenException',
      403,
    );
    assert.deepEqual(ids((await listMessages(alice, channelArn)).ChannelMessages ?? []), [MessageId], 'carol stored nothing');
  });

  test('a non-member can read a PUBLIC channel but not send to it', async () => {
    const alice = await user('alice', 'Alice');
    const carol = await user('carol');
    const channelArn = await createChannel(alice, { Privacy: 'PUBLIC', Mode: 'RESTRICTED', MemberArns: [alice.arn] });
    const { MessageId } = await send(alice, channelArn, 'announcement');

    const listed = await listMessages(carol, channelArn);
    assert.deepEqual(ids(listed.ChannelMessages ?? []), [MessageId]);
    assert.equal(listed.ChannelMessages?.[0]?.Content, 'announcement');
    const got = await getMessage(carol, channelArn, MessageId);
    assert.equal(got.ChannelMessage?.Content, 'announcement');
    assert.deepEqual(got.ChannelMessage?.Sender, { Arn: alice.arn, Name: 'Alice' });

    await expectServiceError(send(carol, channelArn, 'reply'), 'ForbiddenException', 403, 'only members can send');
    assert.equal((await tables.messageItems(channelIdOf(channelArn))).length, 1);
  });

  test('a non-member can join a PUBLIC UNRESTRICTED channel by itself, but not a RESTRICTED one', async () => {
    const alice = await user('alice');
    const carol = await user('carol', 'Carol');
    const open = await createChannel(alice, { Privacy: 'PUBLIC', Mode: 'UNRESTRICTED', MemberArns: [alice.arn] });
    const restricted = await createChannel(alice, { Privacy: 'PUBLIC', Mode: 'RESTRICTED', MemberArns: [alice.arn] });

    const joined = await carol.client.send(
      new CreateChannelMembershipCommand({ ChannelArn: open, ChimeBearer: carol.arn, MemberArn: carol.arn, Type: 'DEFAULT' }),
    );
    assert.equal(joined.$metadata.httpStatusCode, 201);
    assert.equal(joined.ChannelArn, open);
    assert.deepEqual(joined.Member, { Arn: carol.arn, Name: 'Carol' });
    const { MessageId } = await send(carol, open, 'hello everyone');
    assert.equal((await getMessage(alice, open, MessageId)).ChannelMessage?.Content, 'hello everyone');

    await expectServiceError(
      carol.client.send(new CreateChannelMembershipCommand({ ChannelArn: restricted, ChimeBearer: carol.arn, MemberArn: carol.arn, Type: 'DEFAULT' })),
      'ForbiddenException',
      403,
      'RESTRICTED',
    );
    await expectServiceError(
      alice.client.send(new DescribeChannelMembershipCommand({ ChannelArn: restricted, ChimeBearer: alice.arn, MemberArn: carol.arn })),
      'NotFoundException',
      404,
    );
    await expectServiceError(send(carol, restricted, 'sneaking in'), 'ForbiddenException', 403);
  });
});

describe('editing, status and idempotency', () => {
  test('the sender edits a message; another member may not', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const { MessageId } = await send(alice, channelArn, 'first draft');
    await sleep(5);

    const updated = await alice.client.send(
      new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId, Content: 'final text' }),
    );
    assert.equal(updated.$metadata.httpStatusCode, 200);
    assert.equal(updated.MessageId, MessageId);
    assert.equal(updated.ChannelArn, channelArn);
    assert.deepEqual(updated.Status, { Value: 'SENT' });

    const edited = (await getMessage(bob, channelArn, MessageId)).ChannelMessage;
    assert.equal(edited?.Content, 'final text');
    assertNearNow(edited?.LastEditedTimestamp, 'LastEditedTimestamp');
    assert.ok(edited!.LastEditedTimestamp! > edited!.CreatedTimestamp!, 'edited after it was created');
    assert.equal((await listMessages(bob, channelArn)).ChannelMessages?.[0]?.Content, 'final text');

    await expectServiceError(
      bob.client.send(new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MessageId, Content: 'bob was here' })),
      'ForbiddenException',
      403,
      'Only the sender',
    );
    const unchanged = (await getMessage(alice, channelArn, MessageId)).ChannelMessage;
    assert.equal(unchanged?.Content, 'final text');
    assert.equal(unchanged?.LastEditedTimestamp?.getTime(), edited?.LastEditedTimestamp?.getTime());
  });

  test('GetChannelMessageStatus answers the sender only, and NotFound for an unknown message', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const { MessageId } = await send(alice, channelArn, 'how am I doing?');

    const status = await alice.client.send(new GetChannelMessageStatusCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId }));
    assert.deepEqual(status.Status, { Value: 'SENT' });
    await expectServiceError(
      bob.client.send(new GetChannelMessageStatusCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MessageId })),
      'ForbiddenException',
      403,
      'sender',
    );
    await expectServiceError(
      alice.client.send(new GetChannelMessageStatusCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: 'no-such-message' })),
      'NotFoundException',
      404,
      'no-such-message',
    );
  });

  test('a SendChannelMessage retried with the same ClientRequestToken stores one message', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelA = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const channelB = await createChannel(alice, { MemberArns: [alice.arn] });
    const token = `retry-${randomUUID()}`;
    const body = { Content: 'exactly once', Metadata: 'm', ClientRequestToken: token };

    const first = await send(alice, channelA, body.Content, body);
    const second = await send(alice, channelA, body.Content, body);
    assert.equal(second.MessageId, first.MessageId);
    assert.deepEqual(second.Status, { Value: 'SENT' });
    assert.equal((await tables.messageItems(channelIdOf(channelA))).length, 1);
    assert.deepEqual(ids((await listMessages(bob, channelA)).ChannelMessages ?? []), [first.MessageId]);

    await expectServiceError(
      send(alice, channelA, 'something else', { ...body, Content: 'something else' }),
      'ConflictException',
      409,
      'ClientRequestToken',
    );
    assert.equal((await tables.messageItems(channelIdOf(channelA))).length, 1);

    // The token belongs to one sender in one channel.
    const bobs = await send(bob, channelA, body.Content, body);
    assert.notEqual(bobs.MessageId, first.MessageId);
    const elsewhere = await send(alice, channelB, body.Content, body);
    assert.notEqual(elsewhere.MessageId, first.MessageId);
    const stored = await tables.messageItems(channelIdOf(channelA));
    assert.deepEqual(stored.map((item) => item.messageId).sort(), [first.MessageId, bobs.MessageId].sort());
    assert.deepEqual((await tables.messageItems(channelIdOf(channelB))).map((item) => item.messageId), [elsewhere.MessageId]);
  });

  test('a CreateChannel retried with the same ClientRequestToken returns the same channel', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const token = `create-${randomUUID()}`;
    const name = unique('idempotent channel');
    const input = { Name: name, ClientRequestToken: token, MemberArns: [alice.arn, bob.arn] };

    const first = await createChannel(alice, input);
    const second = await createChannel(alice, input);
    assert.equal(second, first);
    const channelItems = (await tables.scan('channels')).filter((item) => item.entity === 'CHANNEL' && item.name === name);
    assert.equal(channelItems.length, 1);
    assert.equal((await tables.query('channels', `CHANNEL#${channelIdOf(first)}`, 'MEMBER#')).length, 2);

    await expectServiceError(createChannel(alice, { ...input, Name: `${name} renamed` }), 'ConflictException', 409, 'ClientRequestToken');
    // Another creator's identical token is its own.
    const bobsChannel = await createChannel(bob, input);
    assert.notEqual(bobsChannel, first);
  });
});

describe('pagination', () => {
  test('ListChannelMessages pages through 23 messages in both orders and within a time window', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const otherChannel = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    await send(alice, otherChannel, 'elsewhere');

    const sent: string[] = [];
    let windowStart = new Date(0);
    let windowEnd = new Date(0);
    for (let index = 1; index <= 23; index += 1) {
      if (index === 11) {
        await sleep(5);
        windowStart = new Date();
        await sleep(5);
      }
      sent.push((await send(index % 2 === 0 ? bob : alice, channelArn, `message ${index}`)).MessageId);
      if (index === 15) {
        await sleep(5);
        windowEnd = new Date();
        await sleep(5);
      }
    }

    const newestFirst = await allMessagePages(bob, channelArn, { MaxResults: 10 });
    assert.deepEqual(newestFirst.pages.map((page) => page.length), [10, 10, 3]);
    assert.equal(typeof newestFirst.tokens[0], 'string');
    assert.equal(typeof newestFirst.tokens[1], 'string');
    assert.equal(newestFirst.tokens[2], undefined, 'no NextToken on the last page');
    assert.equal(new Set(ids(newestFirst.messages)).size, 23, 'no duplicates');
    assert.deepEqual(ids(newestFirst.messages), [...sent].reverse());
    assert.deepEqual(
      newestFirst.messages.slice(0, 3).map((message) => message.Content),
      ['message 23', 'message 22', 'message 21'],
    );

    const oldestFirst = await allMessagePages(alice, channelArn, { MaxResults: 10, SortOrder: 'ASCENDING' });
    assert.deepEqual(oldestFirst.pages.map((page) => page.length), [10, 10, 3]);
    assert.deepEqual(ids(oldestFirst.messages), sent);

    const window = await allMessagePages(alice, channelArn, { NotBefore: windowStart, NotAfter: windowEnd, MaxResults: 3 });
    assert.deepEqual(
      window.messages.map((message) => message.Content),
      ['message 15', 'message 14', 'message 13', 'message 12', 'message 11'],
    );
    const since = await allMessagePages(alice, channelArn, { NotBefore: windowEnd, SortOrder: 'ASCENDING' });
    assert.deepEqual(ids(since.messages), sent.slice(15));
    const until = await allMessagePages(alice, channelArn, { NotAfter: windowStart, SortOrder: 'ASCENDING' });
    assert.deepEqual(ids(until.messages), sent.slice(0, 10));

    await expectServiceError(
      listMessages(alice, otherChannel, { NextToken: newestFirst.tokens[0]!, MaxResults: 10 }),
      'BadRequestException',
      400,
      'NextToken',
    );
    await expectServiceError(listMessages(alice, channelArn, { NextToken: 'not-a-real-token!' }), 'BadRequestException', 400, 'NextToken');
  });

  test('ListChannelMemberships pages through 7 members', async () => {
    const alice = await user('alice');
    const others = await Promise.all(Array.from({ length: 6 }, (_, index) => user(`member${index}`)));
    const everyone = [alice.arn, ...others.map((member) => member.arn)];
    const channelArn = await createChannel(alice, { MemberArns: everyone });
    const smallChannel = await createChannel(alice, { MemberArns: [alice.arn] });

    const pages: string[][] = [];
    const tokens: (string | undefined)[] = [];
    let nextToken: string | undefined;
    do {
      const page = await alice.client.send(
        new ListChannelMembershipsCommand({
          ChannelArn: channelArn,
          ChimeBearer: alice.arn,
          MaxResults: 3,
          ...(nextToken !== undefined && { NextToken: nextToken }),
        }),
      );
      pages.push((page.ChannelMemberships ?? []).map((membership) => membership.Member?.Arn ?? '<missing>'));
      tokens.push(page.NextToken);
      nextToken = page.NextToken;
      assert.ok(pages.length <= 10, 'pagination must end');
    } while (nextToken !== undefined);

    assert.deepEqual(pages.map((page) => page.length), [3, 3, 1]);
    assert.equal(tokens[2], undefined);
    assert.equal(new Set(pages.flat()).size, 7, 'no duplicates');
    assert.deepEqual(pages.flat().sort(), [...everyone].sort());

    await expectServiceError(
      alice.client.send(new ListChannelMembershipsCommand({ ChannelArn: smallChannel, ChimeBearer: alice.arn, NextToken: tokens[0]! })),
      'BadRequestException',
      400,
      'NextToken',
    );
    await expectServiceError(
      alice.client.send(new ListChannelMembershipsCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, NextToken: 'garbage' })),
      'BadRequestException',
      400,
      'NextToken',
    );
  });
});

describe('hidden members', () => {
  test('a HIDDEN member is left out of ListChannelMemberships unless asked for by type, and still a member', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const ghost = await user('ghost');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    await alice.client.send(new CreateChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: ghost.arn, Type: 'HIDDEN' }));

    const listed = async (type?: 'DEFAULT' | 'HIDDEN') =>
      (
        await alice.client.send(new ListChannelMembershipsCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, ...(type && { Type: type }) }))
      ).ChannelMemberships?.map((membership) => membership.Member?.Arn).sort();
    assert.deepEqual(await listed(), [alice.arn, bob.arn].sort());
    assert.deepEqual(await listed('DEFAULT'), [alice.arn, bob.arn].sort());
    assert.deepEqual(await listed('HIDDEN'), [ghost.arn]);

    // Hidden is about listing only: the hidden member sends and reads like any member.
    const { MessageId } = await send(ghost, channelArn, 'boo');
    assert.equal((await getMessage(bob, channelArn, MessageId)).ChannelMessage?.Content, 'boo');
  });
});

describe('display names', () => {
  test("a member added by someone else shows its id until it sends; then its own token's name", async () => {
    const alice = await user('alice', 'Alice A.');
    const bob = await user('bob', 'Bob B.');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const nameOf = async (member: LocalUser) =>
      (await alice.client.send(new DescribeChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: member.arn })))
        .ChannelMembership?.Member?.Name;
    assert.equal(await nameOf(bob), bob.userId);
    await send(bob, channelArn, 'hi');
    assert.equal(await nameOf(bob), 'Bob B.');
  });
});

describe('redaction and deletion', () => {
  test('the sender redacts a message: content cleared, metadata kept, marked redacted', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const { MessageId } = await send(alice, channelArn, 'oops, my password', { Metadata: 'keep-me' });

    const redacted = await alice.client.send(new RedactChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId }));
    assert.equal(redacted.ChannelArn, channelArn);
    assert.equal(redacted.MessageId, MessageId);

    const got = (await getMessage(bob, channelArn, MessageId)).ChannelMessage;
    assert.equal(got?.Content, '');
    assert.equal(got?.Redacted, true);
    assert.equal(got?.Metadata, 'keep-me');
    const listed = (await listMessages(bob, channelArn)).ChannelMessages?.[0];
    assert.equal(listed?.MessageId, MessageId);
    assert.equal(listed?.Content, '');
    assert.equal(listed?.Redacted, true);
    assert.equal(listed?.Metadata, 'keep-me');
    const [item] = await tables.messageItems(channelIdOf(channelArn));
    assert.equal(item?.content, '', 'the redacted content is not kept in the table');
  });

  test('DeleteChannelMessage is refused to a member and allowed to an admin who is a member', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const root = await system.user('root', { admin: true });
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const kept = await send(bob, channelArn, 'keep this');
    const doomed = await send(alice, channelArn, 'delete this');

    await expectServiceError(
      bob.client.send(new DeleteChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MessageId: doomed.MessageId })),
      'ForbiddenException',
      403,
      'admin',
    );
    assert.equal((await getMessage(alice, channelArn, doomed.MessageId)).ChannelMessage?.Content, 'delete this');

    await root.client.send(
      new CreateChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: root.arn, MemberArn: root.arn, Type: 'DEFAULT' }),
    );
    const deleted = await root.client.send(
      new DeleteChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: root.arn, MessageId: doomed.MessageId }),
    );
    assert.equal(deleted.$metadata.httpStatusCode, 204);

    await expectServiceError(getMessage(alice, channelArn, doomed.MessageId), 'NotFoundException', 404, doomed.MessageId);
    assert.deepEqual(ids((await listMessages(alice, channelArn)).ChannelMessages ?? []), [kept.MessageId]);
    assert.deepEqual((await tables.messageItems(channelIdOf(channelArn))).map((item) => item.messageId), [kept.MessageId]);
  });

  test('a member leaves and can no longer send; a non-moderator cannot remove someone else', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const dave = await user('dave');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn, dave.arn] });

    await expectServiceError(
      bob.client.send(new DeleteChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MemberArn: dave.arn })),
      'ForbiddenException',
      403,
      'moderators',
    );
    const daves = await alice.client.send(
      new DescribeChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: dave.arn }),
    );
    assert.equal(daves.ChannelMembership?.Member?.Arn, dave.arn, 'dave is still a member');

    await send(bob, channelArn, 'bye all');
    const left = await bob.client.send(new DeleteChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MemberArn: bob.arn }));
    assert.equal(left.$metadata.httpStatusCode, 204);
    await expectServiceError(send(bob, channelArn, 'one more thing'), 'ForbiddenException', 403, bob.arn);
    const members = await alice.client.send(new ListChannelMembershipsCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn }));
    assert.deepEqual((members.ChannelMemberships ?? []).map((m) => m.Member?.Arn).sort(), [alice.arn, dave.arn].sort());
    assert.deepEqual(await channelArnsOfUser(bob), []);
    assert.deepEqual(
      (await listMessages(alice, channelArn)).ChannelMessages?.map((message) => message.Content),
      ['bye all'],
      'the refused message was not stored',
    );
  });

  test('the creator deletes a channel: it is gone, with all its items in both tables', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    await send(alice, channelArn, 'one');
    await send(bob, channelArn, 'two');
    const partition = `CHANNEL#${channelIdOf(channelArn)}`;
    assert.equal((await tables.query('channels', partition)).length, 3, 'the channel and its two memberships');
    assert.equal((await tables.messageItems(channelIdOf(channelArn))).length, 2);

    await expectServiceError(
      bob.client.send(new DeleteChannelCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn })),
      'ForbiddenException',
      403,
    );
    const deleted = await alice.client.send(new DeleteChannelCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);

    await expectServiceError(
      alice.client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn })),
      'NotFoundException',
      404,
      channelArn,
    );
    await expectServiceError(listMessages(bob, channelArn), 'NotFoundException', 404);
    assert.deepEqual(await channelArnsOfUser(bob), []);

    // Memberships and messages go after DeleteChannel has answered (from the stream), then the tombstone.
    const deadline = Date.now() + 10_000;
    while ((await tables.query('channels', partition)).length + (await tables.query('messages', partition)).length > 0) {
      assert.ok(Date.now() < deadline, 'the deleted channel is cleaned up within 10 s');
      await sleep(50);
    }
    const memberIndexLeftovers = (await tables.scan('channels')).filter((item) => item.gsi1sk === partition);
    assert.deepEqual(memberIndexLeftovers, []);
    // Once cleaned up, the id is free again, and the new channel starts empty.
    const again = await createChannel(alice, { ChannelId: channelIdOf(channelArn), MemberArns: [alice.arn] });
    assert.deepEqual(await listMessages(alice, again).then((page) => page.ChannelMessages), []);
  });
});

describe('message kinds', () => {
  test('a NON_PERSISTENT message is accepted as SENT but never listed or readable', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const fleeting = await send(alice, channelArn, 'typing...', { Persistence: 'NON_PERSISTENT' });
    assert.equal(fleeting.$metadata.httpStatusCode, 201);
    assert.deepEqual(fleeting.Status, { Value: 'SENT' });
    const lasting = await send(alice, channelArn, 'a real message');

    assert.deepEqual(ids((await listMessages(bob, channelArn)).ChannelMessages ?? []), [lasting.MessageId]);
    assert.deepEqual(ids((await listMessages(alice, channelArn, { SortOrder: 'ASCENDING' })).ChannelMessages ?? []), [lasting.MessageId]);
    await expectServiceError(getMessage(bob, channelArn, fleeting.MessageId), 'NotFoundException', 404);
    await expectServiceError(getMessage(alice, channelArn, fleeting.MessageId), 'NotFoundException', 404);
  });

  test('a CONTROL message of 30 bytes is accepted', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
    const content = 'é'.repeat(15); // 15 characters, 30 UTF-8 bytes
    assert.equal(Buffer.byteLength(content, 'utf8'), 30);

    const control = await send(alice, channelArn, content, { Type: 'CONTROL' });
    assert.equal(control.$metadata.httpStatusCode, 201);
    assert.deepEqual(control.Status, { Value: 'SENT' });
    const got = (await getMessage(bob, channelArn, control.MessageId)).ChannelMessage;
    assert.equal(got?.Type, 'CONTROL');
    assert.equal(got?.Content, content);
    assert.equal((await listMessages(bob, channelArn)).ChannelMessages?.[0]?.Type, 'CONTROL');
  });
});
