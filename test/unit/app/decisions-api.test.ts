import './quiet-powertools';
import type { Context } from 'aws-lambda';
import {
  createCreateOfferHandler,
  createCreatePlacementHandler,
  createDecideHandler,
  createDeleteOfferHandler,
  createDeletePlacementHandler,
  createGetOfferHandler,
  createGetPlacementHandler,
  createListDecisionsHandler,
  createListOffersHandler,
  createListPlacementsHandler,
  createPutOfferHandler,
  createPutPlacementHandler,
  type DecisionApiDeps,
} from '../../../lambdas/app/decisions';
import { cachedDecisionCatalog } from '../../../lambdas/core/decisions/catalog';
import type { Caps, Offer, OfferInput, Placement } from '../../../lambdas/core/decisions/model';
import type { CapOutcome, CapStore, CatalogRecord, CatalogStore, DecisionRecord } from '../../../lambdas/core/decisions/ports';
import type { Journey } from '../../../lambdas/core/journey';
import { InvalidCursorError } from '../../../lambdas/core/runtime/errors';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';
import { MemoryDecisionLog } from '../decisions/memory-decision-log';
import { FakeClock, journeyRecord, MemoryJourneyRegistry, MemoryProfileStore } from '../runtime/fakes';
import { FakeMembershipStore } from '../segments/audience-fakes';

// --- Fakes ------------------------------------------------------------------------------------------------------

/** Offers or placements by id, with DynamoCatalogStore's conditional puts; records every write. */
class MemoryCatalogStore<T extends { id: string }> implements CatalogStore<T> {
  readonly records = new Map<string, CatalogRecord<T>>();
  readonly writes: string[] = [];
  constructor(records: CatalogRecord<T>[] = []) {
    for (const r of records) this.records.set(r.definition.id, structuredClone(r));
  }
  async list() {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
  async get(id: string) {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }
  async put(record: CatalogRecord<T>, condition: { expectedVersion?: number; force?: boolean }) {
    const current = this.records.get(record.definition.id);
    if (!condition.force && (condition.expectedVersion === undefined ? current !== undefined : current?.version !== condition.expectedVersion)) return false;
    this.records.set(record.definition.id, structuredClone(record));
    this.writes.push(`put ${record.definition.id}`);
    return true;
  }
  async delete(id: string) {
    const existed = this.records.delete(id);
    if (existed) this.writes.push(`delete ${id}`);
    return existed;
  }
}

/** Counts proposals per offer (total) and per offer and profile (no sliding window: the tests stay within one period). */
class FakeCaps implements CapStore {
  readonly reserved: string[] = [];
  private readonly totals = new Map<string, number>();
  private readonly perProfile = new Map<string, number>();
  async reserve(offerId: string, profileId: string, caps: Caps): Promise<CapOutcome> {
    const total = this.totals.get(offerId) ?? 0;
    const mine = this.perProfile.get(`${offerId}#${profileId}`) ?? 0;
    if (caps.total !== undefined && total >= caps.total) return { ok: false, cap: 'total' };
    if (caps.perProfile && mine >= caps.perProfile.count) return { ok: false, cap: 'perProfile' };
    this.totals.set(offerId, total + 1);
    this.perProfile.set(`${offerId}#${profileId}`, mine + 1);
    this.reserved.push(`${offerId}#${profileId}`);
    return { ok: true };
  }
  async usage(offerId: string, profileId: string) {
    return { total: this.totals.get(offerId) ?? 0, profile: this.perProfile.get(`${offerId}#${profileId}`) ?? 0 };
  }
}


/** Newest first; the cursor is the index of the next record, refused (like the adapter) when it is not one it gave out. */
class PagedDecisionLog extends MemoryDecisionLog {
  override async list(profileId: string, page: { limit: number; cursor?: string }) {
    const mine = this.records.filter((r) => r.profileId === profileId).reverse();
    let start = 0;
    if (page.cursor !== undefined) {
      if (!/^c\d+$/.test(page.cursor)) throw new InvalidCursorError('decision log', page.cursor);
      start = Number(page.cursor.slice(1));
    }
    const decisions = mine.slice(start, start + page.limit);
    return { decisions, ...(start + page.limit < mine.length ? { cursor: `c${start + page.limit}` } : {}) };
  }
}

// --- Catalog ------------------------------------------------------------------------------------------------------

const placement = (id: string, requiredContent: string[] = []): Placement => ({ schemaVersion: 1, id, name: id, requiredContent });
const banner = (title: string) => ({ title, imageUrl: `https://shop.example/${title}.png` });
function offer(id: string, overrides: Partial<OfferInput> = {}): Offer {
  return { schemaVersion: 1, id, name: id, placements: { 'web-banner': banner(id) }, priority: 0, tags: [], attributes: {}, fallback: false, ...overrides } as Offer;
}
const rec = <T>(definition: T, overrides: Partial<CatalogRecord<T>> = {}): CatalogRecord<T> => ({ definition, origin: 'api', version: 1, updatedAt: '2026-06-01T00:00:00.000Z', ...overrides });
const tierIs = (tier: string) => ({ rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: tier } }) as Offer['eligibility'];

