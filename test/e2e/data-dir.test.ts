import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateChannelCommand, ListChannelMessagesCommand, SendChannelMessageCommand } from '@aws-sdk/client-chime-sdk-messaging';
import { startLocalSystem } from '../support/local-system';

/** `npm start -- --data-dir DIR` keeps channels, messages and the token issuer's key across restarts. */
const dataDir = mkdtempSync(join(tmpdir(), 'channel-flows-data-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('with --data-dir, a restarted runtime still has the channel, its messages, and accepts the earlier token', async () => {
  const first = await startLocalSystem(['--data-dir', dataDir]);
  const alice = await first.user('alice', { name: 'Alice' });
  let channelArn: string;
  try {
    const created = await alice.client.send(
      new CreateChannelCommand({ AppInstanceArn: first.ready.appInstanceArn, Name: 'kept', ChimeBearer: alice.arn, MemberArns: [alice.arn] }),
    );
    channelArn = created.ChannelArn as string;
    await alice.client.send(
      new SendChannelMessageCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn, Content: 'still here', Type: 'STANDARD', Persistence: 'PERSISTENT' }),
    );
  } finally {
    await first.stop();
  }

  const second = await startLocalSystem(['--data-dir', dataDir]);
  try {
    // The same token, minted by the first run's issuer, verifies against the key kept on disk.
    const client = second.clientWithAuthorization(`Bearer ${alice.token}`);
    const listed = await client.send(new ListChannelMessagesCommand({ ChannelArn: channelArn, ChimeBearer: alice.arn }));
    assert.deepEqual(
      listed.ChannelMessages?.map((message) => message.Content),
      ['still here'],
    );
  } finally {
    await second.stop();
  }
});

test('without --data-dir, a restarted runtime starts empty', async () => {
  const first = await startLocalSystem();
  const alice = await first.user('alice');
  const created = await alice.client.send(
    new CreateChannelCommand({ AppInstanceArn: first.ready.appInstanceArn, Name: 'gone', ChimeBearer: alice.arn, MemberArns: [alice.arn] }),
  );
  await first.stop();
  const second = await startLocalSystem();
  try {
    const fresh = await second.user('alice');
    await assert.rejects(
      fresh.client.send(new ListChannelMessagesCommand({ ChannelArn: created.ChannelArn, ChimeBearer: fresh.arn })),
      (error: Error) => error.name === 'NotFoundException',
    );
  } finally {
    await second.stop();
  }
});
