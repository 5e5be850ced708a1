import { badRequest } from './errors';
import type { Processor } from './model';
import type { ProcessorRequest } from './validation';

/**
 * Channel flow rules that go beyond the request's shape: which Lambda functions a flow may name as
 * its processor. The deployment may invoke only functions of its own region and account whose names
 * start with the processor prefix (its invoking role is limited to exactly those), so a flow naming
 * any other function is refused when it is created or updated, not when the first message fails.
 */
export interface ProcessorScope {
  /** Function names must start with this (`ENV.processorPrefix`, default `channel-flow-`). */
  readonly prefix: string;
  readonly region: string;
  readonly accountId: string;
}

/** `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`, already matched against the model pattern. */
const FUNCTION_ARN = /^arn:[^:]+:lambda:([^:]+):([^:]+):function:([^:]+)(?::[^:]+)?$/;

/** The parts of a Lambda function ARN, or undefined when it is not one. */
export function parseFunctionArn(arn: string): { readonly region: string; readonly accountId: string; readonly functionName: string } | undefined {
  const match = FUNCTION_ARN.exec(arn);
  if (!match) return undefined;
  const [, region, accountId, functionName] = match as unknown as [string, string, string, string];
  return { region, accountId, functionName };
}

/** Whether this deployment may invoke the function as a processor. */
export function isAllowedProcessorFunction(arn: string, scope: ProcessorScope): boolean {
  const parts = parseFunctionArn(arn);
  return (
    parts !== undefined &&
    parts.region === scope.region &&
    parts.accountId === scope.accountId &&
    parts.functionName.startsWith(scope.prefix)
  );
}

/** Throws BadRequest naming the first processor whose function this deployment may not invoke. */
export function assertProcessorsAllowed(processors: readonly ProcessorRequest[], scope: ProcessorScope, field = 'Processors'): void {
  processors.forEach((processor, index) => {
    const arn = processor.Configuration.Lambda.ResourceArn;
    if (isAllowedProcessorFunction(arn, scope)) return;
    throw badRequest(
      `${field}[${index}].Configuration.Lambda.ResourceArn must name a function whose name starts with "${scope.prefix}" ` +
        `in ${scope.region} account ${scope.accountId}, got ${arn}`,
    );
  });
}

/** The processors of a validated request, as the model keeps them. */
export function toProcessors(processors: readonly ProcessorRequest[]): Processor[] {
  return processors.map((processor) => ({
    name: processor.Name,
    executionOrder: processor.ExecutionOrder,
    fallbackAction: processor.FallbackAction,
    lambdaArn: processor.Configuration.Lambda.ResourceArn,
    invocationType: processor.Configuration.Lambda.InvocationType,
  }));
}
