import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { userArn } from '../../lambdas/core/arns';
import { eventsForMessageChange, type Audience, type MessageChangeInput } from '../../lambdas/core/channel-events';
import { applyEdit, createMessage, redactMessage, resolvePending, type ProcessorAnswer } from '../../lambdas/core/messages';
import type { FallbackAction, Message, MessageStatus } from '../../lambdas/core/model';
import type { SendChannelMessageRequest, UpdateChannelMessageRequest } from '../../lambdas/core/validation';
import { APP, T0, channel, flowAssignment, withFlow } from './fixtures';

/**
 * The seed's event table ("Sending messages", Websocket events), each row mapped to the core calls
 * that produce it. Every `before`/`after` pair is two consecutive versions that the core functions
 * produced (createMessage, applyEdit, resolvePending, redactMessage), as the stream would carry them.
 */

const ALICE = { arn: userArn(APP, 'alice'), name: 'ALICE' };
const BOB_ARN = userArn(APP, 'bob');
const MESSAGE_ID = '018d0c9a1f2a' + 'cd'.repeat(26);
const FAILURE = 'The processor could not be invoked: ResourceNotFoundException: Function not found';

const SEND: SendChannelMessageRequest = { Content: 'my original text', Metadata: '{"draft":false}', Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: 'token-1' };
const EDIT: UpdateChannelMessageRequest = { Content: 'my proposed edit', Metadata: '{"edit":1}' };

const SEND_AT = T0;
const EDIT_AT = T0 + 2_000;

const ALL_MEMBERS: Audience = { kind: 'CHANNEL_MEMBERS', channelId: 'general', alsoUserArns: [] };
const SENDER_ONLY: Audience = { kind: 'USERS', userArns: [ALICE.arn] };
const SENDER_AND_TARGET: Audience = { kind: 'USERS', userArns: [ALICE.arn, BOB_ARN] };

const ALLOW: ProcessorAnswer = { kind: 'ALLOW' };
const PROCESSED: ProcessorAnswer = { kind: 'ALLOW', content: 'my processed text', metadata: '{"processed":true}' };
const DENY: ProcessorAnswer = { kind: 'DENY' };
const FAIL: ProcessorAnswer = { kind: 'FAIL', detail: FAILURE };

// ---- The lifecycle steps, each one core call on the previous version. ----

function send(options: { readonly flow?: FallbackAction; readonly request?: SendChannelMessageRequest } = {}): Message {
  return createMessage({
    request: options.request ?? SEND,
    channel: options.flow ? withFlow() : channel(),
    sender: ALICE,
    messageId: MESSAGE_ID,
    now: SEND_AT,
    ...(options.flow && { flow: flowAssignment(options.flow, 'a'.repeat(64)) }),
  });
}

const answer = (pending: Message, verdict: ProcessorAnswer, at = pending.lastUpdatedAt + 1_000) => resolvePending(pending, verdict, at).message;

/** A SENT message of a channel with a flow (its send allowed), ready to be edited. */
const sentThroughFlow = (request?: SendChannelMessageRequest) => answer(send({ flow: 'ABORT', ...(request && { request }) }), ALLOW);

const editThroughFlow = (sent: Message, fallback: FallbackAction = 'ABORT') => applyEdit(sent, EDIT, EDIT_AT, flowAssignment(fallback, 'e'.repeat(40)));

interface ExpectedEvent {
  readonly eventType: string;
  readonly audience: Audience;
  readonly status: MessageStatus;
  readonly content: string;
  readonly metadata: string | undefined;
}

function assertOneEvent(change: MessageChangeInput, expected: ExpectedEvent): void {
  const events = eventsForMessageChange(change);
  assert.equal(events.length, 1, `expected exactly one event, got ${events.map((event) => event.eventType).join(', ') || 'none'}`);
  const [event] = events;
  assert.ok(event !== undefined && 'message' in event);
  assert.equal(event.eventType, expected.eventType);
  assert.equal(event.messageType, 'STANDARD');
  assert.deepEqual(event.audience, expected.audience);
  assert.deepEqual(event.message.status, expected.status);
  assert.equal(event.message.content, expected.content);
  assert.equal(event.message.metadata, expected.metadata);
  assert.equal(event.message.messageId, MESSAGE_ID);
}

// ---- The seed's table, row by row, with the calls that produce each row. ----

interface Producer {
  readonly calls: string;
  readonly change: () => MessageChangeInput;
  readonly content: string;
  readonly metadata: string | undefined;
  readonly detail?: string;
}

interface SeedRow {
  readonly eventType: string;
  readonly status: MessageStatus['value'];
  readonly recipients: 'All channel members' | 'Message sender only';
  readonly notes: string;
  readonly producedBy: readonly Producer[];
}

