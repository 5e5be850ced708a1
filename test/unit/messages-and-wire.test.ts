import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { channelArn, userArn } from '../../lambdas/core/arns';
import { messageIdBounds, newMessageId, newResourceId } from '../../lambdas/core/ids';
import { applyEdit, assertEditable, createMessage, redactMessage } from '../../lambdas/core/messages';
import type { Message, MessageStatusValue, MessageType } from '../../lambdas/core/model';
import { decodeNextToken, encodeNextToken } from '../../lambdas/core/pagination';
import type { SendChannelMessageRequest } from '../../lambdas/core/validation';
import { toWireChannel, toWireChannelSummary, toWireMembership, toWireMessage, toWireMessageSummary } from '../../lambdas/core/wire';
import { APP, T0, assertBadRequest, assertConflict, channel, membership, caller, message, withFlow } from './fixtures';

const ALICE = { arn: userArn(APP, 'alice'), name: 'ALICE' };
const REQUEST: SendChannelMessageRequest = { Content: 'hello', Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: 'token-1' };

describe('createMessage', () => {
  // [channel has a flow, type, stored status]
  const TABLE: readonly (readonly [boolean, MessageType, MessageStatusValue])[] = [
    [false, 'STANDARD', 'SENT'],
    [false, 'CONTROL', 'SENT'],
    [true, 'STANDARD', 'PENDING'],
    [true, 'CONTROL', 'SENT'],
  ];
  const FLOW = {
    processor: { name: 'moderation', executionOrder: 1, fallbackAction: 'ABORT', lambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:channel-flow-moderation', invocationType: 'ASYNC' },
    callbackId: 'c'.repeat(64),
    deadline: T0 + 300_000,
  } as const;
  for (const [hasFlow, type, status] of TABLE) {
    test(`${type} in a channel ${hasFlow ? 'with' : 'without'} a flow is stored ${status}`, () => {
      const created = createMessage({
        request: { ...REQUEST, Type: type },
        channel: hasFlow ? withFlow() : channel(),
        sender: ALICE,
        messageId: 'm1',
        now: T0,
        ...(hasFlow && { flow: FLOW }),
      });
      assert.deepEqual(created.status, { value: status });
      // Only a message that waits for the processor carries the change it waits with.
      assert.equal(created.pending?.callbackId, status === 'PENDING' ? FLOW.callbackId : undefined);
    });
  }

  test('the new message carries the request, the sender and the time, at revision 1', () => {
    const created = createMessage({
      request: {
        ...REQUEST,
        Metadata: '{"k":1}',
        Persistence: 'NON_PERSISTENT',
        ContentType: 'text/markdown',
        MessageAttributes: { topic: { StringValues: ['a', 'b'] }, empty: {} },
        Target: [{ MemberArn: userArn(APP, 'bob') }],
      },
      channel: channel({ channelId: 'random' }),
      sender: ALICE,
      messageId: 'm1',
      now: T0,
    });
    assert.deepEqual(created, {
      channelId: 'random',
      messageId: 'm1',
      content: 'hello',
      metadata: '{"k":1}',
      type: 'STANDARD',
      persistence: 'NON_PERSISTENT',
      sender: ALICE,
      createdAt: T0,
      lastUpdatedAt: T0,
      redacted: false,
      status: { value: 'SENT' },
      messageAttributes: { topic: { stringValues: ['a', 'b'] }, empty: { stringValues: [] } },
      contentType: 'text/markdown',
      target: [userArn(APP, 'bob')],
      revision: 1,
    });
  });

  test('a new message has never been edited', () => {
    const created = createMessage({ request: REQUEST, channel: channel(), sender: ALICE, messageId: 'm1', now: T0 });
    assert.equal(created.lastEditedAt, undefined);
    assert.equal('metadata' in created, false);
  });
});

describe('applyEdit', () => {
  for (const status of ['PENDING', 'FAILED', 'DENIED'] as const) {
    test(`a ${status} message cannot be edited (ConflictException naming the status)`, () => {
      const m = message({ status: { value: status } });
      assertConflict(() => applyEdit(m, { Content: 'edited' }, T0 + 1000), status, m.messageId);
      assertConflict(() => assertEditable(m), status);
    });
  }

  test('a redacted message cannot be edited (ConflictException)', () => {
    const m = message({ redacted: true, content: '' });
    assertConflict(() => applyEdit(m, { Content: 'edited' }, T0 + 1000), /redacted/);
  });

  test('an edit of a SENT message replaces the content and bumps revision and edit times', () => {
    const original = message({ revision: 3, contentType: 'text/plain' });
    const edited = applyEdit(original, { Content: 'edited', Metadata: 'new-meta' }, T0 + 5000);
    assert.equal(edited.content, 'edited');
    assert.equal(edited.metadata, 'new-meta');
    assert.equal(edited.revision, 4);
    assert.equal(edited.lastEditedAt, T0 + 5000);
    assert.equal(edited.lastUpdatedAt, T0 + 5000);
    assert.equal(edited.createdAt, original.createdAt);
    assert.equal(edited.messageId, original.messageId);
    assert.equal(edited.contentType, 'text/plain', 'an edit without ContentType keeps the old one');
    assert.deepEqual(edited.status, { value: 'SENT' });
    assert.equal(edited.redacted, false);
  });

  test('an edit does not change the stored original', () => {
    const original = message();
    const snapshot = structuredClone(original);
    applyEdit(original, { Content: 'edited' }, T0 + 1);
    assert.deepEqual(original, snapshot);
  });

  test('a second edit bumps the revision again', () => {
    const twice = applyEdit(applyEdit(message(), { Content: 'one' }, T0 + 1), { Content: 'two' }, T0 + 2);
    assert.equal(twice.revision, 3);
    assert.equal(twice.lastEditedAt, T0 + 2);
    assert.equal(twice.content, 'two');
  });
});

describe('redactMessage', () => {
  test('clears the content, keeps the metadata, marks it redacted and bumps the revision', () => {
    const original = message({ content: 'secret', metadata: '{"keep":true}', revision: 2 });
    const redacted = redactMessage(original, T0 + 7000);
    assert.equal(redacted.content, '');
    assert.equal(redacted.metadata, '{"keep":true}');
    assert.equal(redacted.redacted, true);
    assert.equal(redacted.revision, 3);
    assert.equal(redacted.lastUpdatedAt, T0 + 7000);
    assert.equal(redacted.createdAt, original.createdAt);
    assert.deepEqual(redacted.sender, original.sender);
    assert.equal(original.content, 'secret', 'the original is not changed');
  });

  for (const status of ['PENDING', 'FAILED', 'DENIED'] as const) {
    test(`a ${status} message cannot be redacted (ConflictException)`, () => {
      assertConflict(() => redactMessage(message({ status: { value: status } }), T0), status);
    });
  }
});

describe('message ids', () => {
  const HEX64 = /^[0-9a-f]{64}$/;

  test('are 64 lowercase hex characters', () => {
    for (const time of [0, 1, T0, Date.now(), Date.UTC(2100, 0, 1)]) {
      assert.match(newMessageId(time), HEX64, `time ${time}`);
    }
  });

  test('are unique even within one millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId(T0)));
    assert.equal(ids.size, 1000);
  });

  test('sort by creation time, across digit boundaries of the time', () => {
    const times = [0, 1, 15, 16, 255, 256, 4095, 4096, T0 - 1, T0, T0 + 1, Date.UTC(2038, 0, 19, 3, 14, 8), Date.UTC(2100, 0, 1)];
    const ids = times.map((time) => newMessageId(time));
    const shuffled = [...ids].reverse();
    assert.deepEqual(shuffled.sort(), ids);
  });

  test('messageIdBounds frames exactly the ids of that millisecond', () => {
    const { lowest, highest } = messageIdBounds(T0);
    for (let i = 0; i < 50; i++) {
      const id = newMessageId(T0);
      assert.ok(lowest <= id && id <= highest, id);
    }
    assert.ok(newMessageId(T0 - 1) < lowest);
    assert.ok(newMessageId(T0 + 1) > highest);
  });

  test('resource ids are valid channel ids (32 lowercase hex) and unique', () => {
    const a = newResourceId();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, newResourceId());
  });
});

