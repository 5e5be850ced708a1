import { z } from 'zod';
import { badRequest } from './errors';
import { CHANNEL_ID_PATTERN, LAMBDA_FUNCTION_ARN_PATTERN, LIMITS, MESSAGE_ID_PATTERN, TOKEN_PATTERN } from './limits';

/**
 * Request schemas of the REST operations, with the limits of the real service. Parsing failures
 * become one BadRequestException whose message names the field, what was wrong and the limit.
 * Unknown members are ignored, as a Smithy service does.
 */

const boundedString = (min: number, max: number) => z.string().min(min).max(max);
const arn = boundedString(LIMITS.arnMinLength, LIMITS.arnMaxLength);
const clientRequestToken = boundedString(LIMITS.clientRequestTokenMinLength, LIMITS.clientRequestTokenMaxLength).regex(TOKEN_PATTERN);
const metadata = z.string().max(LIMITS.metadataMaxLength);
const subChannelId = boundedString(1, LIMITS.subChannelIdMaxLength).regex(MESSAGE_ID_PATTERN);
const contentType = z.string().max(LIMITS.contentTypeMaxLength);
const name = boundedString(1, LIMITS.nameMaxLength);

const messageAttributes = z.record(
  boundedString(1, LIMITS.messageAttributeNameMaxLength),
  z.object({ StringValues: z.array(boundedString(1, LIMITS.messageAttributeValueMaxLength)).optional() }),
);

const pushNotification = z.object({
  Title: boundedString(1, LIMITS.pushTitleMaxLength).optional(),
  Body: boundedString(1, LIMITS.pushBodyMaxLength).optional(),
  Type: z.enum(['DEFAULT', 'VOIP']).optional(),
});

const tags = z
  .array(z.object({ Key: boundedString(1, LIMITS.tagKeyMaxLength), Value: boundedString(1, LIMITS.tagValueMaxLength) }))
  .min(1)
  .max(LIMITS.tagsMax);

const NOT_SUPPORTED = 'is not supported by this deployment';

