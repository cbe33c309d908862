import type { BusinessEvent } from '../lambdas/core/events/business-event';
import { MemoryProfileStorage } from '../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy } from '../lambdas/core/profiles/model';
import { GraphProfileStore } from '../lambdas/core/profiles/store';
import type { Clock, EnrollmentStore, EventPublisher, Executions, JourneyRegistry, RejectedEventStore, WaitIndex } from '../lambdas/core/runtime/ports';
import { routeBusinessEvent, type RouteDeps } from '../lambdas/core/runtime/route';
import { cachedSegmentCatalog, type SegmentCatalog } from '../lambdas/core/segments/cached-catalog';
import { SegmentEngine } from '../lambdas/core/segments/engine';
import { InMemoryMembershipStore, InMemorySegmentStore } from '../lambdas/core/segments/memory-stores';
import { parseSegment, type Rule, type SegmentDefinition } from '../lambdas/core/segments/rule';
import { withBaseline, type Benchmark, type Figure } from './types';
import { int, mulberry32, pick, type Random } from './random';

/**
 * Streaming segmentation (issue 4): profile updates routed through `routeBusinessEvent` with segmentation on and SEGMENTS
 * defined segments, in memory on one core. Reported: events per second and the mean number of segment rules run per
 * event (only the segments reading what the event touched, and the segments referencing those). Baseline in the same
 * run: the same events with every segment re-evaluated on every event, so the ratio is what the dependency index buys.
 */
const SEGMENTS = 200;
const EVENTS = Number(process.env.BENCH_SEGMENT_EVENTS ?? 20_000);
const CUSTOMERS = 2_000;
const RUNS = 3;
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00.000Z');
const clock: Clock = { now: () => new Date(NOW) };

const isoDaysAgo = (days: number) => new Date(NOW - days * DAY).toISOString();

/** The 30 attribute names profiles carry, each with how its values are generated and compared. */
type AttributeKind = { kind: 'category'; values: readonly string[] } | { kind: 'number'; min: number; max: number } | { kind: 'boolean' } | { kind: 'date'; fromDays: number; toDays: number };
const ATTRIBUTES: Record<string, AttributeKind> = {
  tier: { kind: 'category', values: ['bronze', 'silver', 'gold', 'platinum'] },
  country: { kind: 'category', values: ['DE', 'FR', 'AT', 'NL', 'IT', 'ES', 'PL', 'SE'] },
  city: { kind: 'category', values: ['Berlin', 'Paris', 'Vienna', 'Amsterdam', 'Milan', 'Madrid', 'Warsaw', 'Hamburg'] },
  language: { kind: 'category', values: ['de', 'fr', 'en', 'nl', 'it', 'es'] },
  plan: { kind: 'category', values: ['free', 'basic', 'pro', 'team'] },
  status: { kind: 'category', values: ['active', 'paused', 'churned'] },
  gender: { kind: 'category', values: ['f', 'm', 'x'] },
  ageBand: { kind: 'category', values: ['18-24', '25-34', '35-44', '45-54', '55+'] },
  channel: { kind: 'category', values: ['web', 'app', 'store', 'partner'] },
  device: { kind: 'category', values: ['ios', 'android', 'desktop'] },
  os: { kind: 'category', values: ['iOS 19', 'Android 16', 'Windows', 'macOS'] },
  browser: { kind: 'category', values: ['chrome', 'safari', 'firefox', 'edge'] },
  currency: { kind: 'category', values: ['EUR', 'PLN', 'SEK'] },
  timezone: { kind: 'category', values: ['Europe/Berlin', 'Europe/Paris', 'Europe/Warsaw'] },
  referrer: { kind: 'category', values: ['google', 'instagram', 'newsletter', 'direct'] },
  campaign: { kind: 'category', values: ['spring', 'summer', 'black-friday', 'none'] },
  loyaltyPoints: { kind: 'number', min: 0, max: 5000 },
  lifetimeValue: { kind: 'number', min: 0, max: 3000 },
  ordersCount: { kind: 'number', min: 0, max: 60 },
  cartValue: { kind: 'number', min: 0, max: 400 },
  nps: { kind: 'number', min: 0, max: 10 },
  appVersion: { kind: 'number', min: 1, max: 9 },
  newsletter: { kind: 'boolean' },
  smsOptIn: { kind: 'boolean' },
  pushEnabled: { kind: 'boolean' },
  signedUpAt: { kind: 'date', fromDays: -3, toDays: 900 },
  lastLoginAt: { kind: 'date', fromDays: 0, toDays: 120 },
  lastOrderAt: { kind: 'date', fromDays: 0, toDays: 365 },
  renewalAt: { kind: 'date', fromDays: -60, toDays: 10 },
  birthday: { kind: 'date', fromDays: 6000, toDays: 25000 },
};
const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTES);
const NON_DATE = ATTRIBUTE_NAMES.filter((n) => ATTRIBUTES[n].kind !== 'date');
const DATES = ATTRIBUTE_NAMES.filter((n) => ATTRIBUTES[n].kind === 'date');

