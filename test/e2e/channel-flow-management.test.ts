import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AssociateChannelFlowCommand,
  CreateChannelCommand,
  CreateChannelFlowCommand,
  CreateChannelMembershipCommand,
  DeleteChannelCommand,
  DeleteChannelFlowCommand,
  DescribeChannelCommand,
  DescribeChannelFlowCommand,
  DisassociateChannelFlowCommand,
  ListChannelFlowsCommand,
  ListChannelsAssociatedWithChannelFlowCommand,
  UpdateChannelFlowCommand,
  type ChannelAssociatedWithFlowSummary,
  type ChannelFlowSummary,
  type CreateChannelCommandInput,
  type CreateChannelFlowCommandInput,
  type Processor,
} from '@aws-sdk/client-chime-sdk-messaging';
import { expectServiceError } from '../support/expect-error';
import { startLocalSystem, type LocalSystem, type LocalUser } from '../support/local-system';
import { rawRequest } from '../support/raw-http';
import { TableInspector } from '../support/table-inspector';

/**
 * Channel flow management end to end: one local runtime (a separate process, as `npm start` runs
 * it), driven through the official Chime SDK Messaging client. Flows are managed by an app instance
 * admin (the "developer APIs"); channels' moderators associate them. The local app instance is in
 * us-east-1, account 000000000000, and processors must be named with the default prefix `channel-flow-`.
 */

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const MODERATION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:channel-flow-moderation`;
const ENRICHMENT = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:channel-flow-enrichment`;
const RESOURCE_ARN_FIELD = 'Processors[0].Configuration.Lambda.ResourceArn';

let system: LocalSystem;
let tables: TableInspector;
let appInstanceArn: string;
let admin: LocalUser;

before(async () => {
  system = await startLocalSystem();
  appInstanceArn = system.ready.appInstanceArn;
  tables = new TableInspector(system.ready);
  admin = await system.user('root', { admin: true });
});

