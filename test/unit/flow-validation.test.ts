import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCanManageChannelFlowAssociation, assertCanManageChannelFlows } from '../../lambdas/core/access';
import { matchRoute } from '../../lambdas/api/routes';
import { appInstanceArn, channelArn, channelFlowArn } from '../../lambdas/core/arns';
import { assertProcessorsAllowed, isAllowedProcessorFunction, parseFunctionArn, toProcessors, type ProcessorScope } from '../../lambdas/core/flows';
import {
  associateChannelFlowSchema,
  createChannelFlowSchema,
  listChannelFlowsQuerySchema,
  listChannelsAssociatedWithChannelFlowQuerySchema,
  parseRequest,
  updateChannelFlowSchema,
  type ProcessorRequest,
} from '../../lambdas/core/validation';
import { toWireChannelAssociatedWithFlow, toWireChannelFlow, toWireChannelFlowSummary } from '../../lambdas/core/wire';
import { APP, assertBadRequest, assertForbidden, caller, channel, membership, T0 } from './fixtures';

/**
 * The pure channel flow rules: request shapes of the flow operations (every refusal names the
 * field and the rule), which Lambda functions a flow may name, who may manage flows, and the
 * HTTP bindings of the eight operations.
 */

const FUNCTION = `arn:aws:lambda:${APP.region}:${APP.accountId}:function:channel-flow-moderation`;
const SCOPE: ProcessorScope = { prefix: 'channel-flow-', region: APP.region, accountId: APP.accountId };

const PROCESSOR = {
  Name: 'moderation',
  Configuration: { Lambda: { ResourceArn: FUNCTION, InvocationType: 'ASYNC' } },
  ExecutionOrder: 1,
  FallbackAction: 'ABORT',
} as const;

const CREATE = {
  AppInstanceArn: appInstanceArn(APP),
  Name: 'moderation flow',
  ClientRequestToken: 'token-1',
  Processors: [PROCESSOR],
} as const;

const create = (overrides: Record<string, unknown>) => () => parseRequest(createChannelFlowSchema, { ...CREATE, ...overrides });
const withProcessor = (overrides: Record<string, unknown>) => create({ Processors: [{ ...PROCESSOR, ...overrides }] });
const withLambda = (overrides: Record<string, unknown>) =>
  withProcessor({ Configuration: { Lambda: { ...PROCESSOR.Configuration.Lambda, ...overrides } } });

const processorWithArn = (arn: string): ProcessorRequest => ({
  ...PROCESSOR,
  Configuration: { Lambda: { ResourceArn: arn, InvocationType: 'ASYNC' } },
});