describe('wire shapes', () => {
  const sent: Message = message({
    channelId: 'general',
    createdAt: T0,
    lastUpdatedAt: T0 + 1500,
    lastEditedAt: T0 + 1500,
    contentType: 'text/plain',
    messageAttributes: { topic: { stringValues: ['a'] } },
    target: [userArn(APP, 'bob')],
    status: { value: 'SENT' },
  });

  test('REST ChannelMessage: PascalCase members, epoch seconds, Status {Value}', () => {
    const wire = toWireMessage(APP, sent, 'epoch-seconds');
    assert.deepEqual(JSON.parse(JSON.stringify(wire)), {
      ChannelArn: channelArn(APP, 'general'),
      MessageId: sent.messageId,
      Content: 'hello',
      Metadata: '{"k":1}',
      Type: 'STANDARD',
      CreatedTimestamp: T0 / 1000,
      LastUpdatedTimestamp: (T0 + 1500) / 1000,
      LastEditedTimestamp: (T0 + 1500) / 1000,
      Sender: { Arn: userArn(APP, 'alice'), Name: 'ALICE' },
      Redacted: false,
      Status: { Value: 'SENT' },
      MessageAttributes: { topic: { StringValues: ['a'] } },
      ContentType: 'text/plain',
      Target: [{ MemberArn: userArn(APP, 'bob') }],
      Persistence: 'PERSISTENT',
    });
    assert.equal(typeof wire.CreatedTimestamp, 'number');
    assert.equal(wire.CreatedTimestamp, 1705314600.25);
  });

  test('event ChannelMessage: the same members with ISO-8601 timestamps', () => {
    const wire = toWireMessage(APP, sent, 'iso-8601');
    assert.equal(wire.CreatedTimestamp, '2024-01-15T10:30:00.250Z');
    assert.equal(wire.LastUpdatedTimestamp, '2024-01-15T10:30:01.750Z');
    assert.equal(wire.LastEditedTimestamp, '2024-01-15T10:30:01.750Z');
    assert.deepEqual(Object.keys(wire).sort(), Object.keys(toWireMessage(APP, sent, 'epoch-seconds')).sort());
  });

  test('Status carries Detail only when there is one', () => {
    const failed = toWireMessage(APP, message({ status: { value: 'FAILED', detail: 'processor unreachable' } }), 'epoch-seconds');
    assert.deepEqual(failed.Status, { Value: 'FAILED', Detail: 'processor unreachable' });
    const pending = toWireMessage(APP, message({ status: { value: 'PENDING' } }), 'iso-8601');
    assert.deepEqual(pending.Status, { Value: 'PENDING' });
    assert.equal('Detail' in pending.Status, false);
  });

  test('absent optional members are absent from the JSON body', () => {
    const plain = message({ metadata: undefined });
    const json = JSON.parse(JSON.stringify(toWireMessage(APP, plain, 'epoch-seconds'))) as Record<string, unknown>;
    for (const member of ['Metadata', 'LastEditedTimestamp', 'MessageAttributes', 'ContentType', 'Target']) {
      assert.equal(member in json, false, member);
    }
  });

  test('a redacted message goes out with empty Content and Redacted true', () => {
    const wire = toWireMessage(APP, redactMessage(message(), T0 + 1), 'epoch-seconds');
    assert.equal(wire.Content, '');
    assert.equal(wire.Redacted, true);
    assert.equal(wire.Metadata, '{"k":1}');
  });

  test('ChannelMessageSummary: ChannelMessage minus ChannelArn, Persistence and SubChannelId, in epoch seconds', () => {
    const summary = toWireMessageSummary(sent);
    const full = toWireMessage(APP, sent, 'epoch-seconds');
    assert.equal('ChannelArn' in summary, false);
    assert.equal('Persistence' in summary, false);
    assert.equal('SubChannelId' in summary, false);
    const { ChannelArn: _arn, Persistence: _persistence, ...rest } = full;
    assert.deepEqual(summary, rest);
    assert.equal(summary.CreatedTimestamp, T0 / 1000);
  });

  test('Channel: PascalCase, epoch seconds, ChannelFlowArn when associated', () => {
    const c = withFlow({ lastMessageAt: T0 + 2000, metadata: 'm' });
    assert.deepEqual(JSON.parse(JSON.stringify(toWireChannel(APP, c))), {
      Name: 'General',
      ChannelArn: channelArn(APP, 'general'),
      Mode: 'UNRESTRICTED',
      Privacy: 'PRIVATE',
      Metadata: 'm',
      CreatedBy: { Arn: userArn(APP, 'creator'), Name: 'CREATOR' },
      CreatedTimestamp: T0 / 1000,
      LastMessageTimestamp: (T0 + 2000) / 1000,
      LastUpdatedTimestamp: T0 / 1000,
      ChannelFlowArn: c.channelFlowArn,
    });
    assert.equal('ChannelFlowArn' in JSON.parse(JSON.stringify(toWireChannel(APP, channel()))), false);
    assert.deepEqual(JSON.parse(JSON.stringify(toWireChannelSummary(APP, c))), {
      Name: 'General',
      ChannelArn: channelArn(APP, 'general'),
      Mode: 'UNRESTRICTED',
      Privacy: 'PRIVATE',
      Metadata: 'm',
      LastMessageTimestamp: (T0 + 2000) / 1000,
    });
  });

  test('ChannelMembership: PascalCase, epoch seconds', () => {
    const bob = caller('bob');
    assert.deepEqual(toWireMembership(APP, membership(bob)), {
      InvitedBy: { Arn: userArn(APP, 'creator'), Name: 'CREATOR' },
      Type: 'DEFAULT',
      Member: { Arn: bob.userArn, Name: 'BOB' },
      ChannelArn: channelArn(APP, 'general'),
      CreatedTimestamp: T0 / 1000,
      LastUpdatedTimestamp: T0 / 1000,
    });
  });
});

