import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createChannelMembershipSchema,
  createChannelSchema,
  listChannelMembershipsQuerySchema,
  listChannelMessagesQuerySchema,
  listChannelsQuerySchema,
  listMembershipsForUserQuerySchema,
  parseRequest,
  sendChannelMessageSchema,
  updateChannelMessageSchema,
} from '../../lambdas/core/validation';
import { assertBadRequest } from './fixtures';

const APP_ARN = 'arn:aws:chime:us-east-1:111122223333:app-instance/a1b2c3d4';
const user = (id: string) => `${APP_ARN}/user/${id}`;
const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

const SEND = { Content: 'hello', Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: 'token-1' } as const;
const send = (overrides: Record<string, unknown>) => () => parseRequest(sendChannelMessageSchema, { ...SEND, ...overrides });

describe('SendChannelMessage', () => {
  test('a minimal valid request is returned as typed values, unknown members dropped', () => {
    const parsed = parseRequest(sendChannelMessageSchema, { ...SEND, Unknown: 'ignored' });
    assert.deepEqual(parsed, SEND);
  });

  test('a request using every supported member passes unchanged', () => {
    const full = {
      ...SEND,
      Metadata: '{"k":1}',
      PushNotification: { Title: 'New message', Body: 'You have a new message', Type: 'DEFAULT' },
      MessageAttributes: { topic: { StringValues: ['a', 'b'] } },
      ContentType: 'text/plain',
      Target: [{ MemberArn: user('bob') }],
    };
    assert.deepEqual(parseRequest(sendChannelMessageSchema, full), full);
  });

  test('a NON_PERSISTENT CONTROL message without metadata passes', () => {
    const parsed = parseRequest(sendChannelMessageSchema, { ...SEND, Type: 'CONTROL', Persistence: 'NON_PERSISTENT', Content: 'typing' });
    assert.equal(parsed.Type, 'CONTROL');
    assert.equal(parsed.Persistence, 'NON_PERSISTENT');
  });

  describe('Content', () => {
    test('4096 characters are accepted', () => {
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, Content: 'a'.repeat(4096) }).Content.length, 4096);
    });
    test('4097 characters are refused, naming Content and 4096', () => {
      assertBadRequest(send({ Content: 'a'.repeat(4097) }), 'Content', '4096');
    });
    test('empty content is refused (NonEmptyContent)', () => {
      assertBadRequest(send({ Content: '' }), 'Content', /at least 1/);
    });
    test('a STANDARD message may carry more than 30 bytes of multibyte text', () => {
      const content = '€'.repeat(100); // 300 bytes
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, Content: content }).Content, content);
    });
    test('the limit counts characters (code points), not UTF-16 units: 4096 emoji pass, 4097 are refused', () => {
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, Content: '😀'.repeat(4096) }).Content, '😀'.repeat(4096));
      assertBadRequest(send({ Content: '😀'.repeat(4097) }), 'Content', '4096');
    });
    test(
      'the refusal of 4097 emoji reports 4097 characters, the count the limit was checked against',
      () => {
        assertBadRequest(send({ Content: '😀'.repeat(4097) }), 'got 4097');
      },
    );
  });

  describe('Metadata', () => {
    test('1024 characters are accepted', () => {
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, Metadata: 'm'.repeat(1024) }).Metadata?.length, 1024);
    });
    test('1025 characters are refused, naming Metadata and 1024', () => {
      assertBadRequest(send({ Metadata: 'm'.repeat(1025) }), 'Metadata', '1024');
    });
  });

  describe('CONTROL messages: at most 30 UTF-8 bytes, no metadata', () => {
    const ACCEPTED: readonly (readonly [string, string])[] = [
      ['30 ASCII characters', 'a'.repeat(30)],
      ['15 two-byte characters (30 bytes)', 'é'.repeat(15)],
      ['10 three-byte characters (30 bytes)', '€'.repeat(10)],
      ['7 four-byte emoji and 2 ASCII (30 bytes)', '😀'.repeat(7) + 'ab'],
    ];
    for (const [label, content] of ACCEPTED) {
      test(`accepted: ${label}`, () => {
        assert.equal(utf8Bytes(content), 30);
        assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, Type: 'CONTROL', Content: content }).Content, content);
      });
    }

    // [label, content, UTF-8 bytes, characters]: the multibyte rows are far below 30 characters,
    // so only a byte count can refuse them.
    const REFUSED: readonly (readonly [string, string, number, number])[] = [
      ['31 ASCII characters', 'a'.repeat(31), 31, 31],
      ['15 two-byte characters and 1 ASCII', 'é'.repeat(15) + 'a', 31, 16],
      ['8 emoji', '😀'.repeat(8), 32, 8],
      ['11 three-byte characters', '€'.repeat(11), 33, 11],
    ];
    for (const [label, content, bytes, characters] of REFUSED) {
      test(`refused: ${label} (${characters} characters, ${bytes} bytes), naming Content, 30 bytes and the byte count`, () => {
        assert.equal(utf8Bytes(content), bytes);
        assert.equal([...content].length, characters);
        assertBadRequest(send({ Type: 'CONTROL', Content: content }), 'Content', /30 bytes/, `got ${bytes}`);
      });
    }

    test('CONTROL with Metadata is refused, naming Metadata', () => {
      assertBadRequest(send({ Type: 'CONTROL', Content: 'typing', Metadata: '{"a":1}' }), 'Metadata', 'CONTROL');
    });
    test('CONTROL with an empty Metadata is still refused', () => {
      assertBadRequest(send({ Type: 'CONTROL', Content: 'typing', Metadata: '' }), 'Metadata');
    });
    test('both CONTROL problems are reported together', () => {
      assertBadRequest(send({ Type: 'CONTROL', Content: 'a'.repeat(31), Metadata: 'x' }), /Content.*30 bytes/, /Metadata/);
    });
  });

  describe('ClientRequestToken: 2-64 characters of [-_a-zA-Z0-9]', () => {
    test('2 and 64 characters are accepted', () => {
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, ClientRequestToken: 'ab' }).ClientRequestToken, 'ab');
      const long = 'A-_9'.repeat(16);
      assert.equal(parseRequest(sendChannelMessageSchema, { ...SEND, ClientRequestToken: long }).ClientRequestToken, long);
    });
    test('1 character is refused, naming the field and 2', () => {
      assertBadRequest(send({ ClientRequestToken: 'a' }), 'ClientRequestToken', '2');
    });
    test('65 characters are refused, naming the field and 64', () => {
      assertBadRequest(send({ ClientRequestToken: 'a'.repeat(65) }), 'ClientRequestToken', '64');
    });
    for (const bad of ['has space', 'slash/es', 'dot.ted', 'ünïcode', 'semi;colon', 'new\nline']) {
      test(`bad characters are refused: ${JSON.stringify(bad)}`, () => {
        assertBadRequest(send({ ClientRequestToken: bad }), 'ClientRequestToken');
      });
    }
  });

  test('a wrong Type is refused, naming Type and the allowed values', () => {
    assertBadRequest(send({ Type: 'URGENT' }), 'Type', 'STANDARD', 'CONTROL');
  });
  test('a wrong Persistence is refused, naming Persistence and the allowed values', () => {
    assertBadRequest(send({ Persistence: 'FOREVER' }), 'Persistence', 'PERSISTENT', 'NON_PERSISTENT');
  });
  test('a lowercase enum value is refused', () => {
    assertBadRequest(send({ Type: 'standard' }), 'Type');
  });

  for (const field of ['Content', 'Type', 'Persistence', 'ClientRequestToken'] as const) {
    test(`a missing ${field} is refused, naming ${field}`, () => {
      const request: Record<string, unknown> = { ...SEND };
      delete request[field];
      assertBadRequest(() => parseRequest(sendChannelMessageSchema, request), field);
    });
  }

  test(
    'a missing enum member is reported as missing, not as "got undefined undefined"',
    () => {
      const { Type: _omitted, ...request } = SEND;
      const error = assertBadRequest(() => parseRequest(sendChannelMessageSchema, request), 'Type');
      assert.doesNotMatch(error.message, /got undefined/);
    },
  );

  const WRONG_TYPES: readonly (readonly [string, unknown])[] = [
    ['Content', 42],
    ['Content', null],
    ['Metadata', { k: 1 }],
    ['ClientRequestToken', 12345],
    ['Target', { MemberArn: user('bob') }],
    ['MessageAttributes', 'topic=a'],
  ];
  for (const [field, value] of WRONG_TYPES) {
    test(`a wrong type for ${field} (${JSON.stringify(value)}) is refused, naming ${field}`, () => {
      assertBadRequest(send({ [field]: value }), field);
    });
  }

  test('Target with two members is refused (exactly 1 item)', () => {
    assertBadRequest(send({ Target: [{ MemberArn: user('bob') }, { MemberArn: user('carol') }] }), 'Target', '1');
  });
  test('SubChannelId is refused: elastic channels are not supported', () => {
    assertBadRequest(send({ SubChannelId: 'sub-1' }), 'SubChannelId');
  });
  test('a PushNotification title over 50 characters is refused, naming the member and 50', () => {
    assertBadRequest(send({ PushNotification: { Title: 't'.repeat(51) } }), 'PushNotification.Title', '50');
  });
  test('a ContentType over 45 characters is refused, naming ContentType and 45', () => {
    assertBadRequest(send({ ContentType: 'c'.repeat(46) }), 'ContentType', '45');
  });
  test('a missing body reports the required members', () => {
    assertBadRequest(() => parseRequest(sendChannelMessageSchema, undefined), 'Content is required', 'ClientRequestToken is required');
  });
  test('a body that is not an object is refused', () => {
    assertBadRequest(() => parseRequest(sendChannelMessageSchema, ['hello']), /request body/i);
    assertBadRequest(() => parseRequest(sendChannelMessageSchema, 'hello'), /request body/i);
  });
});

