/** Settings every AWS SDK client of the local runtime uses: no account, no credentials lookup. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * The process environment the handler modules see, as Lambda would give them: region, dummy
 * credentials (the SDK would otherwise probe EC2 instance metadata) and the service endpoints.
 */
export function applyLambdaEnvironment(variables: Readonly<Record<string, string>>): void {
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...variables,
  });
}
