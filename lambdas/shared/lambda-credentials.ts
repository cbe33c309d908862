import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the bundles use in place of `@aws-sdk/credential-provider-node` (the SDK clients' default credential chain;
 * the alias is in lib/constructs/bundling.ts): the environment variables only. Lambda gives every function its role's
 * credentials there (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime), the first
 * place the default chain looks, so the credentials are the same; the chain's other sources (shared files, SSO,
 * web identity, container and instance metadata, and the STS/SSO clients they bring) are ~140 KB of every bundle that
 * a Lambda function never reaches. Only bundles use this; tests and the local stack keep the full chain.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
