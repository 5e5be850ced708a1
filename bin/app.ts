import { App, Duration } from 'aws-cdk-lib';
import type { ChannelFlowsIdentityProps } from '../lib/channel-flows';
import { ChannelFlowsStack } from '../lib/channel-flows-stack';

/**
 * The CDK app. Optional context values, so that a deployment needs no code change:
 *   npx cdk deploy -c appInstanceId=prod
 *   npx cdk deploy -c identityIssuer=https://example.auth0.com/ -c identityAudience=my-client
 *   (-c identityJwksUri=... when the keys are not at {issuer}/.well-known/jwks.json)
 *   npx cdk deploy -c processorPrefix=team-flow- -c flowTimeoutSeconds=600
 *   npx cdk deploy -c moderationDenyWords=spam,scam      (or -c deployModerationProcessor=false)
 * Without identityIssuer the stack creates its own Cognito user pool.
 */
const app = new App();

const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
};

const appInstanceId = context('appInstanceId');
const issuer = context('identityIssuer');
const audience = context('identityAudience');
const jwksUri = context('identityJwksUri');
if (!issuer && (audience || jwksUri)) {
  throw new Error('identityAudience and identityJwksUri need identityIssuer (-c identityIssuer=https://...)');
}
const identity: ChannelFlowsIdentityProps | undefined = issuer
  ? { issuer, ...(audience ? { audience } : {}), ...(jwksUri ? { jwksUri } : {}) }
  : undefined;

const processorPrefix = context('processorPrefix');
const flowTimeoutSeconds = context('flowTimeoutSeconds');
if (flowTimeoutSeconds !== undefined && !/^\d+$/.test(flowTimeoutSeconds)) {
  throw new Error(`flowTimeoutSeconds "${flowTimeoutSeconds}" is not a whole number of seconds`);
}
const denyWords = context('moderationDenyWords');
const deployModeration = context('deployModerationProcessor');
if (deployModeration !== undefined && deployModeration !== 'true' && deployModeration !== 'false') {
  throw new Error(`deployModerationProcessor "${deployModeration}" must be true or false`);
}

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new ChannelFlowsStack(app, 'ChannelFlows', {
  description: 'Amazon Chime SDK Messaging channel flows, self-hosted',
  ...(account && region ? { env: { account, region } } : {}),
  ...(appInstanceId ? { appInstanceId } : {}),
  ...(identity ? { identity } : {}),
  ...(processorPrefix ? { processorPrefix } : {}),
  ...(flowTimeoutSeconds ? { flowTimeout: Duration.seconds(Number(flowTimeoutSeconds)) } : {}),
  ...(denyWords ? { moderationDenyWords: denyWords.split(',').map((w) => w.trim()) } : {}),
  ...(deployModeration ? { deployModerationProcessor: deployModeration === 'true' } : {}),
});
