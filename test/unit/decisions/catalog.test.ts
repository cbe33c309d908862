import { cachedDecisionCatalog, checkCatalog, DecisionCatalog, DecisionCatalogError } from '../../../lambdas/core/decisions/catalog';
import { Offer, Placement, type OfferInput } from '../../../lambdas/core/decisions/model';
import type { CatalogRecord } from '../../../lambdas/core/decisions/ports';
import type { Clock } from '../../../lambdas/core/runtime/ports';

const placement = (id: string, requiredContent: string[] = []): Placement => Placement.parse({ schemaVersion: 1, id, name: id, requiredContent });
const offer = (id: string, overrides: Partial<OfferInput> = {}): Offer =>
  Offer.parse({ schemaVersion: 1, id, name: id, placements: { 'web-banner': { title: id, url: 'https://x' } }, ...overrides });

const PLACEMENTS = [placement('web-banner', ['title', 'url']), placement('push', ['title', 'body'])];

describe('checkCatalog', () => {
  it('finds nothing wrong with a consistent catalog', () => {
    expect(checkCatalog([offer('a'), offer('b', { placements: { push: { title: 't', body: 'b' } }, score: 'offer.priority * 2' })], PLACEMENTS)).toEqual([]);
  });

  it('names the offer and the placement for an unknown placement', () => {
    expect(checkCatalog([offer('a', { placements: { sms: { text: 'hi' } } })], PLACEMENTS)).toEqual(['offer "a": placements.sms: unknown placement "sms"']);
  });

  it('names the offer, placement and field for each missing required content field', () => {
    expect(checkCatalog([offer('a', { placements: { push: { title: 't' }, 'web-banner': { url: 'u' } } })], PLACEMENTS)).toEqual([
      'offer "a": placements.push.body: placement "push" requires content field "body"',
      'offer "a": placements.web-banner.title: placement "web-banner" requires content field "title"',
    ]);
  });

  it('names the offer and the score field, with the position, for a formula that does not parse', () => {
    const problems = checkCatalog([offer('a', { score: 'offer.priority +' }), offer('b', { score: 'user.tier' })], PLACEMENTS);
    expect(problems).toEqual([expect.stringMatching(/^offer "a": score: at \d+: /), expect.stringMatching(/^offer "b": score: at 0: unknown name "user"/)]);
  });

  it('lists the problems of every offer, not just the first', () => {
    const problems = checkCatalog([offer('a', { placements: { sms: { text: 'x' } } }), offer('b'), offer('c', { score: 'pow(2, 3)' })], PLACEMENTS);
    expect(problems.map((p) => /^offer "([^"]+)"/.exec(p)?.[1])).toEqual(['a', 'c']);
  });
});

