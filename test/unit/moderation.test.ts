import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_DENY_WORDS, moderate, parseDenyWords } from '../../lambdas/processors/moderation-rules';

/**
 * The rules of the shipped processor, `channel-flow-moderation` (DESIGN.md, "Processors"): a
 * message containing a deny-listed word (whole word, any case) is denied; e-mail addresses are
 * replaced with `[email]`.
 */

const DEFAULT = parseDenyWords(undefined);
const denied = (word: string) => ({ kind: 'DENY', word });
const allowed = (content: string, changed = false) => ({ kind: 'ALLOW', content, changed });

describe('the default deny list', () => {
  test('is exactly ["spam"]', () => {
    assert.deepEqual(DEFAULT_DENY_WORDS, ['spam']);
    assert.deepEqual(DEFAULT, ['spam']);
  });

  const TABLE: readonly (readonly [content: string, deny: boolean])[] = [
    ['spam', true],
    ['SPAM!', true],
    ['this is spam.', true],
    ['Spam, spam and eggs', true],
    ['(sPaM)', true],
    ['line one\nspam\nline three', true],
    ['"spam"', true],
    ['spam-filter', true],
    ['spammer', false],
    ['antispam', false],
    ['spam_bot', false],
    ['spam2', false],
    ['s p a m', false],
    ['hello world', false],
  ];
  for (const [content, deny] of TABLE) {
    test(`${JSON.stringify(content)} is ${deny ? 'denied' : 'allowed'}`, () => {
      assert.deepEqual(moderate(content, DEFAULT), deny ? denied('spam') : allowed(content));
    });
  }
});

describe('word boundaries in any script', () => {
  const TABLE: readonly (readonly [content: string, deny: boolean])[] = [
    // A letter of another script joined to the word makes it another word.
    ['spamé', false],
    ['éspam', false],
    ['日本spam', false],
    ['spamы', false],
    // A digit of another script too.
    ['spam١', false],
    // Punctuation, spaces and symbols of any script separate words.
    ['naïve spam', true],
    ['«spam»', true],
    ['日本 spam 語', true],
    ['spam—really', true],
    ['spam\u00a0here', true],
    ['¿spam?', true],
  ];
  for (const [content, deny] of TABLE) {
    test(`${JSON.stringify(content)} is ${deny ? 'denied' : 'allowed'}`, () => {
      assert.deepEqual(moderate(content, DEFAULT), deny ? denied('spam') : allowed(content));
    });
  }

  test('case folding works for non-ASCII words', () => {
    assert.deepEqual(moderate('ÉCOLE fermée', ['école']), denied('école'));
    assert.deepEqual(moderate('Привет ДРУГ', ['друг']), denied('друг'));
    assert.deepEqual(moderate('другой', ['друг']), allowed('другой'));
  });
});

describe('custom deny lists', () => {
  test('every word of the list counts; the verdict names the word that matched', () => {
    const words = parseDenyWords('foo, bar baz ,qux');
    assert.deepEqual(words, ['foo', 'bar baz', 'qux']);
    assert.deepEqual(moderate('say QUX now', words), denied('qux'));
    assert.deepEqual(moderate('a Bar Baz b', words), denied('bar baz'));
    assert.deepEqual(moderate('bar and baz', words), allowed('bar and baz'));
    // The default word is not in a custom list.
    assert.deepEqual(moderate('spam', words), allowed('spam'));
  });

  const ESCAPED: readonly (readonly [word: string, deniedContent: string, allowedContent: string])[] = [
    ['c++', 'I write c++ daily', 'I write cc daily'],
    ['a.b', 'see a.b here', 'see axb here'],
    ['x*', 'x* marks', 'xxxx marks'],
    ['(oops', 'well (oops there', 'well oops there'],
    ['[a-z]', 'type [a-z] here', 'type q here'],
    ['$100', 'pay $100 now', 'pay 100 now'],
    ['a|b', 'this a|b that', 'this a that'],
    ['back\\slash', 'a back\\slash b', 'a backslash b'],
    ['^top', 'go ^top', 'go top'],
    ['{1}', 'x {1} y', 'x 1 y'],
    ['why?', 'why? because', 'wh because'],
  ];
  for (const [word, deniedContent, allowedContent] of ESCAPED) {
    test(`${JSON.stringify(word)} is matched literally, not as a regular expression`, () => {
      assert.deepEqual(moderate(deniedContent, [word]), denied(word));
      assert.deepEqual(moderate(allowedContent, [word]), allowed(allowedContent));
    });
  }

  test('an empty list denies nothing', () => {
    assert.deepEqual(moderate('spam spam spam', []), allowed('spam spam spam'));
  });
});

describe('e-mail addresses are replaced with [email]', () => {
  const TABLE: readonly (readonly [content: string, expected: string])[] = [
    ['write to alice@example.com', 'write to [email]'],
    ['alice@example.com', '[email]'],
    ['Mail a.b+tag@mail.example.co.uk, or bob_99@corp-x.io; thanks!', 'Mail [email], or [email]; thanks!'],
    ['(x%y@a-b.org) and <z@q.museum>.', '([email]) and <[email]>.'],
    ['first@one.com second@two.net third@three.fr', '[email] [email] [email]'],
  ];
  for (const [content, expected] of TABLE) {
    test(`${JSON.stringify(content)} -> ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(moderate(content, DEFAULT), allowed(expected, true));
    });
  }

  const UNTOUCHED = ['no address here', 'user@localhost', 'a@b.c', '@example.com', 'name@', 'price: 5 @ $2.50'];
  for (const content of UNTOUCHED) {
    test(`${JSON.stringify(content)} is not an address and stays as it is`, () => {
      assert.deepEqual(moderate(content, DEFAULT), allowed(content, false));
    });
  }

  test('a deny-listed word wins over the replacement: the message is denied, not rewritten', () => {
    assert.deepEqual(moderate('spam from x@example.com', DEFAULT), denied('spam'));
  });
});

describe('parseDenyWords', () => {
  test('undefined -> the default list', () => {
    assert.equal(parseDenyWords(undefined), DEFAULT_DENY_WORDS);
  });

  test('comma-separated, trimmed, empty entries dropped', () => {
    assert.deepEqual(parseDenyWords(' spam , ,eggs,, ham ,'), ['spam', 'eggs', 'ham']);
    assert.deepEqual(parseDenyWords('one'), ['one']);
  });

  test('an empty or blank setting is an empty list (nothing denied), not the default', () => {
    assert.deepEqual(parseDenyWords(''), []);
    assert.deepEqual(parseDenyWords(' , ,'), []);
  });
});
