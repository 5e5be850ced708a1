import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../lib/system';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';

/**
 * Runs the handler modules named in `lib/system.ts` in this process, loaded once each like a warm
 * Lambda container, with a Lambda-shaped context object.
 */
type Handler = (event: unknown, context: Context) => Promise<unknown>;

const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export class LocalFunctions {
  private readonly loaded = new Map<FunctionName, Promise<Handler>>();

  async invoke<Result>(name: FunctionName, event: unknown): Promise<Result> {
    const handler = await this.load(name);
    return (await handler(event, lambdaContext(name))) as Result;
  }

  private load(name: FunctionName): Promise<Handler> {
    let handler = this.loaded.get(name);
    if (!handler) {
      const definition = FUNCTIONS[name];
      handler = import(pathToFileURL(resolve(PROJECT_ROOT, definition.entry)).href).then((module: Record<string, unknown>) => {
        const exported = module[definition.handler];
        if (typeof exported !== 'function') throw new Error(`${definition.entry} does not export ${definition.handler}`);
        return exported as Handler;
      });
      this.loaded.set(name, handler);
    }
    return handler;
  }
}

function lambdaContext(name: FunctionName): Context {
  const definition = FUNCTIONS[name];
  const deadline = Date.now() + definition.timeoutSeconds * 1000;
  const functionName = `channel-flows-${name}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(definition.memorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Any handler module, not only those of FUNCTIONS: what the local Lambda service registers
// (processors of other teams, or the FUNCTIONS entries under their deployed names).

const loadedModules = new Map<string, Promise<Handler>>();

/**
 * The exported handler `exportName` of the module at `entry` (a path from the project root, or an
 * absolute path), imported once like a warm container. A missing module or export rejects, which an
 * invoke reports as a function error, as Lambda reports Runtime.ImportModuleError.
 */
export function loadHandler(entry: string, exportName = 'handler'): Promise<Handler> {
  const href = pathToFileURL(resolve(PROJECT_ROOT, entry)).href;
  const key = `${href}#${exportName}`;
  let handler = loadedModules.get(key);
  if (!handler) {
    handler = import(href).then((module: Record<string, unknown>) => {
      const exported = module[exportName];
      if (typeof exported !== 'function') throw new Error(`${entry} does not export ${exportName}`);
      return exported as Handler;
    });
    // A failed import is tried again on the next invoke (a fixed file can then load).
    handler.catch(() => loadedModules.delete(key));
    loadedModules.set(key, handler);
  }
  return handler;
}

/** `(event, context) => handler(event, context)` for the module's export, loaded on first use. */
export function moduleHandler(entry: string, exportName = 'handler'): (event: unknown, context: Context) => Promise<unknown> {
  return async (event, context) => (await loadHandler(entry, exportName))(event, context);
}
