import { Engine } from 'json-rules-engine';
import { compileRule } from '../lambdas/core/segments/compile';
import type { EvaluationContext, SegmentProfile } from '../lambdas/core/segments/context';
import { referenceEvaluate } from '../lambdas/core/segments/reference';
import { Rule } from '../lambdas/core/segments/rule';
import type { RecentEvent } from '../lambdas/core/profiles/model';
import { type Benchmark, type Figure, withBaseline } from './types';
import { mulberry32 } from './random';

/**
 * Batch segment evaluation (issue 4), in memory on one core: the compiled evaluator over PROFILES generated profiles,
 * against json-rules-engine evaluating the same rule on the same profiles in the same run (every one by default; it is
 * async and far slower, so SEGMENT_BENCH_BASELINE_PROFILES can shrink it to the first n for a quick run).
 */
const PROFILES = Number(process.env.SEGMENT_BENCH_PROFILES ?? 1_000_000);
const BASELINE_PROFILES = Math.min(PROFILES, Number(process.env.SEGMENT_BENCH_BASELINE_PROFILES ?? PROFILES));
/** The reference interpreter is timed on this many (it only shows what compiling buys; agreement is checked on all). */
const REFERENCE_SAMPLE = Math.min(PROFILES, 100_000);
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-15T12:00:00.000Z');

/** Gold or platinum, in Germany, lifetime order total above 100, signed up within a year, 2+ orders over 50 in 30 days. */
export const benchRule = Rule.parse({
  kind: 'all',
  rules: [
    { kind: 'in', field: { kind: 'attribute', name: 'tier' }, values: ['gold', 'platinum'] },
    { kind: 'equals', field: { kind: 'attribute', name: 'country' }, value: 'DE' },
    { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 100 },
    { kind: 'withinLast', field: { kind: 'attribute', name: 'signedUpAt' }, duration: '365d' },
    { kind: 'event', type: 'order.placed', within: '30d', atLeast: 2, where: [{ kind: 'greater', property: 'total', value: 50 }] },
  ],
});

/**
 * Profiles are distinct objects (attributes, computed), but their time strings and recent-event windows come from
 * shared pools so a million of them fit in a few hundred MiB; the evaluator cannot tell.
 */
export function generateProfiles(count: number, seed = 42): SegmentProfile[] {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const times = Array.from({ length: 4096 }, () => new Date(NOW - Math.floor(random() * 730 * DAY)).toISOString());
  const windows: RecentEvent[][] = Array.from({ length: 8192 }, (_, w) =>
    Array.from({ length: Math.floor(random() * 8) }, (_, i) => {
      const time = new Date(NOW - Math.floor(random() * 45 * DAY)).toISOString();
      return { id: `e${w}-${i}`, type: pick(['order.placed', 'order.placed', 'cart.updated', 'page.viewed']), time, source: 'shop', properties: { total: Math.floor(random() * 120), sku: 'SKU-1' }, receivedAt: time };
    }).sort((a, b) => (a.time < b.time ? 1 : -1)),
  );
  const tiers = ['bronze', 'silver', 'gold', 'platinum'];
  const countries = ['DE', 'DE', 'FR', 'AT'];
  const profiles: SegmentProfile[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const seen = pick(times);
    profiles[i] = {
      attributes: { tier: pick(tiers), country: pick(countries), signedUpAt: pick(times), email: `p${i}@example.com` },
      computed: { 'order.placed': { count: 1 + Math.floor(random() * 20), firstSeen: seen, lastSeen: seen, sums: { total: Math.floor(random() * 400) } } },
      recentEvents: pick(windows),
    };
  }
  return profiles;
}

/** The same rule the way a json-rules-engine user writes it: paths on facts, custom operators for the time-relative parts. */
function baselineEngine(now: number): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator<string, { from: number; to: number }>('withinRange', (fact, range) => {
    const t = typeof fact === 'string' ? Date.parse(fact) : NaN;
    return t >= range.from && t <= range.to;
  });
  type Count = { type: string; from: number; to: number; minTotal: number; atLeast: number };
  engine.addOperator<RecentEvent[], Count>('eventCountAtLeast', (events, c) => {
    let count = 0;
    for (const e of events ?? []) {
      const t = Date.parse(e.time);
      if (e.type === c.type && t >= c.from && t <= c.to && typeof e.properties.total === 'number' && e.properties.total > c.minTotal) count++;
    }
    return count >= c.atLeast;
  });
  engine.addRule({
    conditions: {
      all: [
        { fact: 'attributes', path: '$.tier', operator: 'in', value: ['gold', 'platinum'] },
        { fact: 'attributes', path: '$.country', operator: 'equal', value: 'DE' },
        { fact: 'computed', path: "$['order.placed'].sums.total", operator: 'greaterThan', value: 100 },
        { fact: 'attributes', path: '$.signedUpAt', operator: 'withinRange', value: { from: now - 365 * DAY, to: now } },
        { fact: 'recentEvents', operator: 'eventCountAtLeast', value: { type: 'order.placed', from: now - 30 * DAY, to: now, minTotal: 50, atLeast: 2 } },
      ],
    },
    event: { type: 'member' },
  });
  return engine;
}

