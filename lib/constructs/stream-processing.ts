/**
 * The DynamoDB stream fan-out: the queues of `QUEUES` (where batches that ran out of retries are
 * recorded) and the event source mappings of `STREAM_MAPPINGS`, each from a table's stream to its
 * function with its on-failure queue and, for a mapping with `entities`, its event filter.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { QUEUES, STREAM_MAPPINGS, type QueueName, type StreamMappingDefinition, type TableName } from '../system';
import { entries, pascal } from './definition';
import type { FunctionLookup } from './functions';

/** Properties of {@link createStreamProcessing}. */
export interface StreamProcessingProps {
  /** The tables whose streams are read. */
  readonly tables: Readonly<Record<TableName, ITable>>;

  /** The mapped functions. */
  readonly getFunction: FunctionLookup;
}

/** The queues and the event source mappings. */
export interface StreamProcessing {
  /** By their name in `QUEUES`. */
  readonly queues: Record<QueueName, Queue>;

  /** By their `id` in `STREAM_MAPPINGS`. */
  readonly mappings: Record<string, DynamoEventSource>;
}

/**
 * One queue `{Name}Queue` in `scope` per `QUEUES` entry (SQS-managed encryption, TLS only), then one
 * event source mapping per `STREAM_MAPPINGS` entry on its function. DynamoEventSource grants the
 * stream read to the mapped function only, and SqsDlq lets that function's role send to the
 * on-failure queue.
 */
export function createStreamProcessing(scope: Construct, props: StreamProcessingProps): StreamProcessing {
  const queues = {} as Record<QueueName, Queue>;
  for (const [name, def] of entries(QUEUES)) {
    queues[name] = new Queue(scope, `${pascal(name)}Queue`, {
      retentionPeriod: Duration.days(def.retentionDays),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
  }

  const mappings: Record<string, DynamoEventSource> = {};
  for (const m of STREAM_MAPPINGS) {
    if (mappings[m.id]) throw new Error(`Duplicate stream mapping id "${m.id}"`);
    const source = new DynamoEventSource(props.tables[m.table], {
      startingPosition: StartingPosition[m.startingPosition],
      batchSize: m.batchSize,
      maxBatchingWindow: Duration.seconds(m.maximumBatchingWindowSeconds),
      bisectBatchOnError: m.bisectBatchOnFunctionError,
      retryAttempts: m.maximumRetryAttempts,
      maxRecordAge: Duration.seconds(m.maximumRecordAgeSeconds),
      reportBatchItemFailures: m.reportBatchItemFailures,
      onFailure: new SqsDlq(queues[m.onFailure]),
      ...(m.entities !== undefined && { filters: entityFilters(m) }),
    });
    props.getFunction(m.function).addEventSource(source);
    mappings[m.id] = source;
  }
  return { queues, mappings };
}

/**
 * The Lambda event filter of a mapping's `entities`: two patterns, which Lambda ORs, one on the new
 * and one on the old image, each matching a string `entity` attribute equal to one of the entities
 * (`{"dynamodb":{"NewImage":{"entity":{"S":["MESSAGE"]}}}}`, DynamoDB-JSON as in the stream
 * record). A record with neither image matching is dropped before batching.
 */
export function entityFilters(m: StreamMappingDefinition): Array<Record<string, unknown>> {
  const entities = m.entities ?? [];
  if (entities.length === 0 || entities.some((entity) => entity === '')) {
    throw new Error(`Stream mapping ${m.id}: entities must list at least one non-empty entity (or be left out to receive every record)`);
  }
  const values = FilterRule.or(...entities);
  return (['NewImage', 'OldImage'] as const).map((image) => FilterCriteria.filter({ dynamodb: { [image]: { entity: { S: values } } } }));
}
