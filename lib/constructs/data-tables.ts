/**
 * The DynamoDB tables of `TABLES`: on-demand, point-in-time recovery, TTL, the streams the fan-out
 * reads, and the global secondary indexes.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLES, type TableName } from '../system';
import { entries, pascal } from './definition';

/** Properties of {@link createDataTables}. */
export interface DataTablesProps {
  /** What happens to the tables (and their data) when they leave the stack. */
  readonly removalPolicy: RemovalPolicy;
}

/** One table per `TABLES` entry, `{Name}Table` in `scope`, by its name in `TABLES`. */
export function createDataTables(scope: Construct, props: DataTablesProps): Record<TableName, Table> {
  const tables = {} as Record<TableName, Table>;
  for (const [name, def] of entries(TABLES)) {
    const table = new Table(scope, `${pascal(name)}Table`, {
      partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
      sortKey: { name: def.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: def.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
      ...(def.stream ? { stream: StreamViewType[def.stream] } : {}),
    });
    for (const index of def.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
    tables[name] = table;
  }
  return tables;
}
