import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { channelArn, userArn } from '../../lambdas/core/arns';
import { applyEdit, createMessage, resolvePending } from '../../lambdas/core/messages';
import type { Message } from '../../lambdas/core/model';
import { answerOfCallback, answerOfResult, channelFlowCallbackSchema, processorEvent } from '../../lambdas/core/processor-protocol';
import { parseRequest, type SendChannelMessageRequest } from '../../lambdas/core/validation';
import { allow, deny, isEdit, type ChannelMessageEvent } from '../../lambdas/processors/kit';
import { APP, T0, assertBadRequest, flowAssignment, withFlow } from './fixtures';

/**
 * The processor contract (DESIGN.md, "Processors"): the Chime event a processor is invoked with,
 * and its two ways of answering (returning a result, or calling ChannelFlowCallback).
 */

const ALICE = { arn: userArn(APP, 'alice'), name: 'ALICE' };
const MESSAGE_ID = '018d0c9a1f2a' + 'ef'.repeat(26);
const SEND_CALLBACK = '0123456789abcdef'.repeat(4);
const EDIT_CALLBACK = 'fedcba9876543210'.repeat(2);
const SEND: SendChannelMessageRequest = { Content: 'hello processor', Metadata: '{"v":1}', Type: 'STANDARD', Persistence: 'NON_PERSISTENT', ClientRequestToken: 'token-1' };
const EDIT_AT = T0 + 61_500;

const pendingSend = (): Message =>
  createMessage({ request: SEND, channel: withFlow(), sender: ALICE, messageId: MESSAGE_ID, now: T0, flow: flowAssignment('ABORT', SEND_CALLBACK) });

const sent = () => resolvePending(pendingSend(), { kind: 'ALLOW' }, T0 + 1_000).message;

describe('processorEvent', () => {
  test('a send: the message as sent, ISO-8601 timestamps, no LastEditedTimestamp', () => {
    const event = processorEvent(APP, pendingSend());
    assert.deepEqual(event, {
      EventType: 'CHANNEL_MESSAGE_EVENT',
      CallbackId: SEND_CALLBACK,
      ChannelMessage: {
        MessageId: MESSAGE_ID,
        ChannelArn: channelArn(APP, 'general'),
        Content: 'hello processor',
        Metadata: '{"v":1}',
        Sender: { Arn: ALICE.arn, Name: 'ALICE' },
        Persistence: 'NON_PERSISTENT',
        Type: 'STANDARD',
        CreatedTimestamp: '2024-01-15T10:30:00.250Z',
      },
    });
    assert.equal('LastEditedTimestamp' in event.ChannelMessage, false);
    assert.equal(isEdit(event), false);
  });

  test('an edit: the proposed content and metadata, LastEditedTimestamp the edit time, its own CallbackId', () => {
    const editing = applyEdit(sent(), { Content: 'edited for the processor', Metadata: '{"v":2}' }, EDIT_AT, flowAssignment('ABORT', EDIT_CALLBACK));
    // The stored message still shows the last SENT version ...
    assert.equal(editing.content, 'hello processor');
    // ... but the processor is shown the edit.
    const event = processorEvent(APP, editing);
    assert.deepEqual(event, {
      EventType: 'CHANNEL_MESSAGE_EVENT',
      CallbackId: EDIT_CALLBACK,
      ChannelMessage: {
        MessageId: MESSAGE_ID,
        ChannelArn: channelArn(APP, 'general'),
        Content: 'edited for the processor',
        Metadata: '{"v":2}',
        Sender: { Arn: ALICE.arn, Name: 'ALICE' },
        Persistence: 'NON_PERSISTENT',
        LastEditedTimestamp: '2024-01-15T10:31:01.750Z',
        Type: 'STANDARD',
        CreatedTimestamp: '2024-01-15T10:30:00.250Z',
      },
    });
    assert.equal(isEdit(event), true);
  });

  test('an edit without metadata is shown without metadata, not with the last SENT version’s', () => {
    const editing = applyEdit(sent(), { Content: 'no metadata now' }, EDIT_AT, flowAssignment('ABORT', EDIT_CALLBACK));
    const event = processorEvent(APP, editing);
    assert.equal(event.ChannelMessage.Content, 'no metadata now');
    assert.equal('Metadata' in event.ChannelMessage, false);
  });

  test('the event is the shape the processor kit declares, and is JSON (what the async invoke carries)', () => {
    const event: ChannelMessageEvent = processorEvent(APP, pendingSend());
    assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
  });

  test('a message with nothing pending has no event', () => {
    assert.throws(() => processorEvent(APP, sent()), /no change waiting for a processor/);
  });
});

