import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { ScheduledEvent } from 'aws-lambda';
import { SCHEDULES, type FunctionName, type ScheduleDefinition } from '../../lib/system';
import { LocalLambdaService } from '../../local/lambda-service';
import { localRuleArn, startSchedules, type LocalSchedules, type LocalSchedulesOptions, type ScheduleLogEntry } from '../../local/schedules';
import { waitFor } from './support';

const SWEEP: ScheduleDefinition = { id: 'Sweep', function: 'pendingSweeper', rateSeconds: 60 };

let running: LocalSchedules | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function start(options: LocalSchedulesOptions): LocalSchedules {
  running = startSchedules({ log: () => undefined, ...options });
  return running;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('local schedules', () => {
  test('invokes the function with EventBridge\'s Scheduled Event, once per period, the first after one period', async () => {
    const calls: { fn: FunctionName; event: ScheduledEvent; at: number }[] = [];
    const started = Date.now();
    start({ schedules: [SWEEP], intervalMs: 25, invoke: async (fn, event) => void calls.push({ fn, event, at: Date.now() }) });
    await sleep(10);
    assert.equal(calls.length, 0, 'no run at start');
    await waitFor(() => calls.length >= 3, 'three runs');
    assert.ok(calls[0]!.at - started >= 20, 'the first run one period after start');
    const { fn, event } = calls[0]!;
    assert.equal(fn, 'pendingSweeper');
    assert.deepEqual(Object.keys(event), ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    assert.equal(event.version, '0');
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.equal(event['detail-type'], 'Scheduled Event');
    assert.equal(event.source, 'aws.events');
    assert.equal(event.account, '000000000000');
    assert.equal(event.region, 'us-east-1');
    assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(event.resources, ['arn:aws:events:us-east-1:000000000000:rule/channel-flows-Sweep']);
    assert.deepEqual(event.detail, {});
    assert.equal(new Set(calls.map((call) => call.event.id)).size, calls.length, 'a new event id each run');
  });

  test('runs of one schedule never overlap: ticks during a run are skipped', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const schedules = start({
      schedules: [SWEEP],
      intervalMs: 5,
      invoke: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active -= 1;
        runs += 1;
      },
    });
    await waitFor(() => runs >= 3, 'three runs', 5000);
    assert.equal(maxActive, 1);
    assert.ok(schedules.stats.get('Sweep')!.skippedTicks > 0);
  });

  test('runNow waits for the run in progress; stop ends the timers', async () => {
    let active = 0;
    let maxActive = 0;
    const runs: string[] = [];
    const schedules = start({
      schedules: [SWEEP],
      intervalMs: 60_000,
      runAtStart: true,
      invoke: async (_fn, event) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(20);
        active -= 1;
        runs.push(event.id);
      },
    });
    await schedules.runNow('Sweep');
    assert.equal(runs.length, 2, 'the start run, then the requested one');
    assert.equal(maxActive, 1);
    await assert.rejects(schedules.runNow('Nope'), /no schedule Nope/);
    await schedules.stop();
    await assert.rejects(schedules.runNow('Sweep'), /stopped/);
  });

  test('stop: no run after it', async () => {
    let runs = 0;
    const schedules = start({ schedules: [SWEEP], intervalMs: 10, invoke: async () => void (runs += 1) });
    await waitFor(() => runs >= 1, 'a run');
    await schedules.stop();
    const after = runs;
    await sleep(40);
    assert.equal(runs, after);
  });

  test('a failing run is logged and the schedule carries on', async () => {
    const logs: ScheduleLogEntry[] = [];
    let runs = 0;
    const schedules = start({
      schedules: [SWEEP],
      intervalMs: 5,
      log: (entry) => logs.push(entry),
      invoke: async () => {
        runs += 1;
        throw new Error(`sweep ${runs} failed`);
      },
    });
    await waitFor(() => runs >= 3, 'three runs');
    assert.ok(schedules.stats.get('Sweep')!.errors >= 3);
    assert.ok(logs.some((entry) => entry.type === 'run-error' && (entry.error as Error).message === 'sweep 1 failed'));
  });

  test('the period: rateSeconds, scaled by rateScale, or intervalMs; SCHEDULES by default', async () => {
    const invoke = async () => undefined;
    assert.equal(start({ invoke }).periods.get('PendingSweep'), SCHEDULES[0]!.rateSeconds * 1000);
    await running!.stop();
    assert.equal(start({ invoke, rateScale: 1 / 60 }).periods.get('PendingSweep'), 1000);
    await running!.stop();
    assert.equal(start({ invoke, intervalMs: 250, rateScale: 10 }).periods.get('PendingSweep'), 250);
    await running!.stop();
    assert.throws(() => startSchedules({ invoke, intervalMs: 0 }), /positive/);
    assert.equal(localRuleArn(SWEEP), 'arn:aws:events:us-east-1:000000000000:rule/channel-flows-Sweep');
  });

  test('through the local Lambda service: the function gets the event and its own context', async () => {
    const lambda = new LocalLambdaService({ log: () => undefined });
    const seen: { event: unknown; functionName: string }[] = [];
    lambda.register({
      name: 'channel-flows-pendingSweeper',
      invoke: (event, context) => void seen.push({ event, functionName: context.functionName }),
      timeoutSeconds: 60,
    });
    try {
      const schedules = start({ schedules: [SWEEP], intervalMs: 5, invoke: (fn, event) => lambda.invoke(`channel-flows-${fn}`, event) });
      await waitFor(() => seen.length >= 2, 'two sweeps');
      await schedules.stop();
      assert.equal(seen[0]!.functionName, 'channel-flows-pendingSweeper');
      assert.equal((seen[0]!.event as ScheduledEvent)['detail-type'], 'Scheduled Event');
      assert.equal(schedules.stats.get('Sweep')!.errors, 0);
    } finally {
      await lambda.stop();
    }
  });
});
