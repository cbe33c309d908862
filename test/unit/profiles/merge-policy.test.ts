import fc from 'fast-check';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import {
  applyEvent,
  canApplyIncrementally,
  chooseSurvivor,
  compareAttributes,
  compareConsent,
  emptyProfile,
  foldInto,
  identityViews,
  mergeComputed,
  mergeProfiles,
  mergeWindows,
  recentWindow,
  windowEntry,
} from '../../../lambdas/core/profiles/merge-policy';
import { defaultProfilePolicy, type ProfilePolicy, type ProfileState, type RecentEvent } from '../../../lambdas/core/profiles/model';
import { eventsArb } from './arbitraries';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const policy = defaultProfilePolicy;
const ranked: ProfilePolicy = { ...policy, sourcePriority: ['crm', 'shop'] };

const event = (over: Partial<BusinessEvent> & { id: string }): BusinessEvent => ({
  type: 'order.placed',
  source: 'shop',
  time: '2026-01-01T10:00:00.000Z',
  identities: { email: 'a@example.com' },
  properties: {},
  ...over,
});

const build = (id: string, createdAt: string, events: BusinessEvent[], p: ProfilePolicy = policy): ProfileState =>
  events.reduce((state, e) => applyEvent(state, e, NOW, p).state, emptyProfile(id, createdAt));

/** Profiles over disjoint slices of one event list, with distinct ids and creation times (as the graph produces). */
const profilesArb = (count: number) =>
  fc.tuple(eventsArb({ maxLength: 4 * count }), fc.array(fc.integer({ min: 0, max: count - 1 }), { minLength: 4 * count, maxLength: 4 * count }), fc.shuffledSubarray(['2026-01-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z', '2025-11-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z'], { minLength: count, maxLength: count })).map(([events, owners, created]) =>
    Array.from({ length: count }, (_, k) => build(`p${k}`, created[k], events.filter((_, i) => owners[i] === k))),
  );

describe('attribute policy', () => {
  const at = (time: string) => `2026-01-01T${time}:00.000Z`;
  it.each([
    ['the later event time wins', { value: 'gold', at: at('11:00'), source: 'shop' }, { value: 'silver', at: at('10:00'), source: 'shop' }, policy, 'a'],
    ['an earlier event loses', { value: 'gold', at: at('09:00'), source: 'crm' }, { value: 'silver', at: at('10:00'), source: 'shop' }, policy, 'b'],
    ['a tie in time goes to the greater JSON text of the value', { value: 'silver', at: at('10:00'), source: 'shop' }, { value: 'gold', at: at('10:00'), source: 'app' }, policy, 'a'],
    ['with source priority, a higher-ranked source wins although older', { value: 'gold', at: at('09:00'), source: 'crm' }, { value: 'silver', at: at('10:00'), source: 'shop' }, ranked, 'a'],
    ['with source priority, an unlisted source ranks below listed ones', { value: 'gold', at: at('11:00'), source: 'app' }, { value: 'silver', at: at('10:00'), source: 'shop' }, ranked, 'b'],
    ['with source priority, equal ranks fall back to time', { value: 'gold', at: at('11:00'), source: 'crm' }, { value: 'silver', at: at('10:00'), source: 'crm' }, ranked, 'a'],
  ] as const)('%s', (_, a, b, p, winner) => {
    expect(compareAttributes(a, b, p) > 0 ? 'a' : 'b').toBe(winner);
    expect(Math.sign(compareAttributes(b, a, p))).toBe(-Math.sign(compareAttributes(a, b, p)));
  });
});