describe('UpdateChannelMessage', () => {
  const update = (body: unknown) => () => parseRequest(updateChannelMessageSchema, body);

  test('a valid request is returned typed; members UpdateChannelMessage does not carry are dropped', () => {
    const parsed = parseRequest(updateChannelMessageSchema, { Content: 'edited', Metadata: 'm', ContentType: 'text/plain', Type: 'CONTROL', Persistence: 'NON_PERSISTENT' });
    assert.deepEqual(parsed, { Content: 'edited', Metadata: 'm', ContentType: 'text/plain' });
  });
  test('Content of 4096 characters passes, 4097 is refused naming Content and 4096', () => {
    assert.equal(parseRequest(updateChannelMessageSchema, { Content: 'x'.repeat(4096) }).Content.length, 4096);
    assertBadRequest(update({ Content: 'x'.repeat(4097) }), 'Content', '4096');
  });
  test('Metadata of 1024 characters passes, 1025 is refused naming Metadata and 1024', () => {
    assert.equal(parseRequest(updateChannelMessageSchema, { Content: 'x', Metadata: 'm'.repeat(1024) }).Metadata?.length, 1024);
    assertBadRequest(update({ Content: 'x', Metadata: 'm'.repeat(1025) }), 'Metadata', '1024');
  });
  test('a missing Content is refused', () => {
    assertBadRequest(update({ Metadata: 'm' }), 'Content is required');
  });
  test('an empty Content is refused', () => {
    assertBadRequest(update({ Content: '' }), 'Content');
  });
  test('a wrong type is refused, naming the field', () => {
    assertBadRequest(update({ Content: ['x'] }), 'Content');
    assertBadRequest(update({ Content: 'x', Metadata: 7 }), 'Metadata');
  });
  test('SubChannelId is refused', () => {
    assertBadRequest(update({ Content: 'x', SubChannelId: 'sub' }), 'SubChannelId');
  });
});

