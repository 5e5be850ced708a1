/**
 * The limits of the real Amazon Chime SDK Messaging service (Smithy model 2021-05-15), in one place,
 * so that validation messages, tests and documentation quote the same numbers.
 */
export const LIMITS = {
  /** STANDARD message content, in characters (ChannelMessage.Content). */
  contentMaxLength: 4096,
  /** CONTROL message content, in UTF-8 bytes; CONTROL messages carry no metadata. */
  controlContentMaxBytes: 30,
  metadataMaxLength: 1024,
  contentTypeMaxLength: 45,
  clientRequestTokenMinLength: 2,
  clientRequestTokenMaxLength: 64,
  messageIdMaxLength: 128,
  subChannelIdMaxLength: 128,
  channelIdMaxLength: 64,
  nameMaxLength: 256,
  arnMinLength: 5,
  arnMaxLength: 1600,
  maxResultsMin: 1,
  maxResultsMax: 50,
  nextTokenMaxLength: 2048,
  /** MemberArns / ModeratorArns of CreateChannel. */
  initialMembersMax: 10,
  tagsMax: 50,
  tagKeyMaxLength: 128,
  tagValueMaxLength: 256,
  messageAttributeNameMaxLength: 64,
  messageAttributeValueMaxLength: 512,
  pushTitleMaxLength: 50,
  pushBodyMaxLength: 150,
  statusDetailMaxLength: 256,
  /** LambdaConfiguration.ResourceArn of a channel flow processor. */
  lambdaArnMinLength: 15,
  lambdaArnMaxLength: 2048,
  /** ProcessorList of CreateChannelFlow / UpdateChannelFlow: the model allows 1–3 ... */
  processorsMax: 3,
  /** ... but only one processor per flow is supported (as in Chime, without a support ticket). */
  processorsSupported: 1,
} as const;

/** Default page size of the List* operations when MaxResults is not given. */
export const DEFAULT_PAGE_SIZE = 50;

export const TOKEN_PATTERN = /^[-_a-zA-Z0-9]*$/;
export const MESSAGE_ID_PATTERN = /^[-_a-zA-Z0-9]*$/;
export const CHANNEL_ID_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9:\-_.@]{0,62}[A-Za-z0-9])?$/;
/** LambdaConfiguration.ResourceArn (model shape `LambdaFunctionArn`). */
export const LAMBDA_FUNCTION_ARN_PATTERN = /^arn:aws:lambda:[a-z]{2}-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9\-_\.]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?$/;
