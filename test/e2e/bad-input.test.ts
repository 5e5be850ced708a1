import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateChannelCommand,
  CreateChannelMembershipCommand,
  DeleteChannelMessageCommand,
  GetChannelMessageCommand,
  ListChannelMessagesCommand,
  ListChannelsCommand,
  SendChannelMessageCommand,
  UpdateChannelMessageCommand,
  type ChimeSDKMessagingClient,
  type CreateChannelCommandInput,
  type SendChannelMessageCommandInput,
} from '@aws-sdk/client-chime-sdk-messaging';
import { LOCAL_AUDIENCE } from '../../local/token-issuer';
import { expectServiceError } from '../support/expect-error';
import { startLocalSystem, type LocalSystem, type LocalUser } from '../support/local-system';
import { channelPath, rawRequest, type RawRequest } from '../support/raw-http';
import { diffSnapshots, TableInspector } from '../support/table-inspector';
import { tokenSignedByForeignKey, tokenSignedByRuntimeKey } from '../support/tokens';

/**
 * Bad input, table-driven: every case is answered with the right typed exception (name, HTTP
 * status, a message naming the field or limit) and leaves both tables exactly as they were.
 * One local runtime, started with a data directory so that tokens can be minted with its own
 * issuer key (expired, wrong audience) as well as with a foreign one.
 */

type ErrorName = 'BadRequestException' | 'ForbiddenException' | 'UnauthorizedClientException' | 'NotFoundException' | 'ConflictException';

const STATUS: Record<ErrorName, number> = {
  BadRequestException: 400,
  UnauthorizedClientException: 401,
  ForbiddenException: 403,
  NotFoundException: 404,
  ConflictException: 409,
};
const CODE: Record<ErrorName, string> = {
  BadRequestException: 'BadRequest',
  UnauthorizedClientException: 'Unauthorized',
  ForbiddenException: 'Forbidden',
  NotFoundException: 'NotFound',
  ConflictException: 'Conflict',
};

interface Expected {
  readonly error: ErrorName;
  /** What the message must mention: the offending field, the limit. */
  readonly mentions?: readonly (string | RegExp)[];
}

interface SdkCase extends Expected {
  readonly name: string;
  readonly call: () => Promise<unknown>;
}

interface RawCase extends Expected {
  readonly name: string;
  readonly raw: () => RawRequest;
}

let system: LocalSystem;
let tables: TableInspector;
let dataDir: string;
let appInstanceArn: string;
let alice: LocalUser;
let bob: LocalUser;
let carol: LocalUser;
let channelArn: string;
const existingChannelId = 'existing-channel';
let messageId: string;
let controlMessageId: string;
const usedToken = `used-${randomUUID()}`;
const tokens: Record<'foreignKey' | 'expired' | 'wrongAudience' | 'badSubject', string> = {
  foreignKey: '',
  expired: '',
  wrongAudience: '',
  badSubject: '',
};

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chime-bad-input-'));
  system = await startLocalSystem(['--data-dir', dataDir]);
  appInstanceArn = system.ready.appInstanceArn;
  tables = new TableInspector(system.ready);
  [alice, bob, carol] = await Promise.all([system.user('alice'), system.user('bob'), system.user('carol')]);

  channelArn = await createChannel(alice, { MemberArns: [alice.arn, bob.arn] });
  await createChannel(alice, { ChannelId: existingChannelId, MemberArns: [alice.arn] });
  messageId = (await send(alice, { Content: 'hello', ClientRequestToken: usedToken })).MessageId!;
  controlMessageId = (await send(alice, { Content: 'typing', Type: 'CONTROL' })).MessageId!;

  const issuer = `${system.ready.restUrl}/local`;
  const now = Math.floor(Date.now() / 1000);
  tokens.foreignKey = await tokenSignedByForeignKey({ issuer, audience: LOCAL_AUDIENCE, subject: 'alice' });
  tokens.expired = await tokenSignedByRuntimeKey(dataDir, {
    issuer,
    audience: LOCAL_AUDIENCE,
    subject: 'alice',
    issuedAt: now - 7200,
    expiresAt: now - 3600,
  });
  tokens.wrongAudience = await tokenSignedByRuntimeKey(dataDir, { issuer, audience: 'some-other-app', subject: 'alice' });
  tokens.badSubject = await tokenSignedByRuntimeKey(dataDir, { issuer, audience: LOCAL_AUDIENCE, subject: 'not a user id!' });
});