function attributeValue(random: Random, name: string): string | number | boolean {
  const a = ATTRIBUTES[name];
  switch (a.kind) {
    case 'category':
      return pick(random, a.values);
    case 'number':
      return int(random, a.min, a.max);
    case 'boolean':
      return random() < 0.5;
    case 'date':
      return isoDaysAgo(int(random, a.fromDays, a.toDays));
  }
}

/** The 20 event types, how often each occurs (weight) and which attributes an event of it sets. */
const EVENT_TYPES: { type: string; weight: number; sets: readonly string[] }[] = [
  { type: 'page.viewed', weight: 25, sets: [] },
  { type: 'product.viewed', weight: 15, sets: [] },
  { type: 'search.performed', weight: 8, sets: [] },
  { type: 'cart.updated', weight: 8, sets: ['cartValue'] },
  { type: 'app.opened', weight: 8, sets: ['appVersion'] },
  { type: 'email.opened', weight: 6, sets: [] },
  { type: 'app.login', weight: 5, sets: ['lastLoginAt', 'device', 'os'] },
  { type: 'order.placed', weight: 5, sets: ['lastOrderAt', 'ordersCount', 'lifetimeValue', 'loyaltyPoints'] },
  { type: 'email.clicked', weight: 3, sets: [] },
  { type: 'checkout.started', weight: 3, sets: ['currency'] },
  { type: 'push.opened', weight: 3, sets: [] },
  { type: 'profile.updated', weight: 3, sets: [] },
  { type: 'wishlist.added', weight: 2, sets: [] },
  { type: 'cart.abandoned', weight: 2, sets: [] },
  { type: 'order.shipped', weight: 2, sets: ['city'] },
  { type: 'review.written', weight: 1, sets: ['nps'] },
  { type: 'coupon.redeemed', weight: 1, sets: ['loyaltyPoints', 'campaign'] },
  { type: 'support.ticket', weight: 1, sets: [] },
  { type: 'order.refunded', weight: 1, sets: ['lifetimeValue'] },
  { type: 'subscription.renewed', weight: 1, sets: ['plan', 'renewalAt', 'status'] },
];
const EVENT_NAMES = EVENT_TYPES.map((e) => e.type);
const TOTAL_WEIGHT = EVENT_TYPES.reduce((sum, e) => sum + e.weight, 0);

function comparison(random: Random, name: string): Rule {
  const a = ATTRIBUTES[name];
  const field = { kind: 'attribute' as const, name };
  switch (a.kind) {
    case 'category': {
      const roll = random();
      if (roll < 0.5) return { kind: 'equals', field, value: pick(random, a.values) };
      if (roll < 0.8) return { kind: 'in', field, values: [...new Set([pick(random, a.values), pick(random, a.values)])] };
      return { kind: 'notEquals', field, value: pick(random, a.values) };
    }
    case 'number': {
      const roll = random();
      const bound = int(random, a.min, a.max);
      if (roll < 0.4) return { kind: 'greater', field, value: bound };
      if (roll < 0.7) return { kind: 'less', field, value: bound };
      return { kind: 'between', field, min: Math.min(bound, a.max - 1), max: Math.min(a.max, bound + int(random, 1, (a.max - a.min) / 3 + 1)) };
    }
    case 'boolean':
      return random() < 0.8 ? { kind: 'equals', field, value: random() < 0.7 } : { kind: 'exists', field };
    case 'date':
      return relativeDate(random, name);
  }
}