describe('CreateChannelFlow request', () => {
  test('a valid request is returned as typed values, unknown members dropped', () => {
    assert.deepEqual(parseRequest(createChannelFlowSchema, { ...CREATE, Unknown: true }), CREATE);
  });

  test('Tags are accepted', () => {
    const tags = [{ Key: 'team', Value: 'trust-and-safety' }];
    assert.deepEqual(parseRequest(createChannelFlowSchema, { ...CREATE, Tags: tags }).Tags, tags);
  });

  for (const field of ['AppInstanceArn', 'Processors', 'Name', 'ClientRequestToken'] as const) {
    test(`${field} is required`, () => {
      const { [field]: _omitted, ...rest } = CREATE;
      assertBadRequest(() => parseRequest(createChannelFlowSchema, rest), `${field} is required`);
    });
  }

  test('Name: 256 characters pass, 257 are refused naming Name and 256; empty is refused', () => {
    assert.equal(parseRequest(createChannelFlowSchema, { ...CREATE, Name: 'n'.repeat(256) }).Name.length, 256);
    assertBadRequest(create({ Name: 'n'.repeat(257) }), 'Name', '256');
    assertBadRequest(create({ Name: '' }), 'Name', 'at least 1');
  });

  test('ClientRequestToken keeps the model limits (2-64, [-_a-zA-Z0-9])', () => {
    assertBadRequest(create({ ClientRequestToken: 'a' }), 'ClientRequestToken', '2');
    assertBadRequest(create({ ClientRequestToken: 'a'.repeat(65) }), 'ClientRequestToken', '64');
    assertBadRequest(create({ ClientRequestToken: 'no spaces' }), 'ClientRequestToken');
  });

  describe('Processors: 1 to 3 in the model, exactly 1 supported', () => {
    test('an empty list is refused, naming Processors and 1', () => {
      assertBadRequest(create({ Processors: [] }), 'Processors', 'at least 1');
    });
    for (const count of [2, 3, 4]) {
      test(`${count} processors are refused: only one processor is supported`, () => {
        assertBadRequest(create({ Processors: Array.from({ length: count }, () => PROCESSOR) }), 'Processors', `got ${count}`, 'only one processor is supported');
      });
    }
    test('two processors are refused for the count even when one of them is malformed', () => {
      assertBadRequest(create({ Processors: [PROCESSOR, { Name: '' }] }), 'only one processor is supported');
    });
    test('a non-list is refused, naming Processors', () => {
      assertBadRequest(create({ Processors: PROCESSOR }), 'Processors must be an array');
    });
  });

  describe('Processor', () => {
    test('Name is required and 1-256 characters', () => {
      const { Name: _name, ...noName } = PROCESSOR;
      assertBadRequest(create({ Processors: [noName] }), 'Processors[0].Name is required');
      assertBadRequest(withProcessor({ Name: '' }), 'Processors[0].Name', 'at least 1');
      assertBadRequest(withProcessor({ Name: 'p'.repeat(257) }), 'Processors[0].Name', '256');
    });

    test('ExecutionOrder must be 1', () => {
      for (const order of [0, 2, 3, -1]) {
        assertBadRequest(withProcessor({ ExecutionOrder: order }), 'Processors[0].ExecutionOrder must be 1', `got ${order}`);
      }
      assertBadRequest(withProcessor({ ExecutionOrder: 1.5 }), 'Processors[0].ExecutionOrder');
      assertBadRequest(withProcessor({ ExecutionOrder: '1' }), 'Processors[0].ExecutionOrder must be a number');
      const { ExecutionOrder: _order, ...noOrder } = PROCESSOR;
      assertBadRequest(create({ Processors: [noOrder] }), 'Processors[0].ExecutionOrder is required');
    });

    test('FallbackAction must be ABORT or CONTINUE', () => {
      assert.equal(parseRequest(createChannelFlowSchema, { ...CREATE, Processors: [{ ...PROCESSOR, FallbackAction: 'CONTINUE' }] }).Processors[0]?.FallbackAction, 'CONTINUE');
      assertBadRequest(withProcessor({ FallbackAction: 'RETRY' }), 'Processors[0].FallbackAction must be one of ABORT, CONTINUE', '"RETRY"');
      assertBadRequest(withProcessor({ FallbackAction: 'abort' }), 'Processors[0].FallbackAction');
      const { FallbackAction: _fallback, ...noFallback } = PROCESSOR;
      assertBadRequest(create({ Processors: [noFallback] }), 'Processors[0].FallbackAction is required');
    });

    test('Configuration.Lambda is required', () => {
      assertBadRequest(withProcessor({ Configuration: {} }), 'Processors[0].Configuration.Lambda is required');
      const { Configuration: _configuration, ...noConfiguration } = PROCESSOR;
      assertBadRequest(create({ Processors: [noConfiguration] }), 'Processors[0].Configuration is required');
    });

    test('Configuration.Lambda.InvocationType must be ASYNC', () => {
      assertBadRequest(withLambda({ InvocationType: 'SYNC' }), 'Processors[0].Configuration.Lambda.InvocationType must be ASYNC', '"SYNC"');
      assertBadRequest(withLambda({ InvocationType: undefined }), 'Processors[0].Configuration.Lambda.InvocationType is required');
    });

    describe('Configuration.Lambda.ResourceArn: the model pattern, 15-2048 characters', () => {
      const ACCEPTED = [
        FUNCTION,
        `${FUNCTION}:$LATEST`,
        `${FUNCTION}:live`,
        `${FUNCTION}:7`,
        'arn:aws:lambda:eu-west-1:123456789012:function:some.other_fn-1',
      ];
      for (const arn of ACCEPTED) {
        test(`accepted by the pattern: ${arn}`, () => {
          assert.equal(parseRequest(createChannelFlowSchema, { ...CREATE, Processors: [processorWithArn(arn)] }).Processors[0]?.Configuration.Lambda.ResourceArn, arn);
        });
      }
      const REFUSED: readonly (readonly [string, string])[] = [
        ['not an ARN', 'channel-flow-moderation'],
        ['a Chime ARN', channelFlowArn(APP, 'flow')],
        ['another partition', 'arn:aws-cn:lambda:cn-north-1:123456789012:function:channel-flow-x'],
        ['a layer, not a function', 'arn:aws:lambda:us-east-1:123456789012:layer:channel-flow-x'],
        ['an 11-digit account', 'arn:aws:lambda:us-east-1:12345678901:function:channel-flow-x'],
        ['a bad region', 'arn:aws:lambda:useast1:123456789012:function:channel-flow-x'],
        ['a bad qualifier', `${FUNCTION}:$PREVIOUS`],
        ['a slash in the name', 'arn:aws:lambda:us-east-1:123456789012:function:channel/flow'],
      ];
      for (const [label, arn] of REFUSED) {
        test(`refused: ${label}, naming the field and the pattern`, () => {
          assertBadRequest(
            () => parseRequest(createChannelFlowSchema, { ...CREATE, Processors: [processorWithArn(arn)] }),
            'Processors[0].Configuration.Lambda.ResourceArn must be a Lambda function ARN matching ^arn:aws:lambda:',
          );
        });
      }
      test('more than 2048 characters are refused, naming the field and 2048', () => {
        assertBadRequest(withLambda({ ResourceArn: `${FUNCTION}${'x'.repeat(2048)}` }), 'Processors[0].Configuration.Lambda.ResourceArn', '2048');
      });
      test('fewer than 15 characters are refused, naming the field and 15', () => {
        assertBadRequest(withLambda({ ResourceArn: 'arn:aws:lambda' }), 'Processors[0].Configuration.Lambda.ResourceArn', '15');
      });
      test('missing is refused', () => {
        assertBadRequest(withLambda({ ResourceArn: undefined }), 'Processors[0].Configuration.Lambda.ResourceArn is required');
      });
    });
  });
});

