import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  appInstanceArn,
  channelArn,
  channelFlowArn,
  isValidResourceId,
  parseResourceArn,
  resourceArn,
  userArn,
  type AppInstance,
  type ResourceKind,
} from '../../lambdas/core/arns';
import { APP, assertBadRequest } from './fixtures';

const BASE = 'arn:aws:chime:us-east-1:111122223333:app-instance/a1b2c3d4-e5f6-7890-abcd-ef1234567890';

describe('building ARNs', () => {
  test('the app instance ARN has the documented format', () => {
    assert.equal(appInstanceArn(APP), BASE);
  });
  test('user, channel and channel-flow ARNs live under the app instance', () => {
    assert.equal(userArn(APP, 'alice'), `${BASE}/user/alice`);
    assert.equal(channelArn(APP, 'general'), `${BASE}/channel/general`);
    assert.equal(channelFlowArn(APP, 'moderation'), `${BASE}/channel-flow/moderation`);
    assert.equal(resourceArn(APP, 'channel', 'x1'), channelArn(APP, 'x1'));
  });
  test('the partition is part of the ARN', () => {
    const china: AppInstance = { ...APP, partition: 'aws-cn', region: 'cn-north-1' };
    assert.equal(userArn(china, 'alice'), `arn:aws-cn:chime:cn-north-1:111122223333:app-instance/${APP.appInstanceId}/user/alice`);
  });
});

describe('parseResourceArn round trip', () => {
  const IDS = ['a', 'alice', 'User.Name@example.com', 'a:b-c_d.e@f', '0123456789abcdef0123456789abcdef', 'x'.repeat(64)];
  for (const kind of ['user', 'channel', 'channel-flow'] as const satisfies readonly ResourceKind[]) {
    for (const id of IDS) {
      test(`${kind} ${JSON.stringify(id.length > 20 ? `${id.slice(0, 17)}...` : id)}`, () => {
        assert.equal(parseResourceArn(APP, kind, resourceArn(APP, kind, id), 'SomeArn'), id);
      });
    }
  }
});

describe('parseResourceArn refusals name the field', () => {
  const FIELD = 'ChannelArn';
  const refused = (value: string, kind: ResourceKind = 'channel') => () => parseResourceArn(APP, kind, value, FIELD);

  const OTHER_APP_INSTANCES: readonly (readonly [string, AppInstance])[] = [
    ['another app instance id', { ...APP, appInstanceId: 'ffffffff-0000-0000-0000-000000000000' }],
    ['an app instance id that extends ours', { ...APP, appInstanceId: `${APP.appInstanceId}0` }],
    ['another account', { ...APP, accountId: '444455556666' }],
    ['another region', { ...APP, region: 'eu-west-1' }],
    ['another partition', { ...APP, partition: 'aws-us-gov' }],
  ];
  for (const [label, other] of OTHER_APP_INSTANCES) {
    test(`a channel ARN of ${label} is refused`, () => {
      const value = channelArn(other, 'general');
      assert.notEqual(value, channelArn(APP, 'general'));
      assertBadRequest(refused(value), FIELD, appInstanceArn(APP));
    });
  }

  const WRONG_KINDS: readonly (readonly [string, string, ResourceKind])[] = [
    ['a user ARN where a channel is expected', userArn(APP, 'general'), 'channel'],
    ['a channel-flow ARN where a channel is expected', channelFlowArn(APP, 'general'), 'channel'],
    ['a channel ARN where a channel flow is expected', channelArn(APP, 'general'), 'channel-flow'],
    ['a channel ARN where a user is expected', channelArn(APP, 'alice'), 'user'],
    ['the app instance ARN itself', BASE, 'channel'],
    ['an ARN of another service', 'arn:aws:lambda:us-east-1:111122223333:function:channel-flow-moderation', 'channel'],
  ];
  for (const [label, value, kind] of WRONG_KINDS) {
    test(`${label} is refused, naming the expected kind`, () => {
      assertBadRequest(refused(value, kind), FIELD, `${kind} ARN`);
    });
  }

  const MALFORMED: readonly (readonly [string, string])[] = [
    ['empty', ''],
    ['not an ARN', 'general'],
    ['too short', 'arn'],
    ['too few parts', 'arn:aws:chime'],
    ['uppercase service', `arn:aws:CHIME:us-east-1:111122223333:app-instance/${APP.appInstanceId}/channel/general`],
    ['resource starting with a slash', 'arn:aws:chime:us-east-1:111122223333:/app-instance/x'],
    ['longer than 1600 characters', `${BASE}/channel/${'c'.repeat(1600)}`],
    ['with a trailing newline', `${BASE}/channel/general\n`],
  ];
  for (const [label, value] of MALFORMED) {
    test(`a malformed value (${label}) is refused as not a valid ARN`, () => {
      assertBadRequest(refused(value), FIELD, /not a valid ARN|must be a channel ARN|invalid channel id/);
    });
  }
  test('a value that is not an ARN at all says so', () => {
    assertBadRequest(refused('general'), `${FIELD} is not a valid ARN`);
  });

  const BAD_IDS: readonly (readonly [string, string])[] = [
    ['empty', ''],
    ['65 characters', 'c'.repeat(65)],
    ['leading dash', '-general'],
    ['trailing dot', 'general.'],
    ['a space', 'gen eral'],
    ['a nested path', 'general/messages'],
    ['a non-ASCII letter', 'généra1'],
  ];
  for (const [label, id] of BAD_IDS) {
    test(`a channel ARN with a bad id (${label}) is refused`, () => {
      assert.equal(isValidResourceId(id), false);
      assertBadRequest(refused(`${BASE}/channel/${id}`), FIELD);
    });
  }
  test('a bad id is reported as an invalid id of the kind', () => {
    assertBadRequest(refused(`${BASE}/channel/-general`), FIELD, 'invalid channel id');
  });
  test('the field name given by the caller is the one reported', () => {
    assertBadRequest(() => parseResourceArn(APP, 'user', 'nope', 'MemberArn'), 'MemberArn');
    assertBadRequest(() => parseResourceArn(APP, 'channel-flow', channelArn(APP, 'x'), 'ChannelFlowArn'), 'ChannelFlowArn');
  });
});