function relativeDate(random: Random, name: string): Rule {
  const field = { kind: 'attribute' as const, name };
  if (name === 'birthday') return { kind: 'anniversary', field, direction: 'next', days: int(random, 0, 14) };
  if (name === 'renewalAt') return { kind: 'withinNext', field, duration: `${int(random, 3, 30)}d` };
  const last: Rule = { kind: 'withinLast', field, duration: pick(random, ['7d', '14d', '30d', '90d', '365d']) };
  return random() < 0.3 ? { kind: 'not', rule: last } : last;
}

function eventCondition(random: Random): Rule {
  const type = pick(random, EVENT_NAMES);
  const rule: Rule & { kind: 'event' } = { kind: 'event', type, within: pick(random, ['1d', '7d', '14d', '30d']) };
  const atLeast = int(random, 1, 3);
  if (atLeast > 1) rule.atLeast = atLeast;
  if (type === 'order.placed' && random() < 0.5) rule.where = [{ kind: 'greater', property: 'total', value: int(random, 20, 150) }];
  return random() < 0.15 ? { kind: 'not', rule } : rule;
}

function computedCondition(random: Random): Rule {
  const event = pick(random, EVENT_NAMES);
  if (event === 'order.placed' && random() < 0.5) return { kind: 'greater', field: { kind: 'computed', event, stat: 'sum', property: 'total' }, value: int(random, 50, 1000) };
  return { kind: 'greater', field: { kind: 'computed', event, stat: 'count' }, value: int(random, 0, 6) };
}

/**
 * 200 segments: about 40% attribute comparisons (1–3, all or any), 25% event conditions (alone or with an attribute),
 * 15% relative dates, 10% computed counts and sums, 10% references to earlier segments (no cycles) with a condition.
 */
export function generateSegments(count: number, seed = 7): SegmentDefinition[] {
  const random = mulberry32(seed);
  const segments: SegmentDefinition[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    let rule: Rule;
    if (roll < 0.4 || i < 10) {
      const n = int(random, 1, 3);
      const rules = Array.from({ length: n }, () => comparison(random, pick(random, NON_DATE)));
      rule = n === 1 ? rules[0] : { kind: random() < 0.75 ? 'all' : 'any', rules };
    } else if (roll < 0.65) {
      const event = eventCondition(random);
      rule = random() < 0.5 ? event : { kind: 'all', rules: [comparison(random, pick(random, NON_DATE)), event] };
    } else if (roll < 0.8) {
      const date = relativeDate(random, pick(random, DATES));
      rule = random() < 0.5 ? date : { kind: 'all', rules: [date, comparison(random, pick(random, NON_DATE))] };
    } else if (roll < 0.9) {
      rule = random() < 0.5 ? computedCondition(random) : { kind: 'all', rules: [computedCondition(random), comparison(random, pick(random, NON_DATE))] };
    } else {
      const ref = (): Rule => ({ kind: 'segment', id: segments[Math.floor(random() * segments.length)].id });
      rule = random() < 0.7 ? { kind: 'all', rules: [ref(), comparison(random, pick(random, ATTRIBUTE_NAMES))] } : { kind: 'any', rules: [ref(), ref()] };
    }
    const parsed = parseSegment({ schemaVersion: 1, id: `segment-${String(i).padStart(3, '0')}`, name: `Segment ${i}`, rule });
    if (!parsed.ok) throw new Error(`segments-streaming bench: generated an invalid segment ${i}: ${parsed.errors.join('; ')}`);
    segments.push(parsed.value);
  }
  return segments;
}

/** One identify event per customer (every attribute), which seeds the profiles before timing. */
function identifyEvents(): BusinessEvent[] {
  const random = mulberry32(11);
  return Array.from({ length: CUSTOMERS }, (_, c) => ({
    id: `identify-${c}`,
    type: 'profile.updated',
    source: 'bench.crm',
    time: isoDaysAgo(20 + random()),
    identities: { email: `c${c}@example.com` },
    attributes: Object.fromEntries(ATTRIBUTE_NAMES.map((name) => [name, attributeValue(random, name)])),
    properties: {},
  }));
}