const goldBanner = offer('gold-banner', { priority: 50, eligibility: tierIs('gold'), tags: ['loyalty'] });
const everyone = offer('everyone', { priority: 10 });
const silverOnly = offer('silver-only', { priority: 90, eligibility: tierIs('silver') });
const newsletter = offer('newsletter', { fallback: true, placements: { 'web-banner': banner('new'), 'email-hero': { title: 'New' } } });
const fileOffer = offer('file-offer', { priority: 1, placements: { 'email-hero': { title: 'From a file' } } });

/** A stored journey with a decide node on `placementId` (built directly: the record is what the registry returns). */
function decideJourney(id: string, placementId: string) {
  const base = journeyRecord({ id });
  const journey = { ...base.journey, start: 'pick', nodes: [{ id: 'pick', kind: 'decide', placement: placementId, count: 1, next: 'done' }, ...base.journey.nodes] } as unknown as Journey;
  return { ...base, journey };
}

function setup() {
  const clock = new FakeClock('2026-06-10T12:00:00.000Z');
  const offerStore = new MemoryCatalogStore<Offer>([rec(goldBanner), rec(everyone), rec(silverOnly), rec(newsletter), rec(fileOffer, { origin: 'file' })]);
  const placementStore = new MemoryCatalogStore<Placement>([
    rec(placement('web-banner', ['title', 'imageUrl'])),
    rec(placement('email-hero', ['title'])),
    rec(placement('side-bar')),
    rec(placement('app-tile')),
    rec(placement('file-slot'), { origin: 'file' }),
  ]);
  const profiles = new MemoryProfileStore(clock);
  profiles.add({ id: 'ann', attributes: { tier: 'gold' }, identities: { email: 'ann@example.com' }, recentEvents: [] });
  profiles.add({ id: 'bob', attributes: { tier: 'bronze' }, identities: { email: 'bob@example.com' }, recentEvents: [] });
  const caps = new FakeCaps();
  const decisionLog = new PagedDecisionLog();
  const journeys = new MemoryJourneyRegistry([decideJourney('promo', 'app-tile')]);
  // A long TTL: only `invalidate` (called by the API's writes) makes a new catalog visible within a test.
  const decisions = cachedDecisionCatalog({ offerStore, placementStore }, clock, 3_600_000);
  let ids = 0;
  const deps: DecisionApiDeps = {
    offerStore,
    placementStore,
    caps,
    decisionLog,
    decisions,
    profiles,
    memberships: new FakeMembershipStore(),
    journeys,
    clock,
    newId: () => `d-${++ids}`,
  };
  return { deps, offerStore, placementStore, caps, decisionLog, clock };
}

const context = { functionName: 'decisions-api', awsRequestId: 'req' } as unknown as Context;

function request(options: { body?: unknown; path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string> } = {}): ApiEvent {
  return {
    body: options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    headers: options.headers ?? {},
    pathParameters: options.path ?? null,
    queryStringParameters: options.query ?? null,
    requestContext: { requestId: 'req-1' },
  };
}