const SEED_EVENT_TABLE: readonly SeedRow[] = [
  {
    eventType: 'CREATE_CHANNEL_MESSAGE',
    status: 'SENT',
    recipients: 'All channel members',
    notes: 'SendChannelMessage API with successful preprocessing',
    producedBy: [
      { calls: 'createMessage (no flow)', change: () => ({ after: send() }), content: 'my original text', metadata: '{"draft":false}' },
      {
        calls: 'createMessage (flow) -> resolvePending ALLOW',
        change: () => {
          const pending = send({ flow: 'ABORT' });
          return { before: pending, after: answer(pending, ALLOW) };
        },
        content: 'my original text',
        metadata: '{"draft":false}',
      },
      {
        calls: 'createMessage (flow) -> resolvePending ALLOW with processed content',
        change: () => {
          const pending = send({ flow: 'ABORT' });
          return { before: pending, after: answer(pending, PROCESSED) };
        },
        content: 'my processed text',
        metadata: '{"processed":true}',
      },
      {
        calls: 'createMessage (flow, CONTINUE) -> resolvePending FAIL',
        change: () => {
          const pending = send({ flow: 'CONTINUE' });
          return { before: pending, after: answer(pending, FAIL) };
        },
        content: 'my original text',
        metadata: '{"draft":false}',
      },
    ],
  },
  {
    eventType: 'UPDATE_CHANNEL_MESSAGE',
    status: 'SENT',
    recipients: 'All channel members',
    notes: 'UpdateChannelMessage API with successful preprocessing',
    producedBy: [
      {
        calls: 'applyEdit (no flow)',
        change: () => {
          const sent = send();
          return { before: sent, after: applyEdit(sent, EDIT, EDIT_AT) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
      },
      {
        calls: 'applyEdit (flow) -> resolvePending ALLOW with processed content',
        change: () => {
          const editing = editThroughFlow(sentThroughFlow());
          return { before: editing, after: answer(editing, PROCESSED) };
        },
        content: 'my processed text',
        metadata: '{"processed":true}',
      },
      {
        calls: 'applyEdit (flow) -> resolvePending ALLOW unchanged',
        change: () => {
          const editing = editThroughFlow(sentThroughFlow());
          return { before: editing, after: answer(editing, ALLOW) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
      },
      {
        calls: 'applyEdit (flow, CONTINUE) -> resolvePending FAIL',
        change: () => {
          const editing = editThroughFlow(sentThroughFlow(), 'CONTINUE');
          return { before: editing, after: answer(editing, FAIL) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
      },
    ],
  },
  {
    eventType: 'PENDING_CREATE_CHANNEL_MESSAGE',
    status: 'PENDING',
    recipients: 'Message sender only',
    notes: 'SendChannelMessage API with ongoing preprocessing',
    producedBy: [{ calls: 'createMessage (flow)', change: () => ({ after: send({ flow: 'ABORT' }) }), content: 'my original text', metadata: '{"draft":false}' }],
  },
  {
    eventType: 'PENDING_UPDATE_CHANNEL_MESSAGE',
    status: 'PENDING',
    recipients: 'Message sender only',
    notes: 'UpdateChannelMessage API with ongoing preprocessing',
    producedBy: [
      {
        // The sender is shown the proposed edit; everyone else still has the last SENT version.
        calls: 'applyEdit (flow) on a SENT message',
        change: () => {
          const sent = sentThroughFlow();
          return { before: sent, after: editThroughFlow(sent) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
      },
    ],
  },
  {
    eventType: 'FAILED_CREATE_CHANNEL_MESSAGE',
    status: 'FAILED',
    recipients: 'Message sender only',
    notes: 'SendChannelMessage API with failed preprocessing',
    producedBy: [
      {
        calls: 'createMessage (flow, ABORT) -> resolvePending FAIL',
        change: () => {
          const pending = send({ flow: 'ABORT' });
          return { before: pending, after: answer(pending, FAIL) };
        },
        content: 'my original text',
        metadata: '{"draft":false}',
        detail: FAILURE,
      },
    ],
  },
  {
    eventType: 'FAILED_UPDATE_CHANNEL_MESSAGE',
    status: 'FAILED',
    recipients: 'Message sender only',
    notes: 'UpdateChannelMessage API with failed preprocessing',
    producedBy: [
      {
        calls: 'applyEdit (flow, ABORT) -> resolvePending FAIL',
        change: () => {
          const editing = editThroughFlow(sentThroughFlow());
          return { before: editing, after: answer(editing, FAIL) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
        detail: FAILURE,
      },
    ],
  },
  {
    eventType: 'DENIED_CREATE_CHANNEL_MESSAGE',
    status: 'DENIED',
    recipients: 'Message sender only',
    notes: 'SendChannelMessage API with processor denying the message',
    producedBy: [
      {
        // The stored tombstone has no content; the sender is shown its own original text once.
        calls: 'createMessage (flow) -> resolvePending DENY',
        change: () => {
          const pending = send({ flow: 'ABORT' });
          return { before: pending, after: answer(pending, DENY) };
        },
        content: 'my original text',
        metadata: '{"draft":false}',
      },
    ],
  },
  {
    eventType: 'DENIED_UPDATE_CHANNEL_MESSAGE',
    status: 'DENIED',
    recipients: 'Message sender only',
    notes: 'UpdateChannelMessage API with processor denying the message',
    producedBy: [
      {
        calls: 'applyEdit (flow) -> resolvePending DENY',
        change: () => {
          const editing = editThroughFlow(sentThroughFlow());
          return { before: editing, after: answer(editing, DENY) };
        },
        content: 'my proposed edit',
        metadata: '{"edit":1}',
      },
    ],
  },
];

describe('the seed event table, row by row', () => {
  test('has the 8 rows of the seed, each with at least one producing lifecycle', () => {
    assert.equal(SEED_EVENT_TABLE.length, 8);
    assert.deepEqual(
      SEED_EVENT_TABLE.map((row) => row.eventType).sort(),
      [
        'CREATE_CHANNEL_MESSAGE',
        'DENIED_CREATE_CHANNEL_MESSAGE',
        'DENIED_UPDATE_CHANNEL_MESSAGE',
        'FAILED_CREATE_CHANNEL_MESSAGE',
        'FAILED_UPDATE_CHANNEL_MESSAGE',
        'PENDING_CREATE_CHANNEL_MESSAGE',
        'PENDING_UPDATE_CHANNEL_MESSAGE',
        'UPDATE_CHANNEL_MESSAGE',
      ],
    );
    for (const row of SEED_EVENT_TABLE) assert.ok(row.producedBy.length > 0, row.eventType);
  });

  for (const row of SEED_EVENT_TABLE) {
    for (const producer of row.producedBy) {
      test(`${row.eventType} | ${row.status} | ${row.recipients}: ${producer.calls}`, () => {
        assertOneEvent(producer.change(), {
          eventType: row.eventType,
          audience: row.recipients === 'All channel members' ? ALL_MEMBERS : SENDER_ONLY,
          status: { value: row.status, ...(producer.detail !== undefined && { detail: producer.detail }) },
          content: producer.content,
          metadata: producer.metadata,
        });
      });
    }
  }
});

describe('what the stored versions and the events show', () => {
  test('a denied send: the stored version is empty, only the sender’s event carries the original text', () => {
    const pending = send({ flow: 'ABORT' });
    const denied = answer(pending, DENY);
    assert.equal(denied.content, '');
    assert.equal(denied.metadata, undefined);
    const [event] = eventsForMessageChange({ before: pending, after: denied });
    assert.ok(event !== undefined && 'message' in event);
    assert.equal(event.message.content, 'my original text');
    assert.deepEqual(event.audience, SENDER_ONLY);
  });

  test('a pending edit: the sender’s event carries the proposed content and edit time, the stored version the last SENT one', () => {
    const sent = sentThroughFlow();
    const editing = editThroughFlow(sent);
    assert.equal(editing.content, 'my original text');
    const [event] = eventsForMessageChange({ before: sent, after: editing });
    assert.ok(event !== undefined && 'message' in event);
    assert.equal(event.message.content, 'my proposed edit');
    assert.equal(event.message.lastEditedAt, EDIT_AT);
    assert.deepEqual(event.message.status, { value: 'PENDING' });
  });

  test('a denied edit: the sender is shown the rejected text, the stored version keeps the last SENT one', () => {
    const editing = editThroughFlow(sentThroughFlow());
    const denied = answer(editing, DENY);
    assert.equal(denied.content, 'my original text');
    const [event] = eventsForMessageChange({ before: editing, after: denied });
    assert.ok(event !== undefined && 'message' in event);
    assert.equal(event.message.content, 'my proposed edit');
    assert.deepEqual(event.message.status, { value: 'DENIED' });
  });
});

describe('changes that must produce no event', () => {
  test('the REMOVE of a denied send’s tombstone', () => {
    const tombstone = answer(send({ flow: 'ABORT' }), DENY);
    assert.deepEqual(eventsForMessageChange({ before: tombstone, removal: 'DELETED' }), []);
    // The REMOVE of a SENT message, for contrast, is a DELETE to all members.
    assert.deepEqual(
      eventsForMessageChange({ before: sentThroughFlow(), removal: 'DELETED' }).map((event) => [event.eventType, event.audience]),
      [['DELETE_CHANNEL_MESSAGE', ALL_MEMBERS]],
    );
  });

  test('an unrelated later write on a message whose resolution is from an earlier change', () => {
    const sent = sentThroughFlow();
    assert.equal(sent.resolution?.status, 'SENT');
    // The same item written again (a repository-level write), revision moved, nothing visible changed.
    const rewritten: Message = { ...sent, revision: sent.revision + 1, lastUpdatedAt: sent.lastUpdatedAt + 5_000 };
    assert.deepEqual(eventsForMessageChange({ before: sent, after: rewritten }), []);
    // Likewise after a denied edit: its resolution is not announced a second time.
    const deniedEdit = answer(editThroughFlow(sent), DENY);
    assert.deepEqual(eventsForMessageChange({ before: deniedEdit, after: { ...deniedEdit, revision: deniedEdit.revision + 1 } }), []);
  });

  test('a new edit after a denied one: PENDING_UPDATE only, the earlier denial is not repeated; its outcome follows', () => {
    const deniedEdit = answer(editThroughFlow(sentThroughFlow()), DENY);
    const again = applyEdit(deniedEdit, { Content: 'second try' }, EDIT_AT + 5_000, flowAssignment('ABORT', 'f'.repeat(64)));
    assert.deepEqual(
      eventsForMessageChange({ before: deniedEdit, after: again }).map((event) => [event.eventType, event.audience]),
      [['PENDING_UPDATE_CHANNEL_MESSAGE', SENDER_ONLY]],
    );
    assert.deepEqual(
      eventsForMessageChange({ before: again, after: answer(again, ALLOW) }).map((event) => [event.eventType, event.audience]),
      [['UPDATE_CHANNEL_MESSAGE', ALL_MEMBERS]],
    );
  });

  test('a redaction that abandons a pending edit is a REDACT, not the earlier send’s resolution again', () => {
    const editing = editThroughFlow(sentThroughFlow());
    assert.equal(editing.resolution?.change, 'CREATE');
    const events = eventsForMessageChange({ before: editing, after: redactMessage(editing, EDIT_AT + 1_000) });
    assert.deepEqual(
      events.map((event) => [event.eventType, event.audience]),
      [['REDACT_CHANNEL_MESSAGE', ALL_MEMBERS]],
    );
  });
});

describe('targeted messages', () => {
  const TARGETED: SendChannelMessageRequest = { ...SEND, Target: [{ MemberArn: BOB_ARN }] };
  const eventsOf = (change: MessageChangeInput) => eventsForMessageChange(change).map((event) => [event.eventType, event.audience]);

  test('"all members" events go to the sender and the target only; sender-only events stay the sender’s', () => {
    const pending = send({ flow: 'ABORT', request: TARGETED });
    assert.deepEqual(eventsOf({ after: pending }), [['PENDING_CREATE_CHANNEL_MESSAGE', SENDER_ONLY]]);
    const sent = answer(pending, ALLOW);
    assert.deepEqual(eventsOf({ before: pending, after: sent }), [['CREATE_CHANNEL_MESSAGE', SENDER_AND_TARGET]]);
    assert.deepEqual(eventsOf({ before: pending, after: answer(pending, DENY) }), [['DENIED_CREATE_CHANNEL_MESSAGE', SENDER_ONLY]]);
    assert.deepEqual(eventsOf({ before: pending, after: answer(pending, FAIL) }), [['FAILED_CREATE_CHANNEL_MESSAGE', SENDER_ONLY]]);

    const editing = editThroughFlow(sent);
    assert.deepEqual(eventsOf({ before: sent, after: editing }), [['PENDING_UPDATE_CHANNEL_MESSAGE', SENDER_ONLY]]);
    assert.deepEqual(eventsOf({ before: editing, after: answer(editing, ALLOW) }), [['UPDATE_CHANNEL_MESSAGE', SENDER_AND_TARGET]]);
    assert.deepEqual(eventsOf({ before: editing, after: answer(editing, DENY) }), [['DENIED_UPDATE_CHANNEL_MESSAGE', SENDER_ONLY]]);
    assert.deepEqual(eventsOf({ before: editing, after: answer(editing, FAIL) }), [['FAILED_UPDATE_CHANNEL_MESSAGE', SENDER_ONLY]]);
  });

  test('without a flow: CREATE to the sender and the target', () => {
    assert.deepEqual(eventsOf({ after: send({ request: TARGETED }) }), [['CREATE_CHANNEL_MESSAGE', SENDER_AND_TARGET]]);
  });
});