describe('UpdateChannelFlow, AssociateChannelFlow and the list queries', () => {
  test('UpdateChannelFlow needs Processors and Name, with the same processor rules', () => {
    assert.deepEqual(parseRequest(updateChannelFlowSchema, { Name: 'renamed', Processors: [PROCESSOR] }), { Name: 'renamed', Processors: [PROCESSOR] });
    assertBadRequest(() => parseRequest(updateChannelFlowSchema, { Processors: [PROCESSOR] }), 'Name is required');
    assertBadRequest(() => parseRequest(updateChannelFlowSchema, { Name: 'x' }), 'Processors is required');
    assertBadRequest(() => parseRequest(updateChannelFlowSchema, { Name: 'x', Processors: [PROCESSOR, PROCESSOR] }), 'only one processor is supported');
    assertBadRequest(
      () => parseRequest(updateChannelFlowSchema, { Name: 'x', Processors: [{ ...PROCESSOR, ExecutionOrder: 2 }] }),
      'Processors[0].ExecutionOrder must be 1',
    );
  });

  test('AssociateChannelFlow needs ChannelFlowArn', () => {
    assertBadRequest(() => parseRequest(associateChannelFlowSchema, {}), 'ChannelFlowArn is required');
    assertBadRequest(() => parseRequest(associateChannelFlowSchema, { ChannelFlowArn: 7 }), 'ChannelFlowArn must be a string');
  });

  test('ListChannelFlows needs app-instance-arn; max-results is 1-50', () => {
    assertBadRequest(() => parseRequest(listChannelFlowsQuerySchema, {}), 'app-instance-arn is required');
    const query = parseRequest(listChannelFlowsQuerySchema, { 'app-instance-arn': appInstanceArn(APP), 'max-results': '50' });
    assert.equal(query['max-results'], 50);
    assertBadRequest(() => parseRequest(listChannelFlowsQuerySchema, { 'app-instance-arn': appInstanceArn(APP), 'max-results': '51' }), 'max-results', '50');
    assertBadRequest(() => parseRequest(listChannelFlowsQuerySchema, { 'app-instance-arn': appInstanceArn(APP), 'max-results': '0' }), 'max-results', '1');
  });

  test('ListChannelsAssociatedWithChannelFlow needs channel-flow-arn', () => {
    assertBadRequest(() => parseRequest(listChannelsAssociatedWithChannelFlowQuerySchema, {}), 'channel-flow-arn is required');
    assertBadRequest(
      () => parseRequest(listChannelsAssociatedWithChannelFlowQuerySchema, { 'channel-flow-arn': channelFlowArn(APP, 'f'), 'next-token': 'x'.repeat(2049) }),
      'next-token',
      '2048',
    );
  });
});

