import { Engine, type NestedCondition, type TopLevelCondition } from 'json-rules-engine';
import { DecisionCatalog } from '../lambdas/core/decisions/catalog';
import { decide, type DecisionProfile, type DecisionRequest } from '../lambdas/core/decisions/decide';
import { Offer, Placement, type Caps, type Eligibility } from '../lambdas/core/decisions/model';
import type { CapOutcome, CapStore, PlacementDecision } from '../lambdas/core/decisions/ports';
import type { ComputedStats, RecentEvent } from '../lambdas/core/profiles/model';
import type { Memberships } from '../lambdas/core/segments/ports';
import type { Rule } from '../lambdas/core/segments/rule';
import { parseDuration } from '../lambdas/core/shared/duration';
import { withBaseline, type Benchmark, type Figure } from './types';
import { int, mulberry32, pick, type Random } from './random';

/**
 * In-process decision latency (issue D5): `decide()` for one profile at a time against a catalog of OFFERS offers over
 * 3 placements, each offer with an eligibility rule (attribute comparisons, computed counts and sums, event conditions
 * over the recent-events window, segment references) and a ranking formula; some offers capped (in-memory cap store).
 * Per-decision latency p50 / p99 and decisions per second, one core, decisions run one after another.
 *
 * Baseline in the same run: the same decisions with eligibility evaluated by json-rules-engine — one Engine holding all
 * OFFERS rules (one `run` per decision evaluates every offer's rule once, which is how a json-rules-engine user asks "which
 * offers is this profile eligible for"; one Engine per offer would add 1,000 async runs per decision and flatter us) —
 * and everything else done the same way: validity window, the same compiled ranking formulas, the same order, the same
 * cap logic on its own fresh in-memory cap store. Both must choose the same offers in every decision, and report the
 * same eligible sets on a sample, or the bench fails.
 */
const OFFERS = 1_000;
const PROFILES = 2_000;
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 20_000);
const WARMUP = Math.min(2_000, DECISIONS);
/**
 * json-rules-engine takes tens of milliseconds per decision here, so it runs the first BASELINE_DECISIONS of the same
 * sequence (same profiles, same cap history up to there); BENCH_DECISIONS_BASELINE changes it.
 */
const BASELINE_DECISIONS = Math.min(DECISIONS, Number(process.env.BENCH_DECISIONS_BASELINE ?? 1_000));
const BASELINE_WARMUP = Math.min(200, BASELINE_DECISIONS);
const SEGMENTS = 20;
/** Every SAMPLE_EVERY-th decision's eligible offer sets are compared in full. */
const SAMPLE_EVERY = 20;
const DAY = 86_400_000;
const NOW = new Date('2026-06-15T12:00:00.000Z');
const NOW_MS = NOW.getTime();
const PLACEMENT_IDS = ['web-banner', 'email-hero', 'push'] as const;
const REQUEST: DecisionRequest = { placements: PLACEMENT_IDS, count: 2, context: { channel: 'web', cartTotal: 80 } };

const iso = (ms: number) => new Date(ms).toISOString();

const TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const COUNTRIES = ['DE', 'FR', 'AT', 'NL', 'IT', 'ES', 'PL', 'SE'];
const CATEGORIES = ['shoes', 'bags', 'cameras', 'books', 'garden', 'toys'];
const EVENT_TYPES = ['order.placed', 'cart.updated', 'page.viewed'];

// --- catalog -------------------------------------------------------------------------------------------------------

