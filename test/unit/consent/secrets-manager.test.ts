import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { cachedSecret } from '../../../lambdas/adapters/secrets-manager';

/** A Secrets Manager client that answers from a script and counts the requests. */
function client(answers: (() => Promise<{ SecretString?: string }>)[]) {
  const sent: unknown[] = [];
  return {
    sent,
    send: async (command: GetSecretValueCommand) => {
      sent.push(command.input);
      return answers.shift()!();
    },
  };
}

describe('cachedSecret', () => {
  it('reads the secret once per container', async () => {
    const fake = client([async () => ({ SecretString: 'the-secret-value' })]);
    const get = cachedSecret(fake as never, 'arn:aws:secretsmanager:eu-west-1:1:secret:unsubscribe');
    expect(await Promise.all([get(), get()])).toEqual(['the-secret-value', 'the-secret-value']);
    expect(await get()).toBe('the-secret-value');
    expect(fake.sent).toEqual([{ SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:unsubscribe' }]);
  });

  it('does not keep a failed or empty read: the next call asks again', async () => {
    const fake = client([() => Promise.reject(new Error('throttled')), async () => ({}), async () => ({ SecretString: 'later' })]);
    const get = cachedSecret(fake as never, 'unsubscribe');
    await expect(get()).rejects.toThrow('throttled');
    await expect(get()).rejects.toThrow('has no string value');
    expect(await get()).toBe('later');
    expect(fake.sent).toHaveLength(3);
  });

  it('reads the secret again once its copy is older than maxAgeMs, so a rotated key ring reaches warm containers', async () => {
    const fake = client([async () => ({ SecretString: 'ring-1' }), async () => ({ SecretString: 'ring-2' })]);
    let now = 0;
    const get = cachedSecret(fake as never, 'unsubscribe', { maxAgeMs: 300_000, now: () => now });
    expect(await get()).toBe('ring-1');
    now = 299_999;
    expect(await get()).toBe('ring-1');
    now = 300_000;
    expect(await get()).toBe('ring-2');
    expect(fake.sent).toHaveLength(2);
  });
});
