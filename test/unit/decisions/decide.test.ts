import { DecisionCatalog, type DecisionCatalogSource } from '../../../lambdas/core/decisions/catalog';
import { decide, type DecisionProfile, type DecisionRequest } from '../../../lambdas/core/decisions/decide';
import { Offer, Placement, type Caps, type OfferInput } from '../../../lambdas/core/decisions/model';
import type { CapOutcome, CapStore, OfferExplanation } from '../../../lambdas/core/decisions/ports';
import { KEY_LEASE_MS, KEY_POLLS, makeDecision, type DecisionServiceDeps } from '../../../lambdas/core/decisions/service';
import { MemoryDecisionLog } from './memory-decision-log';
import { parseDuration } from '../../../lambdas/core/shared/duration';
import { ConflictError, NotFoundError, ValidationError } from '../../../lambdas/core/runtime/errors';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import type { Memberships } from '../../../lambdas/core/segments/ports';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const PLACEMENTS = ['web-banner', 'push', 'email-hero'].map((id) => Placement.parse({ schemaVersion: 1, id, name: id, requiredContent: ['title'] }));
const ALL = { 'web-banner': { title: 'w' }, push: { title: 'p' }, 'email-hero': { title: 'e' } };

const offer = (id: string, overrides: Partial<OfferInput> = {}): Offer => Offer.parse({ schemaVersion: 1, id, name: `Offer ${id}`, placements: { 'web-banner': { title: id } }, ...overrides });
const catalogOf = (...offers: Offer[]) => DecisionCatalog.create(offers, PLACEMENTS);

/** Counts proposals like the DynamoDB cap store (total ever, per profile in a sliding period) and records every call. */
class FakeCapStore implements CapStore {
  readonly proposals: { offerId: string; profileId: string; at: number }[] = [];
  readonly calls: string[] = [];

  async reserve(offerId: string, profileId: string, caps: Caps, now: Date): Promise<CapOutcome> {
    this.calls.push(offerId);
    const mine = this.proposals.filter((p) => p.offerId === offerId);
    if (caps.total !== undefined && mine.length >= caps.total) return { ok: false, cap: 'total' };
    if (caps.perProfile) {
      const since = now.getTime() - parseDuration(caps.perProfile.period) * 1000;
      if (mine.filter((p) => p.profileId === profileId && p.at > since).length >= caps.perProfile.count) return { ok: false, cap: 'perProfile' };
    }
    this.proposals.push({ offerId, profileId, at: now.getTime() });
    return { ok: true };
  }

  async usage(offerId: string, profileId: string, periodSeconds: number, now: Date) {
    const mine = this.proposals.filter((p) => p.offerId === offerId);
    return { total: mine.length, profile: mine.filter((p) => p.profileId === profileId && p.at > now.getTime() - periodSeconds * 1000).length };
  }
}

const PROFILE: DecisionProfile = {
  id: 'p-1',
  attributes: { tier: 'gold', country: 'DE', affinity: 3 },
  computed: { 'order.placed': { count: 4, firstSeen: iso(NOW.getTime() - 90 * DAY), lastSeen: iso(NOW.getTime() - 2 * DAY), sums: { total: 320 } } },
  recentEvents: [{ id: 'e1', type: 'cart.updated', time: iso(NOW.getTime() - DAY), source: 'shop', properties: { total: 80 }, receivedAt: iso(NOW.getTime() - DAY) }],
};

async function run(catalog: DecisionCatalog, options: { request?: Partial<DecisionRequest>; profile?: DecisionProfile; memberships?: Memberships; caps?: FakeCapStore; now?: Date } = {}) {
  const request: DecisionRequest = { placements: ['web-banner'], count: 1, context: {}, ...options.request };
  return decide({ caps: options.caps ?? new FakeCapStore() }, catalog, options.profile ?? PROFILE, options.memberships ?? {}, request, options.now ?? NOW);
}

