/**
 * Raw HTTP to the REST API, for the requests the official SDK client cannot send (malformed JSON,
 * a missing header, an out-of-enum query value).
 */
export interface RawResponse {
  readonly status: number;
  /** The `x-amzn-ErrorType` response header, if any. */
  readonly errorType: string | null;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export interface RawRequest {
  readonly method: string;
  /** Path and query, already encoded (ARNs with `encodeURIComponent`). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export async function rawRequest(restUrl: string, request: RawRequest): Promise<RawResponse> {
  const response = await fetch(`${restUrl}${request.path}`, {
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body !== undefined && { body: request.body }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), text, json };
}

/** `/channels/<encoded ARN>` followed by `rest`. */
export const channelPath = (channelArn: string, rest = ''): string => `/channels/${encodeURIComponent(channelArn)}${rest}`;