describe('consent policy', () => {
  it.each([
    ['the later of two event-borne opt-ins wins', { status: 'opted-in', at: '2026-01-02T00:00:00.000Z', source: 'app' }, { status: 'opted-in', at: '2026-01-01T00:00:00.000Z', source: 'app' }, 'a'],
    ['the later of two opt-outs wins', { status: 'opted-out', at: '2026-01-02T00:00:00.000Z', source: 'app' }, { status: 'opted-out', at: '2026-01-01T00:00:00.000Z', source: 'api', via: 'api' }, 'a'],
    ['a later event-borne opt-in does not undo an opt-out', { status: 'opted-in', at: '2026-01-02T00:00:00.000Z', source: 'app' }, { status: 'opted-out', at: '2026-01-01T00:00:00.000Z', source: 'app' }, 'b'],
    ['a later explicit opt-in re-subscribes', { status: 'opted-in', at: '2026-01-02T00:00:00.000Z', source: 'api', via: 'api' }, { status: 'opted-out', at: '2026-01-01T00:00:00.000Z', source: 'unsubscribe-link', via: 'unsubscribe-link' }, 'a'],
    ['an earlier explicit opt-in does not', { status: 'opted-in', at: '2026-01-01T00:00:00.000Z', source: 'api', via: 'api' }, { status: 'opted-out', at: '2026-01-02T00:00:00.000Z', source: 'app' }, 'b'],
    ['a tie in time opts out', { status: 'opted-in', at: '2026-01-01T00:00:00.000Z', source: 'zzz', via: 'api' }, { status: 'opted-out', at: '2026-01-01T00:00:00.000Z', source: 'aaa', via: 'api' }, 'b'],
  ] as const)('%s', (_, a, b, winner) => {
    expect(compareConsent(a, b) > 0 ? 'a' : 'b').toBe(winner);
    expect(Math.sign(compareConsent(b, a))).toBe(-Math.sign(compareConsent(a, b)));
  });

  it('keeps the changes received per key, newest first, at most 20, and merges them by union', () => {
    const optIns = Array.from({ length: 25 }, (_, i) => event({ id: `c${i}`, time: `2026-01-01T10:${String(i).padStart(2, '0')}:00.000Z`, consent: { email: 'opted-in' } }));
    const held = optIns.reduce((state, e, i) => applyEvent(state, e, new Date(NOW.getTime() + i * 1000), policy).state, build('p', '2026-01-01T00:00:00.000Z', []));
    expect(held.consent.email.history).toHaveLength(20);
    expect(held.consent.email.history?.[0]).toEqual({ status: 'opted-in', at: '2026-01-01T10:24:00.000Z', source: 'shop', via: 'event', recordedAt: '2026-01-05T12:00:24.000Z', eventId: 'c24' });
    const outEvent = event({ id: 'out', time: '2026-01-01T09:00:00.000Z', consent: { email: 'opted-out' } });
    const other = applyEvent(emptyProfile('q', '2026-01-02T00:00:00.000Z'), outEvent, new Date(NOW.getTime() + 3_600_000), policy).state;
    const merged = mergeProfiles(held, other, policy).consent.email;
    expect(merged).toMatchObject({ status: 'opted-out', source: 'shop', via: 'event' });
    expect(merged.history).toHaveLength(20);
    expect(merged.history?.[0].eventId).toBe('out');
  });

  const unsubscribed = (): ProfileState => ({
    ...build('p', '2026-01-01T00:00:00.000Z', []),
    consent: { email: { status: 'opted-out', at: NOW.toISOString(), source: 'unsubscribe-link', via: 'unsubscribe-link' } as ProfileState['consent'][string] },
  });

  it.each([
    ['a later', '2999-01-01T00:00:00.000Z'],
    ['an earlier', '2026-01-01T00:00:00.000Z'],
    ['the same', NOW.toISOString()],
  ])('keeps an unsubscribe over an event-borne opt-in with %s event time', (_, time) => {
    const after = applyEvent(unsubscribed(), event({ id: 'optin', time, consent: { email: 'opted-in' } }), NOW, policy).state;
    expect(after.consent.email).toMatchObject({ status: 'opted-out', source: 'unsubscribe-link' });
  });

  it('keeps an unsubscribe over an event-borne opt-in when the profiles merge, in either order', () => {
    const optedIn = build('q', '2026-01-02T00:00:00.000Z', [event({ id: 'optin', time: '2999-01-01T00:00:00.000Z', consent: { email: 'opted-in' } })]);
    expect(mergeProfiles(unsubscribed(), optedIn, policy).consent.email).toMatchObject({ status: 'opted-out' });
    expect(mergeProfiles(optedIn, unsubscribed(), policy).consent.email).toMatchObject({ status: 'opted-out' });
  });
});

