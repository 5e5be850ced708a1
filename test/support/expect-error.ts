import assert from 'node:assert/strict';

/**
 * Asserts that a call to the official SDK client failed with the typed exception `name`, the HTTP
 * status of that shape and a message containing every fragment (field names, limits).
 */
export async function expectServiceError(
  call: Promise<unknown>,
  name: string,
  status: number,
  ...fragments: readonly (string | RegExp)[]
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  let caught: unknown;
  try {
    const output = await call;
    assert.fail(`expected ${name} (${status}) but the call succeeded with ${JSON.stringify(output)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    caught = error;
  }
  const error = caught as Error & { $metadata?: { httpStatusCode?: number } };
  assert.equal(error.name, name, `error name (message: ${error.message})`);
  assert.equal(error.$metadata?.httpStatusCode, status, `HTTP status of ${name} (message: ${error.message})`);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} should mention ${JSON.stringify(fragment)}`);
    else assert.match(error.message, fragment);
  }
  return error;
}
