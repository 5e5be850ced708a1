/**
 * Who the REST and WebSocket callers are: either the OIDC issuer given in `identity`, or a Cognito
 * user pool of the construct's own (with an app client and an admin group). Either way the result
 * is one {@link ResolvedIdentity}: the settings the token-verifying functions are given.
 */
import { Stack, Token, type RemovalPolicy } from 'aws-cdk-lib';
import { UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { ChannelFlowsIdentityProps } from '../channel-flows';

/** Name of the Cognito group whose members are app-instance admins when the construct creates the pool. */
export const DEFAULT_ADMIN_GROUP = 'AppInstanceAdmins';

/** Identity settings with every default filled in. */
export interface ResolvedIdentity {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audience?: string;
  readonly userIdClaim: string;
  readonly nameClaim: string;
  readonly adminClaim: string;
  readonly adminClaimValue: string;
}

/** Properties of {@link createIdentity}. */
export interface IdentityProps {
  /** The issuer to trust; without it a Cognito user pool is created. */
  readonly identity?: ChannelFlowsIdentityProps;

  /** Applied to the user pool, when one is created. */
  readonly removalPolicy: RemovalPolicy;
}

/** What {@link createIdentity} built or resolved. */
export interface Identity {
  /** How tokens are verified and read. */
  readonly settings: ResolvedIdentity;

  /** The user pool, when none was given (`identity` absent). */
  readonly userPool?: UserPool;

  /** The user pool's app client, whose ID tokens are accepted, when the pool was created here. */
  readonly userPoolClient?: UserPoolClient;
}

/**
 * Checks the given identity props that synth can check: the issuer and the JWKS URI must be https
 * URLs. Called by the `ChannelFlows` constructor before anything is built.
 */
export function validateIdentity(identity: ChannelFlowsIdentityProps): void {
  for (const [field, value] of [['issuer', identity.issuer], ['jwksUri', identity.jwksUri]] as const) {
    if (value === undefined || Token.isUnresolved(value)) continue;
    if (!/^https:\/\/[^/\s]+/.test(value)) {
      throw new Error(`Invalid identity.${field} "${value}": it must be an https URL`);
    }
  }
}

/**
 * The given issuer with its defaults, or (without `identity`) a new user pool `UserPool` in `scope`
 * (self sign-up off, e-mail sign-in), its app client `Client` (no secret, SRP and password auth)
 * and the `AppInstanceAdmins` group, whose ID tokens are then the accepted ones.
 */
export function createIdentity(scope: Construct, props: IdentityProps): Identity {
  if (props.identity) return { settings: resolveIdentity(props.identity) };

  const stack = Stack.of(scope);
  const userPool = new UserPool(scope, 'UserPool', {
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    autoVerify: { email: true },
    removalPolicy: props.removalPolicy,
  });
  const userPoolClient = userPool.addClient('Client', {
    generateSecret: false,
    authFlows: { userSrp: true, userPassword: true },
  });
  userPool.addGroup('AdminGroup', {
    groupName: DEFAULT_ADMIN_GROUP,
    description: 'App-instance admins of channel flows',
  });
  const settings = resolveIdentity({
    issuer: `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${userPool.userPoolId}`,
    audience: userPoolClient.userPoolClientId,
    adminClaim: 'cognito:groups',
    adminClaimValue: DEFAULT_ADMIN_GROUP,
  });
  return { settings, userPool, userPoolClient };
}

function resolveIdentity(identity: ChannelFlowsIdentityProps): ResolvedIdentity {
  const issuer = identity.issuer;
  const jwksBase = Token.isUnresolved(issuer) ? issuer : issuer.replace(/\/+$/, '');
  return {
    issuer,
    jwksUri: identity.jwksUri ?? `${jwksBase}/.well-known/jwks.json`,
    ...(identity.audience !== undefined ? { audience: identity.audience } : {}),
    userIdClaim: identity.userIdClaim ?? 'sub',
    nameClaim: identity.nameClaim ?? 'name',
    adminClaim: identity.adminClaim ?? 'cognito:groups',
    adminClaimValue: identity.adminClaimValue ?? DEFAULT_ADMIN_GROUP,
  };
}