describe('computed attributes', () => {
  it('adds counts and sums, keeps the earliest first and the latest last seen', () => {
    expect(
      mergeComputed(
        { count: 2, firstSeen: '2026-01-02', lastSeen: '2026-01-04', sums: { total: 30, items: 2 } },
        { count: 1, firstSeen: '2026-01-01', lastSeen: '2026-01-03', sums: { total: 12.5 } },
      ),
    ).toEqual({ count: 3, firstSeen: '2026-01-01', lastSeen: '2026-01-04', sums: { items: 2, total: 42.5 } });
  });

  it('sums every numeric top-level property by default, only the configured ones otherwise', () => {
    const e = event({ id: 'o1', properties: { total: 99.5, items: 3, currency: 'EUR', nested: { total: 1 }, nan: Number.NaN } });
    expect(build('p', e.time, [e]).computed['order.placed'].sums).toEqual({ items: 3, total: 99.5 });
    expect(build('p', e.time, [e], { ...policy, sums: { 'order.placed': ['total'] } }).computed['order.placed'].sums).toEqual({ total: 99.5 });
  });
});

describe('recent events window', () => {
  const entry = (id: string, time: string, receivedAt = '2026-01-05T00:00:00.000Z'): RecentEvent => ({ id, type: 't', time, source: 's', properties: {}, receivedAt });

  it('unions by event id, newest first, trimmed to its size', () => {
    const merged = mergeWindows([entry('a', '2026-01-01'), entry('b', '2026-01-03')], [entry('b', '2026-01-03'), entry('c', '2026-01-02'), entry('d', '2025-12-01')], 3);
    expect(merged.map((e) => e.id)).toEqual(['b', 'c', 'a']);
  });

  it('leaves out events older than the window days when read', () => {
    const window = recentWindow([entry('old', '2025-11-01T00:00:00.000Z'), entry('new', '2026-01-04T00:00:00.000Z')], NOW, policy);
    expect(window.map((e) => e.id)).toEqual(['new']);
  });

  it('keeps scalar properties only, at most 16, on an entry', () => {
    const properties = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`p${String(i).padStart(2, '0')}`, i]));
    const e = windowEntry(event({ id: 'x', properties: { ...properties, a: { deep: 1 }, b: 'x'.repeat(300), c: true } }), NOW);
    expect(Object.keys(e.properties)).toHaveLength(16);
    expect(e.properties).toMatchObject({ c: true, p00: 0 });
    expect(e.properties).not.toHaveProperty('a');
    expect(e.properties).not.toHaveProperty('b');
  });
});

describe('survivor', () => {
  it.each([
    ['keeps the profile created first', { id: 'p-b', createdAt: '2026-01-01T00:00:00.000Z' }, { id: 'p-a', createdAt: '2026-01-02T00:00:00.000Z' }, 'p-b'],
    ['keeps the smaller id when both were created at once', { id: 'p-b', createdAt: '2026-01-01T00:00:00.000Z' }, { id: 'p-a', createdAt: '2026-01-01T00:00:00.000Z' }, 'p-a'],
  ])('%s', (_, a, b, survivor) => {
    expect(chooseSurvivor(a, b).id).toBe(survivor);
    expect(chooseSurvivor(b, a).id).toBe(survivor);
  });
});

