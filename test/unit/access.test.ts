import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertCanAddMember,
  assertCanDeleteChannel,
  assertCanDeleteMessage,
  assertCanEditMessage,
  assertCanReadStatus,
  assertCanRedactMessage,
  assertCanRemoveMember,
  assertCanSend,
  assertCanViewChannel,
  canSeeMessage,
  isModerator,
  type ChannelContext,
} from '../../lambdas/core/access';
import type { Caller, Channel, ChannelMode, ChannelPrivacy, Message, MessageStatusValue } from '../../lambdas/core/model';
import { assertForbidden, caller, channel, membership, message } from './fixtures';

/**
 * Authorization by role (reference §9 and the Chime rules for memberships). Roles:
 * - admin: an AppInstanceAdmin (moderates every channel);
 * - creator: the channel's creator (a moderator of it);
 * - moderator: listed in the channel's ModeratorArns;
 * - member: a plain member;
 * - outsider: neither member nor moderator.
 * A role "…+member" also holds a membership of the channel.
 */
type Role = 'admin' | 'admin+member' | 'creator' | 'creator+member' | 'moderator' | 'moderator+member' | 'member' | 'outsider';

const ROLE_USER: Record<Role, Caller> = {
  admin: caller('root', true),
  'admin+member': caller('root', true),
  creator: caller('creator'),
  'creator+member': caller('creator'),
  moderator: caller('moderator'),
  'moderator+member': caller('moderator'),
  member: caller('alice'),
  outsider: caller('mallory'),
};

function as(role: Role, channelOverrides: Partial<Channel> = {}): ChannelContext {
  const user = ROLE_USER[role];
  const isMember = role === 'member' || role.endsWith('+member');
  return { channel: channel(channelOverrides), caller: user, ...(isMember && { membership: membership(user) }) };
}

function check(allowed: boolean, action: () => void): void {
  if (allowed) assert.doesNotThrow(action);
  else assertForbidden(action);
}

describe('isModerator', () => {
  const TABLE: readonly (readonly [Role, boolean])[] = [
    ['admin', true],
    ['creator', true],
    ['moderator', true],
    ['member', false],
    ['outsider', false],
  ];
  for (const [role, moderator] of TABLE) {
    test(`${role}: ${moderator}`, () => assert.equal(isModerator(as(role)), moderator));
  }
});

describe('view a channel', () => {
  const TABLE: readonly (readonly [Role, private_: boolean, public_: boolean])[] = [
    ['admin', true, true],
    ['creator', true, true],
    ['moderator', true, true],
    ['member', true, true],
    ['outsider', false, true],
  ];
  for (const [role, onPrivate, onPublic] of TABLE) {
    test(`${role}: private ${onPrivate ? 'allowed' : 'denied'}, public ${onPublic ? 'allowed' : 'denied'}`, () => {
      check(onPrivate, () => assertCanViewChannel(as(role, { privacy: 'PRIVATE' })));
      check(onPublic, () => assertCanViewChannel(as(role, { privacy: 'PUBLIC' })));
    });
  }
});

describe('send a message: only members, even admins and moderators must join first', () => {
  const TABLE: readonly (readonly [Role, boolean])[] = [
    ['admin', false],
    ['admin+member', true],
    ['creator', false],
    ['creator+member', true],
    ['moderator', false],
    ['moderator+member', true],
    ['member', true],
    ['outsider', false],
  ];
  for (const privacy of ['PRIVATE', 'PUBLIC'] as const) {
    for (const [role, allowed] of TABLE) {
      test(`${privacy} channel, ${role}: ${allowed ? 'allowed' : 'denied'}`, () => {
        check(allowed, () => assertCanSend(as(role, { privacy })));
      });
    }
  }
  test('the refusal says only members can send', () => {
    assertForbidden(() => assertCanSend(as('admin')), /only members can send/);
  });
});