/** One leaf condition; most pass for roughly half the profiles so that `all` of two or three keeps a fair share. */
function leaf(random: Random): Rule {
  switch (int(random, 0, 7)) {
    case 0:
      return { kind: 'in', field: { kind: 'attribute', name: 'tier' }, values: TIERS.filter(() => random() < 0.6).concat(pick(random, TIERS)) };
    case 1:
      return { kind: 'in', field: { kind: 'attribute', name: 'country' }, values: COUNTRIES.filter(() => random() < 0.5).concat(pick(random, COUNTRIES)) };
    case 2:
      return { kind: 'greater', field: { kind: 'attribute', name: 'age' }, value: int(random, 18, 50) };
    case 3:
      return { kind: 'between', field: { kind: 'attribute', name: 'score' }, min: int(random, 0, 400), max: int(random, 500, 1000) };
    case 4:
      return { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'count' }, value: int(random, 0, 6) };
    case 5:
      return { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: int(random, 50, 600) };
    case 6: {
      const where = random() < 0.5 ? [{ kind: 'greater' as const, property: 'total', value: int(random, 10, 80) }] : undefined;
      return { kind: 'event', type: pick(random, EVENT_TYPES), within: pick(random, ['3d', '7d', '14d', '30d']), atLeast: int(random, 1, 2), ...(where ? { where } : {}) };
    }
    default:
      return { kind: 'segment', id: `seg-${int(random, 0, SEGMENTS - 1)}` };
  }
}

function eligibility(random: Random): Eligibility | undefined {
  const roll = random();
  if (roll < 0.05) return undefined;
  if (roll < 0.15) return { segment: `seg-${int(random, 0, SEGMENTS - 1)}` };
  const leaves = Array.from({ length: int(random, 2, 3) }, () => leaf(random));
  if (random() < 0.25) leaves[0] = { kind: 'any', rules: [leaves[0], leaf(random)] };
  if (random() < 0.1) leaves[leaves.length - 1] = { kind: 'not', rule: leaves[leaves.length - 1] };
  return { rule: { kind: 'all', rules: leaves } };
}

const FORMULAS = [
  'offer.priority + coalesce(profile.attributes.affinity, 0) * offer.attributes.weight',
  'offer.attributes.margin * 100 + min(coalesce(profile.computed["order.placed"].count, 0), 10) * 3',
  'context.channel == "web" ? offer.priority * 2 : offer.priority',
  'offer.priority - min(coalesce(daysSince(profile.computed["page.viewed"].lastSeen), 30), 30)',
  'contains(profile.attributes.interests, offer.attributes.category) ? 50 + offer.priority : offer.priority',
  'profile.segments["seg-3"] != null ? 20 + offer.priority : offer.priority + offer.attributes.margin',
  'offer.priority + profile.attributes.bonus',
  '(coalesce(context.cartTotal, 0) > 50 ? 10 : 0) + offer.priority * offer.attributes.weight',
];

export function generateCatalog(seed = 7): DecisionCatalog {
  const random = mulberry32(seed);
  const placements = PLACEMENT_IDS.map((id) => Placement.parse({ schemaVersion: 1, id, name: id, requiredContent: ['title'] }));
  const offers: Offer[] = [];
  for (let i = 0; i < OFFERS; i++) {
    const id = `offer-${String(i).padStart(4, '0')}`;
    const where = PLACEMENT_IDS.filter(() => random() < 0.5);
    if (where.length === 0) where.push(pick(random, PLACEMENT_IDS));
    const window = random();
    let caps: Caps | undefined;
    const capRoll = random();
    if (capRoll < 0.1) caps = { perProfile: { count: 1, period: pick(random, ['1d', '7d']) } };
    else if (capRoll < 0.15) caps = { total: int(random, 200, 2000) };
    else if (capRoll < 0.2) caps = { total: int(random, 1000, 5000), perProfile: { count: 2, period: '30d' } };
    offers.push(
      Offer.parse({
        schemaVersion: 1,
        id,
        name: `Offer ${i}`,
        placements: Object.fromEntries(where.map((p) => [p, { title: `Offer ${i} for ${p}`, body: 'x' }])),
        // 5% expired, 5% not yet valid, 10% inside a window.
        ...(window < 0.05 ? { validUntil: iso(NOW_MS - int(random, 1, 30) * DAY) } : {}),
        ...(window >= 0.05 && window < 0.1 ? { validFrom: iso(NOW_MS + int(random, 1, 30) * DAY) } : {}),
        ...(window >= 0.1 && window < 0.2 ? { validFrom: iso(NOW_MS - 10 * DAY), validUntil: iso(NOW_MS + 10 * DAY) } : {}),
        eligibility: eligibility(random),
        priority: int(random, 0, 100),
        score: random() < 0.9 ? pick(random, FORMULAS) : undefined,
        tags: [pick(random, CATEGORIES)],
        attributes: { weight: Math.round(random() * 100) / 10, margin: Math.round(random() * 100) / 100, category: pick(random, CATEGORIES) },
        caps,
      }),
    );
  }
  for (const p of PLACEMENT_IDS) offers.push(Offer.parse({ schemaVersion: 1, id: `fallback-${p}`, name: 'Fallback', placements: { [p]: { title: 'New this week' } }, fallback: true }));
  return DecisionCatalog.create(offers, placements);
}