describe('CreateChannel', () => {
  const MINIMAL = { AppInstanceArn: APP_ARN, Name: 'General', ClientRequestToken: 'create-1' };
  const create = (overrides: Record<string, unknown>) => () => parseRequest(createChannelSchema, { ...MINIMAL, ...overrides });

  test('a minimal valid request is returned typed', () => {
    assert.deepEqual(parseRequest(createChannelSchema, { ...MINIMAL, Extra: true }), MINIMAL);
  });
  test('a full valid request passes unchanged', () => {
    const full = {
      ...MINIMAL,
      Mode: 'RESTRICTED',
      Privacy: 'PUBLIC',
      Metadata: 'm'.repeat(1024),
      Tags: [{ Key: 'team', Value: 'chat' }],
      ChannelId: 'c'.repeat(64),
      MemberArns: Array.from({ length: 10 }, (_, i) => user(`member-${i}`)),
      ModeratorArns: Array.from({ length: 10 }, (_, i) => user(`moderator-${i}`)),
    };
    assert.deepEqual(parseRequest(createChannelSchema, full), full);
  });
  test('11 MemberArns are refused, naming MemberArns and 10', () => {
    assertBadRequest(create({ MemberArns: Array.from({ length: 11 }, (_, i) => user(`m${i}`)) }), 'MemberArns', '10');
  });
  test('11 ModeratorArns are refused, naming ModeratorArns and 10', () => {
    assertBadRequest(create({ ModeratorArns: Array.from({ length: 11 }, (_, i) => user(`m${i}`)) }), 'ModeratorArns', '10');
  });
  test('an empty MemberArns list is refused (1-10)', () => {
    assertBadRequest(create({ MemberArns: [] }), 'MemberArns', '1');
  });
  test('a MemberArns item that is not a string is refused, naming the item', () => {
    assertBadRequest(create({ MemberArns: [user('a'), 5] }), 'MemberArns[1]');
  });
  test('Name of 256 characters passes, 257 is refused naming Name and 256', () => {
    assert.equal(parseRequest(createChannelSchema, { ...MINIMAL, Name: 'n'.repeat(256) }).Name.length, 256);
    assertBadRequest(create({ Name: 'n'.repeat(257) }), 'Name', '256');
  });
  test('Metadata of 1025 characters is refused naming Metadata and 1024', () => {
    assertBadRequest(create({ Metadata: 'm'.repeat(1025) }), 'Metadata', '1024');
  });
  test('ChannelId of 65 characters is refused naming ChannelId and 64', () => {
    assertBadRequest(create({ ChannelId: 'c'.repeat(65) }), 'ChannelId', '64');
  });
  for (const bad of ['-leading-dash', 'trailing.', 'has space', 'slash/id']) {
    test(`ChannelId ${JSON.stringify(bad)} is refused naming ChannelId`, () => {
      assertBadRequest(create({ ChannelId: bad }), 'ChannelId');
    });
  }
  test('a wrong Mode is refused naming Mode and the allowed values', () => {
    assertBadRequest(create({ Mode: 'OPEN' }), 'Mode', 'UNRESTRICTED', 'RESTRICTED');
  });
  test('a wrong Privacy is refused naming Privacy and the allowed values', () => {
    assertBadRequest(create({ Privacy: 'SECRET' }), 'Privacy', 'PUBLIC', 'PRIVATE');
  });
  for (const field of ['AppInstanceArn', 'Name', 'ClientRequestToken'] as const) {
    test(`a missing ${field} is refused, naming ${field}`, () => {
      const request: Record<string, unknown> = { ...MINIMAL };
      delete request[field];
      assertBadRequest(() => parseRequest(createChannelSchema, request), `${field} is required`);
    });
  }
  test('a 1-character ClientRequestToken is refused', () => {
    assertBadRequest(create({ ClientRequestToken: 'x' }), 'ClientRequestToken', '2');
  });
  test('a wrong type is refused, naming the field', () => {
    assertBadRequest(create({ Name: 42 }), 'Name');
    assertBadRequest(create({ MemberArns: user('a') }), 'MemberArns');
  });
  test('ElasticChannelConfiguration and ExpirationSettings are refused as unsupported', () => {
    assertBadRequest(create({ ElasticChannelConfiguration: { MaximumSubChannels: 2 } }), 'ElasticChannelConfiguration');
    assertBadRequest(create({ ExpirationSettings: { ExpirationDays: 1, ExpirationCriterion: 'CREATED_TIMESTAMP' } }), 'ExpirationSettings');
  });
});

