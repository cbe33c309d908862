import { successors } from '../journey/graph';
import type { Journey, JourneyNode } from '../journey/schema';
import { COUNTER, type CounterDimensions, type CounterName, type CounterTotal } from './counters';
import { daysBetween } from './keys';
import { compareArms, ratio, sampleRatioMismatch, type Comparison, type Figure, type SampleRatioCheck } from './stats';

/**
 * A journey's report from its counters for a window of days (metric definitions: lambdas/core/measure/README.md).
 * Pure: the counters are read by the caller (JourneyCounters.read), the statistics are stats.ts.
 */

export const EXIT_REASONS = ['completed', 'exit-criteria', 'timeout', 'erased', 'failed', 'preempted'] as const;
export const HOLDOUT = 'holdout';

export interface Engagement {
  total: number;
  human: number;
  machine: number;
}

export interface NodeReport {
  id: string;
  kind: string;
  /** Runs that reached the node: the `reached` counter, or for a send node the sum of its outcomes. */
  reached: Figure<{ value: number }>;
  sent: number;
  suppressed: { total: number; byReason: Record<string, number> };
  failed: { total: number; byReason: Record<string, number> };
  delivered: number;
  bounced: number;
  /** SMS its carrier did not deliver, by the carrier's status (BLOCKED, INVALID, TTL_EXPIRED…). */
  undelivered: { total: number; byReason: Record<string, number> };
  complained: number;
  opened: Engagement;
  clicked: Engagement;
}

export interface ArmReport {
  id: string;
  /** The arm's share of assignments as declared (percent or weight). */
  weight: number;
  entries: number;
  conversions: number;
  conversionRate: Figure<{ value: number }>;
  revenue: number;
}

export interface ExperimentReport {
  /** `campaign-control-group`, `campaign-split`: a campaign run's (lambdas/core/campaigns/run-report.ts). */
  kind: 'journey-holdout' | 'split' | 'campaign-control-group' | 'campaign-split';
  /** The split node (absent for the journey holdout). */
  node?: string;
  arms: ArmReport[];
  /** The arm every other is compared with: the holdout, else variant `a` (else the first variant). */
  control: string;
  sampleRatio: Figure<SampleRatioCheck>;
  comparisons: ({ variant: string; against: string } & Omit<Comparison, 'control' | 'treatment'> & { incrementalConversions: Figure<{ value: number }> })[];
}

/** The journey's graph, for a diagram of the report (entry, nodes with a short label, labelled edges). */
export interface ReportDiagram {
  entry: string;
  start: string;
  nodes: { id: string; kind: string; label: string; edges: { target: string; label?: string }[] }[];
}

export interface JourneyReport {
  journeyId: string;
  name: string;
  diagram: ReportDiagram;
  from: string;
  to: string;
  entered: number;
  exited: { total: number; byReason: Record<string, number> };
  nodes: NodeReport[];
  goal: Figure<{
    event: string;
    converted: number;
    conversionRate: Figure<{ value: number }>;
    revenue: number;
    averageOrderValue: Figure<{ value: number }>;
    revenuePerRecipient: Figure<{ value: number }>;
    convertedAfterClick: number;
    averageSecondsToConvert: Figure<{ value: number }>;
  }>;
  experiments: ExperimentReport[];
  /** Per day of the window: entries and conversions (journey level). */
  days: { day: string; entered: number; converted: number }[];
}

type Match = Partial<Record<keyof CounterDimensions, string | null>>;

/** Sums the counters of a name whose dimensions match (a value, or null for "absent"). */
function sum(totals: readonly CounterTotal[], name: CounterName, match: Match = {}, day?: string): number {
  let s = 0;
  for (const t of totals) {
    if (t.name !== name || (day !== undefined && t.day !== day)) continue;
    let ok = true;
    for (const [dim, want] of Object.entries(match) as [keyof CounterDimensions, string | null][]) {
      const have = Object.hasOwn(t.dims, dim) ? t.dims[dim] : undefined;
      if (want === null ? have !== undefined : have !== want) ok = false;
    }
    if (ok) s += t.value;
  }
  return s;
}

function byDim(totals: readonly CounterTotal[], name: CounterName, match: Match, dim: keyof CounterDimensions): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  for (const t of totals) {
    if (t.name !== name) continue;
    if (!Object.entries(match).every(([d, v]) => (Object.hasOwn(t.dims, d) ? t.dims[d as keyof CounterDimensions] : undefined) === v)) continue;
    const key = (Object.hasOwn(t.dims, dim) ? t.dims[dim] : undefined) ?? 'unspecified';
    out[key] = (out[key] ?? 0) + t.value;
  }
  return out;
}

