import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ProfileIndex } from '../../lambdas/core/config/env-keys';
import { DynamoCapStore, DynamoDecisionLog, offerStore, placementStore } from '../../lambdas/adapters/dynamodb-decisions';
import { InvalidCursorError } from '../../lambdas/core/runtime/errors';
import { DecisionCatalog } from '../../lambdas/core/decisions/catalog';
import type { Caps, Offer, Placement } from '../../lambdas/core/decisions/model';
import { makeDecision, type DecisionServiceDeps } from '../../lambdas/core/decisions/service';
import type { Profile } from '../../lambdas/core/runtime/ports';
import type { CapOutcome, CatalogRecord, DecisionRecord } from '../../lambdas/core/decisions/ports';
import type { Rule } from '../../lambdas/core/segments/rule';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';

const JOURNEYS = 'journeys';
const RUNTIME = 'runtime';

const NOW = new Date('2026-03-02T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite([JOURNEYS, RUNTIME], { profileIndexOn: [RUNTIME] });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A rule nested `depth` levels of `all` deep. */
function nested(depth: number): Rule {
  let rule: Rule = { kind: 'equals', field: { kind: 'attribute', name: 'loyaltyTier' }, value: 'gold' };
  for (let i = 0; i < depth; i++) rule = { kind: 'all', rules: [rule] };
  return rule;
}

const offer = (id: string, over: Partial<Offer> = {}): Offer => ({
  schemaVersion: 1,
  id,
  name: `Offer ${id}`,
  placements: { 'home-hero': { title: `Title ${id}`, discount: 10, featured: true } },
  eligibility: { rule: nested(9) },
  priority: 5,
  tags: ['spring'],
  attributes: { margin: 0.4 },
  caps: { total: 100, perProfile: { count: 2, period: '7d' } },
  fallback: false,
  ...over,
});

const placement = (id: string): Placement => ({ schemaVersion: 1, id, name: `Placement ${id}`, channel: 'web', requiredContent: ['title'] });

const record = <T>(definition: T, version: number, over: Partial<CatalogRecord<T>> = {}): CatalogRecord<T> => ({
  definition,
  origin: 'api',
  version,
  updatedAt: new Date(NOW.getTime() + version * 1000).toISOString(),
  ...over,
});

describe('DynamoCatalogStore', () => {
  it('creates an offer only when its id is free and reads it back as written (deep rules included)', async () => {
    const offers = offerStore(db, JOURNEYS);
    const first = record(offer('spring-sale', { eligibility: { rule: nested(40) } }), 1, { origin: 'file' });
    expect(await offers.put(first, {})).toBe(true);
    expect(await offers.put(record(offer('spring-sale', { name: 'Other' }), 1), {})).toBe(false);
    expect(await offers.get('spring-sale')).toEqual(first);
    expect(await offers.get('nothing')).toBeUndefined();
    const { Item } = await db.send(new GetCommand({ TableName: JOURNEYS, Key: { pk: 'OFFERS', sk: 'OFFER#spring-sale' } }));
    expect(typeof Item!.definition).toBe('string');
    expect(Item).toMatchObject({ origin: 'file', version: 1 });
  });

  it('drops undefined optional fields instead of failing to write them', async () => {
    const offers = offerStore(db, JOURNEYS);
    expect(await offers.put(record(offer('plain', { description: undefined, caps: undefined }), 1), {})).toBe(true);
    const read = (await offers.get('plain'))!.definition;
    expect('description' in read).toBe(false);
    expect('caps' in read).toBe(false);
  });

  it('replaces only at the expected version; force writes regardless; delete only what exists', async () => {
    const offers = offerStore(db, JOURNEYS);
    expect(await offers.put(record(offer('versioned'), 1), {})).toBe(true);
    expect(await offers.put(record(offer('versioned', { priority: 7 }), 2), { expectedVersion: 2 })).toBe(false);
    expect(await offers.put(record(offer('versioned', { priority: 7 }), 2), { expectedVersion: 1 })).toBe(true);
    expect(await offers.put(record(offer('versioned', { priority: 8 }), 3), { expectedVersion: 1 })).toBe(false);
    expect((await offers.get('versioned'))!.definition.priority).toBe(7);
    expect(await offers.put(record(offer('versioned', { priority: 9 }), 9), { force: true })).toBe(true);
    expect(await offers.get('versioned')).toMatchObject({ version: 9, definition: { priority: 9 } });
    expect(await offers.put(record(offer('forced-new'), 1), { expectedVersion: 3 })).toBe(false);
    expect(await offers.delete('versioned')).toBe(true);
    expect(await offers.delete('versioned')).toBe(false);
    expect(await offers.get('versioned')).toBeUndefined();
  });

  it('keeps offers and placements apart, each listed in id order', async () => {
    const placements = placementStore(db, JOURNEYS);
    for (const id of ['web-banner', 'email-footer', 'home-hero']) expect(await placements.put(record(placement(id), 1), {})).toBe(true);
    expect((await placements.list()).map((r) => r.definition.id)).toEqual(['email-footer', 'home-hero', 'web-banner']);
    expect(await placements.get('home-hero')).toEqual(record(placement('home-hero'), 1));
    const offerIds = (await offerStore(db, JOURNEYS).list()).map((r) => r.definition.id);
    expect(offerIds).toEqual([...offerIds].sort());
    expect(offerIds).toEqual(expect.arrayContaining(['spring-sale', 'plain']));
    expect(offerIds).not.toContain('home-hero');
    expect(await placements.get('spring-sale')).toBeUndefined();
  });

  it('lists past one page of results', async () => {
    const placements = placementStore(db, JOURNEYS);
    const big = 'x'.repeat(300_000);
    // Four items of ~300 KB: more than one 1 MB Query page.
    for (let i = 0; i < 4; i++) expect(await placements.put(record({ ...placement(`big-${i}`), description: big }, 1), { force: true })).toBe(true);
    expect((await placements.list()).filter((r) => r.definition.id.startsWith('big-'))).toHaveLength(4);
    for (let i = 0; i < 4; i++) await placements.delete(`big-${i}`);
  });
});

const count = (outcomes: CapOutcome[], predicate: (o: CapOutcome) => boolean) => outcomes.filter(predicate).length;
const ok = (o: CapOutcome) => o.ok;
const refusedBy = (cap: 'total' | 'perProfile') => (o: CapOutcome) => !o.ok && o.cap === cap;

describe('DynamoCapStore', () => {
  const caps = () => new DynamoCapStore(db, RUNTIME);

  it('counts a total cap: never more proposals than the cap when 200 decisions race', async () => {
    const store = caps();
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => store.reserve('race-total', `p${i}`, { total: 25 }, NOW)));
    expect(count(outcomes, ok)).toBe(25);
    expect(count(outcomes, refusedBy('total'))).toBe(175);
    expect((await store.usage('race-total', 'p0', 7 * 86_400, NOW)).total).toBe(25);
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'CAP#race-total', sk: 'TOTAL' } }));
    expect(Item!.proposals).toBe(25);
    expect(Item!.profileId).toBeUndefined();
  });

  it('counts a per-profile cap: never more than the count when 100 decisions for one profile race', async () => {
    const store = caps();
    const limits: Caps = { perProfile: { count: 3, period: '7d' } };
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => store.reserve('race-profile', 'alice', limits, NOW)));
    expect(count(outcomes, ok)).toBe(3);
    expect(count(outcomes, refusedBy('perProfile'))).toBe(97);
    expect(await store.usage('race-profile', 'alice', 7 * 86_400, NOW)).toEqual({ total: 0, profile: 3 });
    expect(await store.usage('race-profile', 'bob', 7 * 86_400, NOW)).toEqual({ total: 0, profile: 0 });
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'CAP#race-profile#alice', sk: 'PROFILE' } }));
    expect(Item).toMatchObject({ profileId: 'alice', times: [NOW.getTime(), NOW.getTime(), NOW.getTime()] });
    // Expires a day after the period of the latest proposal.
    expect(Item!.expiresAt).toBe(Math.ceil((NOW.getTime() + 7 * DAY) / 1000) + 86_400);
  });

  it('keeps both caps when 10 profiles × 20 decisions race, and the stored counters agree with what was granted', async () => {
    const store = caps();
    const limits: Caps = { total: 12, perProfile: { count: 2, period: '1d' } };
    const profiles = Array.from({ length: 10 }, (_, i) => `both-${i}`);
    const calls = profiles.flatMap((profileId) => Array.from({ length: 20 }, () => ({ profileId })));
    const outcomes = await Promise.all(calls.map(({ profileId }) => store.reserve('race-both', profileId, limits, NOW).then((outcome) => ({ profileId, outcome }))));
    const granted = outcomes.filter((o) => o.outcome.ok);
    expect(granted.length).toBeLessThanOrEqual(12);
    // Ten profiles with two slots each can use all twelve.
    expect(granted.length).toBe(12);
    const perProfile = new Map<string, number>();
    for (const { profileId } of granted) perProfile.set(profileId, (perProfile.get(profileId) ?? 0) + 1);
    for (const n of perProfile.values()) expect(n).toBeLessThanOrEqual(2);
    const usages = await Promise.all(profiles.map((p) => store.usage('race-both', p, 86_400, NOW)));
    expect(usages[0].total).toBe(granted.length);
    // Slots taken but refused by the total were given back: each profile's stored times are its granted proposals.
    for (const [i, p] of profiles.entries()) expect(usages[i].profile).toBe(perProfile.get(p) ?? 0);
    expect(usages.reduce((sum, u) => sum + u.profile, 0)).toBe(granted.length);
  });

  it('slides the per-profile period: proposals older than the period no longer count', async () => {
    const store = caps();
    const limits: Caps = { perProfile: { count: 2, period: '7d' } };
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    expect(await store.reserve('sliding', 'carol', limits, at(0))).toEqual({ ok: true });
    expect(await store.reserve('sliding', 'carol', limits, at(3 * DAY))).toEqual({ ok: true });
    expect(await store.reserve('sliding', 'carol', limits, at(6 * DAY))).toEqual({ ok: false, cap: 'perProfile' });
    expect((await store.usage('sliding', 'carol', 7 * 86_400, at(6 * DAY))).profile).toBe(2);
    // Exactly one period after the first proposal, it has slid out.
    expect((await store.usage('sliding', 'carol', 7 * 86_400, at(7 * DAY))).profile).toBe(1);
    expect(await store.reserve('sliding', 'carol', limits, at(7 * DAY))).toEqual({ ok: true });
    expect(await store.reserve('sliding', 'carol', limits, at(8 * DAY))).toEqual({ ok: false, cap: 'perProfile' });
    expect(await store.reserve('sliding', 'carol', limits, at(10 * DAY))).toEqual({ ok: true });
    // The item keeps only what is within the period (written at 10 days: the ones from 7 and 10 days).
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'CAP#sliding#carol', sk: 'PROFILE' } }));
    expect(Item!.times).toEqual([at(7 * DAY).getTime(), at(10 * DAY).getTime()]);
  });

  it('gives the per-profile slot back when the total refuses', async () => {
    const store = caps();
    const limits: Caps = { total: 1, perProfile: { count: 1, period: '1d' } };
    expect(await store.reserve('give-back', 'dave', limits, NOW)).toEqual({ ok: true });
    expect(await store.reserve('give-back', 'erin', limits, NOW)).toEqual({ ok: false, cap: 'total' });
    expect(await store.usage('give-back', 'erin', 86_400, NOW)).toEqual({ total: 1, profile: 0 });
    expect(await store.reserve('give-back', 'dave', limits, NOW)).toEqual({ ok: false, cap: 'perProfile' });
    expect(await store.usage('give-back', 'dave', 86_400, NOW)).toEqual({ total: 1, profile: 1 });
  });
});

