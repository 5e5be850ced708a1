import type { DynamoDbMessageRepository } from '../../adapters/dynamodb/message-repository';
import type { ChannelActivity } from '../../services/ports';
import { LambdaProcessorInvoker } from '../../adapters/processor-invoker';
import { flowTimeoutMs } from '../../config';
import type { AppInstance } from '../../core/arns';
import { systemClock } from '../../services/ports';
import { ProcessingService } from '../../services/processing-service';

/** The processing service as every function that starts or ends processing builds it. */
export function createProcessingService(app: AppInstance, messages: DynamoDbMessageRepository, channels: ChannelActivity): ProcessingService {
  return new ProcessingService(app, messages, messages, channels, new LambdaProcessorInvoker(), systemClock, { timeoutMs: flowTimeoutMs() });
}
