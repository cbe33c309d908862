import { readConsent, unsubscribe, updateConsent } from '../../../lambdas/core/consent/update';
import { signUnsubscribeToken, UnsubscribeTokenError } from '../../../lambdas/core/consent/token';
import { NotFoundError, ValidationError } from '../../../lambdas/core/runtime/errors';
import { clockAt, MemoryConsentProfiles } from './fakes';

const SECRET = 'unit-test-unsubscribe-secret';

function setup() {
  const store = new MemoryConsentProfiles();
  const clock = clockAt('2026-03-01T12:00:00.000Z');
  store.add('p-1');
  return { store, clock, deps: { profiles: store, consent: store, clock, getSecret: async () => SECRET } };
}

const fieldsOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => e.field);
    throw error;
  }
  throw new Error('expected a ValidationError');
};

describe('updateConsent', () => {
  it('records each decision at the current time with the given source, and returns what is held', async () => {
    const { deps } = setup();
    const result = await updateConsent(deps, 'p-1', { email: 'opted-out', 'list:news': 'opted-in' }, 'api');
    expect(result).toEqual({
      profileId: 'p-1',
      consent: {
        email: { status: 'opted-out', at: '2026-03-01T12:00:00.000Z', source: 'api' },
        'list:news': { status: 'opted-in', at: '2026-03-01T12:00:00.000Z', source: 'api' },
      },
    });
  });

  it.each([
    ['an unknown channel', { fax: 'opted-out' }, ['fax']],
    ['a status that is not opted-in or opted-out', { email: 'yes' }, ['email']],
    ['a list id with a space', { 'list:big news': 'opted-in' }, ['list:big news']],
    ['no change at all', {}, ['(root)']],
    ['a body that is not an object', ['email'], ['(root)']],
  ])('refuses %s as 400 naming the field, and writes nothing', async (_name, body, fields) => {
    const { deps, store } = setup();
    expect(await fieldsOf(updateConsent(deps, 'p-1', body, 'api'))).toEqual(fields);
    expect(store.writes).toEqual([]);
  });

  it('answers 404 for an unknown profile, writing nothing', async () => {
    const { deps, store } = setup();
    await expect(updateConsent(deps, 'p-unknown', { email: 'opted-out' }, 'api')).rejects.toBeInstanceOf(NotFoundError);
    await expect(readConsent(deps, 'p-unknown')).rejects.toBeInstanceOf(NotFoundError);
    expect(store.writes).toEqual([]);
  });
});

describe('unsubscribe', () => {
  it('opts the token profile out of the token scope, source unsubscribe-link', async () => {
    const { deps, store, clock } = setup();
    const token = signUnsubscribeToken({ profileId: 'p-1', scope: 'list:news', expiresAt: new Date('2026-05-01T00:00:00Z') }, SECRET);
    clock.set('2026-03-02T08:00:00.000Z');
    expect(await unsubscribe(deps, token)).toEqual({ profileId: 'p-1', scope: 'list:news', outcome: 'updated' });
    expect((await store.get('p-1'))?.consent).toEqual({ 'list:news': { status: 'opted-out', at: '2026-03-02T08:00:00.000Z', source: 'unsubscribe-link' } });
  });

  it('changes nothing for a tampered or expired token', async () => {
    const { deps, store, clock } = setup();
    const token = signUnsubscribeToken({ profileId: 'p-1', scope: 'email', expiresAt: new Date('2026-03-10T00:00:00Z') }, SECRET);
    const [payload, signature] = token.split('.');
    const other = Buffer.from(JSON.stringify({ v: 1, p: 'p-2', s: 'email', e: 1893456000 })).toString('base64url');
    await expect(unsubscribe(deps, `${other}.${signature}`)).rejects.toBeInstanceOf(UnsubscribeTokenError);
    await expect(unsubscribe(deps, `${payload}.${signature.slice(1)}`)).rejects.toBeInstanceOf(UnsubscribeTokenError);
    clock.set('2026-03-10T00:00:00.000Z');
    await expect(unsubscribe(deps, token)).rejects.toBeInstanceOf(UnsubscribeTokenError);
    expect(store.writes).toEqual([]);
  });
});
