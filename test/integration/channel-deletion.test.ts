import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiGatewayConnectionNotifier, createManagementClient } from '../../lambdas/adapters/connection-notifier';
import { DynamoDbChannelRepository } from '../../lambdas/adapters/dynamodb/channel-repository';
import { DynamoDbConnectionRepository } from '../../lambdas/adapters/dynamodb/connection-repository';
import { DynamoDbMessageRepository } from '../../lambdas/adapters/dynamodb/message-repository';
import { userArn, type AppInstance } from '../../lambdas/core/arns';
import { isChimeError } from '../../lambdas/core/errors';
import type { Caller } from '../../lambdas/core/model';
import { ChannelService } from '../../lambdas/services/channel-service';
import { FanoutService } from '../../lambdas/services/fanout-service';
import { startTestDynamo, type TestDynamo } from '../local/support';
import { FakeConnectionsApi } from './support';

/**
 * DeleteChannel answers after one write (a tombstone); the channel's memberships and messages go
 * later, from the stream. Meanwhile the channel is gone for everyone, its id is not reusable, and
 * removing its members is not announced member by member.
 */
const APP: AppInstance = { partition: 'aws', region: 'us-east-1', accountId: '000000000000', appInstanceId: 'local' };
const clock = { now: () => Date.now() };
const caller = (userId: string): Caller => ({ userId, userArn: userArn(APP, userId), name: userId, isAdmin: false });
const alice = caller('alice');

let store: TestDynamo;
let channels: DynamoDbChannelRepository;
let messages: DynamoDbMessageRepository;
let service: ChannelService;
let api: FakeConnectionsApi;

before(async () => {
  // What the notifier's SDK client reads, as in Lambda (it takes only an endpoint).
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_EC2_METADATA_DISABLED: 'true' });
  store = await startTestDynamo();
  channels = new DynamoDbChannelRepository(store.doc, store.dynamo.tableNames.channels);
  messages = new DynamoDbMessageRepository(store.doc, store.dynamo.tableNames.messages);
  service = new ChannelService(APP, channels, messages, clock);
  api = await FakeConnectionsApi.start();
});

after(async () => {
  await api.stop();
  await store.stop();
});

const create = (channelId: string, members: readonly Caller[]) =>
  service.createChannel(alice, {
    AppInstanceArn: `arn:aws:chime:us-east-1:000000000000:app-instance/local`,
    Name: channelId,
    ClientRequestToken: `token-${channelId}-${Date.now()}`,
    ChannelId: channelId,
    MemberArns: members.map((member) => member.userArn),
  });

test('a deleted channel is gone at once, its id stays taken until the cleanup, then is free again', async () => {
  const arn = await create('doomed', [alice, caller('bob')]);
  await service.deleteChannel(alice, arn);

  assert.equal(await channels.getChannel('doomed'), undefined);
  assert.deepEqual(await channels.getChannels(['doomed']), []);
  assert.equal(await channels.channelExists('doomed'), false);
  const listed = await channels.listChannelsByPrivacy('PRIVATE', { limit: 50 });
  assert.ok(!listed.items.some((channel) => channel.channelId === 'doomed'), 'out of the privacy listing');
  await assert.rejects(create('doomed', [alice]), (error: unknown) => isChimeError(error) && error.shape === 'ConflictException');
  // Its memberships are still stored until the cleanup runs.
  assert.equal((await channels.listMemberships('doomed', { limit: 50 })).items.length, 2);

  await service.purgeDeletedChannel('doomed');
  assert.deepEqual((await channels.listMemberships('doomed', { limit: 50 })).items, []);
  await create('doomed', [alice]);
  assert.equal((await channels.getChannel('doomed'))?.name, 'doomed');
});

test("removing a deleted channel's members is not announced; removing a member of a live channel is", async () => {
  const connections = new DynamoDbConnectionRepository(store.doc, store.dynamo.tableNames.connections);
  const fanout = new FanoutService(APP, channels, connections, new ApiGatewayConnectionNotifier(createManagementClient(api.endpoint)));
  const bob = caller('bob2');
  await connections.enrolConnection({ connectionId: 'bob-tab', userArn: bob.userArn, connectedAt: Date.now(), expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  const live = await create('live', [alice, bob]);
  const membership = (await channels.getMembership('live', alice.userArn))!;
  const removal = { eventType: 'DELETE_CHANNEL_MEMBERSHIP', messageType: 'SYSTEM', audience: { kind: 'CHANNEL_MEMBERS', channelId: 'live', alsoUserArns: [] }, membership } as const;

  assert.deepEqual(await fanout.publish(removal), { delivered: 1, gone: 0 });
  await service.deleteChannel(alice, live);
  api.reset();
  assert.deepEqual(await fanout.publish(removal), { delivered: 0, gone: 0 });
  assert.equal(api.posts.length, 0);
});