type Reply = { status: number; headers: Record<string, unknown>; body: any };
async function call(handler: (event: ApiEvent, context: Context) => Promise<ApiResult>, event: ApiEvent): Promise<Reply> {
  const result = await handler(event, context);
  return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? JSON.parse(result.body) : undefined };
}
const fields = (reply: Reply): string[] => (reply.body.errors ?? []).map((e: { field: string }) => e.field);
const decide = (deps: DecisionApiDeps, body: unknown) => call(createDecideHandler(deps), request({ body }));

// --- POST /decisions ------------------------------------------------------------------------------------------------

describe('POST /decisions', () => {
  it('proposes the best eligible offer with an explanation of every considered offer, and logs the decision', async () => {
    const { deps, decisionLog } = setup();
    const reply = await decide(deps, { profileId: 'ann', placements: ['web-banner'], context: { page: 'home' } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      decisionId: 'd-1',
      profileId: 'ann',
      at: '2026-06-10T12:00:00.000Z',
      placements: {
        'web-banner': {
          offers: [{ offerId: 'gold-banner', name: 'gold-banner', content: banner('gold-banner'), score: 50, tags: ['loyalty'], fallback: false }],
          fallback: false,
          explanation: expect.arrayContaining([
            { offerId: 'gold-banner', eligible: true, score: 50, chosen: true },
            { offerId: 'everyone', eligible: true, score: 10, chosen: false },
            { offerId: 'silver-only', eligible: false, reason: expect.stringContaining('eligibility'), score: null, chosen: false },
          ]),
        },
      },
    });
    expect(reply.body.placements['web-banner'].explanation).toHaveLength(3);
    expect(decisionLog.records).toEqual([expect.objectContaining({ id: 'd-1', profileId: 'ann', origin: 'api', context: { page: 'home' } })]);
  });

  it('answers a repeated idempotency key with the first decision, but 409 naming idempotencyKey for another request', async () => {
    const { deps, decisionLog } = setup();
    const body = { profileId: 'ann', placements: ['web-banner'], idempotencyKey: 'k-1' };
    const first = await decide(deps, body);
    expect((await decide(deps, body)).body).toEqual(first.body);
    // The same request by identity is the same request.
    expect((await decide(deps, { ...body, profileId: undefined, identity: 'email:ann@example.com' })).body).toEqual(first.body);
    const changed = await decide(deps, { ...body, context: { page: 'cart' } });
    expect(changed.status).toBe(409);
    expect(changed.headers['content-type']).toBe('application/problem+json');
    expect(fields(changed)).toEqual(['idempotencyKey']);
    // Bob's request with Ann's key is Bob's own decision, never Ann's.
    const bob = await decide(deps, { ...body, profileId: 'bob' });
    expect(bob.status).toBe(200);
    expect(bob.body.profileId).toBe('bob');
    expect(decisionLog.records.map((r) => r.profileId)).toEqual(['ann', 'bob']);
  });

  it('finds the profile by identity, as "namespace:value" or as an object', async () => {
    const { deps } = setup();
    for (const identity of ['email:ann@example.com', { namespace: 'email', value: 'ann@example.com' }]) {
      const reply = await decide(deps, { identity, placements: ['web-banner'], count: 2 });
      expect(reply.status).toBe(200);
      expect(reply.body.profileId).toBe('ann');
      expect(reply.body.placements['web-banner'].offers.map((o: { offerId: string }) => o.offerId)).toEqual(['gold-banner', 'everyone']);
    }
  });

  it('answers with the fallback offer when nothing else qualifies', async () => {
    const { deps } = setup();
    const reply = await decide(deps, { profileId: 'bob', placements: ['email-hero'] });
    expect(reply.status).toBe(200);
    // file-offer qualifies for everyone in email-hero, so the fallback stays out; without it, the fallback answers.
    expect(reply.body.placements['email-hero'].offers.map((o: { offerId: string }) => o.offerId)).toEqual(['file-offer']);
    const { deps: deps2, offerStore } = setup();
    offerStore.records.delete('file-offer');
    const fallback = await decide(deps2, { profileId: 'bob', placements: ['email-hero'] });
    expect(fallback.body.placements['email-hero']).toMatchObject({ fallback: true, offers: [{ offerId: 'newsletter', fallback: true, content: { title: 'New' } }] });
  });

  it.each([
    ['neither profileId nor identity', { placements: ['web-banner'] }, ['profileId', 'identity']],
    ['both profileId and identity', { profileId: 'ann', identity: 'email:ann@example.com', placements: ['web-banner'] }, ['profileId', 'identity']],
    ['no placements', { profileId: 'ann' }, ['placements']],
    ['an empty placement list', { profileId: 'ann', placements: [] }, ['placements']],
    ['eleven placements', { profileId: 'ann', placements: Array.from({ length: 11 }, (_, i) => `p${i}`) }, ['placements']],
    ['a repeated placement', { profileId: 'ann', placements: ['web-banner', 'web-banner'] }, ['placements[1]']],
    ['a placement that is not a string', { profileId: 'ann', placements: ['web-banner', 7] }, ['placements[1]']],
    ['count 0', { profileId: 'ann', placements: ['web-banner'], count: 0 }, ['count']],
    ['count 11', { profileId: 'ann', placements: ['web-banner'], count: 11 }, ['count']],
    ['a fractional count', { profileId: 'ann', placements: ['web-banner'], count: 1.5 }, ['count']],
    ['a context of 51 keys', { profileId: 'ann', placements: ['web-banner'], context: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, ['context']],
    ['a context that is a list', { profileId: 'ann', placements: ['web-banner'], context: [1] }, ['context']],
    ['an identity without a namespace', { identity: 'ann@example.com', placements: ['web-banner'] }, ['identity']],
    ['an identity object without a value', { identity: { namespace: 'email' }, placements: ['web-banner'] }, ['identity']],
    ['an unknown field', { profileId: 'ann', placements: ['web-banner'], colour: 'red' }, ['colour']],
    ['a body that is a list', [1], ['(body)']],
    ['no body', undefined, ['(body)']],
    ['a body that is not JSON', '{"profileId": ', ['(body)']],
  ])('answers 400 naming the field for %s, and decides nothing', async (_, body, expected) => {
    const { deps, decisionLog, caps } = setup();
    const reply = await decide(deps, body);
    expect(reply).toMatchObject({ status: 400, headers: { 'content-type': 'application/problem+json' } });
    expect(fields(reply)).toEqual(expected);
    expect(decisionLog.records).toEqual([]);
    expect(caps.reserved).toEqual([]);
  });

  it('answers 400 naming placements[i] for an unknown placement, and logs nothing', async () => {
    const { deps, decisionLog } = setup();
    const reply = await decide(deps, { profileId: 'ann', placements: ['web-banner', 'nowhere'] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ field: 'placements[1]', message: expect.stringContaining('nowhere') }]);
    expect(decisionLog.records).toEqual([]);
  });

  it('answers 404 for an unknown profile id or identity', async () => {
    const { deps, decisionLog } = setup();
    expect((await decide(deps, { profileId: 'nobody', placements: ['web-banner'] })).status).toBe(404);
    expect((await decide(deps, { identity: 'email:nobody@example.com', placements: ['web-banner'] })).status).toBe(404);
    expect(decisionLog.records).toEqual([]);
  });

  it('reserves capped offers and explains a cap that stopped one', async () => {
    const { deps, offerStore } = setup();
    offerStore.records.set('gold-banner', rec({ ...goldBanner, caps: { perProfile: { count: 1, period: '7d' } } }));
    await decide(deps, { profileId: 'ann', placements: ['web-banner'] });
    const second = await decide(deps, { profileId: 'ann', placements: ['web-banner'] });
    expect(second.body.placements['web-banner'].offers.map((o: { offerId: string }) => o.offerId)).toEqual(['everyone']);
    expect(second.body.placements['web-banner'].explanation).toContainEqual(expect.objectContaining({ offerId: 'gold-banner', capped: 'perProfile', chosen: false }));
  });
});

