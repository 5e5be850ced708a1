import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/**
 * A raw HTTP client for dynalite on loopback: forwards client requests byte for byte, and makes
 * the stream layer's own calls (GetItem, DeleteItem, Scan) without the SDK's signing and parsing
 * cost. dynalite checks that an Authorization header is present and well formed, not the signature.
 */
export interface RawResponse {
  readonly status: number;
  /** Header name/value pairs as the server sent them (original case), hop-by-hop headers removed. */
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class DynamoDbCallError extends Error {
  constructor(
    readonly status: number,
    /** The short error type, e.g. `ConditionalCheckFailedException`. */
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = 'DynamoDbCallError';
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export class DynaliteClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128 });
  private readonly url: URL;

  constructor(endpoint: string) {
    this.url = new URL(endpoint);
  }

  /** Sends a request as given and returns the response as received. */
  forward(method: string, path: string, rawHeaders: readonly string[], body: Buffer): Promise<RawResponse> {
    const headers: [string, string][] = [];
    for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
      const name = rawHeaders[index]!;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || lower === 'content-length') continue;
      headers.push([name, rawHeaders[index + 1]!]);
    }
    headers.push(['Content-Length', String(body.length)]);
    return this.send(method, path, headers, body);
  }

  /** One DynamoDB operation on behalf of the stream layer; throws `DynamoDbCallError` on an error answer. */
  async call<Output>(operation: string, input: unknown): Promise<Output> {
    const body = Buffer.from(JSON.stringify(input));
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const response = await this.send(
      'POST',
      '/',
      {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': String(body.length),
        'X-Amz-Target': `DynamoDB_20120810.${operation}`,
        'X-Amz-Date': date,
        Authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
      },
      body,
    );
    const text = response.body.toString('utf8');
    if (response.status !== 200) {
      let type = 'UnknownError';
      let message = text;
      try {
        const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
        type = (parsed.__type ?? type).split('#').pop() ?? type;
        message = parsed.message ?? parsed.Message ?? '';
      } catch {
        // not JSON; keep the raw text
      }
      throw new DynamoDbCallError(response.status, type, message);
    }
    return JSON.parse(text) as Output;
  }

  destroy(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, headers: OutgoingHttpHeaders | [string, string][], body: Buffer): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const outgoing = request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: Array.isArray(headers) ? headers.flat() : headers,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => {
            const rawHeaders: string[] = [];
            for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) {
              if (HOP_BY_HOP.has(incoming.rawHeaders[index]!.toLowerCase())) continue;
              rawHeaders.push(incoming.rawHeaders[index]!, incoming.rawHeaders[index + 1]!);
            }
            resolve({ status: incoming.statusCode ?? 500, rawHeaders, headers: incoming.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}