// --- profiles ------------------------------------------------------------------------------------------------------

export interface BenchProfile {
  profile: DecisionProfile;
  memberships: Memberships;
}

export function generateProfiles(count = PROFILES, seed = 11): BenchProfile[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const events: RecentEvent[] = Array.from({ length: int(random, 0, 15) }, (_, k) => {
      const time = iso(NOW_MS - Math.floor(random() * 30 * DAY));
      return { id: `e${i}-${k}`, type: pick(random, EVENT_TYPES), time, source: 'shop', properties: { total: int(random, 0, 120) }, receivedAt: time };
    }).sort((a, b) => (a.time < b.time ? 1 : -1));
    const computed: Record<string, ComputedStats> = {};
    if (random() < 0.7) computed['order.placed'] = { count: int(random, 1, 12), firstSeen: iso(NOW_MS - 400 * DAY), lastSeen: iso(NOW_MS - int(random, 0, 60) * DAY), sums: { total: int(random, 20, 1200) } };
    if (random() < 0.9) computed['page.viewed'] = { count: int(random, 1, 200), firstSeen: iso(NOW_MS - 400 * DAY), lastSeen: iso(NOW_MS - int(random, 0, 40) * DAY), sums: {} };
    const attributes: Record<string, unknown> = {
      tier: pick(random, TIERS),
      country: pick(random, COUNTRIES),
      age: int(random, 18, 80),
      score: int(random, 0, 1000),
      affinity: Math.round(random() * 50) / 10,
      interests: CATEGORIES.filter(() => random() < 0.3).join(','),
      email: `p${i}@bench.example`,
    };
    if (random() < 0.5) attributes.bonus = int(random, 0, 20);
    const memberships: Memberships = {};
    for (let s = 0; s < SEGMENTS; s++) if (random() < 0.3) memberships[`seg-${s}`] = iso(NOW_MS - DAY);
    return { profile: { id: `profile-${i}`, attributes, computed, recentEvents: events }, memberships };
  });
}

// --- cap store -----------------------------------------------------------------------------------------------------

/** Proposal counters in memory with the DynamoDB store's semantics (total ever; per profile within a sliding period). */
export class MemoryCapStore implements CapStore {
  private readonly totals = new Map<string, number>();
  private readonly perProfile = new Map<string, number[]>();
  private readonly periods = new Map<string, number>();

  private periodMs(period: string): number {
    let ms = this.periods.get(period);
    if (ms === undefined) this.periods.set(period, (ms = parseDuration(period) * 1000));
    return ms;
  }

  reserve(offerId: string, profileId: string, caps: Caps, now: Date): Promise<CapOutcome> {
    const total = this.totals.get(offerId) ?? 0;
    if (caps.total !== undefined && total >= caps.total) return Promise.resolve({ ok: false, cap: 'total' });
    let times: number[] | undefined;
    if (caps.perProfile) {
      const key = `${offerId}\u0000${profileId}`;
      const since = now.getTime() - this.periodMs(caps.perProfile.period);
      times = (this.perProfile.get(key) ?? []).filter((t) => t > since);
      this.perProfile.set(key, times);
      if (times.length >= caps.perProfile.count) return Promise.resolve({ ok: false, cap: 'perProfile' });
    }
    this.totals.set(offerId, total + 1);
    times?.push(now.getTime());
    return Promise.resolve({ ok: true });
  }