/**
 * The stream: known customers (each gets EVENTS / CUSTOMERS events, well under the 50-event window, so nothing is evicted),
 * event types by weight, the attributes each type sets (profile.updated: one to three of any), a minute apart up to now.
 */
function streamEvents(count: number): BusinessEvent[] {
  const random = mulberry32(13);
  return Array.from({ length: count }, (_, i) => {
    let roll = random() * TOTAL_WEIGHT;
    const spec = EVENT_TYPES.find((e) => (roll -= e.weight) < 0) ?? EVENT_TYPES[0];
    const names = spec.type === 'profile.updated' ? Array.from({ length: int(random, 1, 3) }, () => pick(random, ATTRIBUTE_NAMES)) : spec.sets;
    const attributes = names.length > 0 ? Object.fromEntries(names.map((name) => [name, name === 'lastLoginAt' || name === 'lastOrderAt' ? isoDaysAgo(0) : attributeValue(random, name)])) : undefined;
    return {
      id: `stream-${i}`,
      type: spec.type,
      source: 'bench.shop',
      time: new Date(NOW - (count - i) * 60_000).toISOString(),
      identities: { email: `c${(i * 7919) % CUSTOMERS}@example.com` },
      ...(attributes ? { attributes } : {}),
      properties: spec.type.startsWith('order.') ? { total: int(random, 5, 250), items: int(random, 1, 6) } : { path: `/p/${int(random, 1, 300)}` },
    };
  });
}

/** Counts what the router publishes (SegmentEntered / SegmentExited) and drops it. */
class CountingPublisher implements EventPublisher {
  readonly counts = new Map<string, number>();
  async publish(events: BusinessEvent[]): Promise<void> {
    for (const e of events) this.counts.set(e.type, (this.counts.get(e.type) ?? 0) + 1);
  }
}

// No journeys: the bench measures profile updates and segmentation, not journey starts.
const journeys: JourneyRegistry = { list: async () => [], get: async () => undefined };
const waits: WaitIndex = { register: async () => {}, find: async () => [], remove: async () => {} };
const enrollments: EnrollmentStore = { get: async () => undefined, replace: async () => true, recordRun: async () => {} };
const executions: Executions = {
  start: async (arn, name) => ({ executionArn: `${arn}:${name}`, started: true }),
  isRunning: async () => false,
  resume: async () => 'gone',
  stop: async () => false,
};
const rejected: RejectedEventStore = { put: async () => {}, list: async () => [] };

/** An engine that reports every segment as affected by any change: what streaming without the dependency index does. */
function everySegment(catalog: SegmentCatalog): SegmentCatalog {
  return {
    async engine() {
      const engine = await catalog.engine();
      const all = engine.resolve('all');
      return Object.assign(Object.create(engine) as SegmentEngine, { affected: () => all });
    },
  };
}

interface RunResult {
  ms: number;
  evaluated: number;
  published: Map<string, number>;
  memberships: InMemoryMembershipStore;
  profileIds: string[];
}

async function run(segments: readonly SegmentDefinition[], identify: readonly BusinessEvent[], stream: readonly BusinessEvent[], indexed: boolean): Promise<RunResult> {
  const store = new InMemorySegmentStore(segments.map((definition) => ({ definition, origin: 'file' as const, version: 1, updatedAt: isoDaysAgo(30) })));
  const catalog = cachedSegmentCatalog(store, clock);
  const memberships = new InMemoryMembershipStore();
  const publisher = new CountingPublisher();
  const deps: RouteDeps = {
    profiles: new GraphProfileStore({ storage: new MemoryProfileStorage(clock.now), clock, policy: defaultProfilePolicy }),
    journeys,
    enrollments,
    waits,
    executions,
    rejected,
    publisher,
    clock,
    // Seeding evaluates every segment: a new profile can qualify for a segment reading nothing its first event touched
    // (`not` an event condition), and the router evaluates only the affected ones (see the bench README).
    segmentation: { segments: everySegment(catalog), memberships },
  };
  const profileIds = new Set<string>();
  // Seeding (untimed): every customer identified, memberships fully evaluated, as after a re-check.
  for (const event of identify) {
    const result = await routeBusinessEvent(deps, event);
    if (result.status === 'routed') profileIds.add(result.profileId);
  }
  deps.segmentation = { segments: indexed ? catalog : everySegment(catalog), memberships };
  publisher.counts.clear();
  let evaluated = 0;
  const start = performance.now();
  for (const event of stream) {
    const result = await routeBusinessEvent(deps, event);
    if (result.status !== 'routed') throw new Error(`segments-streaming bench: event ${event.id} was not routed: ${result.status}`);
    evaluated += result.segments?.evaluated ?? 0;
  }
  return { ms: performance.now() - start, evaluated, published: publisher.counts, memberships, profileIds: [...profileIds] };
}

