import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionNotifier, PostOutcome } from '../services/ports';

/**
 * Posts frames through API Gateway's @connections API. 410 Gone means the client left; 429 means
 * API Gateway is throttling this account, so the post is retried with exponential backoff and full
 * jitter, a bounded number of times.
 */
export interface NotifierOptions {
  readonly maxThrottleRetries?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class ApiGatewayConnectionNotifier implements ConnectionNotifier {
  private readonly maxThrottleRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    options: NotifierOptions = {},
  ) {
    this.maxThrottleRetries = options.maxThrottleRetries ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
  }

  async post(connectionId: string, frame: string): Promise<PostOutcome> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: frame }));
        return 'DELIVERED';
      } catch (error) {
        if (error instanceof GoneException || (error as { name?: string }).name === 'GoneException') return 'GONE';
        if (!isThrottle(error) || attempt >= this.maxThrottleRetries) throw error;
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}

function isThrottle(error: unknown): boolean {
  const candidate = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return candidate.$metadata?.httpStatusCode === 429 || candidate.name === 'LimitExceededException' || candidate.name === 'ThrottlingException';
}

/** The client for a stage's @connections endpoint; SDK retries are off because the notifier owns them. */
export function createManagementClient(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1 });
}
