import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { userArn } from '../../lambdas/core/arns';
import { applyEdit, createMessage, latestStatus, redactMessage, resolvePending, type ProcessorAnswer } from '../../lambdas/core/messages';
import type { ChangeKind, FallbackAction, Message, MessageStatus, MessageStatusValue } from '../../lambdas/core/model';
import type { SendChannelMessageRequest, UpdateChannelMessageRequest } from '../../lambdas/core/validation';
import { toWireMessage } from '../../lambdas/core/wire';
import { APP, PROCESSOR_ARN, T0, assertConflict, channel, flowAssignment, withFlow } from './fixtures';

/**
 * The message lifecycle of a channel with a flow (DESIGN.md, "Message lifecycle"): a send or an
 * edit waits for the processor, and its answer (or its failure) decides what is stored. Every
 * version below is produced by the core functions themselves, one step after the other.
 */

const ALICE = { arn: userArn(APP, 'alice'), name: 'ALICE' };
const MESSAGE_ID = '018d0c9a1f2a' + 'ab'.repeat(26);
const SEND_CALLBACK = 'a'.repeat(64);
const FIRST_EDIT_CALLBACK = 'b'.repeat(48);
const EDIT_CALLBACK = 'e'.repeat(32);
const FAILURE = 'The processor did not answer within 300 seconds';

const SEND: SendChannelMessageRequest = {
  Content: 'hello team',
  Metadata: '{"v":1}',
  Type: 'STANDARD',
  Persistence: 'PERSISTENT',
  ClientRequestToken: 'token-1',
  MessageAttributes: { topic: { StringValues: ['news'] } },
};
const FIRST_EDIT: UpdateChannelMessageRequest = { Content: 'hello team, edited', Metadata: '{"v":2}' };
const EDIT: UpdateChannelMessageRequest = { Content: 'proposed edit', Metadata: '{"v":3}', ContentType: 'text/markdown' };

// The times of each step.
const SENT_AT = T0;
const ALLOWED_AT = T0 + 500;
const FIRST_EDIT_AT = T0 + 1_000;
const FIRST_EDIT_ALLOWED_AT = T0 + 1_500;
const EDIT_AT = T0 + 2_000;
const ANSWERED_AT = T0 + 3_000;

/** SendChannelMessage in a channel with a flow: the message is PENDING. */
function pendingSend(fallback: FallbackAction = 'ABORT', request: SendChannelMessageRequest = SEND): Message {
  return createMessage({
    request,
    channel: withFlow(),
    sender: ALICE,
    messageId: MESSAGE_ID,
    now: SENT_AT,
    flow: flowAssignment(fallback, SEND_CALLBACK, SENT_AT + 300_000),
  });
}

/** A SENT message that was already edited once (through the flow): the last SENT version. */
function lastSentVersion(): Message {
  const sent = resolvePending(pendingSend(), { kind: 'ALLOW' }, ALLOWED_AT).message;
  const editing = applyEdit(sent, FIRST_EDIT, FIRST_EDIT_AT, flowAssignment('ABORT', FIRST_EDIT_CALLBACK, FIRST_EDIT_AT + 300_000));
  return resolvePending(editing, { kind: 'ALLOW' }, FIRST_EDIT_ALLOWED_AT).message;
}

/** UpdateChannelMessage of the last SENT version in a channel with a flow: the edit is pending. */
const pendingEdit = (fallback: FallbackAction = 'ABORT') =>
  applyEdit(lastSentVersion(), EDIT, EDIT_AT, flowAssignment(fallback, EDIT_CALLBACK, EDIT_AT + 300_000));

const pendingChange = (change: ChangeKind, fallback: FallbackAction) => (change === 'CREATE' ? pendingSend(fallback) : pendingEdit(fallback));

describe('createMessage with a flow', () => {
  test('a STANDARD message is stored PENDING with the change that waits for the processor', () => {
    const created = pendingSend('CONTINUE');
    assert.deepEqual(created.status, { value: 'PENDING' });
    assert.deepEqual(created.pending, {
      change: 'CREATE',
      callbackId: SEND_CALLBACK,
      deadline: SENT_AT + 300_000,
      processorArn: PROCESSOR_ARN,
      fallbackAction: 'CONTINUE',
    });
    // The message itself carries the content the processor will be shown.
    assert.equal(created.content, 'hello team');
    assert.equal(created.metadata, '{"v":1}');
    assert.equal(created.revision, 1);
    assert.equal(created.resolution, undefined);
    assert.deepEqual(latestStatus(created), { value: 'PENDING' });
  });

  test('the fallback action is the processor’s', () => {
    assert.equal(pendingSend('ABORT').pending?.fallbackAction, 'ABORT');
    assert.equal(pendingSend('CONTINUE').pending?.fallbackAction, 'CONTINUE');
  });

  test('a CONTROL message ignores the flow: SENT at once, nothing pending', () => {
    const control = createMessage({
      request: { Content: 'typing', Type: 'CONTROL', Persistence: 'NON_PERSISTENT', ClientRequestToken: 'token-2' },
      channel: withFlow(),
      sender: ALICE,
      messageId: MESSAGE_ID,
      now: SENT_AT,
      flow: flowAssignment(),
    });
    assert.deepEqual(control.status, { value: 'SENT' });
    assert.equal('pending' in control, false);
    assert.deepEqual(latestStatus(control), { value: 'SENT' });
  });
});

