import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageItem, toMessage } from '../../lambdas/adapters/dynamodb/message-repository';
import { createMessage, resolvePending } from '../../lambdas/core/messages';
import { T0, flowAssignment, message, withFlow } from './fixtures';

/** How messages are stored: what expires by TTL, what the sweep's sparse index sees, and the round trip. */

const REQUEST = { Content: 'Spam zebra', Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: 'token-1' } as const;

test('a denied send is written with an expiry a minute out, so TTL removes it should the delete after it never run', () => {
  const pending = createMessage({ request: REQUEST, channel: withFlow(), sender: { arn: 'arn:aws:chime:us-east-1:111122223333:app-instance/ai/user/alice', name: 'Alice' }, messageId: 'm1', now: T0, flow: flowAssignment() });
  const { message: denied } = resolvePending(pending, { kind: 'DENY' }, T0 + 1000);
  const item = messageItem(denied);
  assert.equal(item.expiresAt, Math.floor((T0 + 1000) / 1000) + 60);
  assert.equal(item.content, '');
  // Out of the sweep's index: nothing waits for a processor any more.
  assert.equal(item.pendingPartition, undefined);
});

test('a PERSISTENT, SENT message never expires; a NON_PERSISTENT one does after 15 minutes', () => {
  assert.equal(messageItem(message()).expiresAt, undefined);
  assert.equal(messageItem(message({ persistence: 'NON_PERSISTENT', createdAt: T0 })).expiresAt, Math.floor(T0 / 1000) + 15 * 60);
});

test('a message waiting for its processor is in the sparse pending index by deadline, and reads back unchanged', () => {
  const pending = createMessage({ request: { ...REQUEST, Content: 'hello' }, channel: withFlow(), sender: { arn: 'arn:aws:chime:us-east-1:111122223333:app-instance/ai/user/alice', name: 'Alice' }, messageId: 'm2', now: T0, flow: flowAssignment('ABORT', 'c'.repeat(64), T0 + 300_000) });
  const item = messageItem(pending);
  assert.equal(item.pendingPartition, 'PENDING');
  assert.equal(item.pendingDeadline, String(T0 + 300_000).padStart(15, '0'));
  assert.deepEqual(toMessage(item), pending);
});
