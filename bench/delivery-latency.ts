import {
  AssociateChannelFlowCommand,
  CreateChannelCommand,
  CreateChannelFlowCommand,
  CreateChannelMembershipCommand,
  SendChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import { startLocalSystem, type LocalUser } from '../test/support/local-system';
import { connectEvents, eventTypeOf, type EventClient } from '../test/support/websocket-client';

/**
 * Send-to-delivery latency on loopback: the time from the start of SendChannelMessage (official
 * SDK client) until the CREATE_CHANNEL_MESSAGE frame arrives on real `ws` connections, through the
 * whole local pipeline (REST → DynamoDB → stream → fan-out → @connections → WebSocket), and with
 * a channel flow (→ async invoke of the shipped moderation processor → destination → write-back).
 *
 *   npm run bench [-- --messages 200]
 */
const messageCount = Number(process.argv[process.argv.indexOf('--messages') + 1]) || 200;

interface Scenario {
  readonly members: number;
  /** Whether the channel has a flow with the shipped moderation processor. */
  readonly flow: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { members: 1, flow: false },
  { members: 100, flow: false },
  { members: 100, flow: true },
];

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function run(): Promise<void> {
  const system = await startLocalSystem();
  const rows: string[] = [];
  try {
    for (const scenario of SCENARIOS) {
      const users: LocalUser[] = [];
      const prefix = `bench-${scenario.members}${scenario.flow ? '-flow' : ''}`;
      for (let index = 0; index < scenario.members; index += 1) users.push(await system.user(`${prefix}-${index}`));
      const sender = users[0] as LocalUser;
      const { ChannelArn } = await sender.client.send(
        new CreateChannelCommand({
          AppInstanceArn: system.ready.appInstanceArn,
          Name: `bench ${scenario.members}${scenario.flow ? ' flow' : ''}`,
          ChimeBearer: sender.arn,
          MemberArns: [sender.arn],
        }),
      );
      for (const user of users.slice(1)) {
        await sender.client.send(new CreateChannelMembershipCommand({ ChannelArn, ChimeBearer: sender.arn, MemberArn: user.arn, Type: 'DEFAULT' }));
      }
      if (scenario.flow) {
        const admin = await system.user(`bench-admin-${scenario.members}`, { admin: true });
        const { ChannelFlowArn } = await admin.client.send(
          new CreateChannelFlowCommand({
            AppInstanceArn: system.ready.appInstanceArn,
            Name: 'bench moderation',
            Processors: [
              {
                Name: 'moderation',
                ExecutionOrder: 1,
                FallbackAction: 'ABORT',
                Configuration: { Lambda: { ResourceArn: (system.ready.processors as Record<string, string>)['channel-flow-moderation'], InvocationType: 'ASYNC' } },
              },
            ],
          }),
        );
        await sender.client.send(new AssociateChannelFlowCommand({ ChannelArn, ChannelFlowArn, ChimeBearer: sender.arn }));
      }
      const clients: EventClient[] = [];
      for (const user of users) {
        const client = await connectEvents(system.ready.websocketUrl, user.token);
        await client.waitFor((frame) => eventTypeOf(frame) === 'SESSION_ESTABLISHED');
        clients.push(client);
      }

      const firstRecipient: number[] = [];
      const lastRecipient: number[] = [];
      const everyRecipient: number[] = [];
      for (let index = 0; index < messageCount; index += 1) {
        const arrivals = clients.map(
          (client) =>
            new Promise<number>((resolve) => {
              const onMessage = (data: Buffer) => {
                const frame = JSON.parse(data.toString()) as { Headers: Record<string, string>; Payload?: string };
                if (eventTypeOf(frame) === 'CREATE_CHANNEL_MESSAGE' && frame.Payload?.includes(`"Content":"bench ${index}"`)) {
                  client.socket.off('message', onMessage);
                  resolve(performance.now());
                }
              };
              client.socket.on('message', onMessage);
            }),
        );
        const started = performance.now();
        await sender.client.send(
          new SendChannelMessageCommand({ ChannelArn, ChimeBearer: sender.arn, Content: `bench ${index}`, Type: 'STANDARD', Persistence: 'PERSISTENT' }),
        );
        const times = (await Promise.all(arrivals)).map((arrived) => arrived - started);
        everyRecipient.push(...times);
        firstRecipient.push(Math.min(...times));
        lastRecipient.push(Math.max(...times));
      }
      await Promise.all(clients.map((client) => client.close()));

      for (const [label, samples] of [
        ['first recipient', firstRecipient],
        ['last recipient', lastRecipient],
        ['every recipient', everyRecipient],
      ] as const) {
        const sorted = [...samples].sort((a, b) => a - b);
        rows.push(
          `| ${scenario.members} | ${scenario.flow ? 'moderation' : 'none'} | ${label} | ${sorted.length} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${(sorted.at(-1) as number).toFixed(1)} |`,
        );
      }
    }
  } finally {
    await system.stop();
  }
  console.log(`Send-to-delivery latency on loopback, ${messageCount} messages per scenario, sent one at a time (ms)\n`);
  console.log('| members connected | channel flow | measured at | samples | p50 | p99 | max |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await run();
