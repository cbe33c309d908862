import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConsentStore } from '../../lambdas/adapters/dynamodb-consent';
import { createDynamoProfileStore } from '../../lambdas/adapters/dynamodb-profiles';
import { DynamoSuppressionList } from '../../lambdas/adapters/dynamodb-suppression';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const PROFILES = 'consent-profiles';
const RUNTIME = 'consent-runtime';
let now = new Date('2026-03-01T12:00:00.000Z');
const clock = { now: () => now };

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;
beforeAll(async () => {
  dynamo = await startDynalite([PROFILES, RUNTIME]);
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  await dynamo?.stop();
});

const profiles = () => createDynamoProfileStore(db, PROFILES, { clock });
const consentStore = () => new DynamoConsentStore(db, PROFILES, clock);
const event = (id: string, identities: Record<string, string>, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'account.updated',
  source: 'shop',
  time: '2026-02-01T10:00:00.000Z',
  identities,
  properties: {},
  ...over,
});
const at = (day: number, status: 'opted-in' | 'opted-out', source = 'api') => ({ status, at: `2026-02-${String(day).padStart(2, '0')}T10:00:00.000Z`, source, via: 'api' as const });
const outcome = async (result: Promise<{ outcome: string }>) => (await result).outcome;

describe('DynamoConsentStore (the profile item the profile store reads)', () => {
  it('writes a decision the profile store then returns, and keeps the later one per key', async () => {
    const { profile } = await profiles().ingest(event('c-1', { email: 'one@example.com' }));
    const store = consentStore();
    expect(await outcome(store.setConsent(profile.id, 'email', at(10, 'opted-out')))).toBe('updated');
    expect(await outcome(store.setConsent(profile.id, 'email', at(5, 'opted-in')))).toBe('unchanged');
    expect(await outcome(store.setConsent(profile.id, 'list:news', at(5, 'opted-in')))).toBe('updated');
    expect((await profiles().get(profile.id))?.consent).toMatchObject({ email: at(10, 'opted-out'), 'list:news': at(5, 'opted-in') });
    expect((await profiles().get(profile.id))?.consent?.email.history?.map((c) => c.status)).toEqual(['opted-out', 'opted-in']);
  });

  it('lets an opt-out win over an opt-in taken at the same time, never the other way round', async () => {
    const { profile } = await profiles().ingest(event('c-2', { email: 'two@example.com' }));
    const store = consentStore();
    expect(await outcome(store.setConsent(profile.id, 'sms', at(10, 'opted-in')))).toBe('updated');
    expect(await outcome(store.setConsent(profile.id, 'sms', at(10, 'opted-out')))).toBe('updated');
    expect(await outcome(store.setConsent(profile.id, 'sms', at(10, 'opted-in')))).toBe('unchanged');
    expect((await profiles().get(profile.id))?.consent?.sms.status).toBe('opted-out');
  });

  it('survives later events of the profile, and is not overwritten by an older consent in an event', async () => {
    const { profile } = await profiles().ingest(event('c-3', { email: 'three@example.com' }));
    await consentStore().setConsent(profile.id, 'email', at(10, 'opted-out'));
    await profiles().ingest(event('c-3b', { email: 'three@example.com' }, { time: '2026-02-06T10:00:00.000Z', attributes: { firstName: 'Three' }, consent: { email: 'opted-in' } }));
    const held = await profiles().get(profile.id);
    expect(held?.attributes.firstName).toBe('Three');
    expect(held?.consent?.email).toMatchObject(at(10, 'opted-out'));
  });

  it('keeps an API opt-out over a later-dated event-borne opt-in, listing both in the history', async () => {
    const { profile } = await profiles().ingest(event('c-5', { email: 'five@example.com' }));
    await consentStore().setConsent(profile.id, 'email', at(10, 'opted-out'));
    await profiles().ingest(event('c-5b', { email: 'five@example.com' }, { time: '2026-02-20T10:00:00.000Z', consent: { email: 'opted-in' } }));
    const held = (await profiles().get(profile.id))?.consent?.email;
    expect(held).toMatchObject(at(10, 'opted-out'));
    expect(held?.history?.map((c) => [c.via, c.status, c.eventId])).toEqual([
      ['event', 'opted-in', 'c-5b'],
      ['api', 'opted-out', undefined],
    ]);
  });

  it('follows a merged profile to the one that absorbed it', async () => {
    now = new Date('2026-03-01T11:00:00.000Z');
    const older = (await profiles().ingest(event('c-4a', { email: 'four@example.com' }, { time: '2026-01-01T00:00:00.000Z' }))).profile;
    now = new Date('2026-03-01T12:00:00.000Z');
    const younger = (await profiles().ingest(event('c-4b', { deviceId: 'device-four' }))).profile;
    const merged = await profiles().ingest(event('c-4c', { email: 'four@example.com', deviceId: 'device-four' }));
    expect(merged.merged).toEqual([younger.id]);
    expect(await outcome(consentStore().setConsent(younger.id, 'push', at(12, 'opted-out')))).toBe('updated');
    expect((await profiles().get(older.id))?.consent?.push).toMatchObject(at(12, 'opted-out'));
  });

  it('reports an unknown profile and creates nothing', async () => {
    const id = newProfileId('email', 'nobody@example.com');
    expect(await outcome(consentStore().setConsent(id, 'email', at(10, 'opted-out')))).toBe('not-found');
    expect(await profiles().get(id)).toBeUndefined();
  });
});

describe('DynamoSuppressionList', () => {
  it('finds an address whatever its case, and keeps a complaint over a later bounce', async () => {
    const list = new DynamoSuppressionList(db, RUNTIME);
    expect(await list.isSuppressed('ann@example.com')).toBeUndefined();
    await list.suppress('Ann@Example.com', 'complaint', '2026-02-01T00:00:00.000Z', 'ses:m-1');
    await list.suppress('ann@example.com', 'bounce', '2026-02-02T00:00:00.000Z', 'ses:m-2');
    expect(await list.isSuppressed('ANN@EXAMPLE.COM')).toEqual({ address: 'ann@example.com', reason: 'complaint', at: '2026-02-01T00:00:00.000Z', source: 'ses:m-1' });
    await list.suppress('bob@example.com', 'bounce', '2026-02-02T00:00:00.000Z', 'ses:m-3');
    await list.suppress('bob@example.com', 'complaint', '2026-02-03T00:00:00.000Z', 'ses:m-4');
    expect(await list.isSuppressed('bob@example.com')).toMatchObject({ reason: 'complaint', source: 'ses:m-4' });
  });
});
