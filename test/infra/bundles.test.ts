import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ENV, TABLES } from '../../lib/system';

/**
 * What `cdk deploy` would upload: a real synth with esbuild bundling (offline, no credentials),
 * then every function's bundle loaded by plain Node, as the Lambda runtime loads it, in a child
 * process with the environment the construct gives it. A bundle that fails to resolve a module,
 * or a handler whose cold start throws, fails here rather than in the account.
 */
const run = promisify(execFile);
const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
const outdir = mkdtempSync(join(tmpdir(), 'channel-flows-synth-'));

interface LambdaResource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties: { readonly Handler: string; readonly Runtime: string; readonly Environment?: { readonly Variables?: Record<string, unknown> } };
}

let functions: [string, LambdaResource][] = [];

before(async () => {
  await run(process.execPath, ['--no-warnings', '--import', 'tsx', 'bin/app.ts'], {
    cwd: PROJECT_ROOT,
    // Asset metadata names each function's bundle folder; the CDK CLI asks for it the same way.
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-asset-metadata': true }) },
    maxBuffer: 16 * 1024 * 1024,
  });
  const template = JSON.parse(readFileSync(join(outdir, 'ChannelFlows.template.json'), 'utf8')) as { Resources: Record<string, LambdaResource> };
  functions = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');
});

after(() => rmSync(outdir, { recursive: true, force: true }));

/** Plain values for every variable a function may read; tokens in the template stand for deploy-time values. */
const LOCAL_VALUES: Record<string, string> = {
  [ENV.appInstanceArn]: 'arn:aws:chime:us-east-1:111122223333:app-instance/default',
  [ENV.jwtIssuer]: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example',
  [ENV.connectionsEndpoint]: 'https://example.execute-api.us-east-1.amazonaws.com/v1',
  [ENV.websocketUrl]: 'wss://example.execute-api.us-east-1.amazonaws.com/v1',
  [ENV.callbackUrl]: 'https://example.execute-api.us-east-1.amazonaws.com/v1/callbacks',
  ...Object.fromEntries(Object.values(TABLES).map((table) => [table.environmentVariable, 'table'])),
};

describe('bundled functions', () => {
  test('every function of the template is bundled for Node.js 22 or newer', () => {
    assert.ok(functions.length >= 10, `expected the system's functions, found ${functions.length}`);
    for (const [id, resource] of functions) {
      assert.match(resource.Properties.Runtime, /^nodejs(2[2-9]|[3-9]\d)\.x$/, id);
      const assetPath = resource.Metadata?.['aws:asset:path'] as string | undefined;
      assert.ok(assetPath && existsSync(join(outdir, assetPath, 'index.js')), `${id} has a bundle with index.js`);
    }
  });

  test('every bundle loads in plain Node with its environment and exports its handler', async () => {
    for (const [id, resource] of functions) {
      const bundle = join(outdir, resource.Metadata?.['aws:asset:path'] as string, 'index.js');
      const [, exportName] = resource.Properties.Handler.split('.');
      const variables = Object.fromEntries(
        Object.entries(resource.Properties.Environment?.Variables ?? {}).map(([name, value]) => [name, typeof value === 'string' ? value : (LOCAL_VALUES[name] ?? 'x')]),
      );
      const { stdout } = await run(process.execPath, ['-e', `const m = require(${JSON.stringify(bundle)}); console.log(typeof m[${JSON.stringify(exportName)}]);`], {
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...LOCAL_VALUES,
          ...variables,
        },
      });
      assert.equal(stdout.trim(), 'function', `${id}: ${resource.Properties.Handler}`);
    }
  });
});
