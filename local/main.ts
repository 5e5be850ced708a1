import { parseArgs } from 'node:util';
import { startLocalRuntime } from './runtime';

/**
 * `npm start [-- --port N] [--websocket-port N] [--data-dir DIR] [--app-instance-id ID]`: runs the whole system on
 * loopback and prints one JSON line with its URLs once it is ready.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
    'websocket-port': { type: 'string' },
    'data-dir': { type: 'string' },
    'app-instance-id': { type: 'string' },
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

const runtime = await startLocalRuntime({
  port,
  websocketPort,
  ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
  ...(values['app-instance-id'] !== undefined && { appInstanceId: values['app-instance-id'] }),
});

process.stdout.write(
  `${JSON.stringify({ restUrl: runtime.restUrl, websocketUrl: runtime.websocketUrl, appInstanceArn: runtime.appInstanceArn, dynamodb: runtime.dynamodb })}\n`,
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