// --- GET /profiles/{id}/decisions --------------------------------------------------------------------------------

describe('GET /profiles/{id}/decisions', () => {
  const list = (deps: DecisionApiDeps, query?: Record<string, string>) => call(createListDecisionsHandler(deps), request({ path: { id: 'ann' }, ...(query ? { query } : {}) }));

  it('pages through the decisions newest first', async () => {
    const { deps, clock } = setup();
    for (let i = 0; i < 3; i++) {
      await decide(deps, { profileId: 'ann', placements: ['web-banner'] });
      clock.advance('1m');
    }
    const first = await list(deps, { limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.decisions.map((d: DecisionRecord) => d.id)).toEqual(['d-3', 'd-2']);
    expect(first.body.cursor).toEqual(expect.any(String));
    const second = await list(deps, { limit: '2', cursor: first.body.cursor });
    expect(second.body).toEqual({ decisions: [expect.objectContaining({ id: 'd-1' })] });
    expect((await list(deps)).body.decisions).toHaveLength(3);
  });

  it.each([['0'], ['101'], ['ten'], ['2.5']])('answers 400 naming limit for limit=%s', async (limit) => {
    const { deps } = setup();
    const reply = await list(deps, { limit });
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['limit']);
  });

  it('answers 400 naming cursor for a cursor the log never gave out', async () => {
    const { deps } = setup();
    const reply = await list(deps, { cursor: 'forged' });
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['cursor']);
  });
});

