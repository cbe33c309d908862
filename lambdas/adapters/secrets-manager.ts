import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A secret's value from Secrets Manager, read on first use and kept for the life of the container (a failed read is
 * not kept, so the next call tries again).
 */
export function cachedSecret(client: Pick<SecretsManagerClient, 'send'>, secretId: string): () => Promise<string> {
  let value: Promise<string> | undefined;
  const read = async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`secret ${secretId} has no string value`);
    return out.SecretString;
  };
  return () => {
    value ??= read().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
