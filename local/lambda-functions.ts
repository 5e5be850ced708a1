import { FUNCTIONS, PROCESSORS, type FunctionName } from '../lib/system';
import { moduleHandler } from './functions';
import type { AsyncInvokeSettings, LambdaInvoke, LocalLambdaService } from './lambda-service';

/**
 * The functions of `lib/system.ts` on the local Lambda service, named as deployed: the shipped
 * processors under their fixed names (`{prefix}moderation` → `channel-flow-moderation`), every
 * other function as `channel-flows-{key}` (the naming of `localFunctionArn` and `LocalFunctions`).
 * Processors, shipped or extra, get PROCESSORS.asyncInvoke with both destinations invoking the
 * outcome function asynchronously with the destination record, as the CDK construct configures them.
 */

export interface ExtraProcessor {
  /** The function name; must start with the processor prefix, e.g. `channel-flow-echo`. */
  readonly name: string;
  /** Module path from the project root (or absolute). */
  readonly entry: string;
  /** Default `handler`. */
  readonly handler?: string;
  /** Default 10. */
  readonly timeoutSeconds?: number;
}

export interface SystemLambdaFunctionsOptions {
  /** Default PROCESSORS.defaultPrefix. */
  readonly processorPrefix?: string;
  /** Processors of other teams to run locally too. */
  readonly extraProcessors?: readonly ExtraProcessor[];
  /** Overrides the code of a FUNCTIONS entry (tests); default its module's export. */
  readonly code?: Partial<Record<FunctionName, LambdaInvoke>>;
  /** Overrides PROCESSORS.asyncInvoke's limits (not the destinations). */
  readonly processorAsyncInvoke?: Pick<AsyncInvokeSettings, 'maximumRetryAttempts' | 'maximumEventAgeSeconds'>;
}

/** The deployed function name of a FUNCTIONS entry. */
export function systemFunctionName(key: FunctionName, processorPrefix: string = PROCESSORS.defaultPrefix): string {
  const fixed = FUNCTIONS[key].functionName;
  return fixed !== undefined ? fixed.replace('{prefix}', processorPrefix) : `channel-flows-${key}`;
}

/** Registers every FUNCTIONS entry (and the extra processors); returns the names by FUNCTIONS key. */
export function registerSystemFunctions(service: LocalLambdaService, options: SystemLambdaFunctionsOptions = {}): Record<FunctionName, string> {
  const prefix = options.processorPrefix ?? PROCESSORS.defaultPrefix;
  const keys = Object.keys(FUNCTIONS) as FunctionName[];
  const names = Object.fromEntries(keys.map((key) => [key, systemFunctionName(key, prefix)])) as Record<FunctionName, string>;
  const outcome = service.functionDestination(names[PROCESSORS.outcomeFunction]);
  const processorSettings: AsyncInvokeSettings = {
    ...PROCESSORS.asyncInvoke,
    ...options.processorAsyncInvoke,
    onSuccess: outcome,
    onFailure: outcome,
  };
  const shipped = new Set<FunctionName>(Object.values(PROCESSORS.shipped));

  for (const key of keys) {
    const definition = FUNCTIONS[key];
    service.register({
      name: names[key],
      invoke: options.code?.[key] ?? moduleHandler(definition.entry, definition.handler),
      timeoutSeconds: definition.timeoutSeconds,
      memorySize: definition.memorySize,
      ...(shipped.has(key) && { asyncInvoke: processorSettings }),
    });
  }
  for (const processor of options.extraProcessors ?? []) {
    if (!processor.name.startsWith(prefix)) throw new Error(`processor ${processor.name} does not start with the processor prefix ${prefix}`);
    service.register({
      name: processor.name,
      invoke: moduleHandler(processor.entry, processor.handler ?? 'handler'),
      timeoutSeconds: processor.timeoutSeconds ?? 10,
      asyncInvoke: processorSettings,
    });
  }
  return names;
}
