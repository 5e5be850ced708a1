/**
 * The moderation rules of the shipped processor, pure: a message containing a deny-listed word
 * (whole word, any case) is denied; e-mail addresses are replaced with `[email]`.
 */
export type ModerationVerdict = { readonly kind: 'DENY'; readonly word: string } | { readonly kind: 'ALLOW'; readonly content: string; readonly changed: boolean };

export const DEFAULT_DENY_WORDS: readonly string[] = ['spam'];

// Deliberately simple and linear-time: local part, @, dotted domain with a 2+ letter top level.
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function parseDenyWords(raw: string | undefined): readonly string[] {
  if (raw === undefined) return DEFAULT_DENY_WORDS;
  return raw
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word !== '');
}

export function moderate(content: string, denyWords: readonly string[]): ModerationVerdict {
  for (const word of denyWords) {
    // Whole word: not preceded or followed by a letter, digit or underscore, in any script.
    if (new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(word)}(?![\\p{L}\\p{N}_])`, 'iu').test(content)) return { kind: 'DENY', word };
  }
  const redacted = content.replace(EMAIL, '[email]');
  return { kind: 'ALLOW', content: redacted, changed: redacted !== content };
}