// --- Offers ----------------------------------------------------------------------------------------------------------

describe('offers', () => {
  const newOffer = { schemaVersion: 1, id: 'spring-sale', name: 'Spring sale', placements: { 'web-banner': banner('spring') }, priority: 99 };

  it('POST creates an API offer at version 1 (201, Location, ETag) that the next decision proposes at once', async () => {
    const { deps, offerStore } = setup();
    expect((await decide(deps, { profileId: 'bob', placements: ['web-banner'] })).body.placements['web-banner'].offers[0].offerId).toBe('everyone');
    const reply = await call(createCreateOfferHandler(deps), request({ body: newOffer }));
    expect(reply).toMatchObject({ status: 201, headers: { location: '/offers/spring-sale', etag: '"1"' }, body: { origin: 'api', version: 1, updatedAt: '2026-06-10T12:00:00.000Z', definition: { id: 'spring-sale', priority: 99 } } });
    expect(await offerStore.get('spring-sale')).toEqual(reply.body);
    expect((await decide(deps, { profileId: 'bob', placements: ['web-banner'] })).body.placements['web-banner'].offers[0].offerId).toBe('spring-sale');
  });

  it.each([
    ['a bad cap period', { ...newOffer, caps: { perProfile: { count: 1, period: 'weekly' } } }, ['caps.perProfile.period']],
    ['an unknown placement', { ...newOffer, placements: { 'web-banner': banner('x'), nowhere: { title: 'x' } } }, ['placements.nowhere']],
    ['missing required content', { ...newOffer, placements: { 'web-banner': { title: 'no image' } } }, ['placements.web-banner.imageUrl']],
    ['a score formula that does not parse', { ...newOffer, score: 'offer.priority +' }, ['score']],
    ['validUntil before validFrom', { ...newOffer, validFrom: '2026-07-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' }, ['validUntil']],
    ['a fallback with eligibility', { ...newOffer, fallback: true, eligibility: tierIs('gold') }, ['fallback']],
    ['an unknown field', { ...newOffer, colour: 'red' }, ['colour']],
    ['an id that is not kebab-case', { ...newOffer, id: 'Spring_Sale' }, ['id']],
    ['no body', undefined, ['(body)']],
  ])('POST answers 400 naming the field for %s, and writes nothing', async (_, body, expected) => {
    const { deps, offerStore } = setup();
    const reply = await call(createCreateOfferHandler(deps), request({ body }));
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(expected);
    expect(offerStore.writes).toEqual([]);
  });

  it('POST answers 409 when the id is taken, by an API or a file offer', async () => {
    const { deps, offerStore } = setup();
    for (const id of ['everyone', 'file-offer']) {
      const reply = await call(createCreateOfferHandler(deps), request({ body: { ...newOffer, id } }));
      expect(reply.status).toBe(409);
    }
    expect(offerStore.writes).toEqual([]);
  });

  it('GET lists every offer and gets one with its ETag; 404 for an unknown one', async () => {
    const { deps } = setup();
    const all = await call(createListOffersHandler(deps), request());
    expect(all.body.offers.map((r: CatalogRecord<Offer>) => r.definition.id).sort()).toEqual(['everyone', 'file-offer', 'gold-banner', 'newsletter', 'silver-only']);
    expect(await call(createGetOfferHandler(deps), request({ path: { id: 'everyone' } }))).toMatchObject({ status: 200, headers: { etag: '"1"' }, body: { definition: { id: 'everyone' } } });
    expect((await call(createGetOfferHandler(deps), request({ path: { id: 'nope' } }))).status).toBe(404);
  });

  it('PUT replaces an API offer at the next version (the body id may be omitted); If-Match must be current', async () => {
    const { deps, offerStore } = setup();
    const { id: _id, ...body } = { ...everyone, priority: 70 };
    const reply = await call(createPutOfferHandler(deps), request({ path: { id: 'everyone' }, body, headers: { 'If-Match': '"1"' } }));
    expect(reply).toMatchObject({ status: 200, headers: { etag: '"2"' }, body: { version: 2, definition: { id: 'everyone', priority: 70 } } });
    const stale = await call(createPutOfferHandler(deps), request({ path: { id: 'everyone' }, body, headers: { 'if-match': '"1"' } }));
    expect(stale.status).toBe(409);
    expect(offerStore.writes).toEqual(['put everyone']);
  });

  it.each([
    ['a file offer', 'file-offer', {}, 409],
    ['an unknown offer', 'nope', {}, 404],
  ])('PUT answers for %s without writing', async (_, id, headers, status) => {
    const { deps, offerStore } = setup();
    const reply = await call(createPutOfferHandler(deps), request({ path: { id }, body: { ...newOffer, id }, headers }));
    expect(reply.status).toBe(status);
    expect(offerStore.writes).toEqual([]);
  });

  it('PUT answers 400 for a body naming another id, an If-Match that is no version, or content a placement needs', async () => {
    const { deps, offerStore } = setup();
    const put = (body: unknown, headers: Record<string, string> = {}) => call(createPutOfferHandler(deps), request({ path: { id: 'everyone' }, body, headers }));
    expect(fields(await put({ ...everyone, id: 'other' }))).toEqual(['id']);
    expect(fields(await put(everyone, { 'If-Match': 'latest' }))).toEqual(['If-Match']);
    expect(fields(await put({ ...everyone, placements: { 'web-banner': { title: 'x' } } }))).toEqual(['placements.web-banner.imageUrl']);
    expect(offerStore.writes).toEqual([]);
  });

  it('DELETE removes an API offer (204) so decisions stop proposing it; 409 for a file offer; 404 for an unknown one', async () => {
    const { deps, offerStore } = setup();
    await decide(deps, { profileId: 'ann', placements: ['web-banner'] });
    expect(await call(createDeleteOfferHandler(deps), request({ path: { id: 'gold-banner' } }))).toMatchObject({ status: 204, body: undefined });
    expect((await decide(deps, { profileId: 'ann', placements: ['web-banner'] })).body.placements['web-banner'].offers[0].offerId).toBe('everyone');
    expect((await call(createDeleteOfferHandler(deps), request({ path: { id: 'file-offer' } }))).status).toBe(409);
    expect((await call(createDeleteOfferHandler(deps), request({ path: { id: 'gold-banner' } }))).status).toBe(404);
    expect(offerStore.writes).toEqual(['delete gold-banner']);
  });
});

