import { ChimeSDKMessagingClient, type ChimeSDKMessagingClientConfig } from '@aws-sdk/client-chime-sdk-messaging';

/**
 * The official Chime SDK Messaging client, pointed at this deployment's callback endpoint, for a
 * processor that answers with ChannelFlowCallback as one written for Amazon Chime does:
 *
 *   const client = createCallbackClient(process.env.CHANNEL_FLOW_CALLBACK_URL!);
 *   await client.send(new ChannelFlowCallbackCommand({ CallbackId, ChannelArn, ChannelMessage: { MessageId, Content } }));
 *
 * The endpoint is an API Gateway resource authorized by IAM, so requests are signed for
 * `execute-api` (Amazon Chime's own endpoint expects `chime`); everything else is the stock client.
 * The function's role needs `execute-api:Invoke` on it, which `ChannelFlows.addProcessor` grants.
 */
export function createCallbackClient(callbackUrl: string, config: Omit<ChimeSDKMessagingClientConfig, 'endpoint'> = {}): ChimeSDKMessagingClient {
  return new ChimeSDKMessagingClient({
    ...config,
    endpoint: callbackUrl,
    httpAuthSchemeProvider: (parameters) => [
      {
        schemeId: 'aws.auth#sigv4',
        signingProperties: { name: 'execute-api', region: parameters.region },
        propertiesExtractor: (resolvedConfig: unknown, context: unknown) => ({ signingProperties: { config: resolvedConfig, context } }),
      },
    ],
  });
}