const chosenIds = (decision: { offers: { offerId: string }[] }) => decision.offers.map((o) => o.offerId);
const line = (explanation: OfferExplanation[], offerId: string) => {
  const found = explanation.filter((l) => l.offerId === offerId);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('decide: eligibility', () => {
  it.each<[string, Partial<OfferInput>, string | undefined]>([
    ['not yet valid', { validFrom: iso(NOW.getTime() + 1) }, 'not yet valid'],
    ['expired', { validUntil: iso(NOW.getTime() - 1) }, 'expired'],
    ['valid from exactly now', { validFrom: iso(NOW.getTime()) }, undefined],
    ['valid until exactly now', { validUntil: iso(NOW.getTime()) }, undefined],
    ['inside its window', { validFrom: iso(NOW.getTime() - DAY), validUntil: iso(NOW.getTime() + DAY) }, undefined],
  ])('an offer %s', async (_what, window, reason) => {
    const { 'web-banner': d } = await run(catalogOf(offer('a', window)));
    expect(line(d.explanation, 'a')).toEqual(reason === undefined ? { offerId: 'a', eligible: true, score: 0, chosen: true } : { offerId: 'a', eligible: false, reason, score: null, chosen: false });
    expect(chosenIds(d)).toEqual(reason === undefined ? ['a'] : []);
  });

  it('proposes an offer whose rule holds and explains one whose rule does not', async () => {
    const catalog = catalogOf(
      offer('gold', { eligibility: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } } }),
      offer('silver', { eligibility: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'silver' } } }),
    );
    const { 'web-banner': d } = await run(catalog, { request: { count: 5 } });
    expect(chosenIds(d)).toEqual(['gold']);
    expect(line(d.explanation, 'silver')).toEqual({ offerId: 'silver', eligible: false, reason: 'eligibility rule does not hold', score: null, chosen: false });
  });

  it('evaluates computed stats and event conditions over the recent-events window at the decision time', async () => {
    const catalog = catalogOf(
      offer('cart', {
        eligibility: {
          rule: {
            kind: 'all',
            rules: [
              { kind: 'event', type: 'cart.updated', within: '2d', where: [{ kind: 'greater', property: 'total', value: 50 }] },
              { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 300 },
            ],
          },
        },
      }),
    );
    expect(chosenIds((await run(catalog))['web-banner'])).toEqual(['cart']);
    // Three days later the cart event is outside `within: 2d`.
    expect(chosenIds((await run(catalog, { now: new Date(NOW.getTime() + 3 * DAY) }))['web-banner'])).toEqual([]);
  });

  it('checks segment eligibility against the memberships passed in', async () => {
    const catalog = catalogOf(offer('vip', { eligibility: { segment: 'loyalty-gold' } }));
    const outside = await run(catalog, { memberships: { 'other-segment': iso(NOW.getTime()) } });
    expect(line(outside['web-banner'].explanation, 'vip')).toEqual({ offerId: 'vip', eligible: false, reason: 'not in segment "loyalty-gold"', score: null, chosen: false });
    const inside = await run(catalog, { memberships: { 'loyalty-gold': iso(NOW.getTime()) } });
    expect(chosenIds(inside['web-banner'])).toEqual(['vip']);
  });

  it('lets a rule refer to a segment through the memberships', async () => {
    const catalog = catalogOf(offer('ref', { eligibility: { rule: { kind: 'segment', id: 'loyalty-gold' } } }));
    expect(chosenIds((await run(catalog))['web-banner'])).toEqual([]);
    expect(chosenIds((await run(catalog, { memberships: { 'loyalty-gold': iso(0) } }))['web-banner'])).toEqual(['ref']);
  });
});

