import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

/** `npm start`'s command line: the ready line, the exit on signals, and clear refusals. */
const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

function start(args: readonly string[]) {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', 'local/main.ts', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const readyLine = new Promise<Record<string, unknown>>((done, fail) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) done(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then((code) => fail(new Error(`exited with ${code} before the ready line: ${stderr}`)));
  });
  // Tests of refusals never await the ready line; its rejection is theirs to ignore.
  readyLine.catch(() => undefined);
  return { child, exited, readyLine, stderr: () => stderr };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`prints one JSON ready line with the URLs, and exits 0 on ${signal}`, async () => {
    const runtime = start(['--port', '0']);
    const ready = await runtime.readyLine;
    assert.match(ready.restUrl as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ready.websocketUrl as string, /^ws:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.equal(ready.appInstanceArn, 'arn:aws:chime:us-east-1:000000000000:app-instance/local');
    assert.deepEqual(Object.keys(ready.processors as object), ['channel-flow-moderation']);
    const health = await fetch(`${ready.restUrl as string}/local/.well-known/jwks.json`);
    assert.equal(health.status, 200);
    runtime.child.kill(signal);
    assert.equal(await runtime.exited, 0);
  });
}

test('a processor without the prefix, or without a module, is refused with exit code 2 and a reason', async () => {
  const unprefixed = start(['--port', '0', '--processor', 'redactor=./lambdas/processors/moderation.ts']);
  assert.equal(await unprefixed.exited, 2);
  assert.match(unprefixed.stderr(), /must start with "channel-flow-"/);
  const missing = start(['--port', '0', '--processor', 'channel-flow-missing=./no/such/module.ts']);
  assert.equal(await missing.exited, 2);
  assert.match(missing.stderr(), /no module at .*no\/such\/module\.ts/);
});

test('a port in use ends the start with exit code 1 and says how to choose another', async () => {
  const blocker = createServer();
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
  const port = (blocker.address() as { port: number }).port;
  try {
    const runtime = start(['--port', String(port)]);
    assert.equal(await runtime.exited, 1);
    assert.match(runtime.stderr(), /EADDRINUSE.*--port/);
  } finally {
    blocker.close();
  }
});