const decision = (profileId: string, id: string, at: Date, over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  id,
  profileId,
  at: at.toISOString(),
  placements: {
    'home-hero': {
      offers: [{ offerId: 'spring-sale', name: 'Spring sale', placement: 'home-hero', content: { title: 'Spring', discount: 10 }, score: 5, tags: ['spring'], fallback: false }],
      fallback: false,
      explanation: [{ offerId: 'spring-sale', eligible: true, score: 5, chosen: true }, { offerId: 'capped', eligible: true, score: 9, capped: 'perProfile', chosen: false }],
    },
  },
  context: { channel: 'web' },
  origin: 'api',
  ...over,
});

describe('DynamoDecisionLog', () => {
  it('finds a decision by its profile and idempotency key, and keeps key items out of the profile’s list', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME);
    const record = decision('keyed-judy', 'j0', new Date());
    const key = { profileId: 'keyed-judy', key: 'exec-1#pick-offer', fingerprint: 'f1' };
    expect(await log.claim(key, new Date(Date.now() + 20_000))).toBe(true);
    expect(await log.findByKey('keyed-judy', 'exec-1#pick-offer')).toMatchObject({ status: 'pending', fingerprint: 'f1' });
    await log.append(record, key);
    expect(await log.findByKey('keyed-judy', 'exec-1#pick-offer')).toEqual({ status: 'done', fingerprint: 'f1', record });
    expect(await log.findByKey('keyed-judy', 'exec-2#pick-offer')).toBeUndefined();
    expect(await log.findByKey('other', 'exec-1#pick-offer')).toBeUndefined();
    expect((await log.list('keyed-judy', { limit: 10 })).decisions).toEqual([record]);
  });

  it('lets one of 10 racing claims of a key win, and takes a pending key over only under its exact lapsed lease', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME);
    const key = { profileId: 'claimer', key: 'api:claim-race', fingerprint: 'f' };
    const lease = new Date(Date.now() + 20_000);
    const wins = await Promise.all(Array.from({ length: 10 }, () => log.claim(key, lease)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const later = new Date(lease.getTime() + 20_000);
    expect(await log.claim(key, later, new Date(0).toISOString())).toBe(false);
    const takeovers = await Promise.all(Array.from({ length: 5 }, () => log.claim(key, later, lease.toISOString())));
    expect(takeovers.filter(Boolean)).toHaveLength(1);
    // Released only by the holder of the current lease.
    await log.release(key, lease);
    expect(await log.findByKey('claimer', 'api:claim-race')).toMatchObject({ status: 'pending', leaseUntil: later.toISOString() });
    await log.release(key, later);
    expect(await log.findByKey('claimer', 'api:claim-race')).toBeUndefined();
  });

  it('lists a profile’s decisions newest first, page by page', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME);
    const written = Array.from({ length: 7 }, (_, i) => decision('frank', `d${i}`, new Date(NOW.getTime() + i * HOUR)));
    // Appended out of order, plus another profile's decision and a repeated append.
    for (const i of [3, 0, 6, 1, 5, 2, 4]) await log.append(written[i]);
    await log.append(written[2]);
    await log.append(decision('grace', 'g0', NOW));

    const newestFirst = [...written].reverse();
    const first = await log.list('frank', { limit: 3 });
    expect(first.decisions).toEqual(newestFirst.slice(0, 3));
    expect(first.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await log.list('frank', { limit: 3, cursor: first.cursor });
    expect(second.decisions).toEqual(newestFirst.slice(3, 6));
    const third = await log.list('frank', { limit: 3, cursor: second.cursor });
    expect(third).toEqual({ decisions: newestFirst.slice(6) });
    // A page that ends exactly at the last decision has no cursor.
    expect(await log.list('frank', { limit: 7 })).toEqual({ decisions: newestFirst });
    expect(await log.list('nobody', { limit: 5 })).toEqual({ decisions: [] });
  });

  it('keeps decisions for the retention period and puts them in the byProfile index', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME, { retentionDays: 30 });
    await log.append(decision('heidi', 'h0', NOW, { origin: 'journey:welcome:pick' }));
    const { Items } = await db.send(
      new QueryCommand({
        TableName: RUNTIME,
        IndexName: ProfileIndex.name,
        KeyConditionExpression: '#profile = :p',
        ExpressionAttributeNames: { '#profile': ProfileIndex.partitionKey },
        ExpressionAttributeValues: { ':p': 'heidi' },
      }),
    );
    expect(Items!.map((item) => item.pk)).toEqual(['DECISIONS#heidi']);
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'DECISIONS#heidi', sk: `${NOW.toISOString()}#h0` } }));
    expect(Item).toMatchObject({ profileId: 'heidi', expiresAt: NOW.getTime() / 1000 + 30 * 86_400 });
    expect(typeof Item!.record).toBe('string');
  });

  it('finds a profile’s cap items through the byProfile index too', async () => {
    await new DynamoCapStore(db, RUNTIME).reserve('indexed', 'ivan', { total: 5, perProfile: { count: 1, period: '1h' } }, NOW);
    const { Items } = await db.send(
      new QueryCommand({
        TableName: RUNTIME,
        IndexName: ProfileIndex.name,
        KeyConditionExpression: '#profile = :p',
        ExpressionAttributeNames: { '#profile': ProfileIndex.partitionKey },
        ExpressionAttributeValues: { ':p': 'ivan' },
      }),
    );
    expect(Items!.map((item) => item.pk)).toEqual(['CAP#indexed#ivan']);
  });

  it('refuses a cursor it did not issue, and a bad limit', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME);
    await expect(log.list('frank', { limit: 2, cursor: 'not base64url!' })).rejects.toThrow(InvalidCursorError);
    await expect(log.list('frank', { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
    await expect(log.append(decision('frank', 'bad', NOW, { at: 'yesterday' }))).rejects.toThrow(/ISO-8601/);
  });

  it('orders by time even when a decision was written with another zone offset', async () => {
    const log = new DynamoDecisionLog(db, RUNTIME);
    await log.append(decision('judy', 'late', NOW, { at: '2026-03-02T13:30:00+02:00' })); // 11:30Z
    await log.append(decision('judy', 'early', NOW, { at: '2026-03-02T11:00:00Z' }));
    await log.append(decision('judy', 'latest', NOW, { at: '2026-03-02T12:00:00Z' }));
    expect((await log.list('judy', { limit: 5 })).decisions.map((d) => d.id)).toEqual(['latest', 'late', 'early']);
  });
});