  usage(offerId: string, profileId: string, periodSeconds: number, now: Date): Promise<{ total: number; profile: number }> {
    const since = now.getTime() - periodSeconds * 1000;
    const profile = (this.perProfile.get(`${offerId}\u0000${profileId}`) ?? []).filter((t) => t > since).length;
    return Promise.resolve({ total: this.totals.get(offerId) ?? 0, profile });
  }
}

// --- baseline: json-rules-engine eligibility -----------------------------------------------------------------------

type EventCount = { type: string; from: number; to: number; minTotal?: number; atLeast: number };

/** A segment rule the way a json-rules-engine user writes it: paths on facts, custom operators for the event window. */
function toCondition(rule: Rule, now: number): NestedCondition {
  const fieldFact = (field: Extract<Rule, { field: unknown }>['field']) =>
    field.kind === 'attribute'
      ? { fact: 'attributes', path: `$.${field.name}` }
      : { fact: 'computed', path: field.stat === 'sum' ? `$['${field.event}'].sums.${field.property}` : `$['${field.event}'].${field.stat}` };
  switch (rule.kind) {
    case 'all':
      return { all: rule.rules.map((r) => toCondition(r, now)) };
    case 'any':
      return { any: rule.rules.map((r) => toCondition(r, now)) };
    case 'not':
      return { not: toCondition(rule.rule, now) };
    case 'in':
      return { ...fieldFact(rule.field), operator: 'in', value: rule.values };
    case 'equals':
      return { ...fieldFact(rule.field), operator: 'equal', value: rule.value };
    case 'greater':
      return { ...fieldFact(rule.field), operator: 'greaterThan', value: rule.value };
    case 'between':
      return { all: [{ ...fieldFact(rule.field), operator: 'greaterThanInclusive', value: rule.min }, { ...fieldFact(rule.field), operator: 'lessThanInclusive', value: rule.max }] };
    case 'segment':
      return { fact: 'segments', operator: 'contains', value: rule.id };
    case 'event': {
      const minTotal = rule.where?.[0]?.kind === 'greater' ? (rule.where[0].value as number) : undefined;
      const value: EventCount = { type: rule.type, from: now - parseDuration(rule.within ?? '3650d') * 1000, to: now, atLeast: rule.atLeast ?? 1, ...(minTotal === undefined ? {} : { minTotal }) };
      return { fact: 'recentEvents', operator: 'eventCountAtLeast', value };
    }
    default:
      throw new Error(`decisions bench: the baseline does not translate rule kind "${rule.kind}"`);
  }
}

/** One engine holding every offer's eligibility; an offer without eligibility is not in it (always eligible). */
function baselineEngine(offers: readonly Offer[], now: number): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator<RecentEvent[], EventCount>('eventCountAtLeast', (events, c) => {
    let count = 0;
    for (const e of events ?? []) {
      if (e.type !== c.type) continue;
      const t = Date.parse(e.time);
      if (!(t >= c.from && t <= c.to)) continue;
      if (c.minTotal !== undefined && !(typeof e.properties.total === 'number' && e.properties.total > c.minTotal)) continue;
      if (++count >= c.atLeast) return true;
    }
    return count >= c.atLeast;
  });
  for (const offer of offers) {
    const e = offer.eligibility;
    if (e === undefined) continue;
    const conditions: TopLevelCondition = 'segment' in e ? { all: [{ fact: 'segments', operator: 'contains', value: e.segment }] } : { all: [toCondition(e.rule, now)] };
    engine.addRule({ name: offer.id, conditions, event: { type: 'eligible', params: { offerId: offer.id } } });
  }
  return engine;
}

