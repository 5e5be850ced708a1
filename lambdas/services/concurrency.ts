/**
 * Runs tasks with at most `limit` in flight. `run` waits only for a free slot, not for the task,
 * so the caller can prepare the next tasks (for the fan-out: look up the next 100 members'
 * connections) while earlier ones are still running. Every task is attempted even when some fail;
 * `drain` returns the failures, so the caller decides what a partial failure means.
 */
export class TaskPool {
  private running = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures: unknown[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`TaskPool limit must be a positive integer, got ${limit}`);
  }

  /** Starts `task` as soon as fewer than `limit` tasks run; resolves once it has started. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.limit) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.running += 1;
    const settled: Promise<void> = task()
      .catch((error: unknown) => {
        this.failures.push(error);
      })
      .finally(() => {
        this.running -= 1;
        this.inFlight.delete(settled);
        this.slotWaiters.shift()?.();
      });
    this.inFlight.add(settled);
  }

  /** Waits for every started task; resolves the failures. */
  async drain(): Promise<readonly unknown[]> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return this.failures;
  }
}