describe('makeDecision with an idempotency key (DynamoDB decision log and cap store)', () => {
  const limited = offer('keyed-limited', { eligibility: undefined, caps: { total: 50, perProfile: { count: 5, period: '30d' } } });
  const catalog = DecisionCatalog.create([limited], [placement('home-hero')]);
  const profileOf = (id: string) => ({ id, attributes: {}, identities: {}, createdAt: AT.toISOString(), updatedAt: AT.toISOString(), recentEvents: [] }) as unknown as Profile;
  // The log expires key items against the real time: decide at it.
  const AT = new Date();
  let ids = 0;
  const deps = (): DecisionServiceDeps => ({
    decisions: { catalog: async () => catalog },
    caps: new DynamoCapStore(db, RUNTIME),
    decisionLog: new DynamoDecisionLog(db, RUNTIME),
    profiles: { get: async (id) => profileOf(id), findByIdentity: async () => undefined },
    memberships: { get: async () => ({ segments: {}, version: 0 }) },
    clock: { now: () => AT },
    newId: () => `keyed-${++ids}`,
    // Losers poll for the winner's decision; no real waiting.
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
  });
  const request = { placements: ['home-hero'], count: 1, context: {}, origin: 'api' };

  it('makes one decision and one cap reservation when five requests with one key race', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => makeDecision(deps(), { ...request, profileId: 'racer', idempotencyKey: 'api:race-1' })));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(answers[0].placements['home-hero'].offers.map((o) => o.offerId)).toEqual(['keyed-limited']);
    expect(await new DynamoCapStore(db, RUNTIME).usage('keyed-limited', 'racer', 30 * 86_400, AT)).toEqual({ total: 1, profile: 1 });
    expect((await new DynamoDecisionLog(db, RUNTIME).list('racer', { limit: 10 })).decisions).toEqual([answers[0]]);
  });

  it('gives another profile reusing the key a decision of its own', async () => {
    const ann = await makeDecision(deps(), { ...request, profileId: 'ann-k', idempotencyKey: 'api:shared' });
    const bob = await makeDecision(deps(), { ...request, profileId: 'bob-k', idempotencyKey: 'api:shared' });
    expect(bob.profileId).toBe('bob-k');
    expect(bob.id).not.toBe(ann.id);
    expect((await new DynamoDecisionLog(db, RUNTIME).list('bob-k', { limit: 10 })).decisions).toEqual([bob]);
  });
});