function rssMiB(): number {
  return process.memoryUsage().rss / 1_048_576;
}

export const segments: Benchmark = {
  name: 'segments',
  async run(): Promise<Figure[]> {
    // maxRSS is the process's peak: earlier benchmarks of the same `npm run bench` may have set it.
    const maxRssBefore = process.resourceUsage().maxRSS / 1024;
    let peakRss = rssMiB();
    const profiles = generateProfiles(PROFILES);
    peakRss = Math.max(peakRss, rssMiB());
    const context: EvaluationContext = { now: NOW, memberships: new Set() };
    const evaluate = compileRule(benchRule);

    // Warm up, then the best of three passes over every profile.
    let matches = 0;
    for (let i = 0; i < Math.min(PROFILES, 100_000); i++) if (evaluate(profiles[i], context)) matches++;
    let best = Infinity;
    for (let pass = 0; pass < 3; pass++) {
      matches = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < profiles.length; i++) if (evaluate(profiles[i], context)) matches++;
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
      peakRss = Math.max(peakRss, rssMiB());
    }
    const compiledRate = PROFILES / best;
    // The peak of the compiled run itself (generation included), before the baseline allocates its own garbage.
    const compiledMaxRss = process.resourceUsage().maxRSS / 1024;
    const peakFromMax = compiledMaxRss > maxRssBefore;

    const engine = baselineEngine(NOW);
    const baselineResults = new Uint8Array(BASELINE_PROFILES);
    const baselineStart = process.hrtime.bigint();
    for (let i = 0; i < BASELINE_PROFILES; i++) {
      const p = profiles[i];
      const { events } = await engine.run({ attributes: p.attributes, computed: p.computed, recentEvents: p.recentEvents });
      baselineResults[i] = events.length > 0 ? 1 : 0;
    }
    const baselineRate = BASELINE_PROFILES / (Number(process.hrtime.bigint() - baselineStart) / 1e9);

    const referenceStart = process.hrtime.bigint();
    for (let i = 0; i < REFERENCE_SAMPLE; i++) referenceEvaluate(benchRule, profiles[i], context);
    const referenceRate = REFERENCE_SAMPLE / (Number(process.hrtime.bigint() - referenceStart) / 1e9);

    // The three evaluators must agree profile by profile, or the figures compare different work.
    let baselineMatches = 0;
    for (let i = 0; i < BASELINE_PROFILES; i++) {
      const compiled = evaluate(profiles[i], context);
      const reference = referenceEvaluate(benchRule, profiles[i], context);
      if (compiled !== (baselineResults[i] === 1) || compiled !== reference) {
        throw new Error(`segments bench: evaluators disagree on profile ${i}: compiled ${compiled}, json-rules-engine ${baselineResults[i] === 1}, reference ${reference}`);
      }
      if (compiled) baselineMatches++;
    }
    if (baselineMatches === 0 || baselineMatches === BASELINE_PROFILES) throw new Error(`segments bench: the rule matched ${baselineMatches} of ${BASELINE_PROFILES} profiles; the data proves nothing`);
    const maxRss = process.resourceUsage().maxRSS / 1024;

    const count = PROFILES.toLocaleString('en');
    const baselineCount = BASELINE_PROFILES === PROFILES ? `the same ${count} profiles` : `the first ${BASELINE_PROFILES.toLocaleString('en')} of the same profiles`;
    return [
      withBaseline({
        name: 'segments/batch-compiled-profiles-per-second',
        value: Math.round(compiledRate),
        unit: 'profiles/s',
        baseline: Math.round(baselineRate),
        note: `5-condition rule (in, equals, computed sum, withinLast 365d, order.placed ≥2 in 30d where total > 50; the first two each pass about half the profiles, all short-circuits) over ${count} profiles, one core, best of 3; ${matches.toLocaleString('en')} matched. Baseline: json-rules-engine on ${baselineCount}, same run (async; ${baselineMatches.toLocaleString('en')} matched, equal to the compiled and reference results profile by profile)`,
      }),
      { name: 'segments/batch-reference-profiles-per-second', value: Math.round(referenceRate), unit: 'profiles/s', note: `the reference interpreter (tree walk per profile) on the first ${REFERENCE_SAMPLE.toLocaleString('en')} profiles` },
      {
        name: 'segments/batch-peak-rss',
        value: Math.round(peakFromMax ? compiledMaxRss : peakRss),
        unit: 'MiB',
        note: `${peakFromMax ? 'process peak RSS (maxRSS)' : 'RSS sampled after generation and each pass (an earlier benchmark of this process set a higher maxRSS; BENCH_ONLY=segments measures maxRSS)'} through generating ${count} profiles and evaluating them compiled (sampled peak ${Math.round(peakRss)} MiB); the whole process including earlier work: ${Math.round(maxRss)} MiB after the json-rules-engine baseline`,
      },
    ];
  },
};