describe('decide: ranking', () => {
  it('ranks by the formula, highest first, reading profile, context, segments and offer', async () => {
    const catalog = catalogOf(
      offer('by-affinity', { score: 'profile.attributes.affinity * 10' }), // 30
      offer('by-context', { score: 'context.cartTotal > 100 ? 50 : 0' }), // 50
      offer('by-orders', { score: 'profile.computed["order.placed"].count + offer.attributes.bonus', attributes: { bonus: 36 } }), // 40
      offer('by-segment', { score: 'profile.segments["loyalty-gold"] != null ? 45 : 0' }), // 45
      offer('by-priority', { priority: 35 }), // 35
    );
    const { 'web-banner': d } = await run(catalog, { request: { count: 5, context: { cartTotal: 120 } }, memberships: { 'loyalty-gold': iso(0) } });
    expect(chosenIds(d)).toEqual(['by-context', 'by-segment', 'by-orders', 'by-priority', 'by-affinity']);
    expect(d.offers.map((o) => o.score)).toEqual([50, 45, 40, 35, 30]);
  });

  it('breaks equal scores by priority, then by offer id', async () => {
    const catalog = catalogOf(
      offer('c-low', { score: '10', priority: 1 }),
      offer('b-high', { score: '10', priority: 5 }),
      offer('a-low', { score: '10', priority: 1 }),
      offer('d-top', { score: '11', priority: 0 }),
    );
    const { 'web-banner': d } = await run(catalog, { request: { count: 4 } });
    expect(chosenIds(d)).toEqual(['d-top', 'b-high', 'a-low', 'c-low']);
  });

  it('gives the same order whatever order the catalog lists the offers in', async () => {
    const offers = ['e', 'b', 'd', 'a', 'c'].map((id) => offer(id, { score: '1', priority: 2 }));
    const forward = await run(catalogOf(...offers), { request: { count: 5 } });
    const backward = await run(catalogOf(...[...offers].reverse()), { request: { count: 5 } });
    expect(chosenIds(forward['web-banner'])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(chosenIds(backward['web-banner'])).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ranks an offer whose formula has no value last, with a null score, even below negative scores', async () => {
    const catalog = catalogOf(
      offer('missing', { score: 'profile.attributes.nothing + 1', priority: 1000 }),
      offer('negative', { score: '0 - 5' }),
      offer('text', { score: '"high"', priority: 999 }),
      offer('zero', { score: '0' }),
    );
    const { 'web-banner': d } = await run(catalog, { request: { count: 4 } });
    // Both null-scored offers are last, ordered between themselves by priority.
    expect(chosenIds(d)).toEqual(['zero', 'negative', 'missing', 'text']);
    expect(line(d.explanation, 'missing')).toEqual({ offerId: 'missing', eligible: true, score: null, chosen: true });
  });

  it('proposes at most `count` offers per placement', async () => {
    const catalog = catalogOf(...['a', 'b', 'c', 'd'].map((id, i) => offer(id, { priority: i, placements: ALL })));
    const result = await run(catalog, { request: { placements: ['web-banner'], count: 2 } });
    expect(chosenIds(result['web-banner'])).toEqual(['d', 'c']);
    const one = await run(catalog, { request: { count: 1 } });
    expect(chosenIds(one['web-banner'])).toEqual(['d']);
  });

  it('returns the content of the placement it was chosen for', async () => {
    const catalog = catalogOf(offer('a', { placements: { 'web-banner': { title: 'Banner' }, push: { title: 'Push' } }, tags: ['t1'] }));
    const result = await run(catalog, { request: { placements: ['push'] } });
    expect(result.push.offers).toEqual([{ offerId: 'a', name: 'Offer a', placement: 'push', content: { title: 'Push' }, score: 0, tags: ['t1'], fallback: false }]);
  });
});

describe('decide: caps', () => {
  it('skips a capped offer, says which cap in its line, and chooses the next one', async () => {
    const caps = new FakeCapStore();
    const catalog = catalogOf(offer('top', { priority: 10, caps: { perProfile: { count: 1, period: '7d' } } }), offer('next', { priority: 5 }));
    const first = await run(catalog, { caps });
    expect(chosenIds(first['web-banner'])).toEqual(['top']);
    const second = await run(catalog, { caps });
    expect(chosenIds(second['web-banner'])).toEqual(['next']);
    expect(line(second['web-banner'].explanation, 'top')).toEqual({ offerId: 'top', eligible: true, score: 10, capped: 'perProfile', chosen: false });
    // Another profile is not capped by p-1's proposals.
    expect(chosenIds((await run(catalog, { caps, profile: { ...PROFILE, id: 'p-2' } }))['web-banner'])).toEqual(['top']);
    // After the period the profile may see it again.
    expect(chosenIds((await run(catalog, { caps, now: new Date(NOW.getTime() + 8 * DAY) }))['web-banner'])).toEqual(['top']);
  });

  it('reports the total cap', async () => {
    const caps = new FakeCapStore();
    const catalog = catalogOf(offer('limited', { priority: 10, caps: { total: 1 } }), offer('other'));
    await run(catalog, { caps });
    const second = await run(catalog, { caps, profile: { ...PROFILE, id: 'p-2' } });
    expect(line(second['web-banner'].explanation, 'limited').capped).toBe('total');
    expect(chosenIds(second['web-banner'])).toEqual(['other']);
  });

  it('reserves only for offers it goes on to choose (stops at count, skips ineligible offers)', async () => {
    const caps = new FakeCapStore();
    const capped = { total: 100 };
    const catalog = catalogOf(
      offer('a', { priority: 3, caps: capped }),
      offer('b', { priority: 2, caps: capped }),
      offer('c', { priority: 1, caps: capped }),
      offer('ineligible', { priority: 9, caps: capped, eligibility: { segment: 'nobody' } }),
    );
    await run(catalog, { caps, request: { count: 2 } });
    expect(caps.calls).toEqual(['a', 'b']);
  });

  it('does not reserve for an offer without caps', async () => {
    const caps = new FakeCapStore();
    await run(catalogOf(offer('free')), { caps });
    expect(caps.calls).toEqual([]);
  });
});

describe('decide: fallbacks', () => {
  const fallbacks = [offer('fb-low', { fallback: true, priority: 1 }), offer('fb-b', { fallback: true, priority: 5 }), offer('fb-a', { fallback: true, priority: 5 })];

  it('proposes no fallback when an offer was chosen', async () => {
    const { 'web-banner': d } = await run(catalogOf(offer('real'), ...fallbacks), { request: { count: 3 } });
    expect(chosenIds(d)).toEqual(['real']);
    expect(d.fallback).toBe(false);
    expect(d.explanation.map((l) => l.offerId)).toEqual(['real']);
  });

  it('proposes fallbacks by priority then id, up to count, when nothing is eligible', async () => {
    const { 'web-banner': d } = await run(catalogOf(offer('nope', { eligibility: { segment: 'nobody' } }), ...fallbacks), { request: { count: 2 } });
    expect(d.fallback).toBe(true);
    expect(d.offers.map((o) => [o.offerId, o.fallback, o.score])).toEqual([
      ['fb-a', true, null],
      ['fb-b', true, null],
    ]);
    expect(d.explanation).toEqual([
      { offerId: 'nope', eligible: false, reason: 'not in segment "nobody"', score: null, chosen: false },
      { offerId: 'fb-a', eligible: true, reason: 'fallback', score: null, chosen: true },
      { offerId: 'fb-b', eligible: true, reason: 'fallback', score: null, chosen: true },
    ]);
  });

  it('proposes the fallback when every eligible offer is capped', async () => {
    const caps = new FakeCapStore();
    const catalog = catalogOf(offer('once', { caps: { perProfile: { count: 1, period: '30d' } } }), fallbacks[0]);
    await run(catalog, { caps });
    const { 'web-banner': d } = await run(catalog, { caps });
    expect(chosenIds(d)).toEqual(['fb-low']);
    expect(d.fallback).toBe(true);
    expect(line(d.explanation, 'once')).toMatchObject({ eligible: true, capped: 'perProfile', chosen: false });
  });

  it('returns an empty placement decision when nothing qualifies and there is no fallback', async () => {
    const { 'web-banner': d } = await run(catalogOf(offer('nope', { validUntil: iso(0) })));
    expect(d).toEqual({ offers: [], fallback: false, explanation: [{ offerId: 'nope', eligible: false, reason: 'expired', score: null, chosen: false }] });
  });
});

describe('decide: several placements', () => {
  it('does not propose an offer twice in one decision and takes the next one instead', async () => {
    const catalog = catalogOf(offer('best', { priority: 9, placements: ALL }), offer('second', { priority: 5, placements: ALL }), offer('third', { priority: 1, placements: ALL }));
    const result = await run(catalog, { request: { placements: ['web-banner', 'push', 'email-hero'] } });
    expect(chosenIds(result['web-banner'])).toEqual(['best']);
    expect(chosenIds(result.push)).toEqual(['second']);
    expect(chosenIds(result['email-hero'])).toEqual(['third']);
    expect(line(result.push.explanation, 'best')).toEqual({ offerId: 'best', eligible: true, reason: 'already proposed in this decision', score: 9, chosen: false });
  });

  it('does not spend a cap on an offer already proposed in another placement', async () => {
    const caps = new FakeCapStore();
    const catalog = catalogOf(offer('capped', { priority: 9, placements: ALL, caps: { total: 10 } }), offer('other', { placements: ALL }));
    await run(catalog, { caps, request: { placements: ['web-banner', 'push'] } });
    expect(caps.calls).toEqual(['capped']);
  });

  it('falls back in a placement where everything was already proposed', async () => {
    const catalog = catalogOf(offer('only', { placements: ALL }), offer('fb', { fallback: true, placements: ALL }));
    const result = await run(catalog, { request: { placements: ['web-banner', 'push'] } });
    expect(chosenIds(result['web-banner'])).toEqual(['only']);
    expect(result.push).toMatchObject({ fallback: true, offers: [{ offerId: 'fb', fallback: true }] });
  });

  it('writes one explanation line for every offer it considered in each placement', async () => {
    const catalog = catalogOf(
      offer('a', { placements: ALL, priority: 3 }),
      offer('b', { placements: ALL, eligibility: { segment: 'x' } }),
      offer('c', { placements: ALL, validFrom: iso(NOW.getTime() + DAY) }),
      offer('d', { placements: { push: { title: 'd' } }, priority: 1 }),
      offer('e', { placements: ALL, priority: 2, caps: { total: 1 } }),
    );
    const result = await run(catalog, { request: { placements: ['web-banner', 'push'], count: 1 } });
    expect(result['web-banner'].explanation.map((l) => l.offerId).sort()).toEqual(['a', 'b', 'c', 'e']);
    expect(result.push.explanation.map((l) => l.offerId).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Eligible but never reached (count was met first): eligible, scored, not chosen, no reason.
    expect(line(result['web-banner'].explanation, 'e')).toEqual({ offerId: 'e', eligible: true, score: 2, chosen: false });
    expect(line(result.push.explanation, 'e')).toEqual({ offerId: 'e', eligible: true, score: 2, chosen: true });
    expect(line(result.push.explanation, 'a').reason).toBe('already proposed in this decision');
  });

  it('answers placements in the order asked, and an unknown placement with nothing', async () => {
    const result = await run(catalogOf(offer('a', { placements: ALL })), { request: { placements: ['push', 'nowhere'] } });
    expect(Object.keys(result)).toEqual(['push', 'nowhere']);
    expect(result.nowhere).toEqual({ offers: [], fallback: false, explanation: [] });
  });
});

describe('makeDecision', () => {
  const stored: Profile = { id: 'p-1', attributes: { tier: 'gold' }, identities: { email: 'ann@example.com' }, createdAt: iso(0), updatedAt: iso(0), computed: PROFILE.computed, recentEvents: PROFILE.recentEvents } as Profile;

  function setup(catalog = catalogOf(offer('cart', { eligibility: { rule: { kind: 'event', type: 'cart.updated', within: '7d' } }, placements: ALL }), offer('fb', { fallback: true, placements: ALL }))) {
    const gets: string[] = [];
    const decisionLog = new MemoryDecisionLog();
    const log = decisionLog.records;
    const deps: DecisionServiceDeps = {
      decisions: { catalog: async () => catalog } satisfies DecisionCatalogSource,
      caps: new FakeCapStore(),
      decisionLog,
      profiles: {
        get: async (id) => (gets.push(id), id === stored.id ? stored : id === 'p-2' ? { ...stored, id: 'p-2' } : undefined),
        // As the store does: an identity lookup comes back without the event window.
        findByIdentity: async (namespace, value) => (namespace === 'email' && value === 'ann@example.com' ? { ...stored, recentEvents: undefined } : undefined),
      },
      memberships: { get: async () => ({ segments: { 'loyalty-gold': iso(0) }, version: 1 }) },
      clock: { now: () => NOW },
      newId: () => 'd-1',
    };
    return { deps, log, gets };
  }
  const input = { placements: ['web-banner'], count: 1, context: { page: 'home' }, origin: 'api' };

  it('answers a repeated idempotency key with the first decision, reserving no cap again', async () => {
    const capped = catalogOf(offer('limited', { caps: { total: 5 }, placements: ALL }));
    const { deps, log } = setup(capped);
    const caps = deps.caps as FakeCapStore;
    const first = await makeDecision(deps, { ...input, profileId: 'p-1', idempotencyKey: 'exec-1#pick' });
    const again = await makeDecision({ ...deps, newId: () => 'd-2' }, { ...input, profileId: 'p-1', idempotencyKey: 'exec-1#pick' });
    expect(again).toEqual(first);
    expect(caps.calls).toEqual(['limited']);
    expect(log).toHaveLength(1);
    const other = await makeDecision({ ...deps, newId: () => 'd-3' }, { ...input, profileId: 'p-1', idempotencyKey: 'exec-2#pick' });
    expect(other.id).toBe('d-3');
    expect(caps.calls).toEqual(['limited', 'limited']);
  });

  it('scopes an idempotency key to the profile: another profile with the same key gets a decision of its own', async () => {
    const { deps, log } = setup();
    const ann = await makeDecision(deps, { ...input, profileId: 'p-1', idempotencyKey: 'api:same' });
    const bob = await makeDecision({ ...deps, newId: () => 'd-2' }, { ...input, profileId: 'p-2', idempotencyKey: 'api:same' });
    expect(bob).toMatchObject({ id: 'd-2', profileId: 'p-2' });
    expect(ann).toMatchObject({ id: 'd-1', profileId: 'p-1' });
    expect(log.map((r) => r.profileId)).toEqual(['p-1', 'p-2']);
  });

  it('answers ConflictError naming idempotencyKey when a key is repeated with another request, and decides nothing', async () => {
    const { deps, log } = setup();
    await makeDecision(deps, { ...input, profileId: 'p-1', idempotencyKey: 'api:k' });
    for (const changed of [{ context: { page: 'cart' } }, { count: 2 }, { placements: ['push'] }]) {
      const error = await makeDecision({ ...deps, newId: () => 'd-2' }, { ...input, ...changed, profileId: 'p-1', idempotencyKey: 'api:k' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).errors).toEqual([{ field: 'idempotencyKey', message: expect.stringContaining('another request') }]);
    }
    expect(log).toHaveLength(1);
  });

  it('makes one decision with one cap reservation when five requests with one key race', async () => {
    const { deps, log } = setup(catalogOf(offer('limited', { caps: { total: 5 }, placements: ALL })));
    const caps = deps.caps as FakeCapStore;
    let ids = 0;
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => makeDecision({ ...deps, newId: () => `d-${++ids}`, sleep: async () => undefined }, { ...input, profileId: 'p-1', idempotencyKey: 'api:race' })),
    );
    expect(new Set(racing.map((r) => r.id)).size).toBe(1);
    expect(caps.calls).toEqual(['limited']);
    expect(log).toHaveLength(1);
  });

  it('answers 409 (in progress) after a bounded wait while the first request still holds the key, then takes over a lapsed lease', async () => {
    const { deps, log } = setup();
    const decisionLog = deps.decisionLog as MemoryDecisionLog;
    let now = NOW.getTime();
    const sleeps: number[] = [];
    const clocked = { ...deps, clock: { now: () => new Date(now) }, sleep: async (ms: number) => void sleeps.push(ms) };
    // A request that claimed the key and crashed before deciding.
    const fingerprintOf = async () => {
      await makeDecision({ ...clocked, newId: () => 'probe' }, { ...input, profileId: 'p-2', idempotencyKey: 'api:probe' });
      return (await decisionLog.findByKey('p-2', 'api:probe'))!.fingerprint;
    };
    const fingerprint = await fingerprintOf();
    await decisionLog.claim({ profileId: 'p-1', key: 'api:crashed', fingerprint }, new Date(now + KEY_LEASE_MS));
    const waiting = await makeDecision(clocked, { ...input, profileId: 'p-1', idempotencyKey: 'api:crashed' }).catch((e: unknown) => e);
    expect(waiting).toBeInstanceOf(ConflictError);
    expect((waiting as ConflictError).errors).toEqual([{ field: 'idempotencyKey', message: expect.stringContaining('in progress') }]);
    expect(sleeps).toHaveLength(KEY_POLLS);
    now += KEY_LEASE_MS;
    const taken = await makeDecision({ ...clocked, newId: () => 'd-9' }, { ...input, profileId: 'p-1', idempotencyKey: 'api:crashed' });
    expect(taken).toMatchObject({ id: 'd-9', profileId: 'p-1' });
    expect(log.filter((r) => r.profileId === 'p-1')).toEqual([taken]);
  });

  it('gives the key back when deciding fails, so a retry decides at once', async () => {
    const { deps, log } = setup();
    const failing = { ...deps, memberships: { get: async () => Promise.reject(new Error('throttled')) } };
    await expect(makeDecision(failing, { ...input, profileId: 'p-1', idempotencyKey: 'exec-1#pick' })).rejects.toThrow('throttled');
    const retried = await makeDecision({ ...deps, sleep: async () => Promise.reject(new Error('must not wait')) }, { ...input, profileId: 'p-1', idempotencyKey: 'exec-1#pick' });
    expect(log).toEqual([retried]);
  });

  it('decides for a profile by id and appends the decision to its log', async () => {
    const { deps, log } = setup();
    const record = await makeDecision(deps, { ...input, profileId: 'p-1' });
    expect(record).toMatchObject({ id: 'd-1', profileId: 'p-1', at: NOW.toISOString(), context: { page: 'home' }, origin: 'api' });
    expect(chosenIds(record.placements['web-banner'])).toEqual(['cart']);
    expect(log).toEqual([record]);
  });

  it('finds the profile by identity and reads its event window for event conditions', async () => {
    const { deps, log, gets } = setup();
    const record = await makeDecision(deps, { ...input, identity: { namespace: 'email', value: 'ann@example.com' } });
    expect(record.profileId).toBe('p-1');
    expect(gets).toEqual(['p-1']);
    expect(chosenIds(record.placements['web-banner'])).toEqual(['cart']);
    expect(log).toHaveLength(1);
  });

  it.each([
    ['an unknown profile id', { profileId: 'p-404' }, 'profile "p-404" does not exist'],
    ['an unknown identity', { identity: { namespace: 'email', value: 'nobody@example.com' } }, 'no profile has that identity'],
    ['neither id nor identity', {}, 'no profile has that identity'],
  ])('throws NotFoundError for %s and logs nothing', async (_what, who, message) => {
    const { deps, log } = setup();
    const error = await makeDecision(deps, { ...input, ...who }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ name: 'NotFoundError', message });
    expect(log).toEqual([]);
  });

  it('throws ValidationError naming placements[i] for each unknown placement, before reading the profile', async () => {
    const { deps, log, gets } = setup();
    const error = await makeDecision(deps, { ...input, profileId: 'p-1', placements: ['web-banner', 'sidebar', 'push', 'footer'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      { field: 'placements[1]', message: 'unknown placement "sidebar"' },
      { field: 'placements[3]', message: 'unknown placement "footer"' },
    ]);
    expect(gets).toEqual([]);
    expect(log).toEqual([]);
  });

  it('passes the memberships to segment eligibility and the formula', async () => {
    const { deps } = setup(catalogOf(offer('vip', { eligibility: { segment: 'loyalty-gold' }, score: 'profile.segments["loyalty-gold"] != null ? 7 : 0' })));
    const record = await makeDecision(deps, { ...input, profileId: 'p-1' });
    expect(record.placements['web-banner'].offers.map((o) => [o.offerId, o.score])).toEqual([['vip', 7]]);
  });
});
