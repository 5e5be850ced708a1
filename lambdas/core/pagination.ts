import { badRequest } from './errors';

/**
 * NextTokens are opaque to clients: a base64url JSON object of the position to resume from. A
 * decoded token is checked against the query it continues, so a token cannot be replayed against
 * another channel to read what the caller may not see.
 */
export type Position = Readonly<Record<string, string | number>>;

export const encodeNextToken = (position: Position): string =>
  Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');

export function decodeNextToken(token: string, expected: Readonly<Record<string, string>>): Position {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('NextToken is not a token returned by this operation');
  }
  if (typeof position !== 'object' || position === null || Array.isArray(position)) {
    throw badRequest('NextToken is not a token returned by this operation');
  }
  const record = position as Record<string, unknown>;
  for (const value of Object.values(record)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw badRequest('NextToken is not a token returned by this operation');
  }
  for (const [key, value] of Object.entries(expected)) {
    if (record[key] !== value) throw badRequest('NextToken was issued for a different request');
  }
  return record as Position;
}
