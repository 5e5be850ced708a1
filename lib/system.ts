/**
 * The one description of the deployed system: tables, functions, what each function may read and
 * write, and the routes. Plain data with no CDK import, so that both the CDK construct
 * (`lib/channel-flows.ts`) and the local runtime (`local/`) are built from it, and a template test
 * holds the synthesized stack against it.
 */

export type TableName = 'channels' | 'messages';

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export interface TableDefinition {
  /** The environment variable through which functions learn the table's physical name. */
  readonly environmentVariable: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute holding the expiry time in epoch seconds. */
  readonly timeToLiveAttribute: string;
  /** Stream view type; absent for a table without a stream. */
  readonly stream?: 'NEW_AND_OLD_IMAGES';
}

export const TABLES: Readonly<Record<TableName, TableDefinition>> = {
  /** Channels and their memberships: everything a channel's access rules are read from. */
  channels: {
    environmentVariable: 'CHANNELS_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [{ indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
    timeToLiveAttribute: 'expiresAt',
  },
  /** Messages, keyed by channel and time-ordered message id, plus send idempotency tokens. */
  messages: {
    environmentVariable: 'MESSAGES_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [],
    timeToLiveAttribute: 'expiresAt',
    stream: 'NEW_AND_OLD_IMAGES',
  },
};

export type FunctionName = 'restApi' | 'authorizer';

export interface FunctionDefinition {
  readonly description: string;
  /** Module path from the project root; the same module runs in Lambda and in the local runtime. */
  readonly entry: string;
  readonly handler: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly reads: readonly TableName[];
  readonly writes: readonly TableName[];
  /** Whether the function needs the token verification settings (issuer, audience, JWKS, claims). */
  readonly verifiesTokens: boolean;
}

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionDefinition>> = {
  restApi: {
    description: 'Chime SDK Messaging REST operations: channels, memberships and messages',
    entry: 'lambdas/handlers/rest-api.ts',
    handler: 'handler',
    memorySize: 512,
    timeoutSeconds: 10,
    reads: ['channels', 'messages'],
    writes: ['channels', 'messages'],
    verifiesTokens: false,
  },
  authorizer: {
    description: 'Verifies the bearer JWT of REST requests against the issuer JWKS',
    entry: 'lambdas/handlers/authorizer.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 5,
    reads: [],
    writes: [],
    verifiesTokens: true,
  },
};

/** The REST API: one greedy proxy resource, because ARNs in paths hold slashes once decoded. */
export const REST_API = {
  function: 'restApi' as FunctionName,
  authorizer: 'authorizer' as FunctionName,
  /** The header that carries `Bearer <jwt>`; the authorizer's identity source. */
  identityHeader: 'Authorization',
  /** Seconds API Gateway caches an authorizer decision for one token. */
  authorizerCacheSeconds: 300,
  stageName: 'v1',
} as const;

/** Names of the environment variables shared by functions, the construct and the local runtime. */
export const ENV = {
  appInstanceArn: 'APP_INSTANCE_ARN',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwksUri: 'JWT_JWKS_URI',
  userIdClaim: 'JWT_USER_ID_CLAIM',
  nameClaim: 'JWT_NAME_CLAIM',
  adminClaim: 'JWT_ADMIN_CLAIM',
  adminClaimValue: 'JWT_ADMIN_CLAIM_VALUE',
} as const;
