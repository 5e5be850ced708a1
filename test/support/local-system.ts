import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ChimeSDKMessagingClient } from '@aws-sdk/client-chime-sdk-messaging';

/**
 * Starts the local runtime the way a user does (`npm start`, as a separate process on a free
 * port), waits for its ready line, and hands out users with tokens and official Chime SDK clients.
 */
export interface ReadyLine {
  readonly restUrl: string;
  readonly websocketUrl: string;
  readonly appInstanceArn: string;
  readonly dynamodb: { readonly endpoint: string; readonly tables: { readonly channels: string; readonly messages: string; readonly connections: string } };
  readonly [key: string]: unknown;
}

export interface LocalUser {
  readonly userId: string;
  readonly arn: string;
  readonly token: string;
  /** The official client, sending this user's token as `Authorization: Bearer`. */
  readonly client: ChimeSDKMessagingClient;
}

export interface LocalSystem {
  readonly ready: ReadyLine;
  user(userId: string, options?: { readonly name?: string; readonly admin?: boolean }): Promise<LocalUser>;
  /** A client with no Authorization header at all. */
  anonymousClient(): ChimeSDKMessagingClient;
  /** A client that sends the given Authorization header value verbatim. */
  clientWithAuthorization(value: string): ChimeSDKMessagingClient;
  stop(): Promise<void>;
}

const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

export async function startLocalSystem(extraArgs: readonly string[] = []): Promise<LocalSystem> {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', 'local/main.ts', '--port', '0', ...extraArgs], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const ready = await readReadyLine(child, stderr);
  const clients: ChimeSDKMessagingClient[] = [];

  const makeClient = (authorization: string | undefined) => {
    const client = new ChimeSDKMessagingClient({
      endpoint: ready.restUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    if (authorization !== undefined) {
      client.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers.authorization = authorization;
          return next(args);
        },
        { step: 'finalizeRequest', name: 'bearerToken' },
      );
    }
    clients.push(client);
    return client;
  };

  return {
    ready,
    async user(userId, options = {}) {
      const response = await fetch(`${ready.restUrl}/local/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId, name: options.name ?? userId, admin: options.admin ?? false }),
      });
      if (!response.ok) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
      const { token, userArn } = (await response.json()) as { token: string; userArn: string };
      return { userId, arn: userArn, token, client: makeClient(`Bearer ${token}`) };
    },
    anonymousClient: () => makeClient(undefined),
    clientWithAuthorization: (value) => makeClient(value),
    async stop() {
      for (const client of clients) client.destroy();
      await stopChild(child);
    },
  };
}

function readReadyLine(child: ChildProcess, stderr: string[]): Promise<ReadyLine> {
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime not ready after 30 s: ${stderr.join('')}`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line) as ReadyLine;
      if (typeof parsed.restUrl !== 'string') return;
      clearTimeout(timer);
      resolveReady(parsed);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited with ${code} before it was ready: ${stderr.join('')}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
    child.kill('SIGTERM');
  });
}
