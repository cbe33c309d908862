import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EnvKey } from '../core/config/env-keys';
import { createUnsubscribeLinks } from '../core/consent/links';
import { systemClock } from '../core/runtime/ports';
import { MissingEnvironmentError, type HandlerEnv } from '../shared/env';
import { traced } from '../shared/powertools';
import { cachedSecret } from './secrets-manager';

/**
 * The composition root of the Secrets Manager client: only the handlers whose entry point declares a secret import
 * it (the others' bundles then hold no Secrets Manager client). Each secret is read on first use, then cached.
 */

/** The privacy key (it keys profile ids and the suppression list): route-event, prepare-send, erasure… */
export function awsPrivacyKey(env: HandlerEnv): () => Promise<string> {
  let secret: (() => Promise<string>) | undefined;
  return async () => {
    if (!env.privacyKeySecretArn) throw new MissingEnvironmentError(EnvKey.privacyKeySecretArn);
    secret ??= cachedSecret(traced(new SecretsManagerClient({})), env.privacyKeySecretArn);
    return secret();
  };
}

/** The unsubscribe secret and links: only the functions that make or check links read it, on first use. */
export function awsUnsubscribe(env: HandlerEnv) {
  let secret: (() => Promise<string>) | undefined;
  const getSecret = async () => {
    if (!env.unsubscribeSecretArn) throw new MissingEnvironmentError(EnvKey.unsubscribeSecretArn);
    secret ??= cachedSecret(traced(new SecretsManagerClient({})), env.unsubscribeSecretArn);
    return secret();
  };
  const publicUrl = () => {
    if (!env.publicUrl) throw new MissingEnvironmentError(EnvKey.publicUrl);
    return env.publicUrl;
  };
  return { getSecret, unsubscribeLinks: createUnsubscribeLinks({ getSecret, publicUrl, clock: systemClock }) };
}