after(async () => {
  tables?.destroy();
  await system?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers

let counter = 0;
const unique = (prefix: string) => `${prefix}-${(counter += 1)}`;
const user = (prefix: string): Promise<LocalUser> => system.user(unique(prefix));
const idOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

function processor(overrides: Partial<Processor> & { readonly resourceArn?: string } = {}): Processor {
  const { resourceArn, ...rest } = overrides;
  return {
    Name: 'moderation',
    Configuration: { Lambda: { ResourceArn: resourceArn ?? MODERATION, InvocationType: 'ASYNC' } },
    ExecutionOrder: 1,
    FallbackAction: 'ABORT',
    ...rest,
  };
}

const createFlowInput = (input: Partial<CreateChannelFlowCommandInput> = {}): CreateChannelFlowCommandInput => ({
  AppInstanceArn: appInstanceArn,
  Name: unique('flow'),
  Processors: [processor()],
  ClientRequestToken: randomUUID(),
  ...input,
});

async function createFlow(input: Partial<CreateChannelFlowCommandInput> = {}): Promise<string> {
  const output = await admin.client.send(new CreateChannelFlowCommand(createFlowInput(input)));
  assert.equal(output.$metadata.httpStatusCode, 201);
  assert.ok(output.ChannelFlowArn, 'CreateChannelFlow returns a ChannelFlowArn');
  return output.ChannelFlowArn;
}

async function createChannel(owner: LocalUser, input: Partial<CreateChannelCommandInput> = {}): Promise<string> {
  const output = await owner.client.send(
    new CreateChannelCommand({
      AppInstanceArn: appInstanceArn,
      Name: unique('channel'),
      ChimeBearer: owner.arn,
      ClientRequestToken: randomUUID(),
      ...input,
    }),
  );
  assert.ok(output.ChannelArn);
  return output.ChannelArn;
}

const associate = (by: LocalUser, channelArn: string, flowArn: string) =>
  by.client.send(new AssociateChannelFlowCommand({ ChannelArn: channelArn, ChannelFlowArn: flowArn, ChimeBearer: by.arn }));
const disassociate = (by: LocalUser, channelArn: string, flowArn: string) =>
  by.client.send(new DisassociateChannelFlowCommand({ ChannelArn: channelArn, ChannelFlowArn: flowArn, ChimeBearer: by.arn }));
const describeFlow = (flowArn: string, by: LocalUser = admin) => by.client.send(new DescribeChannelFlowCommand({ ChannelFlowArn: flowArn }));
const deleteFlow = (flowArn: string, by: LocalUser = admin) => by.client.send(new DeleteChannelFlowCommand({ ChannelFlowArn: flowArn }));
const describeChannel = (by: LocalUser, channelArn: string) =>
  by.client.send(new DescribeChannelCommand({ ChannelArn: channelArn, ChimeBearer: by.arn }));

async function allFlows(maxResults?: number): Promise<{ pages: ChannelFlowSummary[][]; flows: ChannelFlowSummary[] }> {
  const pages: ChannelFlowSummary[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await admin.client.send(
      new ListChannelFlowsCommand({
        AppInstanceArn: appInstanceArn,
        ...(maxResults !== undefined && { MaxResults: maxResults }),
        ...(nextToken !== undefined && { NextToken: nextToken }),
      }),
    );
    pages.push(page.ChannelFlows ?? []);
    nextToken = page.NextToken;
    assert.ok(pages.length <= 100, 'pagination must end');
  } while (nextToken !== undefined);
  return { pages, flows: pages.flat() };
}

async function allAssociatedChannels(flowArn: string, maxResults?: number): Promise<{ pages: ChannelAssociatedWithFlowSummary[][]; channels: ChannelAssociatedWithFlowSummary[] }> {
  const pages: ChannelAssociatedWithFlowSummary[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await admin.client.send(
      new ListChannelsAssociatedWithChannelFlowCommand({
        ChannelFlowArn: flowArn,
        ...(maxResults !== undefined && { MaxResults: maxResults }),
        ...(nextToken !== undefined && { NextToken: nextToken }),
      }),
    );
    pages.push(page.Channels ?? []);
    nextToken = page.NextToken;
    assert.ok(pages.length <= 100, 'pagination must end');
  } while (nextToken !== undefined);
  return { pages, channels: pages.flat() };
}

function assertNearNow(value: Date | undefined, label: string): void {
  assert.ok(value instanceof Date, `${label} is a Date, got ${String(value)}`);
  assert.ok(Math.abs(value.getTime() - Date.now()) < 60_000, `${label} ${value.toISOString()} is within a minute of now`);
}

// ---------------------------------------------------------------------------------------------

describe('creating, reading, changing, listing and deleting flows (app instance admins)', () => {
  test('a created flow is described with its ARN, processor, name and timestamps', async () => {
    const name = unique('moderation-flow');
    const flowArn = await createFlow({ Name: name, Processors: [processor({ Name: 'moderator', FallbackAction: 'CONTINUE' })] });
    assert.match(flowArn, new RegExp(`^${appInstanceArn}/channel-flow/[A-Za-z0-9]+$`));

    const { ChannelFlow: flow, $metadata } = await describeFlow(flowArn);
    assert.equal($metadata.httpStatusCode, 200);
    assert.ok(flow);
    assert.equal(flow.ChannelFlowArn, flowArn);
    assert.equal(flow.Name, name);
    assert.deepEqual(flow.Processors, [
      {
        Name: 'moderator',
        Configuration: { Lambda: { ResourceArn: MODERATION, InvocationType: 'ASYNC' } },
        ExecutionOrder: 1,
        FallbackAction: 'CONTINUE',
      },
    ]);
    assertNearNow(flow.CreatedTimestamp, 'CreatedTimestamp');
    assert.equal(flow.LastUpdatedTimestamp?.getTime(), flow.CreatedTimestamp?.getTime());

    // Stored as designed: the flow item in its own partition, indexed under FLOWS for listing.
    const [item, ...others] = await tables.query('channels', `FLOW#${idOf(flowArn)}`);
    assert.equal(others.length, 0);
    assert.equal(item?.sk, 'FLOW');
    assert.equal(item?.gsi1pk, 'FLOWS');
    assert.equal(item?.gsi1sk, `FLOW#${idOf(flowArn)}`);
  });

  test('UpdateChannelFlow replaces name and processor and moves LastUpdatedTimestamp, not CreatedTimestamp', async () => {
    const flowArn = await createFlow();
    const before = (await describeFlow(flowArn)).ChannelFlow!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const updated = await admin.client.send(
      new UpdateChannelFlowCommand({
        ChannelFlowArn: flowArn,
        Name: 'renamed',
        Processors: [processor({ Name: 'enricher', resourceArn: `${ENRICHMENT}:$LATEST`, FallbackAction: 'CONTINUE' })],
      }),
    );
    assert.equal(updated.$metadata.httpStatusCode, 200);
    assert.equal(updated.ChannelFlowArn, flowArn);

    const after = (await describeFlow(flowArn)).ChannelFlow!;
    assert.equal(after.Name, 'renamed');
    assert.deepEqual(after.Processors, [
      { Name: 'enricher', Configuration: { Lambda: { ResourceArn: `${ENRICHMENT}:$LATEST`, InvocationType: 'ASYNC' } }, ExecutionOrder: 1, FallbackAction: 'CONTINUE' },
    ]);
    assert.equal(after.CreatedTimestamp?.getTime(), before.CreatedTimestamp?.getTime());
    assert.ok(after.LastUpdatedTimestamp! > before.LastUpdatedTimestamp!, 'LastUpdatedTimestamp moved forward');
  });

  test('UpdateChannelFlow follows the same processor rules as CreateChannelFlow', async () => {
    const flowArn = await createFlow();
    await expectServiceError(
      admin.client.send(
        new UpdateChannelFlowCommand({ ChannelFlowArn: flowArn, Name: 'x', Processors: [processor({ resourceArn: 'arn:aws:lambda:us-east-1:000000000000:function:other' })] }),
      ),
      'BadRequestException',
      400,
      RESOURCE_ARN_FIELD,
      '"channel-flow-"',
    );
    await expectServiceError(
      admin.client.send(new UpdateChannelFlowCommand({ ChannelFlowArn: flowArn, Name: 'x', Processors: [processor({ ExecutionOrder: 2 })] })),
      'BadRequestException',
      400,
      'Processors[0].ExecutionOrder must be 1',
    );
    assert.equal((await describeFlow(flowArn)).ChannelFlow?.Processors?.[0]?.Configuration?.Lambda?.ResourceArn, MODERATION, 'unchanged');
  });

  test('ListChannelFlows pages through every flow with MaxResults, each exactly once', async () => {
    const created = new Set<string>();
    for (let index = 0; index < 5; index += 1) created.add(await createFlow({ Name: unique('listed') }));

    const { pages, flows } = await allFlows(2);
    assert.ok(pages.length >= 3, `5+ flows in pages of 2 make at least 3 pages, got ${pages.length}`);
    for (const page of pages) assert.ok(page.length <= 2, `a page holds at most 2 flows, got ${page.length}`);
    const arns = flows.map((flow) => flow.ChannelFlowArn);
    assert.equal(new Set(arns).size, arns.length, 'no flow is listed twice');
    for (const arn of created) assert.ok(arns.includes(arn), `${arn} is listed`);

    const summary = flows.find((flow) => flow.ChannelFlowArn === [...created][0]);
    assert.deepEqual(Object.keys(summary ?? {}).sort(), ['ChannelFlowArn', 'Name', 'Processors']);
    assert.deepEqual(summary?.Processors, [processor()]);

    // Without MaxResults, up to 50 flows a page.
    const unpaged = await allFlows();
    assert.deepEqual(new Set(unpaged.flows.map((flow) => flow.ChannelFlowArn)), new Set(arns));
  });

  test('ListChannelFlows refuses an app instance other than this one, and a NextToken of another listing', async () => {
    await expectServiceError(
      admin.client.send(new ListChannelFlowsCommand({ AppInstanceArn: 'arn:aws:chime:us-east-1:000000000000:app-instance/other' })),
      'BadRequestException',
      400,
      'app-instance-arn',
    );
    await expectServiceError(
      admin.client.send(new ListChannelFlowsCommand({ AppInstanceArn: appInstanceArn, NextToken: Buffer.from('{"gsi1pk":"PRIVACY#PUBLIC"}').toString('base64url') })),
      'BadRequestException',
      400,
      'NextToken',
    );
  });

  test('a deleted flow is gone: 204, then NotFound for Describe, Update, Delete and Associate', async () => {
    const flowArn = await createFlow();
    const deleted = await deleteFlow(flowArn);
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await expectServiceError(describeFlow(flowArn), 'NotFoundException', 404, flowArn);
    await expectServiceError(deleteFlow(flowArn), 'NotFoundException', 404, flowArn);
    await expectServiceError(
      admin.client.send(new UpdateChannelFlowCommand({ ChannelFlowArn: flowArn, Name: 'x', Processors: [processor()] })),
      'NotFoundException',
      404,
    );
    const owner = await user('owner');
    const channelArn = await createChannel(owner);
    await expectServiceError(associate(owner, channelArn, flowArn), 'NotFoundException', 404, flowArn);
    assert.deepEqual(await tables.query('channels', `FLOW#${idOf(flowArn)}`), [], 'nothing of the flow is left');
    assert.ok(!(await allFlows()).flows.some((flow) => flow.ChannelFlowArn === flowArn), 'no longer listed');
  });

  test('CreateChannelFlow is idempotent: the same ClientRequestToken answers with the same flow and creates no other', async () => {
    const input = createFlowInput({ Name: unique('idempotent') });
    const first = await admin.client.send(new CreateChannelFlowCommand(input));
    const retry = await admin.client.send(new CreateChannelFlowCommand(input));
    assert.equal(retry.ChannelFlowArn, first.ChannelFlowArn);
    const named = (await allFlows()).flows.filter((flow) => flow.Name === input.Name);
    assert.equal(named.length, 1, 'one flow with that name');

    await expectServiceError(
      admin.client.send(new CreateChannelFlowCommand({ ...input, Name: 'something else' })),
      'ConflictException',
      409,
      'ClientRequestToken',
    );
  });

  test('the SDK fills in a missing ClientRequestToken, so two creations without one make two flows', async () => {
    const { ClientRequestToken: _token, ...input } = createFlowInput();
    const first = await admin.client.send(new CreateChannelFlowCommand(input as CreateChannelFlowCommandInput));
    const second = await admin.client.send(new CreateChannelFlowCommand(input as CreateChannelFlowCommandInput));
    assert.notEqual(first.ChannelFlowArn, second.ChannelFlowArn);
  });
});

describe('which processors a flow may name', () => {
  const REFUSED: readonly (readonly [string, string])[] = [
    ['a function in another account', `arn:aws:lambda:${REGION}:123456789012:function:channel-flow-moderation`],
    ['a function in another region', `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:channel-flow-moderation`],
    ['a function without the prefix', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:moderation`],
  ];
  for (const [label, arn] of REFUSED) {
    test(`${label} is refused with 400 naming the field, the prefix, region and account`, async () => {
      await expectServiceError(
        admin.client.send(new CreateChannelFlowCommand(createFlowInput({ Processors: [processor({ resourceArn: arn })] }))),
        'BadRequestException',
        400,
        `${RESOURCE_ARN_FIELD} must name a function whose name starts with "channel-flow-" in ${REGION} account ${ACCOUNT}, got ${arn}`,
      );
    });
  }

  test('an ARN that is not a Lambda function ARN is refused naming the field and the pattern', async () => {
    await expectServiceError(
      admin.client.send(new CreateChannelFlowCommand(createFlowInput({ Processors: [processor({ resourceArn: 'arn:aws:sqs:us-east-1:000000000000:channel-flow-queue' })] }))),
      'BadRequestException',
      400,
      RESOURCE_ARN_FIELD,
      '^arn:aws:lambda:',
    );
  });

  test('more than one processor is refused: only one is supported', async () => {
    await expectServiceError(
      admin.client.send(
        new CreateChannelFlowCommand(createFlowInput({ Processors: [processor(), processor({ Name: 'second', ExecutionOrder: 2, resourceArn: ENRICHMENT })] })),
      ),
      'BadRequestException',
      400,
      'Processors',
      'only one processor is supported',
    );
  });

  test('ExecutionOrder other than 1, an unknown FallbackAction and an InvocationType other than ASYNC are refused naming the field', async () => {
    const cases: readonly (readonly [Processor, string])[] = [
      [processor({ ExecutionOrder: 2 }), 'Processors[0].ExecutionOrder must be 1'],
      [processor({ FallbackAction: 'RETRY' as Processor['FallbackAction'] }), 'Processors[0].FallbackAction must be one of ABORT, CONTINUE'],
      [
        { ...processor(), Configuration: { Lambda: { ResourceArn: MODERATION, InvocationType: 'SYNC' as 'ASYNC' } } },
        'Processors[0].Configuration.Lambda.InvocationType must be ASYNC',
      ],
      [processor({ Name: 'n'.repeat(257) }), 'Processors[0].Name must be at most 256 characters'],
    ];
    for (const [bad, message] of cases) {
      await expectServiceError(admin.client.send(new CreateChannelFlowCommand(createFlowInput({ Processors: [bad] }))), 'BadRequestException', 400, message);
    }
  });

  test('an AppInstanceArn other than this deployment\'s is refused naming the field', async () => {
    await expectServiceError(
      admin.client.send(new CreateChannelFlowCommand(createFlowInput({ AppInstanceArn: 'arn:aws:chime:us-east-1:000000000000:app-instance/other' }))),
      'BadRequestException',
      400,
      'AppInstanceArn',
    );
  });

  test('nothing is stored for a refused flow', async () => {
    const before = (await allFlows()).flows.length;
    const name = unique('refused');
    await expectServiceError(
      admin.client.send(new CreateChannelFlowCommand(createFlowInput({ Name: name, Processors: [processor({ resourceArn: 'arn:aws:lambda:us-east-1:000000000000:function:nope' })] }))),
      'BadRequestException',
      400,
    );
    const after = await allFlows();
    assert.equal(after.flows.length, before);
    assert.ok(!after.flows.some((flow) => flow.Name === name));
  });
});

describe('only app instance admins manage flows', () => {
  test('a non-admin is refused 403 on Create, Describe, Update, Delete, ListChannelFlows and ListChannelsAssociatedWithChannelFlow', async () => {
    const flowArn = await createFlow();
    const alice = await user('alice');
    const calls: readonly (readonly [string, () => Promise<unknown>])[] = [
      ['CreateChannelFlow', () => alice.client.send(new CreateChannelFlowCommand(createFlowInput()))],
      ['DescribeChannelFlow', () => describeFlow(flowArn, alice)],
      ['UpdateChannelFlow', () => alice.client.send(new UpdateChannelFlowCommand({ ChannelFlowArn: flowArn, Name: 'mine', Processors: [processor()] }))],
      ['DeleteChannelFlow', () => deleteFlow(flowArn, alice)],
      ['ListChannelFlows', () => alice.client.send(new ListChannelFlowsCommand({ AppInstanceArn: appInstanceArn }))],
      ['ListChannelsAssociatedWithChannelFlow', () => alice.client.send(new ListChannelsAssociatedWithChannelFlowCommand({ ChannelFlowArn: flowArn }))],
    ];
    for (const [operation, call] of calls) {
      await expectServiceError(call(), 'ForbiddenException', 403, operation, 'admin');
    }
    const flow = (await describeFlow(flowArn)).ChannelFlow;
    assert.notEqual(flow?.Name, 'mine', 'the refused update changed nothing');
  });

  test('without a token the gateway answers 401', async () => {
    await expectServiceError(system.anonymousClient().send(new ListChannelFlowsCommand({ AppInstanceArn: appInstanceArn })), 'UnauthorizedClientException', 401);
  });

  test('the developer APIs need no x-amz-chime-bearer header (raw HTTP with the token only)', async () => {
    const response = await rawRequest(system.ready.restUrl, {
      method: 'GET',
      path: `/channel-flows?app-instance-arn=${encodeURIComponent(appInstanceArn)}&max-results=1`,
      headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal(response.status, 200, response.text);
    assert.ok(Array.isArray((response.json as { ChannelFlows?: unknown }).ChannelFlows));
  });
});

describe('associating flows with channels', () => {
  test('the channel creator associates a flow; DescribeChannel shows it; the flow lists the channel', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner, { Name: 'moderated', Mode: 'RESTRICTED', Privacy: 'PUBLIC', Metadata: '{"m":1}' });
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, undefined);

    const output = await associate(owner, channelArn, flowArn);
    assert.equal(output.$metadata.httpStatusCode, 200);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, flowArn);

    const { channels } = await allAssociatedChannels(flowArn);
    assert.deepEqual(channels, [{ Name: 'moderated', ChannelArn: channelArn, Mode: 'RESTRICTED', Privacy: 'PUBLIC', Metadata: '{"m":1}' }]);

    // Stored as designed: the channel item names the flow; an association item in the flow's partition.
    const [channelItem] = await tables.query('channels', `CHANNEL#${idOf(channelArn)}`, 'CHANNEL');
    assert.equal(channelItem?.channelFlowArn, flowArn);
    const associations = await tables.query('channels', `FLOW#${idOf(flowArn)}`, 'CHANNEL#');
    assert.deepEqual(associations.map((item) => item.sk), [`CHANNEL#${idOf(channelArn)}`]);
  });

  test('a listed moderator and an app instance admin may associate; a plain member and a stranger are refused 403', async () => {
    const owner = await user('owner');
    const moderator = await user('moderator');
    const member = await user('member');
    const stranger = await user('stranger');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner, { ModeratorArns: [moderator.arn], MemberArns: [owner.arn, member.arn], Privacy: 'PUBLIC' });

    await expectServiceError(associate(member, channelArn, flowArn), 'ForbiddenException', 403, 'moderators');
    await expectServiceError(associate(stranger, channelArn, flowArn), 'ForbiddenException', 403, 'moderators');
    await expectServiceError(disassociate(member, channelArn, flowArn), 'ForbiddenException', 403, 'moderators');
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, undefined, 'the refusals changed nothing');

    await associate(moderator, channelArn, flowArn);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, flowArn);
    await expectServiceError(disassociate(member, channelArn, flowArn), 'ForbiddenException', 403, 'moderators');
    await disassociate(moderator, channelArn, flowArn);

    await associate(admin, channelArn, flowArn);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, flowArn);
    await disassociate(admin, channelArn, flowArn);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, undefined);
  });

  test('AssociateChannelFlow needs the bearer to be the caller', async () => {
    const owner = await user('owner');
    const other = await user('other');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner);
    await expectServiceError(
      owner.client.send(new AssociateChannelFlowCommand({ ChannelArn: channelArn, ChannelFlowArn: flowArn, ChimeBearer: other.arn })),
      'ForbiddenException',
      403,
      'x-amz-chime-bearer',
    );
  });

  test('a channel has at most one flow: associating a second one is a ConflictException; the same one again changes nothing', async () => {
    const owner = await user('owner');
    const first = await createFlow();
    const second = await createFlow();
    const channelArn = await createChannel(owner);
    await associate(owner, channelArn, first);
    await expectServiceError(associate(owner, channelArn, second), 'ConflictException', 409, first);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, first);
    assert.deepEqual(await tables.query('channels', `FLOW#${idOf(second)}`, 'CHANNEL#'), [], 'the loser left no association item');
    assert.deepEqual((await allAssociatedChannels(second)).channels, []);

    const again = await associate(owner, channelArn, first);
    assert.equal(again.$metadata.httpStatusCode, 200);
    assert.deepEqual((await allAssociatedChannels(first)).channels.map((channel) => channel.ChannelArn), [channelArn]);
  });

  test('of two concurrent associations of different flows with one channel exactly one wins', async () => {
    const owner = await user('owner');
    const flows = [await createFlow(), await createFlow(), await createFlow()];
    const channelArn = await createChannel(owner);
    const results = await Promise.allSettled(flows.map((flowArn) => associate(owner, channelArn, flowArn)));
    const won = flows.filter((_, index) => results[index]?.status === 'fulfilled');
    assert.equal(won.length, 1, `exactly one association succeeds: ${JSON.stringify(results.map((result) => result.status))}`);
    for (const result of results) {
      if (result.status === 'rejected') assert.equal((result.reason as Error).name, 'ConflictException');
    }
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, won[0]);
    for (const flowArn of flows) {
      const listed = (await allAssociatedChannels(flowArn)).channels.map((channel) => channel.ChannelArn);
      assert.deepEqual(listed, flowArn === won[0] ? [channelArn] : []);
    }
  });

  test('a flow can serve many channels; ListChannelsAssociatedWithChannelFlow pages through them', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const channelArns: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const channelArn = await createChannel(owner);
      await associate(owner, channelArn, flowArn);
      channelArns.push(channelArn);
    }
    const { pages, channels } = await allAssociatedChannels(flowArn, 2);
    assert.equal(pages.length, 3);
    for (const page of pages) assert.ok(page.length <= 2);
    assert.deepEqual(channels.map((channel) => channel.ChannelArn).sort(), [...channelArns].sort());
  });

  test('DeleteChannelFlow is refused with ConflictException while a channel uses the flow, and allowed after DisassociateChannelFlow', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner);
    await associate(owner, channelArn, flowArn);

    await expectServiceError(deleteFlow(flowArn), 'ConflictException', 409, flowArn, 'disassociate');
    assert.ok((await describeFlow(flowArn)).ChannelFlow, 'the flow is still there');
    // The refused deletion did not leave the flow half deleted: it can still be associated.
    const another = await createChannel(owner);
    await associate(owner, another, flowArn);
    await disassociate(owner, another, flowArn);

    const output = await disassociate(owner, channelArn, flowArn);
    assert.equal(output.$metadata.httpStatusCode, 204);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, undefined);
    assert.deepEqual((await allAssociatedChannels(flowArn)).channels, []);

    await deleteFlow(flowArn);
    await expectServiceError(describeFlow(flowArn), 'NotFoundException', 404);
  });

  test('deleting a channel releases its flow', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner);
    await associate(owner, channelArn, flowArn);
    await owner.client.send(new DeleteChannelCommand({ ChannelArn: channelArn, ChimeBearer: owner.arn }));
    assert.deepEqual((await allAssociatedChannels(flowArn)).channels, []);
    await deleteFlow(flowArn);
  });

  test('DisassociateChannelFlow of a flow that is not the channel\'s: NotFound without a flow, Conflict with another', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const otherArn = await createFlow();
    const channelArn = await createChannel(owner);
    await expectServiceError(disassociate(owner, channelArn, flowArn), 'NotFoundException', 404, 'no channel flow');
    await associate(owner, channelArn, otherArn);
    await expectServiceError(disassociate(owner, channelArn, flowArn), 'ConflictException', 409, otherArn);
    assert.equal((await describeChannel(owner, channelArn)).Channel?.ChannelFlowArn, otherArn, 'unchanged');
  });

  test('bad ARNs: a malformed ChannelFlowArn is a BadRequest naming it; an unknown channel is NotFound', async () => {
    const owner = await user('owner');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner);
    await expectServiceError(associate(owner, channelArn, 'not-an-arn'), 'BadRequestException', 400, 'ChannelFlowArn');
    await expectServiceError(associate(owner, channelArn, channelArn), 'BadRequestException', 400, 'ChannelFlowArn', 'channel-flow');
    await expectServiceError(associate(owner, `${appInstanceArn}/channel/missing`, flowArn), 'NotFoundException', 404, 'missing');
    await expectServiceError(describeFlow(`${appInstanceArn}/channel-flow/missing`), 'NotFoundException', 404);
    await expectServiceError(
      admin.client.send(new ListChannelsAssociatedWithChannelFlowCommand({ ChannelFlowArn: `${appInstanceArn}/channel/x` })),
      'BadRequestException',
      400,
      'channel-flow-arn',
    );
  });

  test('a member added later still may not associate; its membership does not make it a moderator', async () => {
    const owner = await user('owner');
    const joiner = await user('joiner');
    const flowArn = await createFlow();
    const channelArn = await createChannel(owner, { Mode: 'UNRESTRICTED', Privacy: 'PUBLIC' });
    await joiner.client.send(new CreateChannelMembershipCommand({ ChannelArn: channelArn, MemberArn: joiner.arn, Type: 'DEFAULT', ChimeBearer: joiner.arn }));
    await expectServiceError(associate(joiner, channelArn, flowArn), 'ForbiddenException', 403);
  });
});