describe('applyEdit with a flow', () => {
  test('every visible field stays the last SENT version; the edit waits in pending', () => {
    const sent = lastSentVersion();
    assert.equal(sent.content, 'hello team, edited');
    assert.equal(sent.lastEditedAt, FIRST_EDIT_AT);
    const edited = pendingEdit('CONTINUE');

    const { pending, revision, ...visible } = edited;
    const { revision: sentRevision, ...sentVisible } = sent;
    assert.deepEqual(visible, sentVisible);
    assert.equal(visible.content, 'hello team, edited');
    assert.equal(visible.metadata, '{"v":2}');
    assert.equal(visible.lastEditedAt, FIRST_EDIT_AT);
    assert.equal(visible.lastUpdatedAt, FIRST_EDIT_ALLOWED_AT);
    assert.deepEqual(visible.status, { value: 'SENT' });
    assert.equal(revision, sentRevision + 1);

    assert.deepEqual(pending, {
      change: 'UPDATE',
      callbackId: EDIT_CALLBACK,
      deadline: EDIT_AT + 300_000,
      processorArn: PROCESSOR_ARN,
      fallbackAction: 'CONTINUE',
      content: 'proposed edit',
      metadata: '{"v":3}',
      contentType: 'text/markdown',
      editedAt: EDIT_AT,
    });
  });

  test('a second edit while one is pending is refused (ConflictException)', () => {
    assertConflict(
      () => applyEdit(pendingEdit(), { Content: 'another edit' }, EDIT_AT + 10, flowAssignment('ABORT', 'f'.repeat(64))),
      MESSAGE_ID,
      'still being processed',
    );
    // ... with or without a flow.
    assertConflict(() => applyEdit(pendingEdit(), { Content: 'another edit' }, EDIT_AT + 10), 'still being processed');
  });

  test('a send still PENDING cannot be edited (ConflictException naming PENDING)', () => {
    assertConflict(() => applyEdit(pendingSend(), { Content: 'edit' }, SENT_AT + 10, flowAssignment()), 'is PENDING');
  });

  test('a CONTROL message is edited at once even in a channel with a flow', () => {
    const control = createMessage({
      request: { Content: 'typing', Type: 'CONTROL', Persistence: 'PERSISTENT', ClientRequestToken: 'token-2' },
      channel: withFlow(),
      sender: ALICE,
      messageId: MESSAGE_ID,
      now: SENT_AT,
    });
    const edited = applyEdit(control, { Content: 'stopped' }, EDIT_AT, flowAssignment());
    assert.equal(edited.content, 'stopped');
    assert.equal(edited.lastEditedAt, EDIT_AT);
    assert.equal('pending' in edited, false);
  });
});

