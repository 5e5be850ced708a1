import { ENV, PROCESSORS, TABLES, type TableName } from '../lib/system';
import type { AppInstance } from './core/arns';

/**
 * Typed configuration read from the function's environment, which the CDK construct and the local
 * runtime both set from `lib/system.ts`. A missing variable fails the cold start loudly instead of
 * failing one request obscurely.
 */
function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`Environment variable ${name} is not set`);
  return value;
}

export function tableName(table: TableName): string {
  return required(TABLES[table].environmentVariable);
}

const APP_INSTANCE_ARN = /^arn:([a-z-]+):chime:([a-z0-9-]+):(\d{12}|[a-z0-9-]+):app-instance\/([^/]+)$/;

export function appInstanceFromEnvironment(): AppInstance {
  const arn = required(ENV.appInstanceArn);
  const match = APP_INSTANCE_ARN.exec(arn);
  if (!match) throw new Error(`${ENV.appInstanceArn} is not an app instance ARN: ${arn}`);
  const [, partition, region, accountId, appInstanceId] = match as unknown as [string, string, string, string, string];
  return { partition, region, accountId, appInstanceId };
}

export interface TokenSettings {
  readonly issuer: string;
  /** Expected `aud` claim; null accepts tokens without audience (e.g. Cognito access tokens). */
  readonly audience: string | null;
  readonly jwksUri: string;
  readonly userIdClaim: string;
  readonly nameClaim: string;
  /** Claim whose value (or one of whose values) must equal `adminClaimValue` for an app instance admin. */
  readonly adminClaim: string;
  readonly adminClaimValue: string;
}

export function tokenSettingsFromEnvironment(): TokenSettings {
  const issuer = required(ENV.jwtIssuer);
  return {
    issuer,
    audience: process.env[ENV.jwtAudience] || null,
    jwksUri: process.env[ENV.jwksUri] || `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`,
    userIdClaim: process.env[ENV.userIdClaim] || 'sub',
    nameClaim: process.env[ENV.nameClaim] || 'name',
    adminClaim: process.env[ENV.adminClaim] || 'cognito:groups',
    adminClaimValue: process.env[ENV.adminClaimValue] || 'AppInstanceAdmins',
  };
}

/** The @connections management endpoint of the WebSocket stage. */
export const connectionsEndpoint = (): string => required(ENV.connectionsEndpoint);

/** The URL WebSocket clients connect to. */
export const websocketUrl = (): string => required(ENV.websocketUrl);

/** How long a change may wait for its processor, in milliseconds. */
export function flowTimeoutMs(): number {
  const raw = process.env[ENV.flowTimeoutSeconds];
  const seconds = raw === undefined || raw === '' ? PROCESSORS.defaultFlowTimeoutSeconds : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`${ENV.flowTimeoutSeconds} must be a positive number of seconds, got ${raw}`);
  return seconds * 1000;
}

/** Function names a channel flow may name as its processor start with this (default `channel-flow-`). */
export const processorPrefix = (): string => process.env[ENV.processorPrefix] || PROCESSORS.defaultPrefix;