describe('add a member', () => {
  const OTHER = caller('bob').userArn;
  const self = (role: Role) => ROLE_USER[role].userArn;
  // [role, mode, privacy, adds whom, allowed]
  const TABLE: readonly (readonly [Role, ChannelMode, ChannelPrivacy, 'other' | 'self', boolean])[] = [
    // RESTRICTED: only moderators (and admins) add members.
    ['admin', 'RESTRICTED', 'PRIVATE', 'other', true],
    ['creator', 'RESTRICTED', 'PRIVATE', 'other', true],
    ['moderator', 'RESTRICTED', 'PRIVATE', 'other', true],
    ['member', 'RESTRICTED', 'PRIVATE', 'other', false],
    ['member', 'RESTRICTED', 'PUBLIC', 'other', false],
    ['outsider', 'RESTRICTED', 'PRIVATE', 'other', false],
    ['outsider', 'RESTRICTED', 'PUBLIC', 'self', false],
    ['outsider', 'RESTRICTED', 'PRIVATE', 'self', false],
    // UNRESTRICTED: any member adds members.
    ['admin', 'UNRESTRICTED', 'PRIVATE', 'other', true],
    ['moderator', 'UNRESTRICTED', 'PRIVATE', 'other', true],
    ['member', 'UNRESTRICTED', 'PRIVATE', 'other', true],
    ['member', 'UNRESTRICTED', 'PUBLIC', 'other', true],
    ['outsider', 'UNRESTRICTED', 'PRIVATE', 'other', false],
    ['outsider', 'UNRESTRICTED', 'PUBLIC', 'other', false],
    // Self-join: only of a PUBLIC UNRESTRICTED channel.
    ['outsider', 'UNRESTRICTED', 'PUBLIC', 'self', true],
    ['outsider', 'UNRESTRICTED', 'PRIVATE', 'self', false],
  ];
  for (const [role, mode, privacy, whom, allowed] of TABLE) {
    test(`${mode} ${privacy} channel, ${role} adds ${whom === 'self' ? 'itself' : 'another user'}: ${allowed ? 'allowed' : 'denied'}`, () => {
      check(allowed, () => assertCanAddMember(as(role, { mode, privacy }), whom === 'self' ? self(role) : OTHER));
    });
  }
  test('the refusal on a RESTRICTED channel explains that only moderators add members', () => {
    assertForbidden(() => assertCanAddMember(as('member', { mode: 'RESTRICTED' }), OTHER), /RESTRICTED/);
  });
});

describe('remove a member', () => {
  const OTHER = caller('bob').userArn;
  const TABLE: readonly (readonly [Role, 'self' | 'other', boolean])[] = [
    ['member', 'self', true],
    ['member', 'other', false],
    ['outsider', 'other', false],
    ['admin', 'other', true],
    ['creator', 'other', true],
    ['moderator', 'other', true],
    ['moderator+member', 'self', true],
  ];
  for (const [role, whom, allowed] of TABLE) {
    test(`${role} removes ${whom === 'self' ? 'itself' : 'another member'}: ${allowed ? 'allowed' : 'denied'}`, () => {
      check(allowed, () => assertCanRemoveMember(as(role), whom === 'self' ? ROLE_USER[role].userArn : OTHER));
    });
  }
});

describe('delete a channel: moderators and admins only', () => {
  const TABLE: readonly (readonly [Role, boolean])[] = [
    ['admin', true],
    ['creator', true],
    ['moderator', true],
    ['member', false],
    ['outsider', false],
  ];
  for (const [role, allowed] of TABLE) {
    test(`${role}: ${allowed ? 'allowed' : 'denied'}`, () => check(allowed, () => assertCanDeleteChannel(as(role))));
  }
});

/** A SENT message of `sender` (a role, or 'alice' the plain member). */
const messageOf = (role: Role, overrides: Partial<Message> = {}) =>
  message({ sender: { arn: ROLE_USER[role].userArn, name: ROLE_USER[role].name }, ...overrides });

describe('edit a message: the sender only, while still a member', () => {
  const TABLE: readonly (readonly [Role, sender: Role, boolean])[] = [
    ['member', 'member', true],
    ['moderator+member', 'moderator+member', true],
    ['admin+member', 'member', false],
    ['creator+member', 'member', false],
    ['moderator+member', 'member', false],
    ['outsider', 'member', false],
  ];
  for (const [role, sender, allowed] of TABLE) {
    test(`${role} edits a message of ${sender === role ? 'its own' : sender}: ${allowed ? 'allowed' : 'denied'}`, () => {
      check(allowed, () => assertCanEditMessage(as(role), messageOf(sender)));
    });
  }
  test('a sender who has left the channel can no longer edit', () => {
    const left: ChannelContext = { channel: channel(), caller: ROLE_USER.member };
    assertForbidden(() => assertCanEditMessage(left, messageOf('member')), /no longer a member/);
  });
  test('the refusal of a non-sender says only the sender can edit', () => {
    assertForbidden(() => assertCanEditMessage(as('admin+member'), messageOf('member')), /Only the sender/);
  });
});