/** `decide` with the eligibility rules replaced by one json-rules-engine run; the rest is the same steps. */
async function baselineDecide(engine: Engine, caps: CapStore, catalog: DecisionCatalog, { profile, memberships }: BenchProfile, request: DecisionRequest, now: Date): Promise<Record<string, PlacementDecision>> {
  const { events } = await engine.run({ attributes: profile.attributes, computed: profile.computed ?? {}, recentEvents: profile.recentEvents ?? [], segments: Object.keys(memberships) });
  const eligible = new Set(events.map((e) => (e.params as { offerId: string }).offerId));
  return decide({ caps }, catalog, profile, memberships, request, now, { isEligible: (compiled) => eligible.has(compiled.offer.id) });
}

// --- the run -------------------------------------------------------------------------------------------------------

/** What must agree between the two: the chosen offers (with scores and caps hit) of every decision. */
function chosenDigest(decision: Record<string, PlacementDecision>): string {
  return PLACEMENT_IDS.map((p) => {
    const d = decision[p];
    return `${p}:${d.offers.map((o) => `${o.offerId}@${o.score}`).join(',')}|capped:${d.explanation.filter((l) => l.capped).map((l) => `${l.offerId}/${l.capped}`).join(',')}`;
  }).join(' ');
}
/** The eligible offer set per placement, compared on a sample. */
function eligibleDigest(decision: Record<string, PlacementDecision>): string {
  return PLACEMENT_IDS.map((p) => `${p}:${decision[p].explanation.filter((l) => l.eligible && l.reason !== 'fallback').map((l) => l.offerId).join(',')}`).join(' ');
}

type Decider = (input: BenchProfile) => Promise<Record<string, PlacementDecision>>;

interface Pass {
  latenciesUs: Float64Array;
  totalSeconds: number;
  chosen: string[];
  eligible: Map<number, string>;
  eligibleCount: number;
  fallbacks: number;
  capped: number;
}