const engagement = (totals: readonly CounterTotal[], name: CounterName, node: string): Engagement => ({
  total: sum(totals, name, { node }),
  human: sum(totals, name, { node, agent: 'human' }),
  machine: sum(totals, name, { node, agent: 'machine' }),
});

function nodeReport(totals: readonly CounterTotal[], node: { id: string; kind: string }): NodeReport {
  const id = node.id;
  const sent = sum(totals, COUNTER.sent, { node: id });
  const suppressed = byDim(totals, COUNTER.suppressed, { node: id }, 'reason');
  const failed = byDim(totals, COUNTER.failed, { node: id }, 'reason');
  const undelivered = byDim(totals, COUNTER.undelivered, { node: id }, 'reason');
  const total = (r: Record<string, number>) => Object.values(r).reduce((s, v) => s + v, 0);
  const counted = totals.some((t) => t.name === COUNTER.reached && t.dims.node === id);
  const reached: Figure<{ value: number }> = counted
    ? { available: true, value: sum(totals, COUNTER.reached, { node: id }) }
    : node.kind === 'send'
      ? { available: true, value: sent + total(suppressed) + total(failed) }
      : { available: false, reason: `not counted: only send nodes record an outcome per run (this is a ${node.kind} node)` };
  return {
    id,
    kind: node.kind,
    reached,
    sent,
    suppressed: { total: total(suppressed), byReason: suppressed },
    failed: { total: total(failed), byReason: failed },
    delivered: sum(totals, COUNTER.delivered, { node: id }),
    bounced: sum(totals, COUNTER.bounced, { node: id }),
    undelivered: { total: total(undelivered), byReason: undelivered },
    complained: sum(totals, COUNTER.complained, { node: id }),
    opened: engagement(totals, COUNTER.opened, id),
    clicked: engagement(totals, COUNTER.clicked, id),
  };
}

/** A split node as the split feature declares it (read loosely: the node kind may be newer than this module). */
interface SplitShape {
  id: string;
  variants: { id: string; weight: number }[];
  holdout?: { weight: number };
}

function splitOf(node: unknown): SplitShape | undefined {
  const n = node as { id?: unknown; kind?: unknown; variants?: unknown; holdout?: unknown };
  if (n.kind !== 'split' || typeof n.id !== 'string' || !Array.isArray(n.variants)) return undefined;
  const variants = n.variants.filter((v): v is { id: string; weight: number } => typeof v?.id === 'string' && typeof v?.weight === 'number');
  const holdout = n.holdout as { weight?: unknown } | undefined;
  return { id: n.id, variants, ...(typeof holdout?.weight === 'number' ? { holdout: { weight: holdout.weight } } : {}) };
}

/** Arms compared with the control arm: sample ratio, uplift with its intervals (journeys and campaign runs alike). */
export function experiment(kind: ExperimentReport['kind'], node: string | undefined, arms: ArmReport[], control: string): ExperimentReport {
  const sampleRatio = sampleRatioMismatch(arms.map((a) => a.entries), arms.map((a) => a.weight));
  const base = arms.find((a) => a.id === control)!;
  const others = arms.filter((a) => a.id !== control);
  const compared = compareArms({ entries: base.entries, conversions: base.conversions }, others.map((a) => ({ entries: a.entries, conversions: a.conversions })));
  return {
    kind,
    ...(node === undefined ? {} : { node }),
    arms,
    control,
    sampleRatio,
    comparisons: compared.map(({ control: _c, treatment: _t, ...c }, i) => {
      const seq = c.sequential;
      // Conversions the treatment caused: its entries times the rate difference (with the always-valid interval).
      const incrementalConversions: Figure<{ value: number }> = seq.available ? { available: true, value: seq.difference * others[i].entries } : seq;
      return { variant: others[i].id, against: control, ...c, incrementalConversions };
    }),
  };
}

function arm(totals: readonly CounterTotal[], id: string, weight: number, entries: number, match: Match): ArmReport {
  const conversions = sum(totals, COUNTER.converted, match);
  return { id, weight, entries, conversions, conversionRate: ratio(conversions, entries, 'entries'), revenue: sum(totals, COUNTER.revenue, match) };
}

