import { toItem } from '../../../lambdas/adapters/dynamodb-profiles';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import { MemoryProfileStorage } from '../../../lambdas/core/profiles/memory-storage';
import { applyEvent, emptyProfile, foldInto } from '../../../lambdas/core/profiles/merge-policy';
import { defaultProfilePolicy, ProfileLimits } from '../../../lambdas/core/profiles/model';
import { GraphProfileStore } from '../../../lambdas/core/profiles/store';
import { dynamoItemSize } from '../../support/dynamo-item-size';

const START = new Date('2026-01-05T12:00:00.000Z').getTime();
/** The bound lambdas/core/profiles/README.md documents for one profile item (DynamoDB's limit is 400 KB). */
const ITEM_BUDGET = 300 * 1024;

describe('one profile under heavy traffic', () => {
  it('takes 100,000 events across 1,000 event types with no failure, no lost consent and an item within its budget', async () => {
    let now = START;
    const clock = { now: () => new Date(now) };
    const memory = new MemoryProfileStorage(clock.now);
    const store = new GraphProfileStore({ storage: memory, clock, policy: defaultProfilePolicy });
    let largest = 0;
    let duplicates = 0;
    let expectedEmail: 'opted-in' | 'opted-out' = 'opted-in';
    for (let i = 0; i < 100_000; i++) {
      now += 1_000;
      const requested = i % 2 === 0 ? 'opted-in' : 'opted-out';
      // An event-borne opt-in never undoes an opt-out (consent-state.ts): once out, the profile stays out.
      if (i % 997 === 0 && requested === 'opted-out') expectedEmail = 'opted-out';
      const consent: BusinessEvent['consent'] = i % 997 === 0 ? { email: requested, [`list:l${i % 5}`]: 'opted-out' } : undefined;
      const event: BusinessEvent = {
        id: `evt-${i.toString().padStart(6, '0')}-${'x'.repeat(60)}`,
        type: `product.event-type-${(i % 1_000).toString().padStart(4, '0')}.${'t'.repeat(80)}`,
        source: 'shop',
        time: new Date(now).toISOString(),
        identities: { email: 'heavy@example.com' },
        attributes: { lastSeenType: i % 1_000, visits: i },
        properties: { amount: 1, [`metric_${i % 13}`]: 2, [`measure_${i % 17}`]: 3, label: 'x' },
        ...(consent ? { consent } : {}),
      };
      const outcome = await store.ingest(event);
      // Counted rather than asserted per event: 100,000 expectations would cost more than the ingestion.
      if (outcome.duplicate) duplicates++;
      if (i % 1_000 === 999) largest = Math.max(largest, dynamoItemSize(toItem(memory.profiles.get(outcome.profile.id)!)));
    }
    expect(duplicates).toBe(0);
    const profile = await store.findByIdentity('email', 'heavy@example.com');
    expect(profile?.attributes).toEqual({ lastSeenType: 999, visits: 99_999 });
    expect(profile?.consent?.email?.status).toBe(expectedEmail);
    for (const list of ['l0', 'l1', 'l2', 'l3', 'l4']) expect(profile?.consent?.[`list:${list}`]?.status).toBe('opted-out');
    expect(largest).toBeLessThanOrEqual(ITEM_BUDGET);
  }, 120_000);
});

describe('profile bounds', () => {
  const NOW = new Date('2026-01-05T12:00:00.000Z');
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  const event = (id: string, over: Partial<BusinessEvent> = {}): BusinessEvent => ({ id, type: 'page.viewed', source: 'shop', time: at(0), identities: { email: 'a@example.com' }, properties: {}, ...over });
  const build = (id: string, events: BusinessEvent[]) => events.reduce((state, e) => applyEvent(state, e, NOW, defaultProfilePolicy).state, emptyProfile(id, at(0)));

  it('counts the first event types up to the bound and still applies attributes and consent of events of later types', () => {
    const types = Array.from({ length: ProfileLimits.computedTypes + 5 }, (_, i) => `type.${i}`);
    const state = build('p', [
      ...types.map((type, i) => event(`e${i}`, { type, time: at(i) })),
      event('last', { type: 'type.new', time: at(500), attributes: { tier: 'gold' }, consent: { email: 'opted-out' } }),
    ]);
    expect(Object.keys(state.computed).sort()).toEqual(types.slice(0, ProfileLimits.computedTypes).sort());
    expect(state.attributes).toEqual({ tier: 'gold' });
    expect(state.consent.email.status).toBe('opted-out');
  });

  it('sums at most the bound of identifier-named properties per event type', () => {
    const properties = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`p${i}`, 1]));
    const state = build('p', [event('e1', { properties: { ...properties, 'not a name': 5 } }), event('e2', { properties: { z1: 1, p0: 2 } })]);
    expect(state.computed['page.viewed'].sums).toEqual({ p0: 3, p1: 1, p2: 1, p3: 1, p4: 1 });
  });

  it('stores new attribute names up to the bound and keeps updating the names it holds', () => {
    const many = Object.fromEntries(Array.from({ length: ProfileLimits.attributes }, (_, i) => [`a${i}`, i]));
    const state = build('p', [event('e1', { attributes: many }), event('e2', { time: at(1), attributes: { a0: 'updated', extra: 1 } })]);
    expect(Object.keys(state.attributes)).toHaveLength(ProfileLimits.attributes);
    expect(state.attributes.a0).toBe('updated');
    expect(Object.hasOwn(state.attributes, 'extra')).toBe(false);
  });

  it('keeps the bounds when two full profiles merge: the survivor first, then the earliest of the absorbed one', () => {
    const full = (id: string, prefix: string, minute: number) =>
      build(id, Array.from({ length: ProfileLimits.computedTypes }, (_, i) => event(`${id}${i}`, { type: `${prefix}.${i}`, time: at(minute + i) })));
    const merged = foldInto(full('pa', 'a', 100), full('pb', 'b', 0), defaultProfilePolicy);
    expect(Object.keys(merged.computed)).toHaveLength(ProfileLimits.computedTypes);
    expect(Object.keys(merged.computed).every((type) => type.startsWith('a.'))).toBe(true);
    const room = foldInto(build('pc', [event('c1', { type: 'c.0' })]), full('pb', 'b', 0), defaultProfilePolicy);
    expect(Object.keys(room.computed).sort()).toEqual(['c.0', ...Array.from({ length: ProfileLimits.computedTypes - 1 }, (_, i) => `b.${i}`)].sort());
  });
});