describe('applying an event', () => {
  it('changes nothing the second time the same event id arrives', () => {
    const e = event({ id: 'o1', properties: { total: 10 } });
    const once = build('p', e.time, [e]);
    const twice = applyEvent(once, e, NOW, policy);
    expect(twice.duplicate).toBe(true);
    expect(twice.state).toBe(once);
    expect(once.computed['order.placed']).toMatchObject({ count: 1, sums: { total: 10 } });
  });

  it('keeps the first-linked value of a namespace as the primary identity', () => {
    // First linked by receipt time: an event dated earlier but received later does not take the primary.
    const first = applyEvent(emptyProfile('p', NOW.toISOString()), event({ id: '1', time: '2026-01-02T00:00:00.000Z', identities: { email: 'z-first@example.com' } }), NOW, policy).state;
    const later = new Date(NOW.getTime() + 60_000);
    const state = applyEvent(first, event({ id: '2', time: '2000-01-01T00:00:00.000Z', identities: { email: 'a-old@example.com' } }), later, policy).state;
    expect(identityViews(state.identities)).toEqual({ primary: { email: 'z-first@example.com' }, all: { email: ['z-first@example.com', 'a-old@example.com'] } });
  });

  it('refuses the increment path for an out-of-order attribute, a higher-ranked source held or a tie', () => {
    const held = build('p', '2026-01-01T00:00:00.000Z', [event({ id: '1', source: 'crm', time: '2026-01-02T00:00:00.000Z', attributes: { tier: 'gold' } })], ranked);
    const later = { id: '2', time: '2026-01-03T00:00:00.000Z', attributes: { tier: 'silver' } };
    expect(canApplyIncrementally(held, event({ ...later, source: 'crm' }), NOW, ranked)).toBe(true);
    expect(canApplyIncrementally(held, event({ ...later, source: 'shop' }), NOW, ranked)).toBe(false);
    expect(canApplyIncrementally(held, event({ ...later, time: '2026-01-01T00:00:00.000Z', source: 'crm' }), NOW, ranked)).toBe(false);
    expect(canApplyIncrementally(held, event({ ...later, time: '2026-01-02T00:00:00.000Z', source: 'crm' }), NOW, ranked)).toBe(false);
    expect(canApplyIncrementally(held, event({ id: '1', source: 'crm', time: '2026-01-04T00:00:00.000Z' }), NOW, ranked)).toBe(false);
  });
});

describe('merge policy properties', () => {
  it('gives the same profile whatever the order events arrive in', () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 10 }).chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))), ([events, shuffled]) => {
        expect(build('p', '2026-01-01T00:00:00.000Z', shuffled, ranked)).toEqual(build('p', '2026-01-01T00:00:00.000Z', events, ranked));
      }),
    );
  });

  it('is commutative', () => {
    fc.assert(fc.property(profilesArb(2), ([a, b]) => expect(mergeProfiles(a, b, policy)).toEqual(mergeProfiles(b, a, policy))));
  });

  it('is associative', () => {
    fc.assert(
      fc.property(profilesArb(3), ([a, b, c]) => {
        expect(mergeProfiles(mergeProfiles(a, b, policy), c, policy)).toEqual(mergeProfiles(a, mergeProfiles(b, c, policy), policy));
      }),
    );
  });

  it('is idempotent: folding a profile again, or a profile into itself, changes nothing', () => {
    fc.assert(
      fc.property(profilesArb(2), ([a, b]) => {
        const once = mergeProfiles(a, b, policy);
        expect(mergeProfiles(once, b, policy)).toEqual(once);
        expect(mergeProfiles(once, a, policy)).toEqual(once);
        expect(mergeProfiles(a, a, policy)).toEqual(a);
      }),
    );
  });

  it('merges two profiles into what one profile that saw all their events holds', () => {
    fc.assert(
      fc.property(eventsArb({ maxLength: 10 }), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), (events, side) => {
        const a = build('pa', '2026-01-01T00:00:00.000Z', events.filter((_, i) => side[i]), ranked);
        const b = build('pb', '2026-01-02T00:00:00.000Z', events.filter((_, i) => !side[i]), ranked);
        const whole = build('pa', '2026-01-01T00:00:00.000Z', events, ranked);
        const merged = foldInto(a, b, ranked);
        for (const field of ['identities', 'attributes', 'attributeTimes', 'attributeSources', 'consent', 'computed'] as const) {
          expect(merged[field]).toEqual(whole[field]);
        }
        expect(merged.absorbed).toEqual(['pb']);
      }),
    );
  });
});
