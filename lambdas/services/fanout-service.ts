import type { AppInstance } from '../core/arns';
import type { Audience, ChimeEvent } from '../core/channel-events';
import { eventFrame } from '../core/frames';
import { TaskPool } from './concurrency';
import type { ConnectionNotifier, ConnectionRepository, MemberDirectory } from './ports';

export interface FanoutOptions {
  /** Posts in flight at once, per event. */
  readonly concurrency?: number;
}

export interface DeliveryReport {
  readonly delivered: number;
  readonly gone: number;
}

/** Users whose connections are looked up with one BatchGetItem. */
const USERS_PER_LOOKUP = 100;

/**
 * Delivers events to every established connection of their audience. Members are read page by page
 * and their connections 100 users at a time, all by key, so the requests for one event grow with
 * members / 100; posts run with bounded concurrency. A connection that is gone is forgotten; any
 * other failure fails the event once every other connection has been tried, so that the stream
 * retries it (a retried event is the same frame again, which clients can recognise by MessageId).
 */
export class FanoutService {
  private readonly concurrency: number;

  constructor(
    private readonly app: AppInstance,
    private readonly members: MemberDirectory,
    private readonly connections: ConnectionRepository,
    private readonly notifier: ConnectionNotifier,
    options: FanoutOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 32;
  }

  async publish(event: ChimeEvent): Promise<DeliveryReport> {
    // Removing a deleted channel's members one by one is cleanup, not news: announcing each to the
    // remaining members would cost members² posts.
    if (event.eventType === 'DELETE_CHANNEL_MEMBERSHIP' && 'membership' in event && !(await this.members.channelExists(event.membership.channelId))) {
      return { delivered: 0, gone: 0 };
    }
    const frame = eventFrame(this.app, event);
    let delivered = 0;
    let gone = 0;
    // One pool for the whole event: posts to earlier members still run while the connections of
    // the next 100 are looked up, and a slow connection holds up one slot, not everyone after it.
    const posts = new TaskPool(this.concurrency);
    const deliverTo = async (users: readonly string[]) => {
      const connectionsByUser = await this.connections.establishedConnections(users);
      for (const [userArn, connectionIds] of connectionsByUser) {
        for (const connectionId of connectionIds) {
          await posts.run(async () => {
            if ((await this.notifier.post(connectionId, frame)) === 'DELIVERED') {
              delivered += 1;
              return;
            }
            gone += 1;
            await this.forgetGone(userArn, connectionId);
          });
        }
      }
    };
    // Lookups are filled to 100 users across member pages (which are not multiples of 100), so
    // one event costs ceil(members / 100) BatchGetItem requests, not one more per page.
    const pending: string[] = [];
    try {
      for await (const users of this.audiencePages(event.audience)) {
        for (const user of users) pending.push(user);
        while (pending.length >= USERS_PER_LOOKUP) await deliverTo(pending.splice(0, USERS_PER_LOOKUP));
      }
      if (pending.length > 0) await deliverTo(pending.splice(0));
    } finally {
      // Even when a lookup fails, the posts already started finish before the invocation ends.
      await posts.drain();
    }
    const failures = await posts.drain();
    if (failures.length > 0) {
      throw new AggregateError(failures, `${event.eventType}: ${failures.length} of ${delivered + gone + failures.length} posts failed`);
    }
    return { delivered, gone };
  }

  private async forgetGone(userArn: string, connectionId: string): Promise<void> {
    // The connection item may already have expired; the user's set must lose the id either way.
    if ((await this.connections.forgetConnection(connectionId)) === undefined) {
      await this.connections.withdrawConnection(userArn, connectionId);
    }
  }

  private async *audiencePages(audience: Audience): AsyncIterable<readonly string[]> {
    if (audience.kind === 'USERS') {
      yield audience.userArns;
      return;
    }
    const seen = new Set<string>();
    for await (const page of this.members.memberArnPages(audience.channelId)) {
      page.forEach((arn) => seen.add(arn));
      yield page;
    }
    const others = audience.alsoUserArns.filter((arn) => !seen.has(arn));
    if (others.length > 0) yield others;
  }
}
