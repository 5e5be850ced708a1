import type { IncomingMessage } from 'node:http';

/** Request headers as API Gateway puts them in proxy events: the last value of each name wins. */
export function singleValueHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    headers[request.rawHeaders[index] as string] = request.rawHeaders[index + 1] as string;
  }
  return headers;
}

/** Request headers as API Gateway's `multiValueHeaders`: every value of each name. */
export function multiValueHeaders(request: IncomingMessage): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    (headers[request.rawHeaders[index] as string] ??= []).push(request.rawHeaders[index + 1] as string);
  }
  return headers;
}