after(async () => {
  tables?.destroy();
  await system?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// helpers

function createChannel(owner: LocalUser, input: Partial<CreateChannelCommandInput> = {}) {
  return owner.client
    .send(
      new CreateChannelCommand({
        AppInstanceArn: appInstanceArn,
        Name: 'bad input',
        ChimeBearer: owner.arn,
        ClientRequestToken: randomUUID(),
        ...input,
      }),
    )
    .then((output) => output.ChannelArn!);
}

function send(sender: LocalUser, input: Partial<SendChannelMessageCommandInput> = {}, client: ChimeSDKMessagingClient = sender.client) {
  return client.send(
    new SendChannelMessageCommand({
      ChannelArn: channelArn,
      ChimeBearer: sender.arn,
      Content: 'hello',
      Type: 'STANDARD',
      Persistence: 'PERSISTENT',
      ClientRequestToken: randomUUID(),
      ...input,
    }),
  );
}

/** SendChannelMessage by alice in her channel, with the given members changed. */
const aliceSends = (input: Record<string, unknown>) => () => send(alice, input as Partial<SendChannelMessageCommandInput>);

const aliceCreates = (input: Record<string, unknown>) => () => createChannel(alice, input as Partial<CreateChannelCommandInput>);

const listAs = (reader: () => LocalUser, input: Record<string, unknown>) => () =>
  reader().client.send(new ListChannelMessagesCommand({ ChannelArn: channelArn, ChimeBearer: reader().arn, ...input }));

function otherAppInstanceChannel(): string {
  const arn = channelArn.replace(':app-instance/local/', ':app-instance/someone-else/');
  assert.notEqual(arn, channelArn);
  return arn;
}

/** A raw request as the SDK would send it for alice, with the JSON body given verbatim. */
function aliceRaw(method: string, path: string, body?: string, headers: Record<string, string> = {}): RawRequest {
  return {
    method,
    path,
    headers: {
      Authorization: `Bearer ${alice.token}`,
      'x-amz-chime-bearer': alice.arn,
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body }),
  };
}

const validSendBody = () => ({ Content: 'hello', Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: randomUUID() });

// ---------------------------------------------------------------------------------------------
// the cases

const sdkCases: readonly SdkCase[] = [
  // SendChannelMessage: the body
  { name: 'Content of 4097 characters', call: aliceSends({ Content: 'a'.repeat(4097) }), error: 'BadRequestException', mentions: ['Content', '4096'] },
  { name: 'Metadata of 1025 characters', call: aliceSends({ Metadata: 'm'.repeat(1025) }), error: 'BadRequestException', mentions: ['Metadata', '1024'] },
  { name: 'CONTROL Content of 31 bytes', call: aliceSends({ Type: 'CONTROL', Content: 'c'.repeat(31) }), error: 'BadRequestException', mentions: ['Content', '30 bytes'] },
  {
    name: 'CONTROL Content of 16 two-byte characters (32 bytes)',
    call: aliceSends({ Type: 'CONTROL', Content: 'é'.repeat(16) }),
    error: 'BadRequestException',
    mentions: ['Content', '30 bytes', '32'],
  },
  { name: 'CONTROL message with Metadata', call: aliceSends({ Type: 'CONTROL', Content: 'typing', Metadata: 'm' }), error: 'BadRequestException', mentions: ['Metadata', 'CONTROL'] },
  { name: 'empty Content', call: aliceSends({ Content: '' }), error: 'BadRequestException', mentions: ['Content', 'at least 1'] },
  { name: 'Type not in the enum', call: aliceSends({ Type: 'SYSTEM' }), error: 'BadRequestException', mentions: ['Type', 'STANDARD, CONTROL', 'SYSTEM'] },
  { name: 'Persistence not in the enum', call: aliceSends({ Persistence: 'FOREVER' }), error: 'BadRequestException', mentions: ['Persistence', 'PERSISTENT', 'FOREVER'] },
  { name: 'ClientRequestToken with bad characters', call: aliceSends({ ClientRequestToken: 'bad token!' }), error: 'BadRequestException', mentions: ['ClientRequestToken'] },
  { name: 'ClientRequestToken of 65 characters', call: aliceSends({ ClientRequestToken: 't'.repeat(65) }), error: 'BadRequestException', mentions: ['ClientRequestToken', '64'] },
  { name: 'ClientRequestToken of 1 character', call: aliceSends({ ClientRequestToken: 't' }), error: 'BadRequestException', mentions: ['ClientRequestToken', '2'] },
  { name: 'ContentType of 46 characters', call: aliceSends({ ContentType: 'x'.repeat(46) }), error: 'BadRequestException', mentions: ['ContentType', '45'] },
  {
    name: 'MessageAttributes key of 65 characters',
    call: aliceSends({ MessageAttributes: { ['k'.repeat(65)]: { StringValues: ['v'] } } }),
    error: 'BadRequestException',
    mentions: ['MessageAttributes', '64'],
  },
  {
    name: 'MessageAttributes value of 513 characters',
    call: aliceSends({ MessageAttributes: { topic: { StringValues: ['v'.repeat(513)] } } }),
    error: 'BadRequestException',
    mentions: ['MessageAttributes.topic.StringValues[0]', '512'],
  },
  {
    name: 'PushNotification Title of 51 characters',
    call: aliceSends({ PushNotification: { Title: 't'.repeat(51), Body: 'b', Type: 'DEFAULT' } }),
    error: 'BadRequestException',
    mentions: ['PushNotification.Title', '50'],
  },
  {
    name: 'Target with 2 entries',
    call: () => send(alice, { Target: [{ MemberArn: alice.arn }, { MemberArn: bob.arn }] }),
    error: 'BadRequestException',
    mentions: ['Target', 'at most 1'],
  },
  {
    name: 'Target naming a channel instead of a user',
    call: () => send(alice, { Target: [{ MemberArn: channelArn }] }),
    error: 'BadRequestException',
    mentions: ['Target[0].MemberArn', 'user ARN'],
  },
  { name: 'SubChannelId given', call: aliceSends({ SubChannelId: 'sub-1' }), error: 'BadRequestException', mentions: ['SubChannelId', 'elastic'] },
  {
    name: 'ClientRequestToken reused with a different Content',
    call: aliceSends({ ClientRequestToken: usedToken, Content: 'not hello' }),
    error: 'ConflictException',
    mentions: ['ClientRequestToken'],
  },

  // SendChannelMessage: the channel and the caller
  { name: 'malformed channel ARN', call: aliceSends({ ChannelArn: 'not-an-arn' }), error: 'BadRequestException', mentions: ['ChannelArn', 'not a valid ARN'] },
  {
    name: 'channel ARN of another app instance',
    call: () => send(alice, { ChannelArn: otherAppInstanceChannel() }),
    error: 'BadRequestException',
    mentions: ['ChannelArn', 'app instance'],
  },
  {
    name: 'unknown channel',
    call: () => send(alice, { ChannelArn: `${appInstanceArn}/channel/no-such-channel` }),
    error: 'NotFoundException',
    mentions: ['no-such-channel'],
  },
  { name: 'sending to a channel the caller is not a member of', call: () => send(carol), error: 'ForbiddenException', mentions: ['/user/carol', 'member'] },
  {
    name: 'x-amz-chime-bearer naming another user',
    call: () => send(alice, { ChimeBearer: bob.arn }),
    error: 'ForbiddenException',
    mentions: ['x-amz-chime-bearer', '/user/bob'],
  },
  { name: 'no Authorization header', call: () => send(alice, {}, system.anonymousClient()), error: 'UnauthorizedClientException' },
  {
    name: 'Authorization header that is not a Bearer token',
    call: () => send(alice, {}, system.clientWithAuthorization('Basic YWxpY2U6c2VjcmV0')),
    error: 'UnauthorizedClientException',
  },
  { name: 'garbage bearer token', call: () => send(alice, {}, system.clientWithAuthorization('Bearer not.a.jwt')), error: 'UnauthorizedClientException' },
  {
    name: 'token signed by another key',
    call: () => send(alice, {}, system.clientWithAuthorization(`Bearer ${tokens.foreignKey}`)),
    error: 'UnauthorizedClientException',
  },
  {
    name: 'expired token signed by the right key',
    call: () => send(alice, {}, system.clientWithAuthorization(`Bearer ${tokens.expired}`)),
    error: 'UnauthorizedClientException',
  },
  {
    name: 'token for another audience signed by the right key',
    call: () => send(alice, {}, system.clientWithAuthorization(`Bearer ${tokens.wrongAudience}`)),
    error: 'UnauthorizedClientException',
  },
  {
    name: 'token whose subject is not a valid user id',
    call: () => send(alice, {}, system.clientWithAuthorization(`Bearer ${tokens.badSubject}`)),
    error: 'UnauthorizedClientException',
  },

  // memberships
  {
    name: 'CreateChannelMembership with a channel ARN as MemberArn',
    call: () => alice.client.send(new CreateChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: channelArn, Type: 'DEFAULT' })),
    error: 'BadRequestException',
    mentions: ['MemberArn', 'user ARN'],
  },
  {
    name: 'CreateChannelMembership with a wrong membership Type',
    call: () =>
      alice.client.send(
        new CreateChannelMembershipCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MemberArn: carol.arn, Type: 'OWNER' as never }),
      ),
    error: 'BadRequestException',
    mentions: ['Type', 'DEFAULT, HIDDEN', 'OWNER'],
  },

  // CreateChannel
  { name: 'CreateChannel Name of 257 characters', call: aliceCreates({ Name: 'n'.repeat(257) }), error: 'BadRequestException', mentions: ['Name', '256'] },
  {
    name: 'CreateChannel with 11 MemberArns',
    call: () => createChannel(alice, { MemberArns: Array.from({ length: 11 }, (_, index) => `${appInstanceArn}/user/member-${index}`) }),
    error: 'BadRequestException',
    mentions: ['MemberArns', '10'],
  },
  {
    name: 'CreateChannel with the AppInstanceArn of another app instance',
    call: aliceCreates({ AppInstanceArn: 'arn:aws:chime:us-east-1:000000000000:app-instance/someone-else' }),
    error: 'BadRequestException',
    mentions: ['AppInstanceArn'],
  },
  { name: 'CreateChannel ChannelId with bad characters', call: aliceCreates({ ChannelId: 'bad channel!' }), error: 'BadRequestException', mentions: ['ChannelId'] },
  { name: 'CreateChannel with a ChannelId that exists', call: () => createChannel(alice, { ChannelId: existingChannelId }), error: 'ConflictException', mentions: [existingChannelId] },
  {
    name: 'CreateChannel with a channel ARN among the MemberArns',
    call: () => createChannel(alice, { MemberArns: [alice.arn, channelArn] }),
    error: 'BadRequestException',
    mentions: ['MemberArns[1]', 'user ARN'],
  },
  { name: 'CreateChannel Privacy not in the enum', call: aliceCreates({ Privacy: 'SECRET' }), error: 'BadRequestException', mentions: ['Privacy', 'PUBLIC, PRIVATE'] },
  {
    name: 'CreateChannel with an ElasticChannelConfiguration',
    call: aliceCreates({ ElasticChannelConfiguration: { MaximumSubChannels: 2, TargetMembershipsPerSubChannel: 2, MinimumMembershipPercentage: 10 } }),
    error: 'BadRequestException',
    mentions: ['ElasticChannelConfiguration', 'elastic'],
  },

  // ListChannelMessages, ListChannels
  { name: 'ListChannelMessages MaxResults 51', call: listAs(() => alice, { MaxResults: 51 }), error: 'BadRequestException', mentions: ['max-results', '50'] },
  { name: 'ListChannelMessages MaxResults 0', call: listAs(() => alice, { MaxResults: 0 }), error: 'BadRequestException', mentions: ['max-results', '1'] },
  { name: 'ListChannelMessages garbage NextToken', call: listAs(() => alice, { NextToken: 'garbage' }), error: 'BadRequestException', mentions: ['NextToken'] },
  { name: 'ListChannelMessages by a non-member of a private channel', call: listAs(() => carol, {}), error: 'ForbiddenException', mentions: ['/user/carol'] },
  {
    name: 'ListChannels with the AppInstanceArn of another app instance',
    call: () =>
      alice.client.send(new ListChannelsCommand({ AppInstanceArn: 'arn:aws:chime:us-east-1:000000000000:app-instance/someone-else', ChimeBearer: alice.arn })),
    error: 'BadRequestException',
    mentions: ['app-instance-arn'],
  },

  // single messages
  {
    name: 'MessageId with bad characters in the path',
    call: () => alice.client.send(new GetChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: 'bad$id' })),
    error: 'BadRequestException',
    mentions: ['MessageId'],
  },
  {
    // `%` is not allowed in a MessageId; it must not be decoded a second time into another id.
    name: 'MessageId holding a percent-escape of an existing id',
    call: () =>
      alice.client.send(
        new GetChannelMessageCommand({
          ChannelArn: channelArn,
          ChimeBearer: alice.arn,
          MessageId: `${messageId.slice(0, -1)}%${messageId.charCodeAt(messageId.length - 1).toString(16)}`,
        }),
      ),
    error: 'BadRequestException',
    mentions: ['MessageId'],
  },
  {
    name: 'unknown MessageId',
    call: () => alice.client.send(new GetChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: 'no-such-message' })),
    error: 'NotFoundException',
    mentions: ['no-such-message'],
  },
  {
    name: 'UpdateChannelMessage Content of 4097 characters',
    call: () =>
      alice.client.send(new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: messageId, Content: 'a'.repeat(4097) })),
    error: 'BadRequestException',
    mentions: ['Content', '4096'],
  },
  {
    name: 'UpdateChannelMessage of a CONTROL message to 31 bytes',
    call: () =>
      alice.client.send(
        new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: controlMessageId, Content: 'c'.repeat(31) }),
      ),
    error: 'BadRequestException',
    mentions: ['Content', '30 bytes'],
  },
  {
    name: "UpdateChannelMessage of another member's message",
    call: () => bob.client.send(new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: bob.arn, MessageId: messageId, Content: 'bob was here' })),
    error: 'ForbiddenException',
    mentions: ['sender'],
  },
  {
    name: 'DeleteChannelMessage by a member who is not an admin',
    call: () => alice.client.send(new DeleteChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: messageId })),
    error: 'ForbiddenException',
    mentions: ['admin'],
  },
];