export function buildReport(journey: Journey, totals: readonly CounterTotal[], from: string, to: string): JourneyReport {
  const entered = sum(totals, COUNTER.entered);
  const exitedByReason = byDim(totals, COUNTER.exited, {}, 'reason');
  for (const reason of EXIT_REASONS) exitedByReason[reason] ??= 0;
  const journeyLevel: Match = { node: null };
  const converted = sum(totals, COUNTER.converted, journeyLevel);
  const revenue = sum(totals, COUNTER.revenue, journeyLevel);
  const goal: JourneyReport['goal'] = journey.goal
    ? {
        available: true,
        event: journey.goal.event,
        converted,
        conversionRate: ratio(converted, entered, 'entries'),
        revenue,
        averageOrderValue: ratio(revenue, converted, 'conversions'),
        revenuePerRecipient: ratio(revenue, entered, 'entries'),
        convertedAfterClick: sum(totals, COUNTER.convertedAfterClick, journeyLevel),
        averageSecondsToConvert: ratio(sum(totals, COUNTER.secondsToConvert, journeyLevel), converted, 'conversions'),
      }
    : { available: false, reason: 'the journey declares no goal' };

  const experiments: ExperimentReport[] = [];
  const holdout = journey.settings.holdout;
  if (holdout) {
    const held = sum(totals, COUNTER.entered, { variant: HOLDOUT });
    experiments.push(
      experiment(
        'journey-holdout',
        undefined,
        [arm(totals, HOLDOUT, holdout.percent, held, { node: null, variant: HOLDOUT }), {
          ...arm(totals, 'journey', 100 - holdout.percent, entered - held, { node: null }),
          // The journey arm: every journey-level conversion except the holdout's.
          conversions: converted - sum(totals, COUNTER.converted, { node: null, variant: HOLDOUT }),
          revenue: revenue - sum(totals, COUNTER.revenue, { node: null, variant: HOLDOUT }),
        }].map((a) => ({ ...a, conversionRate: ratio(a.conversions, a.entries, 'entries') })),
        HOLDOUT,
      ),
    );
  }
  for (const split of journey.nodes.map(splitOf).filter((s): s is SplitShape => s !== undefined)) {
    const arms = split.variants.map((v) => arm(totals, v.id, v.weight, sum(totals, COUNTER.assigned, { node: split.id, variant: v.id }), { node: split.id, variant: v.id }));
    if (split.holdout) arms.push(arm(totals, HOLDOUT, split.holdout.weight, sum(totals, COUNTER.assigned, { node: split.id, variant: HOLDOUT }), { node: split.id, variant: HOLDOUT }));
    const control = split.holdout ? HOLDOUT : (arms.find((a) => a.id === 'a') ?? arms[0])?.id;
    if (control !== undefined && arms.length >= 2) experiments.push(experiment('split', split.id, arms, control));
  }

  return {
    journeyId: journey.id,
    name: journey.name,
    diagram: reportDiagram(journey),
    from,
    to,
    entered,
    exited: { total: Object.values(exitedByReason).reduce((s, v) => s + v, 0), byReason: { ...exitedByReason } },
    nodes: journey.nodes.map((n) => nodeReport(totals, n)),
    goal,
    experiments,
    days: daysBetween(from, to).map((day) => ({ day, entered: sum(totals, COUNTER.entered, {}, day), converted: sum(totals, COUNTER.converted, journeyLevel, day) })),
  };
}

function nodeLabel(node: JourneyNode): string {
  const n = node as { kind: string; channel?: string; duration?: string; until?: string; events?: string[]; placement?: string };
  if (n.kind === 'send') return `send ${n.channel}`;
  if (n.kind === 'wait') return n.duration !== undefined ? `wait ${n.duration}` : `wait until ${n.until}`;
  if (n.kind === 'wait-for-event') return `wait for ${(n.events ?? []).join(' or ')}`;
  if (n.kind === 'decide') return `decide ${n.placement}`;
  return n.kind;
}

/** The node's edges; a split read loosely (its kind may be newer than graph.ts on this branch). */
function edgesOf(node: JourneyNode): { target: string; label?: string }[] {
  const loose = node as { kind: string; variants?: { id?: unknown; next?: unknown }[] };
  if (loose.kind === 'split') {
    return (loose.variants ?? []).filter((v) => typeof v.next === 'string').map((v) => ({ target: v.next as string, label: String(v.id) }));
  }
  return successors(node).map((e) => ({ target: e.target, ...(e.label === undefined ? {} : { label: e.label }) }));
}

export function reportDiagram(journey: Journey): ReportDiagram {
  const entry = journey.entry.kind === 'event' ? `on ${journey.entry.event}` : journey.entry.kind === 'segment' ? `enters ${journey.entry.segment}` : 'API trigger';
  return {
    entry,
    start: journey.start,
    nodes: journey.nodes.map((node) => ({
      id: node.id,
      kind: node.kind,
      label: nodeLabel(node),
      edges: edgesOf(node),
    })),
  };
}
