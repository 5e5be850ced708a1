/**
 * The CloudWatch alarms of `ALARMS`, derived from `QUEUES`, `STREAM_MAPPINGS` and the functions
 * `ALARMS.functionErrors` lists: a stream batch given up on, a stream consumer falling behind, a
 * background function failing. No topic is created: the alarms notify the given action, if any.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IAlarm, type IAlarmAction, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ALARMS, QUEUES, STREAM_MAPPINGS, type FunctionName, type QueueName } from '../system';
import { entries, pascal } from './definition';
import type { FunctionLookup } from './functions';

/** Properties of {@link createAlarms}. */
export interface AlarmsProps {
  /** The queues of `QUEUES`. */
  readonly queues: Readonly<Record<QueueName, IQueue>>;

  /** The functions the alarms watch. */
  readonly getFunction: FunctionLookup;

  /** Notified when any alarm goes into ALARM; none when undefined. */
  readonly alarmAction?: IAlarmAction | undefined;
}

/**
 * In `scope`, one alarm per queue (`{Queue}MessagesVisibleAlarm`), one per function a stream
 * mapping maps to (`{Function}IteratorAgeAlarm`) and one per function of `ALARMS.functionErrors`
 * (`{Function}ErrorsAlarm`): each alarms on one `ALARMS.periodSeconds` period above its threshold,
 * treats missing data as not breaching, and has `alarmAction` as its alarm action when given.
 */
export function createAlarms(scope: Construct, props: AlarmsProps): IAlarm[] {
  const period = Duration.seconds(ALARMS.periodSeconds);
  const alarms: IAlarm[] = [];
  const add = (id: string, metric: IMetric, threshold: number, alarmDescription: string) => {
    const alarm = new Alarm(scope, id, {
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription,
    });
    if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
    alarms.push(alarm);
  };

  for (const [name, def] of entries(QUEUES)) {
    add(
      `${pascal(name)}MessagesVisibleAlarm`,
      props.queues[name].metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      ALARMS.queueMessagesVisibleAbove,
      `Messages in the ${name} queue (${def.description}): look at them, fix the cause, then purge the queue`,
    );
  }

  const streamFunctions = [...new Set<FunctionName>(STREAM_MAPPINGS.map((m) => m.function))];
  for (const name of streamFunctions) {
    const mappings = STREAM_MAPPINGS.filter((m) => m.function === name).map((m) => `${m.id} (${m.table})`);
    add(
      `${pascal(name)}IteratorAgeAlarm`,
      props.getFunction(name).metric('IteratorAge', { period, statistic: 'Maximum' }),
      ALARMS.iteratorAgeSecondsAbove * 1000, // IteratorAge is in milliseconds
      `${name} is more than ${ALARMS.iteratorAgeSecondsAbove} s behind its stream (${mappings.join(', ')}): events reach clients late`,
    );
  }

  for (const name of ALARMS.functionErrors) {
    add(
      `${pascal(name)}ErrorsAlarm`,
      props.getFunction(name).metricErrors({ period, statistic: 'Sum' }),
      0,
      `${name} failed (Errors > 0); no caller sees its errors, see its log group`,
    );
  }
  return alarms;
}
