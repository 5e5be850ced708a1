import { Logger } from '@aws-lambda-powertools/logger';
import { ENV } from '../../lib/system';
import { allow, deny, type ChannelMessageEvent, type ProcessorAnswer } from './kit';
import { moderate, parseDenyWords } from './moderation-rules';

const logger = new Logger({ serviceName: 'channel-flow-moderation' });
const denyWords = parseDenyWords(process.env[ENV.moderationDenyWords]);

/**
 * `channel-flow-moderation`: the processor the project ships. It answers by returning its verdict,
 * which the function's on-success destination writes back.
 */
export async function handler(event: ChannelMessageEvent): Promise<ProcessorAnswer> {
  const verdict = moderate(event.ChannelMessage.Content, denyWords);
  if (verdict.kind === 'DENY') {
    logger.info('Message denied', { messageId: event.ChannelMessage.MessageId, word: verdict.word });
    return deny(event);
  }
  return verdict.changed ? allow(event, { content: verdict.content }) : allow(event);
}
