import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface CachedSecretOptions {
  /**
   * How long a read value is kept: a rotated secret (e.g. a new unsubscribe key ring) reaches warm containers after it.
   * @default 300_000 (5 minutes)
   */
  readonly maxAgeMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A secret's value from Secrets Manager, read on first use and kept for `maxAgeMs` (a failed read is not kept, so the
 * next call tries again).
 */
export function cachedSecret(
  client: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
  options: CachedSecretOptions = {},
): () => Promise<string> {
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const now = options.now ?? Date.now;
  let value: Promise<string> | undefined;
  let readAt = 0;
  const read = async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`secret ${secretId} has no string value`);
    return out.SecretString;
  };
  return () => {
    if (value !== undefined && now() - readAt >= maxAgeMs) value = undefined;
    if (value === undefined) {
      readAt = now();
      value = read().catch((error: unknown) => {
        value = undefined;
        throw error;
      });
    }
    return value;
  };
}
