import { parseArgs } from 'node:util';
import { startLocalRuntime } from './runtime';

/**
 * `npm start [-- --port N] [--data-dir DIR] [--app-instance-id ID]`: runs the whole system on
 * loopback and prints one JSON line with its URLs once it is ready.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4000' },
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

const runtime = await startLocalRuntime({
  port,
  ...(values['data-dir'] !== undefined && { dataDir: values['data-dir'] }),
  ...(values['app-instance-id'] !== undefined && { appInstanceId: values['app-instance-id'] }),
});

process.stdout.write(`${JSON.stringify({ restUrl: runtime.restUrl, appInstanceArn: runtime.appInstanceArn })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await runtime.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
