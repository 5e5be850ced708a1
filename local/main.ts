import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PROCESSORS } from '../lib/system';
import { startLocalRuntime } from './runtime';

/**
 * `npm start [-- --port N] [--websocket-port N] [--data-dir DIR] [--app-instance-id ID]
 *   [--processor NAME=PATH[#EXPORT] ...] [--flow-timeout-seconds N]`: runs the whole system on
 * loopback and prints one JSON line with its URLs once it is ready.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    'websocket-port': { type: 'string' },
    'data-dir': { type: 'string' },
    'app-instance-id': { type: 'string' },
    processor: { type: 'string', multiple: true },
    'flow-timeout-seconds': { type: 'string' },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer from 0 to 65535, got ${values.port}`);
  process.exit(2);
}

// The WebSocket API listens next to the REST API unless told otherwise (4000 → 4001; 0 → any).
const websocketPort = values['websocket-port'] === undefined ? (port === 0 ? 0 : port + 1) : Number(values['websocket-port']);
if (!Number.isInteger(websocketPort) || websocketPort < 0 || websocketPort > 65535) {
  console.error(`--websocket-port must be an integer from 0 to 65535, got ${values['websocket-port']}`);
  process.exit(2);
}

// --processor channel-flow-redact=./my/processor.ts[#exportName]
const processors = (values.processor ?? []).map((spec) => {
  const match = /^([^=]+)=([^#]+)(?:#(.+))?$/.exec(spec);
  if (!match) {
    console.error(`--processor must be NAME=PATH[#EXPORT], got ${spec}`);
    process.exit(2);
  }
  const [, name, entry, handler] = match as unknown as [string, string, string, string | undefined];
  if (!name.startsWith(PROCESSORS.defaultPrefix)) {
    console.error(`--processor ${name}: a processor's name must start with "${PROCESSORS.defaultPrefix}" (flows may name no other function)`);
    process.exit(2);
  }
  if (!existsSync(resolve(entry))) {
    console.error(`--processor ${name}: no module at ${resolve(entry)}`);
    process.exit(2);
  }
  return { name, entry: resolve(entry), ...(handler !== undefined && { handler }) };
});

const flowTimeoutSeconds = values['flow-timeout-seconds'] === undefined ? undefined : Number(values['flow-timeout-seconds']);
if (flowTimeoutSeconds !== undefined && !(flowTimeoutSeconds > 0)) {
  console.error(`--flow-timeout-seconds must be a positive number, got ${values['flow-timeout-seconds']}`);
  process.exit(2);
}

const runtime = await startLocalRuntime({
  processors,
  ...(flowTimeoutSeconds !== undefined && { flowTimeoutSeconds }),
  port,
  websocketPort,
  ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
  ...(values['app-instance-id'] !== undefined && { appInstanceId: values['app-instance-id'] }),
}).catch((error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? ' (the port is taken: choose another with --port N, or --port 0 for any free one)' : '';
  console.error(`The local runtime could not start: ${error.message}${hint}`);
  process.exit(1);
});

process.stdout.write(
  `${JSON.stringify({ restUrl: runtime.restUrl, websocketUrl: runtime.websocketUrl, appInstanceArn: runtime.appInstanceArn, processors: runtime.processors, dynamodb: runtime.dynamodb })}\n`,
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await runtime.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