describe('CreateChannelMembership', () => {
  const member = (body: unknown) => () => parseRequest(createChannelMembershipSchema, body);

  test('a valid request is returned typed', () => {
    assert.deepEqual(parseRequest(createChannelMembershipSchema, { MemberArn: user('bob'), Type: 'HIDDEN' }), { MemberArn: user('bob'), Type: 'HIDDEN' });
  });
  test('a wrong Type is refused naming Type and the allowed values', () => {
    assertBadRequest(member({ MemberArn: user('bob'), Type: 'ADMIN' }), 'Type', 'DEFAULT', 'HIDDEN');
  });
  test('a missing MemberArn is refused naming MemberArn', () => {
    assertBadRequest(member({ Type: 'DEFAULT' }), 'MemberArn is required');
  });
  test('a missing Type is refused naming Type', () => {
    assertBadRequest(member({ MemberArn: user('bob') }), 'Type');
  });
  test('a MemberArn shorter than 5 characters is refused naming MemberArn and 5', () => {
    assertBadRequest(member({ MemberArn: 'arn', Type: 'DEFAULT' }), 'MemberArn', '5');
  });
  test('a MemberArn that is not a string is refused', () => {
    assertBadRequest(member({ MemberArn: { Arn: user('bob') }, Type: 'DEFAULT' }), 'MemberArn');
  });
  test('SubChannelId is refused', () => {
    assertBadRequest(member({ MemberArn: user('bob'), Type: 'DEFAULT', SubChannelId: 'x' }), 'SubChannelId');
  });
});

