import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeMessageEvent, type MessageChange } from '../../lambdas/core/events';
import type { MessageStatusValue } from '../../lambdas/core/model';

/**
 * The seed's event table ("Sending messages", Websocket events), written out as the spec:
 * event type | status | recipients, with the API that triggers it (CREATE = SendChannelMessage,
 * UPDATE = UpdateChannelMessage).
 */
const EVENT_TABLE: readonly (readonly [change: MessageChange, status: MessageStatusValue, eventType: string, recipients: string])[] = [
  ['CREATE', 'SENT', 'CREATE_CHANNEL_MESSAGE', 'ALL_MEMBERS'],
  ['UPDATE', 'SENT', 'UPDATE_CHANNEL_MESSAGE', 'ALL_MEMBERS'],
  ['CREATE', 'PENDING', 'PENDING_CREATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
  ['UPDATE', 'PENDING', 'PENDING_UPDATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
  ['CREATE', 'FAILED', 'FAILED_CREATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
  ['UPDATE', 'FAILED', 'FAILED_UPDATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
  ['CREATE', 'DENIED', 'DENIED_CREATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
  ['UPDATE', 'DENIED', 'DENIED_UPDATE_CHANNEL_MESSAGE', 'SENDER_ONLY'],
];

describe('routeMessageEvent follows the seed event table', () => {
  test('the table has the 8 rows of the seed, one per (change, status)', () => {
    assert.equal(EVENT_TABLE.length, 8);
    assert.equal(new Set(EVENT_TABLE.map(([change, status]) => `${change}/${status}`)).size, 8);
    assert.equal(new Set(EVENT_TABLE.map(([, , eventType]) => eventType)).size, 8);
  });

  for (const [change, status, eventType, recipients] of EVENT_TABLE) {
    test(`${change} reaching ${status} -> ${eventType} to ${recipients}`, () => {
      assert.deepEqual(routeMessageEvent(change, status), { eventType, recipients });
    });
  }

  test('only SENT reaches all channel members; every other status is told to the sender alone', () => {
    for (const [change, status] of EVENT_TABLE) {
      const { recipients } = routeMessageEvent(change, status);
      assert.equal(recipients === 'ALL_MEMBERS', status === 'SENT', `${change}/${status}`);
    }
  });

  test('a send and an edit reaching the same status never share an event type', () => {
    for (const status of ['SENT', 'PENDING', 'FAILED', 'DENIED'] as const) {
      assert.notEqual(routeMessageEvent('CREATE', status).eventType, routeMessageEvent('UPDATE', status).eventType, status);
    }
  });
});
