import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/**
 * The local runtime's OIDC-style issuer: an RS256 key pair whose public half is served as a JWKS,
 * so the authorizer verifies local tokens through exactly the code that verifies Cognito tokens.
 * Claims follow Cognito ID tokens: `sub` is the user id, `cognito:groups` carries the admin group.
 */
export interface LocalTokenIssuer {
  readonly jwks: { readonly keys: readonly JWK[] };
  issue(user: { readonly userId: string; readonly name?: string; readonly admin?: boolean }): Promise<string>;
}

export const LOCAL_AUDIENCE = 'channel-flows-local';
export const LOCAL_ADMIN_GROUP = 'AppInstanceAdmins';
const TOKEN_LIFETIME = '12h';

export async function createLocalTokenIssuer(options: { readonly issuer: string; readonly dataDir?: string }): Promise<LocalTokenIssuer> {
  const { privateJwk, publicJwk } = await loadOrCreateKeys(options.dataDir);
  const privateKey = await importJWK(privateJwk, 'RS256');
  return {
    jwks: { keys: [publicJwk] },
    issue: ({ userId, name, admin }) =>
      new SignJWT({ name: name ?? userId, 'cognito:groups': admin ? [LOCAL_ADMIN_GROUP] : [], token_use: 'id' })
        .setProtectedHeader({ alg: 'RS256', kid: publicJwk.kid as string, typ: 'JWT' })
        .setIssuer(options.issuer)
        .setAudience(LOCAL_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(TOKEN_LIFETIME)
        .sign(privateKey),
  };
}

/** With a data directory the key survives restarts, so tokens stay valid as the data does. */
async function loadOrCreateKeys(dataDir: string | undefined): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const file = dataDir === undefined ? undefined : join(dataDir, 'token-issuer-key.json');
  if (file !== undefined && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `local-${Date.now().toString(36)}`;
  const keys = {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
  if (file !== undefined) writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}