export const createChannelSchema = z.object({
  AppInstanceArn: arn,
  Name: name,
  ClientRequestToken: clientRequestToken,
  Mode: z.enum(['UNRESTRICTED', 'RESTRICTED']).optional(),
  Privacy: z.enum(['PUBLIC', 'PRIVATE']).optional(),
  Metadata: metadata.optional(),
  Tags: tags.optional(),
  ChannelId: boundedString(1, LIMITS.channelIdMaxLength).regex(CHANNEL_ID_PATTERN).optional(),
  MemberArns: z.array(arn).min(1).max(LIMITS.initialMembersMax).optional(),
  ModeratorArns: z.array(arn).min(1).max(LIMITS.initialMembersMax).optional(),
  ElasticChannelConfiguration: z.undefined({ error: `ElasticChannelConfiguration ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
  ExpirationSettings: z.undefined({ error: `ExpirationSettings ${NOT_SUPPORTED}` }).optional(),
});
export type CreateChannelRequest = z.infer<typeof createChannelSchema>;

export const createChannelMembershipSchema = z.object({
  MemberArn: arn,
  Type: z.enum(['DEFAULT', 'HIDDEN']),
  SubChannelId: z.undefined({ error: `SubChannelId ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
});
export type CreateChannelMembershipRequest = z.infer<typeof createChannelMembershipSchema>;

const textEncoder = new TextEncoder();

export const sendChannelMessageSchema = z
  .object({
    Content: z.string().min(1).max(LIMITS.contentMaxLength),
    Type: z.enum(['STANDARD', 'CONTROL']),
    Persistence: z.enum(['PERSISTENT', 'NON_PERSISTENT']),
    ClientRequestToken: clientRequestToken,
    Metadata: metadata.optional(),
    PushNotification: pushNotification.optional(),
    MessageAttributes: messageAttributes.optional(),
    SubChannelId: z.undefined({ error: `SubChannelId ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
    ContentType: contentType.optional(),
    Target: z.array(z.object({ MemberArn: arn })).length(1).optional(),
  })
  .superRefine((request, context) => {
    if (request.Type !== 'CONTROL') return;
    const bytes = textEncoder.encode(request.Content).length;
    if (bytes > LIMITS.controlContentMaxBytes) {
      context.addIssue({
        code: 'custom',
        path: ['Content'],
        message: `Content of a CONTROL message must be at most ${LIMITS.controlContentMaxBytes} bytes, got ${bytes}`,
      });
    }
    if (request.Metadata !== undefined) {
      context.addIssue({ code: 'custom', path: ['Metadata'], message: 'Metadata is not allowed on a CONTROL message' });
    }
  });
export type SendChannelMessageRequest = z.infer<typeof sendChannelMessageSchema>;

export const updateChannelMessageSchema = z.object({
  Content: z.string().min(1).max(LIMITS.contentMaxLength),
  Metadata: metadata.optional(),
  SubChannelId: z.undefined({ error: `SubChannelId ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
  ContentType: contentType.optional(),
});
export type UpdateChannelMessageRequest = z.infer<typeof updateChannelMessageSchema>;

export const redactChannelMessageSchema = z.object({
  SubChannelId: z.undefined({ error: `SubChannelId ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
});

/**
 * A channel flow processor (model shape `Processor`). Which functions this deployment may invoke
 * (region, account, name prefix) is checked after parsing, by `assertProcessorsAllowed` (core/flows.ts).
 */
const processorSchema = z.object({
  Name: name,
  Configuration: z.object({
    Lambda: z.object({
      ResourceArn: boundedString(LIMITS.lambdaArnMinLength, LIMITS.lambdaArnMaxLength).regex(LAMBDA_FUNCTION_ARN_PATTERN, {
        message: `must be a Lambda function ARN matching ${LAMBDA_FUNCTION_ARN_PATTERN.source}`,
      }),
      InvocationType: z.literal('ASYNC'),
    }),
  }),
  ExecutionOrder: z
    .number()
    .int()
    .refine((order) => order === 1, {
      error: (issue) => `must be 1: a channel flow has exactly one processor, got ${String(issue.input)}`,
    }),
  FallbackAction: z.enum(['ABORT', 'CONTINUE']),
});
export type ProcessorRequest = z.infer<typeof processorSchema>;

/** The count is checked first, so a list of several processors is refused for that alone. */
const processors = z
  .array(z.unknown())
  .min(1)
  .superRefine((list, context) => {
    if (list.length <= LIMITS.processorsSupported) return;
    context.addIssue({
      code: 'custom',
      message: `must hold exactly ${LIMITS.processorsSupported} processor, got ${list.length}: only one processor is supported per channel flow`,
    });
  })
  .pipe(z.array(processorSchema));

export const createChannelFlowSchema = z.object({
  AppInstanceArn: arn,
  Processors: processors,
  Name: name,
  ClientRequestToken: clientRequestToken,
  Tags: tags.optional(),
});
export type CreateChannelFlowRequest = z.infer<typeof createChannelFlowSchema>;

export const updateChannelFlowSchema = z.object({ Processors: processors, Name: name });
export type UpdateChannelFlowRequest = z.infer<typeof updateChannelFlowSchema>;

export const associateChannelFlowSchema = z.object({ ChannelFlowArn: arn });
export type AssociateChannelFlowRequest = z.infer<typeof associateChannelFlowSchema>;

/** Query strings arrive as strings; these schemas turn them into typed values. */
const maxResults = z
  .string()
  .regex(/^[0-9]+$/, { message: `must be a whole number from ${LIMITS.maxResultsMin} to ${LIMITS.maxResultsMax}` })
  .transform(Number)
  .pipe(z.number().int().min(LIMITS.maxResultsMin).max(LIMITS.maxResultsMax));
const nextToken = boundedString(1, LIMITS.nextTokenMaxLength);
const ISO_8601_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const timestamp = z
  .string()
  .refine((value) => ISO_8601_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)), {
    message: 'must be an ISO-8601 date-time with a time zone, such as 2026-01-31T12:00:00Z',
  })
  .transform((value) => Date.parse(value));

export const listChannelMessagesQuerySchema = z.object({
  'sort-order': z.enum(['ASCENDING', 'DESCENDING']).optional(),
  'not-before': timestamp.optional(),
  'not-after': timestamp.optional(),
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
  'sub-channel-id': z.undefined({ error: `sub-channel-id ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
});

export const listChannelMembershipsQuerySchema = z.object({
  type: z.enum(['DEFAULT', 'HIDDEN']).optional(),
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
  'sub-channel-id': z.undefined({ error: `sub-channel-id ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
});

export const listChannelsQuerySchema = z.object({
  'app-instance-arn': arn,
  privacy: z.enum(['PUBLIC', 'PRIVATE']).optional(),
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
});

export const listMembershipsForUserQuerySchema = z.object({
  'app-instance-user-arn': arn.optional(),
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
});

export const listChannelFlowsQuerySchema = z.object({
  'app-instance-arn': arn,
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
});

export const listChannelsAssociatedWithChannelFlowQuerySchema = z.object({
  'channel-flow-arn': arn,
  'max-results': maxResults.optional(),
  'next-token': nextToken.optional(),
});

export const subChannelQuerySchema = z.object({
  'sub-channel-id': z.undefined({ error: `sub-channel-id ${NOT_SUPPORTED}: elastic channels are not available` }).optional(),
});

const messageIdSchema = z.object({ MessageId: boundedString(1, LIMITS.messageIdMaxLength).regex(MESSAGE_ID_PATTERN) });

/** Checks a MessageId taken from a path, with the same message a body field would get. */
export function validateMessageId(messageId: string): string {
  return parseRequest(messageIdSchema, { MessageId: messageId }).MessageId;
}

/** Parses `input` or throws a BadRequestException that names every field that was wrong. */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue));
  throw badRequest(problems.join('; '));
}

function fieldName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const segment of path) {
    if (typeof segment === 'number') name += `[${segment}]`;
    else name += name === '' ? String(segment) : `.${String(segment)}`;
  }
  return name === '' ? 'The request body' : name;
}

function describeIssue(issue: z.core.$ZodIssue, fieldOverride?: string): string {
  const field = fieldOverride ?? fieldName(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'undefined') return issue.message;
      if (issue.input === undefined) return `${field} is required`;
      return `${field} must be ${article(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `${field} must have at most ${issue.maximum} items`
        : issue.origin === 'string'
          ? `${field} must be at most ${issue.maximum} characters, got ${Array.from(String(issue.input)).length}`
          : `${field} must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `${field} must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`
        : issue.origin === 'string'
          ? `${field} must be at least ${issue.minimum} character${issue.minimum === 1 ? '' : 's'}`
          : `${field} must be at least ${issue.minimum}`;
    case 'invalid_value':
      if (issue.input === undefined) return `${field} is required`;
      if (issue.values.length === 1) return `${field} must be ${String(issue.values[0])}, got ${describeValue(issue.input)}`;
      return `${field} must be one of ${issue.values.map(String).join(', ')}, got ${describeValue(issue.input)}`;
    case 'invalid_format':
      if (issue.format === 'regex' && !issue.message.startsWith('Invalid')) return `${field} ${issue.message}`;
      return `${field} must match ${issue.format === 'regex' ? (issue as { pattern?: string }).pattern ?? 'the pattern' : issue.format}`;
    case 'invalid_key': {
      // A map key that breaks its rule: describe the key's own problem (its length limit, say).
      const keyIssue = issue.issues[0];
      if (keyIssue === undefined) return `${field}: ${issue.message}`;
      return describeIssue(keyIssue, `${fieldName(issue.path.slice(0, -1))} key ${describeValue(issue.input)}`);
    }
    case 'invalid_union':
    case 'invalid_element':
    case 'unrecognized_keys':
    case 'not_multiple_of':
    case 'custom':
      if (issue.code !== 'custom') return `${field}: ${issue.message}`;
      return issue.message.startsWith(field) ? issue.message : `${field} ${issue.message}`;
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