// --- Placements -------------------------------------------------------------------------------------------------

describe('placements', () => {
  it('POST creates a placement (201); 409 when the id is taken; 400 naming the field', async () => {
    const { deps, placementStore } = setup();
    const created = await call(createCreatePlacementHandler(deps), request({ body: { schemaVersion: 1, id: 'footer', name: 'Footer', channel: 'web' } }));
    expect(created).toMatchObject({ status: 201, headers: { location: '/placements/footer', etag: '"1"' }, body: { definition: { id: 'footer', requiredContent: [] }, origin: 'api' } });
    expect((await call(createCreatePlacementHandler(deps), request({ body: { schemaVersion: 1, id: 'file-slot', name: 'x' } }))).status).toBe(409);
    const bad = await call(createCreatePlacementHandler(deps), request({ body: { schemaVersion: 1, id: 'x', name: 'x', channel: 'fax', requiredContent: ['ok', 'not ok'] } }));
    expect(bad.status).toBe(400);
    expect(fields(bad).sort()).toEqual(['channel', 'requiredContent[1]']);
    expect(placementStore.writes).toEqual(['put footer']);
  });

  it('GET lists and gets placements; 404 for an unknown one', async () => {
    const { deps } = setup();
    expect((await call(createListPlacementsHandler(deps), request())).body.placements).toHaveLength(5);
    expect(await call(createGetPlacementHandler(deps), request({ path: { id: 'side-bar' } }))).toMatchObject({ status: 200, headers: { etag: '"1"' } });
    expect((await call(createGetPlacementHandler(deps), request({ path: { id: 'nope' } }))).status).toBe(404);
  });

  it('PUT refuses (400 requiredContent) a newly required field an offer with content for the placement lacks', async () => {
    const { deps, placementStore } = setup();
    const reply = await call(createPutPlacementHandler(deps), request({ path: { id: 'email-hero' }, body: { schemaVersion: 1, name: 'Hero', requiredContent: ['title', 'body'] } }));
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['requiredContent', 'requiredContent']);
    expect(reply.body.errors.map((e: { message: string }) => e.message).join(' ')).toMatch(/newsletter.*body/);
    expect(placementStore.writes).toEqual([]);
    const ok = await call(createPutPlacementHandler(deps), request({ path: { id: 'email-hero' }, body: { schemaVersion: 1, name: 'Hero', channel: 'email', requiredContent: ['title'] } }));
    expect(ok).toMatchObject({ status: 200, body: { version: 2, definition: { channel: 'email' } } });
  });

  it('PUT answers 409 for a file placement and 404 for an unknown one', async () => {
    const { deps, placementStore } = setup();
    expect((await call(createPutPlacementHandler(deps), request({ path: { id: 'file-slot' }, body: { schemaVersion: 1, name: 'x' } }))).status).toBe(409);
    expect((await call(createPutPlacementHandler(deps), request({ path: { id: 'nope' }, body: { schemaVersion: 1, name: 'x' } }))).status).toBe(404);
    expect(placementStore.writes).toEqual([]);
  });

  it.each([
    ['an offer has content for it', 'web-banner', /offers? .*everyone/],
    ['a journey decide node uses it', 'app-tile', /promo\/pick/],
    ['it is deployed from a file', 'file-slot', /file/],
  ])('DELETE answers 409 when %s, and deletes nothing', async (_, id, detail) => {
    const { deps, placementStore } = setup();
    const reply = await call(createDeletePlacementHandler(deps), request({ path: { id } }));
    expect(reply.status).toBe(409);
    expect(reply.body.detail).toMatch(detail);
    expect(placementStore.writes).toEqual([]);
  });

  it('DELETE removes an unused API placement (204), after which decisions for it are 400; 404 for an unknown one', async () => {
    const { deps, placementStore } = setup();
    expect((await decide(deps, { profileId: 'ann', placements: ['side-bar'] })).status).toBe(200);
    expect((await call(createDeletePlacementHandler(deps), request({ path: { id: 'side-bar' } }))).status).toBe(204);
    expect(fields(await decide(deps, { profileId: 'ann', placements: ['side-bar'] }))).toEqual(['placements[0]']);
    expect((await call(createDeletePlacementHandler(deps), request({ path: { id: 'side-bar' } }))).status).toBe(404);
    expect(placementStore.writes).toEqual(['delete side-bar']);
  });
});