describe('answerOfResult: what a processor returns', () => {
  const event = () => processorEvent(APP, pendingSend());

  test('DeleteResource true -> DENY, whatever else it carries', () => {
    assert.deepEqual(answerOfResult({ ChannelMessage: { MessageId: MESSAGE_ID }, DeleteResource: true }), { messageId: MESSAGE_ID, answer: { kind: 'DENY' } });
    assert.deepEqual(answerOfResult({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'ignored' }, DeleteResource: true }), {
      messageId: MESSAGE_ID,
      answer: { kind: 'DENY' },
    });
    assert.deepEqual(answerOfResult(deny(event())), { messageId: MESSAGE_ID, answer: { kind: 'DENY' } });
  });

  test('content and/or metadata -> ALLOW with them', () => {
    assert.deepEqual(answerOfResult({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'new text', Metadata: '{"m":1}' } }), {
      messageId: MESSAGE_ID,
      answer: { kind: 'ALLOW', content: 'new text', metadata: '{"m":1}' },
    });
    assert.deepEqual(answerOfResult({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'new text' }, DeleteResource: false }), {
      messageId: MESSAGE_ID,
      answer: { kind: 'ALLOW', content: 'new text' },
    });
    assert.deepEqual(answerOfResult(allow(event(), { metadata: '{"m":2}' })), { messageId: MESSAGE_ID, answer: { kind: 'ALLOW', metadata: '{"m":2}' } });
  });

  test('only the MessageId -> ALLOW unchanged', () => {
    assert.deepEqual(answerOfResult(allow(event())), { messageId: MESSAGE_ID, answer: { kind: 'ALLOW' } });
  });

  test('nothing returned (the processor answers by callback) -> undefined', () => {
    assert.equal(answerOfResult(undefined), undefined);
    assert.equal(answerOfResult(null), undefined);
  });

  const INVALID: readonly (readonly [label: string, payload: unknown, message: RegExp])[] = [
    ['content of 4097 characters', { ChannelMessage: { MessageId: MESSAGE_ID, Content: 'x'.repeat(4097) } }, /ChannelMessage\.Content must be at most 4096 characters, got 4097/],
    ['empty content', { ChannelMessage: { MessageId: MESSAGE_ID, Content: '' } }, /ChannelMessage\.Content must be at least 1 character/],
    ['metadata of 1025 characters', { ChannelMessage: { MessageId: MESSAGE_ID, Metadata: 'm'.repeat(1025) } }, /ChannelMessage\.Metadata must be at most 1024 characters/],
    ['a MessageId with spaces', { ChannelMessage: { MessageId: 'not a message id!' } }, /ChannelMessage\.MessageId must match/],
    ['an empty MessageId', { ChannelMessage: { MessageId: '' } }, /ChannelMessage\.MessageId must be at least 1 character/],
    ['no ChannelMessage', { DeleteResource: true }, /ChannelMessage is required/],
    ['DeleteResource not a boolean', { ChannelMessage: { MessageId: MESSAGE_ID }, DeleteResource: 'yes' }, /DeleteResource must be a boolean/],
    ['a string', 'allow', /must be an object, got "allow"/],
    ['a number', 42, /must be an object, got number 42/],
    ['an array', [], /must be an object, got an array/],
    ['false', false, /must be an object, got boolean false/],
  ];
  for (const [label, payload, message] of INVALID) {
    test(`invalid (${label}) -> {invalid} naming what is wrong`, () => {
      const parsed = answerOfResult(payload);
      assert.ok(parsed !== undefined && 'invalid' in parsed, `expected {invalid}, got ${JSON.stringify(parsed)}`);
      assert.match(parsed.invalid, /^The processor returned an invalid answer: /);
      assert.match(parsed.invalid, message);
    });
  }

  test('an invalid answer ends the change FAILED with the reason as the Detail', () => {
    const parsed = answerOfResult({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'x'.repeat(4097) } });
    assert.ok(parsed !== undefined && 'invalid' in parsed);
    const { message } = resolvePending(pendingSend(), { kind: 'FAIL', detail: parsed.invalid }, T0 + 2_000);
    assert.deepEqual(message.status, {
      value: 'FAILED',
      detail: 'The processor returned an invalid answer: ChannelMessage.Content must be at most 4096 characters, got 4097',
    });
  });
});

describe('ChannelFlowCallback', () => {
  const body = (overrides: Record<string, unknown> = {}) => ({ CallbackId: SEND_CALLBACK, ChannelMessage: { MessageId: MESSAGE_ID }, ...overrides });

  test('answerOfCallback: DeleteResource -> DENY, content/metadata -> ALLOW with them', () => {
    assert.deepEqual(answerOfCallback(parseRequest(channelFlowCallbackSchema, body({ DeleteResource: true }))), {
      messageId: MESSAGE_ID,
      answer: { kind: 'DENY' },
    });
    assert.deepEqual(
      answerOfCallback(parseRequest(channelFlowCallbackSchema, body({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'cleaned', Metadata: '{}' } }))),
      { messageId: MESSAGE_ID, answer: { kind: 'ALLOW', content: 'cleaned', metadata: '{}' } },
    );
    assert.deepEqual(answerOfCallback(parseRequest(channelFlowCallbackSchema, body())), { messageId: MESSAGE_ID, answer: { kind: 'ALLOW' } });
  });

  test('a CallbackId of 32 and of 64 characters is accepted', () => {
    assert.equal(parseRequest(channelFlowCallbackSchema, body({ CallbackId: 'a'.repeat(32) })).CallbackId, 'a'.repeat(32));
    assert.equal(parseRequest(channelFlowCallbackSchema, body({ CallbackId: 'a'.repeat(64) })).CallbackId, 'a'.repeat(64));
  });

  test('a CallbackId shorter than 32 characters is refused, naming CallbackId', () => {
    assertBadRequest(() => parseRequest(channelFlowCallbackSchema, body({ CallbackId: 'a'.repeat(31) })), 'CallbackId must be at least 32 characters');
  });

  test('a CallbackId longer than 64 characters is refused, naming CallbackId', () => {
    assertBadRequest(() => parseRequest(channelFlowCallbackSchema, body({ CallbackId: 'a'.repeat(65) })), 'CallbackId must be at most 64 characters, got 65');
  });

  test('a missing CallbackId is refused, naming CallbackId', () => {
    assertBadRequest(() => parseRequest(channelFlowCallbackSchema, { ChannelMessage: { MessageId: MESSAGE_ID } }), 'CallbackId is required');
  });

  test('the callback body has the same limits as a returned answer', () => {
    assertBadRequest(
      () => parseRequest(channelFlowCallbackSchema, body({ ChannelMessage: { MessageId: MESSAGE_ID, Content: 'x'.repeat(4097) } })),
      'ChannelMessage.Content must be at most 4096 characters, got 4097',
    );
  });
});
