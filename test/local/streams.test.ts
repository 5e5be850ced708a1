import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DescribeTableCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalStreamRecord } from '../../local/streams/stream-log';
import { startTestDynamo, type TestDynamo } from './support';

let t: TestDynamo;
beforeEach(async () => {
  t = await startTestDynamo();
});
afterEach(async () => {
  await t.stop();
});

const records = (table: 'messages' | 'channels' | 'connections' = 'messages'): LocalStreamRecord[] => t.dynamo.streams[table]!.records();

function assertIncreasing(sequenceNumbers: readonly string[]): void {
  for (const sequenceNumber of sequenceNumbers) assert.match(sequenceNumber, /^\d{21}$/);
  for (let index = 1; index < sequenceNumbers.length; index += 1) {
    assert.ok(sequenceNumbers[index - 1]! < sequenceNumbers[index]!, 'sequence numbers increase as strings');
    assert.ok(BigInt(sequenceNumbers[index - 1]!) < BigInt(sequenceNumbers[index]!), 'sequence numbers increase as numbers');
  }
}

describe('stream capture', () => {
  test('put, update and delete produce INSERT, MODIFY and REMOVE records in the Lambda shape', async () => {
    const table = t.dynamo.tableNames.messages;
    const before = Math.floor(Date.now() / 1000);
    await t.doc.send(
      new PutCommand({ TableName: table, Item: { pk: 'c#1', sk: 'm#1', content: 'hello', n: 1, tags: new Set(['a', 'b']), meta: { deep: [1, 'x'] } } }),
    );
    await t.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: 'c#1', sk: 'm#1' },
        UpdateExpression: 'SET content = :c ADD n :one',
        ExpressionAttributeValues: { ':c': 'edited', ':one': 1 },
      }),
    );
    await t.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'c#1', sk: 'm#1' } }));
    const after = Math.ceil(Date.now() / 1000);

    const stream = t.dynamo.streams.messages!;
    assert.match(stream.streamArn, new RegExp(`^arn:aws:dynamodb:us-east-1:000000000000:table/${table}/stream/\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}$`));
    const [insert, modify, remove] = records();
    assert.equal(records().length, 3);
    assertIncreasing(records().map((record) => record.dynamodb.SequenceNumber));

    const keys = { pk: { S: 'c#1' }, sk: { S: 'm#1' } };
    const firstImage = {
      pk: { S: 'c#1' },
      sk: { S: 'm#1' },
      content: { S: 'hello' },
      n: { N: '1' },
      tags: { SS: ['a', 'b'] },
      meta: { M: { deep: { L: [{ N: '1' }, { S: 'x' }] } } },
    };
    const secondImage = { ...firstImage, content: { S: 'edited' }, n: { N: '2' } };
    for (const record of [insert!, modify!, remove!]) {
      assert.match(record.eventID, /^[0-9a-f]{32}$/);
      assert.equal(record.eventVersion, '1.1');
      assert.equal(record.eventSource, 'aws:dynamodb');
      assert.equal(record.awsRegion, 'us-east-1');
      assert.equal(record.eventSourceARN, stream.streamArn);
      assert.equal(record.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
      assert.deepEqual(record.dynamodb.Keys, keys);
      assert.ok(record.dynamodb.ApproximateCreationDateTime >= before && record.dynamodb.ApproximateCreationDateTime <= after);
      assert.ok(Number.isInteger(record.dynamodb.ApproximateCreationDateTime));
      assert.ok(record.dynamodb.SizeBytes > 0);
      assert.equal(record.userIdentity, undefined, 'a user write carries no userIdentity');
    }
    assert.equal(new Set([insert!.eventID, modify!.eventID, remove!.eventID]).size, 3);

    assert.equal(insert!.eventName, 'INSERT');
    assert.deepEqual(insert!.dynamodb.NewImage, firstImage);
    assert.equal('OldImage' in insert!.dynamodb, false);

    assert.equal(modify!.eventName, 'MODIFY');
    assert.deepEqual(modify!.dynamodb.OldImage, firstImage);
    assert.deepEqual(modify!.dynamodb.NewImage, secondImage);

    assert.equal(remove!.eventName, 'REMOVE');
    assert.deepEqual(remove!.dynamodb.OldImage, secondImage);
    assert.equal('NewImage' in remove!.dynamodb, false);
  });

  test('per-item order is kept across many concurrent writes, and subscribers see the same order', async () => {
    const table = t.dynamo.tableNames.messages;
    const seen: LocalStreamRecord[] = [];
    const unsubscribe = t.dynamo.streams.messages!.subscribe((record) => seen.push(record));
    const items = ['a', 'b', 'c', 'd', 'e'];
    const updatesPerItem = 20;
    await Promise.all(
      items.flatMap((item) =>
        Array.from({ length: updatesPerItem }, () =>
          t.doc.send(
            new UpdateCommand({ TableName: table, Key: { pk: item, sk: 'counter' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } }),
          ),
        ),
      ),
    );
    unsubscribe();
    const all = records();
    assert.equal(all.length, items.length * updatesPerItem);
    assert.deepEqual(
      seen.map((record) => record.eventID),
      all.map((record) => record.eventID),
    );
    assertIncreasing(all.map((record) => record.dynamodb.SequenceNumber));
    for (const item of items) {
      const mine = all.filter((record) => record.dynamodb.Keys.pk!.S === item);
      assert.deepEqual(
        mine.map((record) => Number(record.dynamodb.NewImage!.n!.N)),
        Array.from({ length: updatesPerItem }, (_, index) => index + 1),
      );
      assert.equal(mine[0]!.eventName, 'INSERT');
      for (let index = 1; index < mine.length; index += 1) {
        assert.equal(mine[index]!.eventName, 'MODIFY');
        assert.deepEqual(mine[index]!.dynamodb.OldImage, mine[index - 1]!.dynamodb.NewImage);
      }
    }
  });

  test('failed conditional writes, failed validations and no-op writes leave no record', async () => {
    const table = t.dynamo.tableNames.messages;
    const key = { pk: 'c#1', sk: 'm#1' };
    await t.doc.send(new PutCommand({ TableName: table, Item: { ...key, v: 1, list: [1, 2], set: new Set(['x', 'y']) } }));
    assert.equal(records().length, 1);

    await assert.rejects(t.doc.send(new PutCommand({ TableName: table, Item: { ...key, v: 2 }, ConditionExpression: 'attribute_not_exists(pk)' })), {
      name: 'ConditionalCheckFailedException',
    });
    await assert.rejects(
      t.doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET v = :v', ConditionExpression: 'v = :old', ExpressionAttributeValues: { ':v': 3, ':old': 99 } })),
      { name: 'ConditionalCheckFailedException' },
    );
    await assert.rejects(t.doc.send(new DeleteCommand({ TableName: table, Key: key, ConditionExpression: 'attribute_not_exists(v)' })), {
      name: 'ConditionalCheckFailedException',
    });
    await assert.rejects(t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'no sort key' } })), { name: 'ValidationException' });
    await assert.rejects(t.doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET ' })), { name: 'ValidationException' });

    // No-ops: the same item again (set members in another order), the same value, removing what is not there, deleting nothing.
    await t.doc.send(new PutCommand({ TableName: table, Item: { ...key, set: new Set(['y', 'x']), list: [1, 2], v: 1 } }));
    await t.doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': 1 } }));
    await t.doc.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'REMOVE notThere' }));
    await t.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'c#1', sk: 'absent' } }));

    assert.equal(records().length, 1, 'only the first put left a record');
    const item = await t.doc.send(new GetCommand({ TableName: table, Key: key }));
    assert.equal(item.Item?.v, 1);
  });

  test('ReturnValues answers come back exactly as dynalite gives them', async () => {
    const table = t.dynamo.tableNames.channels;
    const key = { pk: 'ch#1', sk: 'meta' };
    const put1 = await t.doc.send(new PutCommand({ TableName: table, Item: { ...key, name: 'one', count: 1 }, ReturnValues: 'ALL_OLD' }));
    assert.equal(put1.Attributes, undefined);
    const put2 = await t.doc.send(new PutCommand({ TableName: table, Item: { ...key, name: 'two', count: 1 }, ReturnValues: 'ALL_OLD' }));
    assert.deepEqual(put2.Attributes, { ...key, name: 'one', count: 1 });
    const allNew = await t.doc.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET #n = :n ADD #c :one', ExpressionAttributeNames: { '#n': 'name', '#c': 'count' }, ExpressionAttributeValues: { ':n': 'three', ':one': 1 }, ReturnValues: 'ALL_NEW' }),
    );
    assert.deepEqual(allNew.Attributes, { ...key, name: 'three', count: 2 });
    const updatedOld = await t.doc.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': 'four' }, ReturnValues: 'UPDATED_OLD' }),
    );
    assert.deepEqual(updatedOld.Attributes, { name: 'three' });
    const updatedNew = await t.doc.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'ADD #c :one', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'UPDATED_NEW' }),
    );
    assert.deepEqual(updatedNew.Attributes, { count: 3 });
    const deleted = await t.doc.send(new DeleteCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }));
    assert.deepEqual(deleted.Attributes, { ...key, name: 'four', count: 3 });
    assert.deepEqual(
      records('channels').map((record) => record.eventName),
      ['INSERT', 'MODIFY', 'MODIFY', 'MODIFY', 'MODIFY', 'REMOVE'],
    );
  });

  test('the proxy forwards requests untouched: same status, body and checksum as dynalite itself', async () => {
    const table = t.dynamo.tableNames.messages;
    await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'p', sk: 's', text: 'héllo ✓', n: 1.5 } }));
    const requests: [string, unknown][] = [
      ['GetItem', { TableName: table, Key: { pk: { S: 'p' }, sk: { S: 's' } }, ConsistentRead: true }],
      ['Query', { TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } } }],
      ['GetItem', { TableName: 'no-such-table', Key: { pk: { S: 'p' } } }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'p' }, sk: { S: 's' } }, ConditionExpression: 'attribute_not_exists(pk)' }],
      ['PutItem', { TableName: table, Item: { pk: { S: 'p' }, sk: { S: 's' }, text: { S: 'héllo ✓' }, n: { N: '1.5' } }, ReturnValues: 'ALL_OLD' }],
      ['TransactWriteItems', { TransactItems: [] }],
    ];
    for (const [operation, body] of requests) {
      const [viaProxy, direct] = await Promise.all([raw(t.dynamo.endpoint, operation, body), raw(t.dynamo.dynaliteEndpoint, operation, body)]);
      assert.equal(viaProxy.status, direct.status, operation);
      assert.equal(viaProxy.body, direct.body, operation);
      assert.equal(viaProxy.headers.get('x-amz-crc32'), direct.headers.get('x-amz-crc32'), operation);
      assert.equal(viaProxy.headers.get('content-type'), direct.headers.get('content-type'), operation);
      assert.ok(viaProxy.headers.get('x-amzn-requestid'), operation);
    }
    assert.equal(records().length, 1, 'the conditional failure and the identical put left no record');

    const described = await t.client.send(new DescribeTableCommand({ TableName: table }));
    assert.equal(described.Table?.TableName, table);
    await assert.rejects(t.client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: { pk: { S: 'x' }, sk: { S: 'y' } } } }] })));
    const query = await t.doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'p' } }));
    assert.equal(query.Items?.length, 1);
  });

  test('BatchWriteItem is captured item by item, across tables, in request order', async () => {
    const messages = t.dynamo.tableNames.messages;
    const channels = t.dynamo.tableNames.channels;
    await t.doc.send(new PutCommand({ TableName: channels, Item: { pk: 'ch', sk: 'old#1', v: 1 } }));
    await t.doc.send(new PutCommand({ TableName: channels, Item: { pk: 'ch', sk: 'old#2', v: 2 } }));
    const messagePuts = Array.from({ length: 19 }, (_, index) => ({ PutRequest: { Item: { pk: 'c', sk: `m#${String(index).padStart(2, '0')}`, index } } }));
    const output = await t.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [messages]: messagePuts,
          [channels]: [
            { PutRequest: { Item: { pk: 'ch', sk: 'new#1' } } },
            { DeleteRequest: { Key: { pk: 'ch', sk: 'old#1' } } },
            { PutRequest: { Item: { pk: 'ch', sk: 'old#2', v: 2 } } }, // unchanged: no record
            { PutRequest: { Item: { pk: 'ch', sk: 'new#2' } } },
            { DeleteRequest: { Key: { pk: 'ch', sk: 'absent' } } }, // nothing to delete: no record
            { DeleteRequest: { Key: { pk: 'ch', sk: 'new#0' } } }, // idem
          ],
        },
      }),
    );
    assert.deepEqual(output.UnprocessedItems, {});

    const messageRecords = records('messages');
    assert.equal(messageRecords.length, 19);
    assert.deepEqual(
      messageRecords.map((record) => [record.eventName, record.dynamodb.Keys.sk!.S, record.dynamodb.NewImage!.index!.N]),
      messagePuts.map((put) => ['INSERT', put.PutRequest.Item.sk, String(put.PutRequest.Item.index)]),
    );
    assertIncreasing(messageRecords.map((record) => record.dynamodb.SequenceNumber));

    const channelRecords = records('channels').slice(2);
    assert.deepEqual(
      channelRecords.map((record) => [record.eventName, record.dynamodb.Keys.sk!.S]),
      [
        ['INSERT', 'new#1'],
        ['REMOVE', 'old#1'],
        ['INSERT', 'new#2'],
      ],
    );
    assert.deepEqual(channelRecords[1]!.dynamodb.OldImage, { pk: { S: 'ch' }, sk: { S: 'old#1' }, v: { N: '1' } });
    assert.equal(records('connections').length, 0);
  });

  test('read() pages by sequence number and nextAppend() wakes a waiting consumer', async () => {
    const stream = t.dynamo.streams.messages!;
    const table = t.dynamo.tableNames.messages;
    const woken = stream.nextAppend();
    await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', sk: '1' } }));
    await woken;
    for (let index = 2; index <= 5; index += 1) await t.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', sk: String(index) } }));
    const first = stream.read(undefined, 2);
    assert.deepEqual(first.map((entry) => entry.record.dynamodb.Keys.sk!.S), ['1', '2']);
    const rest = stream.read(first[1]!.sequenceNumber, 10);
    assert.deepEqual(rest.map((entry) => entry.record.dynamodb.Keys.sk!.S), ['3', '4', '5']);
    assert.equal(stream.latestSequenceNumber, rest[2]!.sequenceNumber);
    assert.deepEqual(stream.read(stream.latestSequenceNumber, 10), []);

    const aborted = new AbortController();
    const waiting = stream.nextAppend(aborted.signal);
    aborted.abort();
    await waiting;
  });
});

/** A raw, signed-looking request (dynalite checks the shape of the Authorization header, not the signature). */
async function raw(endpoint: string, operation: string, body: unknown): Promise<{ status: number; body: string; headers: Headers }> {
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `DynamoDB_20120810.${operation}`,
      'X-Amz-Date': date,
      Authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
