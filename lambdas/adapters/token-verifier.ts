import { JwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Fetcher } from 'aws-jwt-verify/https';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { userArn, isValidResourceId, type AppInstance } from '../core/arns';
import { unauthorized } from '../core/errors';
import type { Caller } from '../core/model';
import type { TokenSettings } from '../config';

/**
 * Fetches the JWKS with the runtime's `fetch`, which speaks both https (Cognito, any OIDC issuer)
 * and plain http (the local runtime's issuer on loopback), so both verify through this same code.
 */
class GlobalFetchFetcher implements Fetcher {
  async fetch(uri: string): Promise<ArrayBuffer> {
    const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`JWKS request to ${uri} failed with HTTP ${response.status}`);
    return response.arrayBuffer();
  }
}

export interface TokenVerifier {
  /** Resolves the caller a bearer token names, or rejects with UnauthorizedClientException. */
  verify(token: string): Promise<Caller>;
}

export function createTokenVerifier(settings: TokenSettings, app: AppInstance): TokenVerifier {
  const verifier = JwtVerifier.create(
    { issuer: settings.issuer, audience: settings.audience, jwksUri: settings.jwksUri },
    { jwksCache: new SimpleJwksCache({ fetcher: new GlobalFetchFetcher() }) },
  );
  return {
    async verify(token) {
      let payload: JwtPayload;
      try {
        payload = await verifier.verify(token);
      } catch (error) {
        throw unauthorized(`The bearer token is not valid: ${(error as Error).message}`);
      }
      return callerFromClaims(payload, settings, app);
    },
  };
}

function callerFromClaims(payload: JwtPayload, settings: TokenSettings, app: AppInstance): Caller {
  const userId = payload[settings.userIdClaim];
  if (typeof userId !== 'string' || !isValidResourceId(userId)) {
    throw unauthorized(`The token's ${settings.userIdClaim} claim does not name a valid AppInstanceUser id`);
  }
  const name = payload[settings.nameClaim];
  const adminValue = payload[settings.adminClaim];
  const isAdmin = Array.isArray(adminValue)
    ? adminValue.includes(settings.adminClaimValue)
    : adminValue === settings.adminClaimValue;
  return { userId, userArn: userArn(app, userId), name: typeof name === 'string' ? name : userId, isAdmin };
}
