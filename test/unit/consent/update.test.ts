import { readConsent, unsubscribe, updateConsent } from '../../../lambdas/core/consent/update';
import { signUnsubscribeToken, UnsubscribeTokenError } from '../../../lambdas/core/consent/token';
import { NotFoundError, ValidationError } from '../../../lambdas/core/runtime/errors';
import { clockAt, MemoryConsentProfiles } from './fakes';

const SECRET = 'unit-test-unsubscribe-secret';

function setup() {
  const clock = clockAt('2026-03-01T12:00:00.000Z');
  const store = new MemoryConsentProfiles(() => clock.now());
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
    const change = (status: string) => ({ status, at: '2026-03-01T12:00:00.000Z', source: 'api', via: 'api', recordedAt: '2026-03-01T12:00:00.000Z' });
    expect(result).toEqual({
      profileId: 'p-1',
      consent: {
        email: { status: 'opted-out', at: '2026-03-01T12:00:00.000Z', source: 'api', via: 'api' },
        'list:news': { status: 'opted-in', at: '2026-03-01T12:00:00.000Z', source: 'api', via: 'api' },
      },
      history: { email: [change('opted-out')], 'list:news': [change('opted-in')] },
      changes: { email: { requested: 'opted-out', status: 'opted-out', applied: true }, 'list:news': { requested: 'opted-in', status: 'opted-in', applied: true } },
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
    expect(await unsubscribe(deps, token)).toEqual({ profileId: 'p-1', scope: 'list:news', applied: true, status: 'opted-out' });
    expect((await store.get('p-1'))?.consent).toEqual({
      'list:news': {
        status: 'opted-out',
        at: '2026-03-02T08:00:00.000Z',
        source: 'unsubscribe-link',
        via: 'unsubscribe-link',
        history: [{ status: 'opted-out', at: '2026-03-02T08:00:00.000Z', source: 'unsubscribe-link', via: 'unsubscribe-link', recordedAt: '2026-03-02T08:00:00.000Z' }],
      },
    });
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

describe('explicit decisions against event-borne consent', () => {
  const emailToken = (profileId: string) => signUnsubscribeToken({ profileId, scope: 'email', expiresAt: new Date('2026-05-01T00:00:00Z') }, SECRET);
  const futureOptIn = { email: { status: 'opted-in' as const, at: '2999-01-01T00:00:00.000Z', source: 'shop' } };

  it('opts out through the link a profile that an event dated 2999 opted in, and says so', async () => {
    const { deps, store } = setup();
    store.add('p-2', { consent: futureOptIn });
    expect(await unsubscribe(deps, emailToken('p-2'))).toMatchObject({ profileId: 'p-2', scope: 'email', applied: true, status: 'opted-out' });
    expect((await store.get('p-2'))?.consent?.email).toMatchObject({ status: 'opted-out', source: 'unsubscribe-link' });
  });

  it('opts out through the API a profile that an event dated 2999 opted in', async () => {
    const { deps } = setup();
    deps.profiles.add('p-2', { consent: futureOptIn });
    const result = await updateConsent(deps, 'p-2', { email: 'opted-out' }, 'api');
    expect(result.consent.email).toMatchObject({ status: 'opted-out', source: 'api' });
    expect(result.changes).toEqual({ email: { requested: 'opted-out', status: 'opted-out', applied: true } });
  });

  it('re-subscribes through the API after an unsubscribe (the person asked again)', async () => {
    const { deps, store, clock } = setup();
    await unsubscribe(deps, emailToken('p-1'));
    clock.set('2026-03-02T08:00:00.000Z');
    const result = await updateConsent(deps, 'p-1', { email: 'opted-in' }, 'api');
    expect(result.changes.email).toEqual({ requested: 'opted-in', status: 'opted-in', applied: true });
    expect((await store.get('p-1'))?.consent?.email).toMatchObject({ status: 'opted-in', source: 'api' });
  });

  it('reports an unsubscribe outranked by a later explicit opt-in as not applied, with the reason', async () => {
    const { deps, store } = setup();
    store.add('p-3', { consent: { email: { status: 'opted-in', at: '2026-03-01T12:01:00.000Z', source: 'api', via: 'api' } } });
    const done = await unsubscribe(deps, emailToken('p-3'));
    expect(done).toMatchObject({ applied: false, status: 'opted-in', reason: expect.stringContaining('later') });
  });

  it('reports an API change that did not take effect as not applied, with the reason', async () => {
    const { deps, store } = setup();
    store.add('p-3', { consent: { email: { status: 'opted-out', at: '2026-03-01T12:01:00.000Z', source: 'api', via: 'api' } } });
    const result = await updateConsent(deps, 'p-3', { email: 'opted-in', sms: 'opted-out' }, 'api');
    expect(result.changes).toEqual({
      email: { requested: 'opted-in', status: 'opted-out', applied: false, reason: expect.stringContaining('later') },
      sms: { requested: 'opted-out', status: 'opted-out', applied: true },
    });
  });
});
