import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ChannelFlows, type ChannelFlowsProps } from './channel-flows';
import { QUEUES, type QueueName } from './system';

/** Properties of {@link ChannelFlowsStack}: the stack's own plus those of the {@link ChannelFlows} construct. */
export interface ChannelFlowsStackProps extends StackProps, ChannelFlowsProps {}

/** One deployment of channel flows (one app instance) and its outputs. */
export class ChannelFlowsStack extends Stack {
  public readonly channelFlows: ChannelFlows;

  constructor(scope: Construct, id: string, props: ChannelFlowsStackProps = {}) {
    const {
      appInstanceId,
      identity,
      removalPolicy,
      webSocketThrottle,
      processorPrefix,
      flowTimeout,
      moderationDenyWords,
      deployModerationProcessor,
      alarmAction,
      ...stackProps
    } = props;
    super(scope, id, stackProps);

    this.channelFlows = new ChannelFlows(this, 'ChannelFlows', {
      ...(appInstanceId !== undefined ? { appInstanceId } : {}),
      ...(identity !== undefined ? { identity } : {}),
      ...(removalPolicy !== undefined ? { removalPolicy } : {}),
      ...(webSocketThrottle !== undefined ? { webSocketThrottle } : {}),
      ...(processorPrefix !== undefined ? { processorPrefix } : {}),
      ...(flowTimeout !== undefined ? { flowTimeout } : {}),
      ...(moderationDenyWords !== undefined ? { moderationDenyWords } : {}),
      ...(deployModerationProcessor !== undefined ? { deployModerationProcessor } : {}),
      ...(alarmAction !== undefined ? { alarmAction } : {}),
    });
    const cf = this.channelFlows;

    new CfnOutput(this, 'RestApiUrl', {
      value: cf.restUrl,
      description: 'The endpoint for @aws-sdk/client-chime-sdk-messaging',
    });
    new CfnOutput(this, 'WebSocketUrl', {
      value: cf.webSocketUrl,
      description: 'The wss:// URL clients connect to for channel events (GetMessagingSessionEndpoint answers with it)',
    });
    new CfnOutput(this, 'CallbackUrl', {
      value: cf.callbackUrl,
      description: `Base URL of ChannelFlowCallback for processors (SigV4-signed for execute-api); function names of processors start with ${cf.processorPrefix}`,
    });
    new CfnOutput(this, 'AppInstanceArn', { value: cf.appInstanceArn });
    for (const [name, def] of Object.entries(QUEUES) as Array<[QueueName, (typeof QUEUES)[QueueName]]>) {
      new CfnOutput(this, `${name[0]!.toUpperCase()}${name.slice(1)}QueueUrl`, {
        value: cf.queues[name].queueUrl,
        description: def.description,
      });
    }
    if (cf.userPool && cf.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: cf.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: cf.userPoolClient.userPoolClientId });
    }
  }
}
