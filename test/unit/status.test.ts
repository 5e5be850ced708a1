import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageStatusValue, MessageType } from '../../lambdas/core/model';
import { canTransition, initialStatus, isTerminal, TERMINAL_STATUSES } from '../../lambdas/core/status';

/**
 * The message status state machine (DESIGN "Message lifecycle": "Status only moves forward:
 * PENDING → one terminal state"). The table is written out in full: every (from, to) pair.
 */
const TRANSITIONS: readonly (readonly [from: MessageStatusValue, to: MessageStatusValue, allowed: boolean])[] = [
  ['PENDING', 'PENDING', false],
  ['PENDING', 'SENT', true],
  ['PENDING', 'DENIED', true],
  ['PENDING', 'FAILED', true],
  ['SENT', 'PENDING', false],
  ['SENT', 'SENT', false],
  ['SENT', 'DENIED', false],
  ['SENT', 'FAILED', false],
  ['DENIED', 'PENDING', false],
  ['DENIED', 'SENT', false],
  ['DENIED', 'DENIED', false],
  ['DENIED', 'FAILED', false],
  ['FAILED', 'PENDING', false],
  ['FAILED', 'SENT', false],
  ['FAILED', 'DENIED', false],
  ['FAILED', 'FAILED', false],
];

describe('canTransition', () => {
  test('the table covers all 16 pairs of the 4 statuses', () => {
    const pairs = new Set(TRANSITIONS.map(([from, to]) => `${from}->${to}`));
    assert.equal(pairs.size, 16);
  });

  for (const [from, to, allowed] of TRANSITIONS) {
    test(`${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(canTransition(from, to), allowed);
    });
  }

  test('a duplicate or late processor answer cannot move a message out of a terminal state', () => {
    for (const terminal of ['SENT', 'DENIED', 'FAILED'] as const) {
      for (const next of ['PENDING', 'SENT', 'DENIED', 'FAILED'] as const) {
        assert.equal(canTransition(terminal, next), false, `${terminal} -> ${next}`);
      }
    }
  });
});

describe('isTerminal', () => {
  const TERMINAL: readonly (readonly [MessageStatusValue, boolean])[] = [
    ['PENDING', false],
    ['SENT', true],
    ['DENIED', true],
    ['FAILED', true],
  ];
  for (const [status, terminal] of TERMINAL) {
    test(`${status} is ${terminal ? '' : 'not '}terminal`, () => {
      assert.equal(isTerminal(status), terminal);
    });
  }

  test('TERMINAL_STATUSES lists exactly SENT, DENIED and FAILED', () => {
    assert.deepEqual([...TERMINAL_STATUSES].sort(), ['DENIED', 'FAILED', 'SENT']);
    for (const status of TERMINAL_STATUSES) assert.equal(isTerminal(status), true);
  });
});

describe('initialStatus', () => {
  const INITIAL: readonly (readonly [channelHasFlow: boolean, type: MessageType, status: MessageStatusValue])[] = [
    [false, 'STANDARD', 'SENT'],
    [false, 'CONTROL', 'SENT'],
    [true, 'STANDARD', 'PENDING'],
    // CONTROL messages never go through a flow.
    [true, 'CONTROL', 'SENT'],
  ];
  for (const [channelHasFlow, type, status] of INITIAL) {
    test(`${type} message, channel ${channelHasFlow ? 'with' : 'without'} a flow: starts ${status}`, () => {
      assert.equal(initialStatus({ channelHasFlow, type }), status);
    });
  }
});