async function timedPass(decider: Decider, profiles: readonly BenchProfile[], count: number): Promise<Pass> {
  const latenciesUs = new Float64Array(count);
  const chosen: string[] = new Array(count);
  const eligible = new Map<number, string>();
  let totalNs = 0;
  let eligibleCount = 0;
  let fallbacks = 0;
  let capped = 0;
  for (let i = 0; i < count; i++) {
    const input = profiles[i % profiles.length];
    const start = process.hrtime.bigint();
    const decision = await decider(input);
    const ns = Number(process.hrtime.bigint() - start);
    totalNs += ns;
    latenciesUs[i] = ns / 1000;
    // Bookkeeping outside the timed part.
    chosen[i] = chosenDigest(decision);
    if (i % SAMPLE_EVERY === 0) eligible.set(i, eligibleDigest(decision));
    for (const p of PLACEMENT_IDS) {
      const d = decision[p];
      if (d.fallback) fallbacks++;
      for (const l of d.explanation) {
        if (l.eligible && l.reason !== 'fallback') eligibleCount++;
        if (l.capped) capped++;
      }
    }
  }
  return { latenciesUs, totalSeconds: totalNs / 1e9, chosen, eligible, eligibleCount, fallbacks, capped };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round1 = (x: number) => Number(x.toFixed(1));

export const decisions: Benchmark = {
  name: 'decisions',
  async run(): Promise<Figure[]> {
    const catalog = generateCatalog();
    const profiles = generateProfiles();
    const offers = [...new Map(PLACEMENT_IDS.flatMap((p) => catalog.candidates(p)).map((c) => [c.offer.id, c.offer])).values()];
    const engine = baselineEngine(offers, NOW_MS);
    const candidatesPerDecision = PLACEMENT_IDS.reduce((n, p) => n + catalog.candidates(p).length, 0);

    const compiled = (caps: CapStore): Decider => (input) => decide({ caps }, catalog, input.profile, input.memberships, REQUEST, NOW);
    const baseline = (caps: CapStore): Decider => (input) => baselineDecide(engine, caps, catalog, input, REQUEST, NOW);

    // Warm-up (JIT, jsonpath caches) on throw-away cap stores; the timed passes start from empty counters.
    await timedPass(compiled(new MemoryCapStore()), profiles, WARMUP);
    await timedPass(baseline(new MemoryCapStore()), profiles, BASELINE_WARMUP);
    const ours = await timedPass(compiled(new MemoryCapStore()), profiles, DECISIONS);
    const theirs = await timedPass(baseline(new MemoryCapStore()), profiles, BASELINE_DECISIONS);

    // Same work or the figures compare nothing: the same eligible sets on the sample, the same offers chosen every time.
    for (const [i, digest] of ours.eligible) {
      if (i >= BASELINE_DECISIONS) break;
      if (theirs.eligible.get(i) !== digest) throw new Error(`decisions bench: eligible offers differ in decision ${i}:\n  decide:            ${digest.slice(0, 400)}\n  json-rules-engine: ${theirs.eligible.get(i)?.slice(0, 400)}`);
    }
    for (let i = 0; i < BASELINE_DECISIONS; i++) {
      if (ours.chosen[i] !== theirs.chosen[i]) throw new Error(`decisions bench: chosen offers differ in decision ${i}:\n  decide:            ${ours.chosen[i]}\n  json-rules-engine: ${theirs.chosen[i]}`);
    }
    if (ours.capped === 0 || ours.fallbacks === DECISIONS * PLACEMENT_IDS.length) throw new Error(`decisions bench: ${ours.capped} capped, ${ours.fallbacks} fallbacks; the data proves nothing`);

    const sortedOurs = Float64Array.from(ours.latenciesUs).sort();
    const sortedTheirs = Float64Array.from(theirs.latenciesUs).sort();
    const shape = `${OFFERS.toLocaleString('en')} offers over ${PLACEMENT_IDS.length} placements (${candidatesPerDecision} offer×placement candidates per decision), rules of 2–4 conditions (attribute in/greater/between, computed count and sum, event conditions over the recent-events window, segment references), 90% with a ranking formula, 20% capped; ${PROFILES.toLocaleString('en')} profiles cycled, ${DECISIONS.toLocaleString('en')} decisions one after another on one core, each for ${PLACEMENT_IDS.length} placements × ${REQUEST.count} offers; mean ${round1(ours.eligibleCount / DECISIONS)} eligible candidates per decision, ${ours.capped.toLocaleString('en')} cap refusals, ${ours.fallbacks.toLocaleString('en')} placement fallbacks in total`;
    const base = `Baseline: the same decisions with eligibility from one json-rules-engine Engine holding all ${offers.filter((o) => o.eligibility !== undefined).length} offer rules (one run per decision), same validity check, formulas, ranking and cap logic, on the first ${BASELINE_DECISIONS.toLocaleString('en')} decisions of the same sequence (it is that slow); chosen offers equal in all of them, eligible sets equal on every ${SAMPLE_EVERY}th`;
    return [
      withBaseline({
        name: 'decisions/in-process-decisions-per-second',
        value: Math.round(DECISIONS / ours.totalSeconds),
        unit: 'decisions/s',
        baseline: Math.round(BASELINE_DECISIONS / theirs.totalSeconds),
        note: `${shape}. ${base}. Rate from the summed per-decision times (bookkeeping between decisions not timed)`,
      }),
      withBaseline({ name: 'decisions/in-process-p50', value: round1(percentile(sortedOurs, 50)), unit: 'µs', baseline: round1(percentile(sortedTheirs, 50)), note: 'per-decision latency, same run; baseline: json-rules-engine eligibility' }),
      withBaseline({ name: 'decisions/in-process-p99', value: round1(percentile(sortedOurs, 99)), unit: 'µs', baseline: round1(percentile(sortedTheirs, 99)), note: 'per-decision latency, same run; baseline: json-rules-engine eligibility' }),
    ];
  },
};
