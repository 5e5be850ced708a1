import { badRequest } from './errors';
import { CHANNEL_ID_PATTERN, LIMITS } from './limits';

/** One deployment is one app instance: every ARN the service hands out lives under it. */
export interface AppInstance {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly appInstanceId: string;
}

export type ResourceKind = 'user' | 'channel' | 'channel-flow';

/** Chime's ChimeArn pattern (model shape `ChimeArn`). */
const CHIME_ARN = /^arn:[a-z0-9-.]{1,63}:[a-z0-9-.]{0,63}:[a-z0-9-.]{0,63}:[a-z0-9-.]{0,63}:[^/].{0,1023}$/;
/** User ids and flow ids follow the same rules as channel ids here. */
const RESOURCE_ID = CHANNEL_ID_PATTERN;

export const appInstanceArn = (app: AppInstance): string =>
  `arn:${app.partition}:chime:${app.region}:${app.accountId}:app-instance/${app.appInstanceId}`;

export const resourceArn = (app: AppInstance, kind: ResourceKind, id: string): string =>
  `${appInstanceArn(app)}/${kind}/${id}`;

export const userArn = (app: AppInstance, userId: string) => resourceArn(app, 'user', userId);
export const channelArn = (app: AppInstance, channelId: string) => resourceArn(app, 'channel', channelId);
export const channelFlowArn = (app: AppInstance, flowId: string) => resourceArn(app, 'channel-flow', flowId);

export const isValidResourceId = (id: string): boolean => RESOURCE_ID.test(id);

/**
 * Returns the resource id an ARN names, or throws BadRequest naming the field when the value is not
 * an ARN of that kind in this app instance. An ARN of another app instance is as unknown to this
 * deployment as a malformed one, so both are refused the same way.
 */
export function parseResourceArn(app: AppInstance, kind: ResourceKind, value: string, field: string): string {
  if (value.length < LIMITS.arnMinLength || value.length > LIMITS.arnMaxLength || !CHIME_ARN.test(value)) {
    throw badRequest(`${field} is not a valid ARN: "${truncate(value)}"`);
  }
  const prefix = `${appInstanceArn(app)}/${kind}/`;
  if (!value.startsWith(prefix)) {
    throw badRequest(`${field} must be a ${kind} ARN of app instance ${appInstanceArn(app)} (${prefix}<id>), got "${truncate(value)}"`);
  }
  const id = value.slice(prefix.length);
  if (!isValidResourceId(id)) {
    throw badRequest(`${field} has an invalid ${kind} id "${truncate(id)}": 1-64 characters of [A-Za-z0-9:-_.@], starting and ending with a letter or digit`);
  }
  return id;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