describe('which functions a flow may name (region, account, prefix of this deployment)', () => {
  test('parseFunctionArn reads region, account and function name, without the qualifier', () => {
    assert.deepEqual(parseFunctionArn(`${FUNCTION}:$LATEST`), { region: APP.region, accountId: APP.accountId, functionName: 'channel-flow-moderation' });
    assert.equal(parseFunctionArn('not-an-arn'), undefined);
  });

  test('a function of this region and account whose name starts with the prefix is allowed, with or without a qualifier', () => {
    for (const arn of [FUNCTION, `${FUNCTION}:$LATEST`, `${FUNCTION}:prod`]) {
      assert.equal(isAllowedProcessorFunction(arn, SCOPE), true, arn);
      assert.doesNotThrow(() => assertProcessorsAllowed([processorWithArn(arn)], SCOPE));
    }
  });

  const REFUSED: readonly (readonly [string, string])[] = [
    ['another region', `arn:aws:lambda:eu-west-1:${APP.accountId}:function:channel-flow-moderation`],
    ['another account', `arn:aws:lambda:${APP.region}:999999999999:function:channel-flow-moderation`],
    ['a name without the prefix', `arn:aws:lambda:${APP.region}:${APP.accountId}:function:moderation`],
    ['the prefix in the middle of the name', `arn:aws:lambda:${APP.region}:${APP.accountId}:function:my-channel-flow-moderation`],
    ['the prefix in the qualifier only', `arn:aws:lambda:${APP.region}:${APP.accountId}:function:moderation:channel-flow-live`],
    ['the prefix in another case', `arn:aws:lambda:${APP.region}:${APP.accountId}:function:Channel-Flow-moderation`],
  ];
  for (const [label, arn] of REFUSED) {
    test(`refused: ${label}, naming the field, the prefix, the region, the account and the ARN`, () => {
      assert.equal(isAllowedProcessorFunction(arn, SCOPE), false);
      assertBadRequest(
        () => assertProcessorsAllowed([processorWithArn(arn)], SCOPE),
        `Processors[0].Configuration.Lambda.ResourceArn must name a function whose name starts with "channel-flow-" in ${APP.region} account ${APP.accountId}, got ${arn}`,
      );
    });
  }

  test('the prefix is configurable', () => {
    const scope = { ...SCOPE, prefix: 'acme-' };
    assert.equal(isAllowedProcessorFunction(FUNCTION, scope), false);
    assert.equal(isAllowedProcessorFunction(`arn:aws:lambda:${APP.region}:${APP.accountId}:function:acme-filter`, scope), true);
    assertBadRequest(() => assertProcessorsAllowed([processorWithArn(FUNCTION)], scope), '"acme-"');
  });

  test('the refusal names the index of the offending processor', () => {
    assertBadRequest(
      () => assertProcessorsAllowed([processorWithArn(FUNCTION), processorWithArn('arn:aws:lambda:us-east-1:999999999999:function:x')], SCOPE),
      'Processors[1].Configuration.Lambda.ResourceArn',
    );
  });
});

describe('processors, flows and associated channels on the wire', () => {
  const processors = toProcessors([PROCESSOR]);

  test('toProcessors keeps every member in the model', () => {
    assert.deepEqual(processors, [{ name: 'moderation', executionOrder: 1, fallbackAction: 'ABORT', lambdaArn: FUNCTION, invocationType: 'ASYNC' }]);
  });

  test('ChannelFlow and ChannelFlowSummary give the processors back as they were sent, timestamps in epoch seconds', () => {
    const flow = { flowId: 'f1', name: 'moderation flow', processors, createdAt: T0, lastUpdatedAt: T0 + 1500 };
    assert.deepEqual(toWireChannelFlow(APP, flow), {
      ChannelFlowArn: channelFlowArn(APP, 'f1'),
      Processors: [PROCESSOR],
      Name: 'moderation flow',
      CreatedTimestamp: T0 / 1000,
      LastUpdatedTimestamp: (T0 + 1500) / 1000,
    });
    assert.deepEqual(toWireChannelFlowSummary(APP, flow), { ChannelFlowArn: channelFlowArn(APP, 'f1'), Name: 'moderation flow', Processors: [PROCESSOR] });
  });

  test('ChannelAssociatedWithFlowSummary has Name, ChannelArn, Mode, Privacy and Metadata only', () => {
    const c = channel({ metadata: '{"a":1}', channelFlowArn: channelFlowArn(APP, 'f1') });
    assert.deepEqual(toWireChannelAssociatedWithFlow(APP, c), {
      Name: c.name,
      ChannelArn: channelArn(APP, c.channelId),
      Mode: c.mode,
      Privacy: c.privacy,
      Metadata: '{"a":1}',
    });
  });
});

