import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createTokenVerifier } from '../adapters/token-verifier';
import { appInstanceFromEnvironment, tokenSettingsFromEnvironment } from '../config';

const logger = new Logger({ serviceName: 'channel-flows-authorizer' });
const verifier = createTokenVerifier(tokenSettingsFromEnvironment(), appInstanceFromEnvironment());

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * REST API authorizer: verifies `Authorization: Bearer <jwt>` and hands the caller to the REST
 * handler as authorizer context. The policy covers every method of the stage, so API Gateway's
 * decision cache, keyed by token, serves all routes. A missing or bad token throws 'Unauthorized',
 * which API Gateway answers with 401 (shaped as UnauthorizedClientException by the gateway response).
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  if (!token) throw new Error('Unauthorized');
  let caller;
  try {
    caller = await verifier.verify(token);
  } catch (error) {
    logger.info('Token refused', { reason: (error as Error).message });
    throw new Error('Unauthorized');
  }
  return {
    principalId: caller.userArn,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
    },
    context: { userId: caller.userId, userArn: caller.userArn, name: caller.name, isAdmin: String(caller.isAdmin) },
  };
}

/** arn:aws:execute-api:region:account:apiId/stage/METHOD/path → arn:…:apiId/stage/*. */
function stageWildcard(methodArn: string): string {
  const [arnPrefix, stage] = methodArn.split('/');
  return `${arnPrefix}/${stage}/*`;
}