describe('resolvePending: change x answer x fallback', () => {
  const ALLOW: ProcessorAnswer = { kind: 'ALLOW' };
  const ALLOW_CHANGED: ProcessorAnswer = { kind: 'ALLOW', content: 'processed text', metadata: '{"processed":true}' };
  const DENY: ProcessorAnswer = { kind: 'DENY' };
  const FAIL: ProcessorAnswer = { kind: 'FAIL', detail: FAILURE };
  const ANSWERS = { ALLOW, ALLOW_CHANGED, DENY, FAIL } as const;

  interface Expected {
    readonly status: MessageStatus;
    readonly content: string;
    readonly metadata: string | undefined;
    readonly lastEditedAt: number | undefined;
    readonly resolution: { readonly status: MessageStatusValue; readonly detail?: string };
    readonly deleteAfterwards: boolean;
  }

  // The send's own version, the last SENT version of the edited message, and the proposed edit.
  const SENT_SEND = { content: 'hello team', metadata: '{"v":1}', lastEditedAt: undefined };
  const LAST_SENT = { content: 'hello team, edited', metadata: '{"v":2}', lastEditedAt: FIRST_EDIT_AT };
  const PROPOSED = { content: 'proposed edit', metadata: '{"v":3}', lastEditedAt: EDIT_AT };
  const PROCESSED = { content: 'processed text', metadata: '{"processed":true}' };
  const SENT: MessageStatus = { value: 'SENT' };

  const TABLE: readonly (readonly [ChangeKind, keyof typeof ANSWERS, FallbackAction, Expected])[] = [
    ['CREATE', 'ALLOW', 'ABORT', { status: SENT, ...SENT_SEND, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['CREATE', 'ALLOW', 'CONTINUE', { status: SENT, ...SENT_SEND, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['CREATE', 'ALLOW_CHANGED', 'ABORT', { status: SENT, ...PROCESSED, lastEditedAt: undefined, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['CREATE', 'ALLOW_CHANGED', 'CONTINUE', { status: SENT, ...PROCESSED, lastEditedAt: undefined, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    // A denied send keeps no content: the stored version is a tombstone, deleted right after.
    ['CREATE', 'DENY', 'ABORT', { status: { value: 'DENIED' }, content: '', metadata: undefined, lastEditedAt: undefined, resolution: { status: 'DENIED' }, deleteAfterwards: true }],
    ['CREATE', 'DENY', 'CONTINUE', { status: { value: 'DENIED' }, content: '', metadata: undefined, lastEditedAt: undefined, resolution: { status: 'DENIED' }, deleteAfterwards: true }],
    ['CREATE', 'FAIL', 'ABORT', { status: { value: 'FAILED', detail: FAILURE }, ...SENT_SEND, resolution: { status: 'FAILED', detail: FAILURE }, deleteAfterwards: false }],
    // CONTINUE delivers the message unprocessed.
    ['CREATE', 'FAIL', 'CONTINUE', { status: SENT, ...SENT_SEND, resolution: { status: 'SENT' }, deleteAfterwards: false }],

    ['UPDATE', 'ALLOW', 'ABORT', { status: SENT, ...PROPOSED, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['UPDATE', 'ALLOW', 'CONTINUE', { status: SENT, ...PROPOSED, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['UPDATE', 'ALLOW_CHANGED', 'ABORT', { status: SENT, ...PROCESSED, lastEditedAt: EDIT_AT, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    ['UPDATE', 'ALLOW_CHANGED', 'CONTINUE', { status: SENT, ...PROCESSED, lastEditedAt: EDIT_AT, resolution: { status: 'SENT' }, deleteAfterwards: false }],
    // A denied or failed edit leaves the last SENT version, still SENT; only the resolution tells.
    ['UPDATE', 'DENY', 'ABORT', { status: SENT, ...LAST_SENT, resolution: { status: 'DENIED' }, deleteAfterwards: false }],
    ['UPDATE', 'DENY', 'CONTINUE', { status: SENT, ...LAST_SENT, resolution: { status: 'DENIED' }, deleteAfterwards: false }],
    ['UPDATE', 'FAIL', 'ABORT', { status: SENT, ...LAST_SENT, resolution: { status: 'FAILED', detail: FAILURE }, deleteAfterwards: false }],
    ['UPDATE', 'FAIL', 'CONTINUE', { status: SENT, ...PROPOSED, resolution: { status: 'SENT' }, deleteAfterwards: false }],
  ];

  test('the table covers every combination once', () => {
    assert.equal(new Set(TABLE.map(([change, answer, fallback]) => `${change}/${answer}/${fallback}`)).size, 2 * 4 * 2);
  });

  for (const [change, answerName, fallback, expected] of TABLE) {
    test(`${change} answered ${answerName} with fallback ${fallback} -> ${expected.status.value}, resolution ${expected.resolution.status}`, () => {
      const before = pendingChange(change, fallback);
      const callbackId = change === 'CREATE' ? SEND_CALLBACK : EDIT_CALLBACK;
      const { message: stored, deleteAfterwards } = resolvePending(before, ANSWERS[answerName], ANSWERED_AT);

      assert.deepEqual(stored.status, expected.status);
      assert.equal(stored.content, expected.content);
      assert.equal(stored.metadata, expected.metadata);
      assert.equal(stored.lastEditedAt, expected.lastEditedAt);
      assert.deepEqual(stored.resolution, { change, callbackId, ...expected.resolution, at: ANSWERED_AT });
      assert.equal(stored.revision, before.revision + 1);
      assert.equal('pending' in stored, false);
      assert.equal(deleteAfterwards, expected.deleteAfterwards);
      // The identity of the message never changes.
      assert.equal(stored.messageId, MESSAGE_ID);
      assert.equal(stored.createdAt, SENT_AT);
      assert.deepEqual(stored.sender, ALICE);
      assert.deepEqual(latestStatus(stored).value, change === 'CREATE' ? expected.status.value : expected.resolution.status);
    });
  }

  test('a denied send is stored without content, metadata or attributes', () => {
    const { message: tombstone } = resolvePending(pendingSend(), { kind: 'DENY' }, ANSWERED_AT);
    assert.equal(tombstone.content, '');
    assert.equal('metadata' in tombstone, false);
    assert.equal('messageAttributes' in tombstone, false);
    assert.equal(JSON.stringify(tombstone).includes('hello team'), false);
    assert.equal(JSON.stringify(tombstone).includes('news'), false);
  });

  for (const [label, answer] of [
    ['denied', { kind: 'DENY' }],
    ['failed (ABORT)', { kind: 'FAIL', detail: FAILURE }],
  ] as const) {
    test(`a ${label} edit leaves the last SENT version byte-for-byte`, () => {
      const sent = lastSentVersion();
      const { message: stored } = resolvePending(pendingEdit('ABORT'), answer, ANSWERED_AT);
      // What anyone reads (REST and events) is exactly what they read before the edit ...
      assert.equal(JSON.stringify(toWireMessage(APP, stored, 'epoch-seconds')), JSON.stringify(toWireMessage(APP, sent, 'epoch-seconds')));
      assert.equal(JSON.stringify(toWireMessage(APP, stored, 'iso-8601')), JSON.stringify(toWireMessage(APP, sent, 'iso-8601')));
      // ... and the stored item differs only by its revision and the resolution of the edit.
      const { revision, resolution, ...rest } = stored;
      const { revision: sentRevision, resolution: _earlier, ...sentRest } = sent;
      assert.deepEqual(rest, sentRest);
      assert.equal(revision, sentRevision + 2);
      assert.equal(resolution?.callbackId, EDIT_CALLBACK);
      assert.equal(JSON.stringify(stored).includes('proposed edit'), false, 'the rejected edit is not kept');
    });
  }

  test('an allowed edit takes the edit’s content type and moves LastUpdatedTimestamp', () => {
    const { message: stored } = resolvePending(pendingEdit(), { kind: 'ALLOW' }, ANSWERED_AT);
    assert.equal(stored.contentType, 'text/markdown');
    assert.equal(stored.lastUpdatedAt, ANSWERED_AT);
  });

  test('an allowed edit without metadata clears the metadata, as an edit without a flow does', () => {
    const editing = applyEdit(lastSentVersion(), { Content: 'no metadata' }, EDIT_AT, flowAssignment());
    const { message: stored } = resolvePending(editing, { kind: 'ALLOW' }, ANSWERED_AT);
    assert.equal(stored.content, 'no metadata');
    assert.equal(stored.metadata, undefined);
    assert.equal(applyEdit(lastSentVersion(), { Content: 'no metadata' }, EDIT_AT).metadata, undefined);
  });

  test('a failure detail longer than 256 characters is cut to 256', () => {
    const { message: stored } = resolvePending(pendingSend(), { kind: 'FAIL', detail: 'x'.repeat(300) }, ANSWERED_AT);
    assert.equal(stored.status.detail, 'x'.repeat(253) + '...');
    assert.equal(stored.resolution?.detail, 'x'.repeat(253) + '...');
  });

  test('without a pending change: ConflictException, also for a second answer to the same change', () => {
    const sent = createMessage({ request: SEND, channel: channel(), sender: ALICE, messageId: MESSAGE_ID, now: SENT_AT });
    assertConflict(() => resolvePending(sent, { kind: 'ALLOW' }, ANSWERED_AT), MESSAGE_ID, 'no change waiting');
    const answered = resolvePending(pendingSend(), { kind: 'ALLOW' }, ANSWERED_AT).message;
    assertConflict(() => resolvePending(answered, { kind: 'DENY' }, ANSWERED_AT + 1), 'no change waiting');
  });
});

describe('latestStatus', () => {
  const UNCHANGED = 'the last SENT version is unchanged';

  test('PENDING while a send or an edit waits for the processor', () => {
    assert.deepEqual(latestStatus(pendingSend()), { value: 'PENDING' });
    const edit = pendingEdit();
    assert.deepEqual(edit.status, { value: 'SENT' });
    assert.deepEqual(latestStatus(edit), { value: 'PENDING' });
  });

  test('the message status once a send is answered', () => {
    assert.deepEqual(latestStatus(resolvePending(pendingSend(), { kind: 'ALLOW' }, ANSWERED_AT).message), { value: 'SENT' });
    assert.deepEqual(latestStatus(resolvePending(pendingSend(), { kind: 'FAIL', detail: FAILURE }, ANSWERED_AT).message), {
      value: 'FAILED',
      detail: FAILURE,
    });
    assert.deepEqual(latestStatus(resolvePending(pendingSend(), { kind: 'DENY' }, ANSWERED_AT).message), { value: 'DENIED' });
    assert.deepEqual(latestStatus(resolvePending(pendingSend('CONTINUE'), { kind: 'FAIL', detail: FAILURE }, ANSWERED_AT).message), {
      value: 'SENT',
    });
  });

  test('SENT once an edit is allowed or continued', () => {
    assert.deepEqual(latestStatus(resolvePending(pendingEdit(), { kind: 'ALLOW' }, ANSWERED_AT).message), { value: 'SENT' });
    assert.deepEqual(latestStatus(resolvePending(pendingEdit('CONTINUE'), { kind: 'FAIL', detail: FAILURE }, ANSWERED_AT).message), {
      value: 'SENT',
    });
  });

  test('a denied edit: DENIED, with a Detail saying the last SENT version is unchanged', () => {
    const stored = resolvePending(pendingEdit(), { kind: 'DENY' }, ANSWERED_AT).message;
    assert.deepEqual(stored.status, { value: 'SENT' });
    assert.deepEqual(latestStatus(stored), { value: 'DENIED', detail: `The last edit was DENIED; ${UNCHANGED}` });
  });

  test('a failed edit: FAILED, with the reason and that the last SENT version is unchanged', () => {
    const stored = resolvePending(pendingEdit(), { kind: 'FAIL', detail: FAILURE }, ANSWERED_AT).message;
    assert.deepEqual(latestStatus(stored), { value: 'FAILED', detail: `The last edit was FAILED (${FAILURE}); ${UNCHANGED}` });
  });

  test('a failed edit with a long reason: at most 256 characters, still saying the last SENT version is unchanged', () => {
    const reason = `The processor could not be invoked: ResourceNotFoundException: ${'y'.repeat(400)}`;
    const stored = resolvePending(pendingEdit(), { kind: 'FAIL', detail: reason }, ANSWERED_AT).message;
    const status = latestStatus(stored);
    assert.equal(status.value, 'FAILED');
    assert.ok(status.detail !== undefined);
    assert.ok(status.detail.length <= 256, `Detail is ${status.detail.length} characters`);
    assert.equal(status.detail.length, 256, 'the reason is cut just enough to fit');
    assert.ok(status.detail.startsWith('The last edit was FAILED (The processor could not be invoked: ResourceNotFoundException: yyy'), status.detail);
    assert.ok(status.detail.endsWith(`...); ${UNCHANGED}`), status.detail);
  });

  test(
    'an edit applied at once after a denied edit (flow since disassociated) is the latest change: SENT',
    () => {
      const denied = resolvePending(pendingEdit(), { kind: 'DENY' }, ANSWERED_AT).message;
      const direct = applyEdit(denied, { Content: 'edited without a flow' }, ANSWERED_AT + 1_000);
      assert.equal(direct.content, 'edited without a flow');
      assert.deepEqual(latestStatus(direct), { value: 'SENT' });
    },
  );
});

describe('redactMessage and a pending edit', () => {
  test('the redaction drops the pending edit: it is the last word', () => {
    const editing = pendingEdit();
    const redacted = redactMessage(editing, ANSWERED_AT);
    assert.equal('pending' in redacted, false);
    assert.equal(redacted.redacted, true);
    assert.equal(redacted.content, '');
    // The metadata kept is the last SENT version's, never the proposed edit's.
    assert.equal(redacted.metadata, '{"v":2}');
    assert.deepEqual(redacted.status, { value: 'SENT' });
    assert.equal(redacted.revision, editing.revision + 1);
    assert.equal(JSON.stringify(redacted).includes('proposed edit'), false);
    assert.deepEqual(latestStatus(redacted), { value: 'SENT' });
  });

  test('a late answer to the abandoned edit finds nothing to resolve (ConflictException)', () => {
    const redacted = redactMessage(pendingEdit(), ANSWERED_AT);
    assertConflict(() => resolvePending(redacted, { kind: 'ALLOW' }, ANSWERED_AT + 1), 'no change waiting');
  });

  test('a send still PENDING cannot be redacted (ConflictException)', () => {
    assertConflict(() => redactMessage(pendingSend(), ANSWERED_AT), 'is PENDING');
  });
});