describe('who may manage flows', () => {
  test('the developer APIs are for app instance admins; anyone else is refused naming the operation', () => {
    assert.doesNotThrow(() => assertCanManageChannelFlows(caller('root', true), 'CreateChannelFlow'));
    assertForbidden(() => assertCanManageChannelFlows(caller('alice'), 'CreateChannelFlow'), 'CreateChannelFlow', 'admin');
  });

  test('admins, the creator and listed moderators may associate; a member or stranger may not', () => {
    const c = channel();
    for (const who of [caller('root', true), caller('creator'), caller('moderator')]) {
      assert.doesNotThrow(() => assertCanManageChannelFlowAssociation({ channel: c, caller: who }), who.userId);
    }
    const member = caller('member');
    assertForbidden(() => assertCanManageChannelFlowAssociation({ channel: c, caller: member, membership: membership(member) }), 'moderators');
    assertForbidden(() => assertCanManageChannelFlowAssociation({ channel: c, caller: caller('stranger') }), 'moderators');
  });
});

describe('HTTP bindings of the flow operations (the decoded path, as the handler sees it)', () => {
  const CHANNEL = channelArn(APP, 'general');
  const FLOW = channelFlowArn(APP, 'f1');
  const CASES: readonly (readonly [string, string, Record<string, string>, string, readonly string[]])[] = [
    ['POST', '/channel-flows', {}, 'CreateChannelFlow', []],
    ['GET', '/channel-flows', { 'app-instance-arn': appInstanceArn(APP) }, 'ListChannelFlows', []],
    ['GET', `/channel-flows/${FLOW}`, {}, 'DescribeChannelFlow', [FLOW]],
    ['PUT', `/channel-flows/${FLOW}`, {}, 'UpdateChannelFlow', [FLOW]],
    ['DELETE', `/channel-flows/${FLOW}`, {}, 'DeleteChannelFlow', [FLOW]],
    ['PUT', `/channels/${CHANNEL}/channel-flow`, {}, 'AssociateChannelFlow', [CHANNEL]],
    ['DELETE', `/channels/${CHANNEL}/channel-flow/${FLOW}`, {}, 'DisassociateChannelFlow', [CHANNEL, FLOW]],
    ['GET', '/channels', { scope: 'channel-flow-associations', 'channel-flow-arn': FLOW }, 'ListChannelsAssociatedWithChannelFlow', []],
    // The neighbours still route where they did.
    ['GET', '/channels', { 'app-instance-arn': appInstanceArn(APP) }, 'ListChannels', []],
    ['GET', `/channels/${CHANNEL}`, {}, 'DescribeChannel', [CHANNEL]],
    ['DELETE', `/channels/${CHANNEL}`, {}, 'DeleteChannel', [CHANNEL]],
    ['DELETE', '/channels/arn:aws:chime:us-east-1:111122223333:app-instance/channel-flow/channel/c', {}, 'DeleteChannel', [
      'arn:aws:chime:us-east-1:111122223333:app-instance/channel-flow/channel/c',
    ]],
  ];
  for (const [method, path, query, operation, labels] of CASES) {
    const shownPath = path.replaceAll(FLOW, '{ChannelFlowArn}').replaceAll(CHANNEL, '{ChannelArn}').replace(/arn:.*\/channel\/c$/, '{ChannelArn of app instance "channel-flow"}');
    const shownQuery = query.scope !== undefined ? `?scope=${query.scope}` : '';
    test(`${method} ${shownPath}${shownQuery} → ${operation}`, () => {
      assert.deepEqual(matchRoute(method, path, query), { operation, labels });
    });
  }
});