describe('DynamoCapStore.carryOver (a profile merge)', () => {
  it("adds the absorbed profile's proposals to the survivor's caps, offer by offer, once however often it runs", async () => {
    const store = new DynamoCapStore(db, RUNTIME);
    const once: Caps = { perProfile: { count: 1, period: '30d' } };
    const twice: Caps = { perProfile: { count: 2, period: '7d' } };
    expect(await store.reserve('merge-once', 'absorbed-1', once, NOW)).toEqual({ ok: true });
    expect(await store.reserve('merge-twice', 'absorbed-1', twice, NOW)).toEqual({ ok: true });
    expect(await store.reserve('merge-twice', 'survivor-1', twice, new Date(NOW.getTime() + HOUR))).toEqual({ ok: true });

    expect(await store.carryOver('absorbed-1', 'survivor-1')).toBe(2);
    expect(await store.carryOver('absorbed-1', 'survivor-1')).toBe(0);

    expect(await store.reserve('merge-once', 'survivor-1', once, NOW)).toEqual({ ok: false, cap: 'perProfile' });
    expect(await store.reserve('merge-twice', 'survivor-1', twice, NOW)).toEqual({ ok: false, cap: 'perProfile' });
    const { Item } = await db.send(new GetCommand({ TableName: RUNTIME, Key: { pk: 'CAP#merge-once#survivor-1', sk: 'PROFILE' } }));
    // The survivor's item belongs to the survivor (erasure finds it) and expires with the absorbed proposal's period.
    expect(Item).toMatchObject({ profileId: 'survivor-1', times: [NOW.getTime()], expiresAt: Math.ceil((NOW.getTime() + 30 * DAY) / 1000) + 86_400 });
    expect(await store.carryOver('nobody', 'survivor-1')).toBe(0);
  });
});