export const segmentsStreaming: Benchmark = {
  name: 'segments-streaming',
  async run(): Promise<Figure[]> {
    const segments = generateSegments(SEGMENTS);
    const engine = SegmentEngine.create(segments);
    const identify = identifyEvents();
    const stream = streamEvents(EVENTS);

    // Warm up both paths, then alternate timed runs; best of RUNS each.
    await run(segments, identify, stream.slice(0, 2_000), true);
    await run(segments, identify, stream.slice(0, 2_000), false);
    let best: { indexed?: RunResult; all?: RunResult } = {};
    for (let r = 0; r < RUNS; r++) {
      const indexed = await run(segments, identify, stream, true);
      const all = await run(segments, identify, stream, false);
      if (!best.indexed || indexed.ms < best.indexed.ms) best = { ...best, indexed };
      if (!best.all || all.ms < best.all.ms) best = { ...best, all };
    }
    const indexed = best.indexed!;
    const all = best.all!;

    // The index must not miss a change: both ways end with the same memberships for every profile.
    const memberCount = { indexed: 0, all: 0 };
    for (const id of all.profileIds) {
      const a = indexed.memberships.peek(id).segments;
      const b = all.memberships.peek(id).segments;
      memberCount.indexed += Object.keys(a).length;
      memberCount.all += Object.keys(b).length;
      if (JSON.stringify(Object.entries(a).sort()) !== JSON.stringify(Object.entries(b).sort())) {
        throw new Error(`segments-streaming bench: profile ${id} ends in different segments with the dependency index (${Object.keys(a).sort().join(', ')}) than with every segment evaluated (${Object.keys(b).sort().join(', ')})`);
      }
    }
    if (indexed.evaluated === 0 || memberCount.all === 0) throw new Error('segments-streaming bench: no segment was evaluated or none has members; the data proves nothing');
    const transitions = (r: RunResult) => (r.published.get('SegmentEntered') ?? 0) + (r.published.get('SegmentExited') ?? 0);
    if (transitions(indexed) !== transitions(all)) throw new Error(`segments-streaming bench: ${transitions(indexed)} transitions announced with the index, ${transitions(all)} without`);

    const perSecond = (r: RunResult) => Math.round((EVENTS * 1000) / r.ms);
    const mean = (r: RunResult) => Number((r.evaluated / EVENTS).toFixed(2));
    const kinds = engine.index.timeDependent.length;
    const shape = `${SEGMENTS} segments (${ATTRIBUTE_NAMES.length} attribute names, ${EVENT_NAMES.length} event types; ${kinds} time-dependent, ${segments.filter((s) => JSON.stringify(s.rule).includes('"kind":"segment"')).length} with references), ${EVENTS.toLocaleString('en')} events for ${CUSTOMERS.toLocaleString('en')} known profiles (seeded untimed with every segment evaluated), routeBusinessEvent with segmentation on, in-memory profile and membership stores, no journeys, one core, best of ${RUNS}`;
    return [
      withBaseline({
        name: 'segments-streaming/events-per-second',
        value: perSecond(indexed),
        unit: 'events/s',
        baseline: perSecond(all),
        note: `${shape}; ${transitions(indexed).toLocaleString('en')} SegmentEntered/Exited announced, final memberships equal to the baseline's for every profile (${memberCount.indexed.toLocaleString('en')} memberships). Baseline: the same events with every segment re-evaluated on every event`,
      }),
      withBaseline({
        name: 'segments-streaming/segments-evaluated-per-event',
        value: mean(indexed),
        unit: 'segments',
        baseline: mean(all),
        note: `mean segment rules run per event: those reading an attribute the event set or its event type, plus the segments referencing them; baseline: all ${SEGMENTS} on every event`,
      }),
    ];
  },
};
