import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamoDb } from '../../local/dynamodb';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TTL_USER_IDENTITY } from '../../local/streams/stream-log';
import { startTestDynamo, TEST_CREDENTIALS, waitFor, type TestDynamo } from './support';

let t: TestDynamo | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const now = () => Math.floor(Date.now() / 1000);

describe('TTL', () => {
  test('a sweep deletes expired items with service REMOVE records and keeps everything else', async () => {
    t = await startTestDynamo();
    const table = t.dynamo.tableNames.connections;
    const items = [
      { pk: 'expired#1', sk: 'c', expiresAt: now() - 10, note: 'gone' },
      { pk: 'expired#2', sk: 'c', expiresAt: now() - 100_000 },
      { pk: 'future', sk: 'c', expiresAt: now() + 3600 },
      { pk: 'no-ttl', sk: 'c' },
      { pk: 'string-ttl', sk: 'c', expiresAt: String(now() - 10) },
    ];
    for (const Item of items) await t.doc.send(new PutCommand({ TableName: table, Item }));
    await t.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'no-ttl', sk: 'c' } }));
    await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'no-ttl', sk: 'c' } }));
    const before = t.dynamo.streams.connections!.records().length;

    assert.equal(await t.dynamo.sweepExpiredItems(), 2);

    const remaining = await t.doc.send(new ScanCommand({ TableName: table }));
    assert.deepEqual(remaining.Items?.map((item) => item.pk).sort(), ['future', 'no-ttl', 'string-ttl']);

    const all = t.dynamo.streams.connections!.records();
    const userRemove = all.find((record) => record.eventName === 'REMOVE' && record.dynamodb.Keys.pk!.S === 'no-ttl');
    assert.ok(userRemove);
    assert.equal(userRemove.userIdentity, undefined, 'a user delete carries no userIdentity');

    const removes = all.slice(before);
    assert.equal(removes.length, 2);
    for (const record of removes) {
      assert.equal(record.eventName, 'REMOVE');
      assert.deepEqual(record.userIdentity, { type: 'Service', principalId: 'dynamodb.amazonaws.com' });
      assert.deepEqual(record.userIdentity, TTL_USER_IDENTITY);
      assert.equal(record.eventSourceARN, t.dynamo.streams.connections!.streamArn);
      assert.equal(record.dynamodb.NewImage, undefined);
    }
    const first = removes.find((record) => record.dynamodb.Keys.pk!.S === 'expired#1')!;
    assert.deepEqual(first.dynamodb.OldImage, { pk: { S: 'expired#1' }, sk: { S: 'c' }, expiresAt: { N: String(items[0]!.expiresAt) }, note: { S: 'gone' } });

    assert.equal(await t.dynamo.sweepExpiredItems(), 0, 'a second sweep finds nothing');
    assert.equal(t.dynamo.streams.connections!.records().length, before + 2);
  });

  test('the sweep covers every table with a TTL attribute and pages through large tables', async () => {
    t = await startTestDynamo();
    const padding = 'x'.repeat(12_000);
    const expired = now() - 1;
    const messages = Array.from({ length: 110 }, (_, index) => ({ pk: 'm', sk: String(index).padStart(3, '0'), expiresAt: expired, padding }));
    for (let index = 0; index < messages.length; index += 25) {
      await t.doc.send(new BatchWriteCommand({ RequestItems: { [t.dynamo.tableNames.messages]: messages.slice(index, index + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.channels, Item: { pk: 'ch', sk: 'token', expiresAt: expired } }));
    await t.doc.send(new PutCommand({ TableName: t.dynamo.tableNames.messages, Item: { pk: 'm', sk: 'keep', expiresAt: now() + 60, padding } }));

    assert.equal(await t.dynamo.sweepExpiredItems(), 111);
    const left = await t.doc.send(new ScanCommand({ TableName: t.dynamo.tableNames.messages, ProjectionExpression: 'sk' }));
    assert.deepEqual(left.Items, [{ sk: 'keep' }]);
    const removes = t.dynamo.streams.messages!.records().filter((record) => record.eventName === 'REMOVE');
    assert.equal(removes.length, 110);
    assert.ok(removes.every((record) => record.userIdentity?.principalId === 'dynamodb.amazonaws.com'));
    assert.equal(t.dynamo.streams.channels!.records().filter((record) => record.eventName === 'REMOVE').length, 1);
  });

  test('the background sweeper deletes items once they expire, and not before', async () => {
    t = await startTestDynamo({ ttlSweepIntervalMs: 20 });
    const table = t.dynamo.tableNames.connections;
    const expiresAt = now();
    await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'soon', sk: 'c', expiresAt } }));
    await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'later', sk: 'c', expiresAt: now() + 3600 } }));
    const stream = t.dynamo.streams.connections!;

    // Still there while its second has not passed (several sweeps run meanwhile).
    const stillThere = await t.doc.send(new GetCommand({ TableName: table, Key: { pk: 'soon', sk: 'c' } }));
    if (now() <= expiresAt) assert.ok(stillThere.Item);

    const removed = await waitFor(
      () => stream.records().find((record) => record.eventName === 'REMOVE'),
      'the TTL deletion of the expiring item',
      5000,
    );
    assert.ok(now() > expiresAt, 'not deleted before its expiry time had passed');
    assert.equal(removed.dynamodb.Keys.pk!.S, 'soon');
    assert.deepEqual(removed.userIdentity, TTL_USER_IDENTITY);
    const gone = await t.doc.send(new GetCommand({ TableName: table, Key: { pk: 'soon', sk: 'c' } }));
    assert.equal(gone.Item, undefined);
    const kept = await t.doc.send(new GetCommand({ TableName: table, Key: { pk: 'later', sk: 'c' } }));
    assert.ok(kept.Item);
  });

  test('after a restart with a data dir the items are kept, the stream log starts empty, and expired items are still swept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'streams-restart-'));
    try {
      const first = await startLocalDynamoDb({ dataDir, tablePrefix: 'restart', ttlSweepIntervalMs: 0 });
      const firstClient = new DynamoDBClient({ endpoint: first.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
      const firstDoc = DynamoDBDocumentClient.from(firstClient);
      await firstDoc.send(new PutCommand({ TableName: first.tableNames.connections, Item: { pk: 'kept', sk: 'c' } }));
      await firstDoc.send(new PutCommand({ TableName: first.tableNames.connections, Item: { pk: 'expiring', sk: 'c', expiresAt: now() - 1 } }));
      const firstArn = first.streams.connections!.streamArn;
      const lastSequenceNumber = first.streams.connections!.latestSequenceNumber!;
      firstClient.destroy();
      await first.stop();

      const second = await startLocalDynamoDb({ dataDir, tablePrefix: 'restart', ttlSweepIntervalMs: 0 });
      const secondClient = new DynamoDBClient({ endpoint: second.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
      try {
        const stream = second.streams.connections!;
        assert.deepEqual(stream.records(), [], 'the log is in memory only');
        const kept = await DynamoDBDocumentClient.from(secondClient).send(new GetCommand({ TableName: second.tableNames.connections, Key: { pk: 'kept', sk: 'c' } }));
        assert.ok(kept.Item);
        assert.equal(await second.sweepExpiredItems(), 1);
        const [removed] = stream.records();
        assert.equal(removed?.dynamodb.Keys.pk!.S, 'expiring');
        assert.ok(removed!.dynamodb.SequenceNumber > lastSequenceNumber, 'sequence numbers keep increasing across restarts');
        assert.notEqual(stream.streamArn, firstArn, 'a new stream label, as for a re-enabled stream');
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