describe('list query schemas', () => {
  const QUERY_SCHEMAS = [
    ['ListChannelMessages', listChannelMessagesQuerySchema, {}],
    ['ListChannelMemberships', listChannelMembershipsQuerySchema, {}],
    ['ListChannels', listChannelsQuerySchema, { 'app-instance-arn': APP_ARN }],
    ['ListChannelMembershipsForAppInstanceUser', listMembershipsForUserQuerySchema, {}],
  ] as const;

  for (const [operation, schema, required] of QUERY_SCHEMAS) {
    describe(operation, () => {
      test('max-results "1" and "50" come back as numbers', () => {
        assert.equal(parseRequest(schema, { ...required, 'max-results': '1' })['max-results'], 1);
        assert.equal(parseRequest(schema, { ...required, 'max-results': '50' })['max-results'], 50);
      });
      test('max-results may be left out', () => {
        assert.equal(parseRequest(schema, { ...required })['max-results'], undefined);
      });
      test('max-results "0" is refused naming max-results and 1', () => {
        assertBadRequest(() => parseRequest(schema, { ...required, 'max-results': '0' }), 'max-results', '1');
      });
      test('max-results "51" is refused naming max-results and 50', () => {
        assertBadRequest(() => parseRequest(schema, { ...required, 'max-results': '51' }), 'max-results', '50');
      });
      test('max-results "abc" is refused naming max-results', () => {
        assertBadRequest(() => parseRequest(schema, { ...required, 'max-results': 'abc' }), 'max-results');
      });
      test('max-results "2.5" is refused (an integer is required)', () => {
        assertBadRequest(() => parseRequest(schema, { ...required, 'max-results': '2.5' }), 'max-results');
      });
      test('next-token of 2048 characters passes, 2049 is refused naming next-token and 2048', () => {
        assert.equal(parseRequest(schema, { ...required, 'next-token': 't'.repeat(2048) })['next-token']?.length, 2048);
        assertBadRequest(() => parseRequest(schema, { ...required, 'next-token': 't'.repeat(2049) }), 'next-token', '2048');
      });
    });
  }

  test('ListChannelMessages: sort-order, not-before and not-after come back typed', () => {
    const parsed = parseRequest(listChannelMessagesQuerySchema, {
      'sort-order': 'ASCENDING',
      'not-before': '2024-01-15T10:30:00Z',
      'not-after': '2024-01-16T10:30:00.500Z',
      'max-results': '20',
    });
    assert.deepEqual(parsed, {
      'sort-order': 'ASCENDING',
      'not-before': Date.UTC(2024, 0, 15, 10, 30),
      'not-after': Date.UTC(2024, 0, 16, 10, 30, 0, 500),
      'max-results': 20,
    });
  });
  test('ListChannelMessages: a wrong sort-order is refused naming sort-order and the allowed values', () => {
    assertBadRequest(() => parseRequest(listChannelMessagesQuerySchema, { 'sort-order': 'NEWEST' }), 'sort-order', 'ASCENDING', 'DESCENDING');
  });
  test('ListChannelMessages: a not-before that is no date is refused', () => {
    assertBadRequest(() => parseRequest(listChannelMessagesQuerySchema, { 'not-before': 'yesterday' }), /ISO-8601/);
  });
  test(
    'ListChannelMessages: the refusal of a bad not-before / not-after names the parameter',
    () => {
      assertBadRequest(() => parseRequest(listChannelMessagesQuerySchema, { 'not-before': 'yesterday' }), 'not-before');
      assertBadRequest(() => parseRequest(listChannelMessagesQuerySchema, { 'not-after': 'tomorrow' }), 'not-after');
    },
  );
  test('ListChannelMessages: sub-channel-id is refused', () => {
    assertBadRequest(() => parseRequest(listChannelMessagesQuerySchema, { 'sub-channel-id': 'x' }), 'sub-channel-id');
  });
  test('ListChannelMemberships: a wrong type is refused naming type', () => {
    assertBadRequest(() => parseRequest(listChannelMembershipsQuerySchema, { type: 'ALL' }), 'type', 'DEFAULT', 'HIDDEN');
  });
  test('ListChannels: app-instance-arn is required', () => {
    assertBadRequest(() => parseRequest(listChannelsQuerySchema, {}), 'app-instance-arn is required');
  });
  test('ListChannels: a wrong privacy is refused naming privacy', () => {
    assertBadRequest(() => parseRequest(listChannelsQuerySchema, { 'app-instance-arn': APP_ARN, privacy: 'OPEN' }), 'privacy', 'PUBLIC', 'PRIVATE');
  });
});