const rawCases: readonly RawCase[] = [
  {
    name: 'missing Content',
    raw: () => aliceRaw('POST', channelPath(channelArn, '/messages'), JSON.stringify({ ...validSendBody(), Content: undefined })),
    error: 'BadRequestException',
    mentions: ['Content', 'required'],
  },
  {
    name: 'malformed JSON body',
    raw: () => aliceRaw('POST', channelPath(channelArn, '/messages'), '{"Content": "hello", "Type": '),
    error: 'BadRequestException',
    mentions: ['not valid JSON'],
  },
  {
    name: 'body that is a JSON array',
    raw: () => aliceRaw('POST', channelPath(channelArn, '/messages'), JSON.stringify([validSendBody()])),
    error: 'BadRequestException',
    mentions: ['JSON object'],
  },
  {
    name: 'body that is a JSON string',
    raw: () => aliceRaw('POST', '/channels', JSON.stringify('CreateChannel')),
    error: 'BadRequestException',
    mentions: ['JSON object'],
  },
  {
    name: 'missing x-amz-chime-bearer header',
    raw: () => {
      const request = aliceRaw('POST', channelPath(channelArn, '/messages'), JSON.stringify(validSendBody()));
      const { 'x-amz-chime-bearer': _bearer, ...headers } = request.headers as Record<string, string>;
      return { ...request, headers };
    },
    error: 'BadRequestException',
    mentions: ['x-amz-chime-bearer'],
  },
  {
    // The SDK sends an out-of-enum SortOrder unchanged; the raw request shows exactly what the server gets.
    name: 'ListChannelMessages sort-order not in the enum',
    raw: () => aliceRaw('GET', channelPath(channelArn, '/messages?sort-order=SIDEWAYS')),
    error: 'BadRequestException',
    mentions: ['sort-order', 'ASCENDING, DESCENDING', 'SIDEWAYS'],
  },
  {
    name: 'ListChannelMessages not-before that is not a date',
    raw: () => aliceRaw('GET', channelPath(channelArn, '/messages?not-before=yesterday')),
    error: 'BadRequestException',
    mentions: ['not-before', 'ISO-8601'],
  },
  {
    name: 'ListChannelMessages not-after without a time zone',
    raw: () => aliceRaw('GET', channelPath(channelArn, '/messages?not-after=2026-01-31T12:00:00')),
    error: 'BadRequestException',
    mentions: ['not-after'],
  },
  {
    name: 'ListChannelMessages max-results that is not a number',
    raw: () => aliceRaw('GET', channelPath(channelArn, '/messages?max-results=ten')),
    error: 'BadRequestException',
    mentions: ['max-results', 'whole number'],
  },
];