describe('redact a message: the sender or a moderator', () => {
  const TABLE: readonly (readonly [Role, sender: Role, boolean])[] = [
    ['member', 'member', true],
    ['admin', 'member', true],
    ['creator', 'member', true],
    ['moderator', 'member', true],
    ['moderator+member', 'member', true],
    ['creator+member', 'moderator+member', true],
    ['outsider', 'member', false],
  ];
  for (const [role, sender, allowed] of TABLE) {
    test(`${role} redacts a message of ${sender === role ? 'its own' : sender}: ${allowed ? 'allowed' : 'denied'}`, () => {
      check(allowed, () => assertCanRedactMessage(as(role), messageOf(sender)));
    });
  }
  test('another plain member cannot redact', () => {
    const bob = caller('bob');
    const context: ChannelContext = { channel: channel(), caller: bob, membership: membership(bob) };
    assertForbidden(() => assertCanRedactMessage(context, messageOf('member')), /sender or a moderator/);
  });
  test(
    'a sender who has left the channel cannot redact (non-members: Denied)',
    () => {
      const left: ChannelContext = { channel: channel(), caller: ROLE_USER.member };
      assertForbidden(() => assertCanRedactMessage(left, messageOf('member')));
    },
  );
});

describe('delete a message: app instance admins only', () => {
  const TABLE: readonly (readonly [Role, boolean])[] = [
    ['admin', true],
    ['admin+member', true],
    ['creator+member', false],
    ['moderator+member', false],
    ['member', false],
    ['outsider', false],
  ];
  for (const [role, allowed] of TABLE) {
    test(`${role}: ${allowed ? 'allowed' : 'denied'}`, () => check(allowed, () => assertCanDeleteMessage(as(role))));
  }
});

describe('read a message status: the sender only', () => {
  const TABLE: readonly (readonly [Role, boolean])[] = [
    ['member', true],
    ['admin+member', false],
    ['creator+member', false],
    ['moderator+member', false],
    ['outsider', false],
  ];
  for (const status of ['PENDING', 'SENT', 'FAILED'] as const) {
    for (const [role, allowed] of TABLE) {
      test(`${status} message of member, read by ${role}: ${allowed ? 'allowed' : 'denied'}`, () => {
        check(allowed, () => assertCanReadStatus(messageOf('member', { status: { value: status } }), ROLE_USER[role]));
      });
    }
  }
});

describe('canSeeMessage', () => {
  const sender = ROLE_USER.member;
  const target = caller('bob');
  const other = caller('carol');
  const admin = ROLE_USER.admin;
  const moderator = ROLE_USER.moderator;

  // [status, sender sees, another member sees, admin sees, moderator sees]
  const BY_STATUS: readonly (readonly [MessageStatusValue, boolean, boolean, boolean, boolean])[] = [
    ['SENT', true, true, true, true],
    ['PENDING', true, false, false, false],
    ['FAILED', true, false, false, false],
    // Denied content is not kept (DESIGN: not readable anywhere once the sender was told), not even by its sender.
    ['DENIED', false, false, false, false],
  ];
  for (const [status, bySender, byOther, byAdmin, byModerator] of BY_STATUS) {
    test(`${status} message: sender ${bySender}, other member ${byOther}, admin ${byAdmin}, moderator ${byModerator}`, () => {
      const m = messageOf('member', { status: { value: status } });
      assert.equal(canSeeMessage(m, sender), bySender);
      assert.equal(canSeeMessage(m, other), byOther);
      assert.equal(canSeeMessage(m, admin), byAdmin);
      assert.equal(canSeeMessage(m, moderator), byModerator);
    });
  }

  // [status, sender, target, other member, admin]
  const TARGETED: readonly (readonly [MessageStatusValue, boolean, boolean, boolean, boolean])[] = [
    ['SENT', true, true, false, false],
    ['PENDING', true, false, false, false],
    ['FAILED', true, false, false, false],
    ['DENIED', false, false, false, false],
  ];
  for (const [status, bySender, byTarget, byOther, byAdmin] of TARGETED) {
    test(`targeted ${status} message: sender ${bySender}, target ${byTarget}, other ${byOther}, admin ${byAdmin}`, () => {
      const m = messageOf('member', { status: { value: status }, target: [target.userArn] });
      assert.equal(canSeeMessage(m, sender), bySender);
      assert.equal(canSeeMessage(m, target), byTarget);
      assert.equal(canSeeMessage(m, other), byOther);
      assert.equal(canSeeMessage(m, admin), byAdmin);
    });
  }
});
