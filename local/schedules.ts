import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { SCHEDULES, type FunctionName, type ScheduleDefinition } from '../lib/system';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './environment';

/**
 * The scheduled jobs of `lib/system.ts` (EventBridge `rate(...)` rules in AWS) as timers: each
 * schedule invokes its function with EventBridge's "Scheduled Event" every period, the first time
 * one period after start (as a new rule does) unless `runAtStart`. Runs of one schedule never
 * overlap: a tick that comes while the previous run is still going is skipped (counted in
 * `stats`), and the next tick stays on the schedule's grid. A failed run is logged; the schedule
 * carries on (EventBridge does not wait for the function either).
 */

export type ScheduleLogEntry =
  | { readonly type: 'run-error'; readonly scheduleId: string; readonly error: unknown }
  | { readonly type: 'skipped'; readonly scheduleId: string; readonly ticks: number };

export interface LocalSchedulesOptions {
  /** Runs the function and settles when it is done, e.g. `(fn, event) => lambda.invoke(names[fn], event)`. */
  readonly invoke: (functionName: FunctionName, event: ScheduledEvent) => Promise<unknown>;
  /** Default SCHEDULES. */
  readonly schedules?: readonly ScheduleDefinition[];
  /** One period for every schedule, in ms, instead of its `rateSeconds` (e.g. 1000 locally). */
  readonly intervalMs?: number;
  /** Multiplies each `rateSeconds` (e.g. 1/60 makes a 60 s rate run every second); ignored with `intervalMs`. */
  readonly rateScale?: number;
  /** Also run every schedule right after start; default false. */
  readonly runAtStart?: boolean;
  /** The rule ARN in the event's `resources`; default `arn:aws:events:us-east-1:000000000000:rule/channel-flows-{id}`. */
  readonly ruleArn?: (schedule: ScheduleDefinition) => string;
  /** Clock for the event's `time` (epoch ms). Default `Date.now`. */
  readonly clock?: () => number;
  /** Default: failed runs are written to stderr. */
  readonly log?: (entry: ScheduleLogEntry) => void;
}

export interface ScheduleStats {
  runs: number;
  errors: number;
  /** Ticks that came while a run was still going. */
  skippedTicks: number;
}

export interface LocalSchedules {
  /** By schedule id. */
  readonly stats: ReadonlyMap<string, Readonly<ScheduleStats>>;
  /** The period actually used for each schedule, in ms. */
  readonly periods: ReadonlyMap<string, number>;
  /**
   * Runs the schedule now (after the run in progress, if any, so never overlapping it); resolves
   * when this run is done, whether the function succeeded or not.
   */
  runNow(scheduleId: string): Promise<void>;
  /** Clears the timers and waits (up to `graceMs`, default 2000) for runs in progress. */
  stop(graceMs?: number): Promise<void>;
}

export function localRuleArn(schedule: ScheduleDefinition): string {
  return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:rule/channel-flows-${schedule.id}`;
}

/** EventBridge's event for a scheduled rule; `time` is the scheduled time, in seconds. */
export function scheduledEvent(ruleArn: string, time: number): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [ruleArn],
    detail: {},
  };
}

export function startSchedules(options: LocalSchedulesOptions): LocalSchedules {
  const definitions = options.schedules ?? SCHEDULES;
  const clock = options.clock ?? Date.now;
  const log = options.log ?? defaultLog;
  const stats = new Map<string, ScheduleStats>();
  const periods = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** The run in progress (or the chain of requested runs) per schedule. */
  const current = new Map<string, Promise<void>>();
  let stopped = false;

  for (const schedule of definitions) {
    if (periods.has(schedule.id)) throw new Error(`duplicate schedule id ${schedule.id}`);
    const period = options.intervalMs ?? schedule.rateSeconds * 1000 * (options.rateScale ?? 1);
    if (!(period > 0) || !Number.isFinite(period)) throw new Error(`schedule ${schedule.id}: the period must be a positive number of ms (got ${period})`);
    periods.set(schedule.id, period);
    stats.set(schedule.id, { runs: 0, errors: 0, skippedTicks: 0 });
  }

  const byId = new Map(definitions.map((schedule) => [schedule.id, schedule]));

  async function run(schedule: ScheduleDefinition, scheduledTime: number): Promise<void> {
    const counters = stats.get(schedule.id)!;
    counters.runs += 1;
    try {
      await options.invoke(schedule.function, scheduledEvent(options.ruleArn ? options.ruleArn(schedule) : localRuleArn(schedule), scheduledTime));
    } catch (error) {
      counters.errors += 1;
      if (!stopped) log({ type: 'run-error', scheduleId: schedule.id, error });
    }
  }

  /** Chains a run after the one in progress; the returned promise settles when this run is done. */
  function enqueueRun(schedule: ScheduleDefinition, scheduledTime: () => number): Promise<void> {
    const previous = current.get(schedule.id) ?? Promise.resolve();
    const next = previous.then(() => (stopped ? undefined : run(schedule, scheduledTime())));
    current.set(schedule.id, next);
    void next.finally(() => {
      if (current.get(schedule.id) === next) current.delete(schedule.id);
    });
    return next;
  }

  function arm(schedule: ScheduleDefinition, due: number): void {
    if (stopped) return;
    const period = periods.get(schedule.id)!;
    const timer = setTimeout(
      () => {
        if (stopped) return;
        if (current.has(schedule.id)) {
          // Still running: skip this tick, keep to the grid.
          stats.get(schedule.id)!.skippedTicks += 1;
          log({ type: 'skipped', scheduleId: schedule.id, ticks: 1 });
          arm(schedule, due + period);
          return;
        }
        const scheduledAt = clock();
        void enqueueRun(schedule, () => scheduledAt).then(() => {
          // The next tick on the grid that is still ahead, skipping those the run outlasted.
          let next = due + period;
          let skipped = 0;
          while (next <= Date.now()) {
            next += period;
            skipped += 1;
          }
          if (skipped > 0) {
            stats.get(schedule.id)!.skippedTicks += skipped;
            log({ type: 'skipped', scheduleId: schedule.id, ticks: skipped });
          }
          arm(schedule, next);
        });
      },
      Math.max(0, due - Date.now()),
    );
    timers.set(schedule.id, timer);
  }

  const started = Date.now();
  for (const schedule of definitions) {
    if (options.runAtStart) {
      const scheduledAt = clock();
      void enqueueRun(schedule, () => scheduledAt);
    }
    arm(schedule, started + periods.get(schedule.id)!);
  }

  return {
    stats,
    periods,
    runNow(scheduleId) {
      const schedule = byId.get(scheduleId);
      if (!schedule) return Promise.reject(new Error(`no schedule ${scheduleId}`));
      if (stopped) return Promise.reject(new Error('the schedules have been stopped'));
      return enqueueRun(schedule, clock);
    },
    async stop(graceMs = 2000) {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      const running = [...current.values()];
      if (running.length === 0) return;
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(running),
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(grace);
    },
  };
}

function defaultLog(entry: ScheduleLogEntry): void {
  if (entry.type === 'run-error') {
    const error = entry.error as { message?: unknown } | undefined;
    process.stderr.write(`[schedule ${entry.scheduleId}] run failed: ${typeof error?.message === 'string' ? error.message : String(entry.error)}\n`);
  }
}