// ---------------------------------------------------------------------------------------------

async function assertNothingStored(run: () => Promise<void>): Promise<void> {
  const before = await tables.snapshot();
  await run();
  const after = await tables.snapshot();
  assert.deepEqual(diffSnapshots(before, after), { added: [], removed: [], changed: [] }, 'both tables are unchanged');
}

describe('bad input through the official SDK client', () => {
  for (const badCase of sdkCases) {
    test(badCase.name, async () => {
      await assertNothingStored(async () => {
        const error = await expectServiceError(badCase.call(), badCase.error, STATUS[badCase.error], ...(badCase.mentions ?? []));
        assert.equal((error as { Code?: string }).Code, CODE[badCase.error], 'the Code of the error body');
      });
    });
  }
});

describe('bad input as raw HTTP', () => {
  for (const badCase of rawCases) {
    test(badCase.name, async () => {
      await assertNothingStored(async () => {
        const response = await rawRequest(system.ready.restUrl, badCase.raw());
        assert.equal(response.status, STATUS[badCase.error], `status (body: ${response.text})`);
        assert.equal(response.errorType, badCase.error, 'x-amzn-ErrorType header');
        const body = response.json as Record<string, unknown>;
        assert.deepEqual(Object.keys(body ?? {}).sort(), ['Code', 'Message'], `body ${response.text}`);
        assert.equal(body.Code, CODE[badCase.error]);
        assert.equal(typeof body.Message, 'string');
        for (const fragment of badCase.mentions ?? []) {
          if (typeof fragment === 'string') assert.ok((body.Message as string).includes(fragment), `Message ${JSON.stringify(body.Message)} should mention ${fragment}`);
          else assert.match(body.Message as string, fragment);
        }
      });
    });
  }
});

describe('the checks themselves', () => {
  test('at least 30 distinct kinds of bad input are covered', () => {
    const names = [...sdkCases, ...rawCases].map((badCase) => badCase.name);
    assert.equal(new Set(names).size, names.length, 'case names are distinct');
    assert.ok(names.length >= 30, `${names.length} cases`);
  });

  test('the snapshot comparison notices a stored message and an edit', async () => {
    const before = await tables.snapshot();
    const sent = await send(alice, { Content: 'a valid message' });
    await alice.client.send(new UpdateChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, MessageId: messageId, Content: 'hello again' }));
    const diff = diffSnapshots(before, await tables.snapshot());
    const channelId = channelArn.slice(channelArn.lastIndexOf('/') + 1);
    assert.ok(diff.added.includes(`messages CHANNEL#${channelId}|MESSAGE#${sent.MessageId}`), `added: ${diff.added.join(', ')}`);
    assert.ok(diff.changed.includes(`messages CHANNEL#${channelId}|MESSAGE#${messageId}`), `changed: ${diff.changed.join(', ')}`);
    assert.ok(diff.changed.includes(`channels CHANNEL#${channelId}|CHANNEL`), 'LastMessageTimestamp moved');
  });
});