describe('NextToken', () => {
  const EXPECTED = { channelId: 'general', sortOrder: 'DESCENDING' };
  const POSITION = { ...EXPECTED, messageId: newMessageId(T0), createdAt: T0 };

  test('round-trips the position it was issued for', () => {
    const token = encodeNextToken(POSITION);
    assert.deepEqual(decodeNextToken(token, EXPECTED), POSITION);
  });

  test('is opaque: a URL-safe string that does not show the position in clear', () => {
    const token = encodeNextToken(POSITION);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.equal(token.includes('general'), false);
    assert.ok(token.length <= 2048);
  });

  test('a token of another channel is refused', () => {
    const foreign = encodeNextToken({ ...POSITION, channelId: 'secret-room' });
    assertBadRequest(() => decodeNextToken(foreign, EXPECTED), 'NextToken', /different request/);
  });

  test('a token of another sort order is refused', () => {
    const foreign = encodeNextToken({ ...POSITION, sortOrder: 'ASCENDING' });
    assertBadRequest(() => decodeNextToken(foreign, EXPECTED), 'NextToken');
  });

  test('a token missing the key it must match is refused', () => {
    const { channelId: _dropped, ...rest } = POSITION;
    assertBadRequest(() => decodeNextToken(encodeNextToken(rest), EXPECTED), 'NextToken');
  });

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const TAMPERED: readonly (readonly [string, string])[] = [
    ['random text', 'not-a-token'],
    ['truncated', encodeNextToken(POSITION).slice(0, 20)],
    ['a JSON number', b64('42')],
    ['JSON null', b64('null')],
    ['a JSON array', b64('["general"]')],
    ['a JSON string', b64('"general"')],
    ['an object with a nested value', b64(JSON.stringify({ ...EXPECTED, messageId: { $gt: '' } }))],
    ['an object with a boolean value', b64(JSON.stringify({ ...EXPECTED, createdAt: true }))],
    ['empty', ''],
  ];
  for (const [label, token] of TAMPERED) {
    test(`a tampered token (${label}) is refused with BadRequest`, () => {
      assertBadRequest(() => decodeNextToken(token, EXPECTED), 'NextToken');
    });
  }
});
