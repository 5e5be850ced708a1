/**
 * Shared fixtures of the core unit tests: one app instance, its users, channels and messages, and
 * an assertion for the Chime error a refusal must carry.
 */
import assert from 'node:assert/strict';
import { channelFlowArn, userArn, type AppInstance } from '../../lambdas/core/arns';
import { ChimeError, type ErrorShape } from '../../lambdas/core/errors';
import type { FlowAssignment } from '../../lambdas/core/messages';
import type { Caller, Channel, FallbackAction, Membership, Message, Processor } from '../../lambdas/core/model';

export const APP: AppInstance = {
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111122223333',
  appInstanceId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
};

export const T0 = Date.UTC(2024, 0, 15, 10, 30, 0, 250);

export function caller(userId: string, isAdmin = false): Caller {
  return { userId, userArn: userArn(APP, userId), name: userId.toUpperCase(), isAdmin };
}

export function channel(overrides: Partial<Channel> = {}): Channel {
  return {
    channelId: 'general',
    name: 'General',
    mode: 'UNRESTRICTED',
    privacy: 'PRIVATE',
    createdBy: { arn: userArn(APP, 'creator'), name: 'CREATOR' },
    moderatorArns: [userArn(APP, 'moderator')],
    createdAt: T0,
    lastUpdatedAt: T0,
    ...overrides,
  };
}

/** The shipped processor's function, as a flow registers it. */
export const PROCESSOR_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:channel-flow-moderation';

export function processor(fallbackAction: FallbackAction = 'ABORT'): Processor {
  return { name: 'moderation', executionOrder: 1, fallbackAction, lambdaArn: PROCESSOR_ARN, invocationType: 'ASYNC' };
}

/** One change handed to the flow's processor: its CallbackId (32-64 characters) and deadline. */
export function flowAssignment(fallbackAction: FallbackAction = 'ABORT', callbackId = 'c'.repeat(64), deadline = T0 + 300_000): FlowAssignment {
  return { processor: processor(fallbackAction), callbackId, deadline };
}

export const withFlow = (overrides: Partial<Channel> = {}) => channel({ channelFlowArn: channelFlowArn(APP, 'moderation-flow'), ...overrides });

export function membership(of: Caller, channelId = 'general'): Membership {
  return {
    channelId,
    member: { arn: of.userArn, name: of.name },
    type: 'DEFAULT',
    invitedBy: { arn: userArn(APP, 'creator'), name: 'CREATOR' },
    createdAt: T0,
    lastUpdatedAt: T0,
  };
}

export function message(overrides: Partial<Message> = {}): Message {
  return {
    channelId: 'general',
    messageId: '018d0c9a1f2a' + 'ab'.repeat(26),
    content: 'hello',
    metadata: '{"k":1}',
    type: 'STANDARD',
    persistence: 'PERSISTENT',
    sender: { arn: userArn(APP, 'alice'), name: 'ALICE' },
    createdAt: T0,
    lastUpdatedAt: T0,
    redacted: false,
    status: { value: 'SENT' },
    revision: 1,
    ...overrides,
  };
}

/**
 * Runs `action`, asserts that it throws a ChimeError of `shape` (and `status`), and that the message
 * matches every pattern given (the field it names, the limit it quotes).
 */
export function assertChimeError(
  action: () => unknown,
  shape: ErrorShape,
  status: number,
  ...patterns: readonly (RegExp | string)[]
): ChimeError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `expected a ${shape}, but nothing was thrown`);
  assert.ok(thrown instanceof ChimeError, `expected a ChimeError, got ${String(thrown)}`);
  assert.equal(thrown.shape, shape, `wrong shape; message: ${thrown.message}`);
  assert.equal(thrown.name, shape);
  assert.equal(thrown.status, status);
  if (shape === 'BadRequestException' || shape === 'ForbiddenException' || shape === 'ConflictException' || shape === 'NotFoundException') {
    // The `Code` of the {"Code","Message"} body is the shape name without "Exception".
    assert.equal(thrown.code, shape.replace(/Exception$/, ''));
  }
  for (const pattern of patterns) {
    if (typeof pattern === 'string') {
      assert.ok(thrown.message.includes(pattern), `expected the message to contain ${JSON.stringify(pattern)}, got: ${thrown.message}`);
    } else {
      assert.match(thrown.message, pattern);
    }
  }
  return thrown;
}

export const assertBadRequest = (action: () => unknown, ...patterns: readonly (RegExp | string)[]) =>
  assertChimeError(action, 'BadRequestException', 400, ...patterns);

export const assertForbidden = (action: () => unknown, ...patterns: readonly (RegExp | string)[]) =>
  assertChimeError(action, 'ForbiddenException', 403, ...patterns);

export const assertConflict = (action: () => unknown, ...patterns: readonly (RegExp | string)[]) =>
  assertChimeError(action, 'ConflictException', 409, ...patterns);
