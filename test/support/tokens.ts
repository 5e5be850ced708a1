import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/**
 * Bearer tokens the local runtime must refuse: signed by a key it does not know, expired, for
 * another audience. Tokens signed with the runtime's own key need the runtime to have been started
 * with `--data-dir`, where its issuer keeps the key pair (`token-issuer-key.json`).
 */
export interface TokenClaims {
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly name?: string;
  /** Expiry as epoch seconds; one hour from now when absent. */
  readonly expiresAt?: number;
  readonly issuedAt?: number;
}

type SigningKey = Parameters<SignJWT['sign']>[0];

async function sign(key: SigningKey, kid: string, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: claims.name ?? claims.subject, 'cognito:groups': [], token_use: 'id' })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.subject)
    .setIssuedAt(claims.issuedAt ?? now)
    .setExpirationTime(claims.expiresAt ?? now + 3600)
    .sign(key);
}

/** A well-formed token signed by a fresh key pair the runtime has never seen. */
export async function tokenSignedByForeignKey(claims: TokenClaims, kid = 'foreign-key'): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return sign(privateKey, kid, claims);
}

/** A token signed with the runtime's own issuer key, read from its data directory. */
export async function tokenSignedByRuntimeKey(dataDir: string, claims: TokenClaims): Promise<string> {
  const { privateJwk } = JSON.parse(readFileSync(join(dataDir, 'token-issuer-key.json'), 'utf8')) as { privateJwk: JWK };
  const key = await importJWK(privateJwk, 'RS256');
  return sign(key as SigningKey, privateJwk.kid as string, claims);
}
