import { SESSION_ESTABLISHED_FRAME } from '../core/frames';
import type { Connection, ConnectionNotifier, ConnectionRepository } from './ports';

/**
 * The life of a WebSocket session. A new connection is first told SESSION_ESTABLISHED and only
 * then enrolled in the set the fan-out reads, so SESSION_ESTABLISHED is always its first frame and,
 * from then on, every event for its user reaches it.
 */
export class SessionService {
  constructor(
    private readonly connections: ConnectionRepository,
    private readonly notifier: ConnectionNotifier,
  ) {}

  async establish(connection: Connection): Promise<'ESTABLISHED' | 'GONE'> {
    if ((await this.notifier.post(connection.connectionId, SESSION_ESTABLISHED_FRAME)) === 'GONE') {
      await this.connections.forgetConnection(connection.connectionId);
      return 'GONE';
    }
    await this.connections.enrolConnection(connection);
    return 'ESTABLISHED';
  }

  /** A connection record that went away (closed, or expired by TTL) leaves its user's set too. */
  closed(connection: Connection): Promise<void> {
    return this.connections.withdrawConnection(connection.userArn, connection.connectionId);
  }
}