describe('DecisionCatalog', () => {
  it('create throws a DecisionCatalogError listing every problem', () => {
    const bad = [offer('a', { placements: { sms: { text: 'x' } } }), offer('b', { score: '1 +' })];
    let error: unknown;
    try {
      DecisionCatalog.create(bad, PLACEMENTS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DecisionCatalogError);
    expect((error as DecisionCatalogError).name).toBe('DecisionCatalogError');
    expect((error as DecisionCatalogError).problems).toEqual(checkCatalog(bad, PLACEMENTS));
    expect((error as Error).message).toContain('offer "a": placements.sms');
  });

  it('lenient leaves out only the offers with problems', () => {
    const catalog = DecisionCatalog.lenient([offer('good'), offer('no-url', { placements: { 'web-banner': { title: 't' } } }), offer('bad-score', { score: ')' })], PLACEMENTS);
    expect(catalog.candidates('web-banner').map((c) => c.offer.id)).toEqual(['good']);
    expect(catalog.offerCount).toBe(1);
  });

  it('groups offers by placement, in id order, fallbacks apart', () => {
    const catalog = DecisionCatalog.create(
      [
        offer('zeta', { placements: { push: { title: 't', body: 'b' }, 'web-banner': { title: 't', url: 'u' } } }),
        offer('alpha'),
        offer('fallback', { fallback: true, placements: { push: { title: 't', body: 'b' } } }),
      ],
      PLACEMENTS,
    );
    expect(catalog.candidates('web-banner').map((c) => c.offer.id)).toEqual(['alpha', 'zeta']);
    expect(catalog.candidates('push').map((c) => c.offer.id)).toEqual(['zeta']);
    expect(catalog.fallbacks('push').map((c) => c.offer.id)).toEqual(['fallback']);
    expect(catalog.fallbacks('web-banner')).toEqual([]);
    expect(catalog.candidates('nowhere')).toEqual([]);
    expect(catalog.offerCount).toBe(3);
    expect([...catalog.placements.keys()]).toEqual(['web-banner', 'push']);
  });

  it('compiles the validity window, eligibility and formula of an offer', () => {
    const catalog = DecisionCatalog.create(
      [
        offer('windowed', { validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-02-01T00:00:00Z', eligibility: { segment: 'gold' }, score: 'offer.priority + 1', priority: 4 }),
        offer('open', { eligibility: { rule: { kind: 'exists', field: { kind: 'attribute', name: 'email' } } } }),
      ],
      PLACEMENTS,
    );
    const [open, windowed] = catalog.candidates('web-banner');
    expect(windowed).toMatchObject({ from: Date.parse('2026-01-01T00:00:00Z'), until: Date.parse('2026-02-01T00:00:00Z'), segment: 'gold', rule: undefined });
    expect(windowed.score?.({ profile: {}, context: {}, offer: windowed.view, now: 0 })).toBe(5);
    expect(open).toMatchObject({ from: -Infinity, until: Infinity, segment: undefined, score: undefined });
    expect(open.rule?.({ attributes: { email: 'a@b' } }, { now: 0, memberships: new Set() })).toBe(true);
    expect(open.rule?.({ attributes: {} }, { now: 0, memberships: new Set() })).toBe(false);
  });
});

describe('cachedDecisionCatalog', () => {
  const record = <T>(definition: T): CatalogRecord<T> => ({ definition, origin: 'api', version: 1, updatedAt: '2026-01-01T00:00:00Z' });

  function setup(ttlMs = 1000) {
    let now = 0;
    const clock: Clock = { now: () => new Date(now) };
    const offers = [record(offer('a'))];
    let lists = 0;
    const stores = {
      offerStore: { list: async () => (lists++, [...offers]) },
      placementStore: { list: async () => PLACEMENTS.map(record) },
    };
    const source = cachedDecisionCatalog(stores, clock, ttlMs);
    return { source, offers, advance: (ms: number) => (now += ms), lists: () => lists };
  }

  it('reuses the compiled catalog within the ttl and rebuilds it after', async () => {
    const { source, offers, advance, lists } = setup();
    const first = await source.catalog();
    offers.push(record(offer('b')));
    advance(999);
    expect(await source.catalog()).toBe(first);
    expect(lists()).toBe(1);
    advance(1);
    expect((await source.catalog()).offerCount).toBe(2);
    expect(lists()).toBe(2);
  });

  it('rebuilds at once after invalidate', async () => {
    const { source, offers } = setup();
    await source.catalog();
    offers.push(record(offer('b')));
    source.invalidate();
    expect((await source.catalog()).offerCount).toBe(2);
  });

  it('loads once for concurrent callers', async () => {
    const { source, lists } = setup();
    const [a, b] = await Promise.all([source.catalog(), source.catalog()]);
    expect(a).toBe(b);
    expect(lists()).toBe(1);
  });

  it('leaves out a stored offer with problems instead of failing every decision', async () => {
    const { source, offers } = setup();
    offers.push(record(offer('broken', { placements: { sms: { text: 'x' } } })));
    const catalog = await source.catalog();
    expect(catalog.candidates('web-banner').map((c) => c.offer.id)).toEqual(['a']);
  });
});
