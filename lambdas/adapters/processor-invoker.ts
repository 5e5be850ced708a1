import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ProcessorInvoker } from '../services/ports';

/**
 * Invokes processor functions asynchronously (`InvocationType: Event`): Lambda queues the event and
 * answers 202 at once; its retries, maximum event age and destinations take it from there.
 * The endpoint comes from the SDK's settings (AWS_ENDPOINT_URL_LAMBDA locally).
 */
export class LambdaProcessorInvoker implements ProcessorInvoker {
  constructor(private readonly client: LambdaClient = new LambdaClient({ maxAttempts: 2 })) {}

  async invoke(functionArn: string, event: unknown): Promise<void> {
    const output = await this.client.send(
      new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
    );
    if (output.StatusCode !== 202) throw new Error(`Asynchronous invoke of ${functionArn} answered ${output.StatusCode}`);
  }
}
