import { own } from '../shared/records';
import { COUNTER, type CounterIncrement, type CounterName, type JourneyCounters } from './counters';

/**
 * CloudWatch metrics of the journey counters: each increment the store accepted is emitted once as one metric (the
 * counting sites count once, so the metrics are once too). Core decides names and dimension sets; the emitter
 * (Powertools EMF in lambdas/shared/powertools.ts) only writes them.
 */

/** The metric of each counter; `null`: report-only (derived, or an average's numerator), not emitted. */
export const JOURNEY_METRIC = {
  entered: 'Entered',
  exited: 'Exited',
  reached: null,
  sent: 'Sent',
  suppressed: 'Suppressed',
  failed: 'Failed',
  delivered: 'Delivered',
  bounced: 'Bounced',
  undelivered: 'Undelivered',
  complained: 'Complained',
  opened: 'Opened',
  clicked: 'Clicked',
  converted: 'Converted',
  revenue: 'Revenue',
  'converted-after-click': null,
  'seconds-to-convert': null,
  assigned: 'Assigned',
} as const satisfies Record<CounterName, string | null>;
export type JourneyMetricName = NonNullable<(typeof JOURNEY_METRIC)[CounterName]>;

/** Dimension names. Never the profile, the message or the run: each distinct value is a metric billed on its own. */
export const METRIC_DIMENSION = { journey: 'Journey', node: 'Node', variant: 'Variant', reason: 'Reason' } as const;

/** The dimensions a set adds to `Journey` (every set has it). */
export type ExtraDimensions = Partial<Record<'Node' | 'Variant' | 'Reason', string>>;

export interface JourneyMetric {
  name: JourneyMetricName;
  unit: 'Count' | 'None';
  value: number;
  journeyId: string;
  /** Each set is `Journey` plus these; `{}` is the journey-level set `[Journey]`. */
  dimensionSets: ExtraDimensions[];
}

export type JourneyMetricEmitter = (metric: JourneyMetric) => void;

/**
 * Counters whose increments with a `node` repeat a journey-level increment for a split (conversions are counted once
 * for the journey and once per split of the entry): emitted under [Journey, Node, Variant] only, never [Journey].
 */
const PER_SPLIT: ReadonlySet<CounterName> = new Set([COUNTER.converted, COUNTER.revenue, COUNTER.assigned]);
/**
 * Engagement: per journey and node, not per variant (the report compares variants; five names × variants × journeys
 * of custom metrics would cost more than the panel is worth). The journey holdout's `Variant` stays on entries and
 * conversions.
 */
const ENGAGEMENT: ReadonlySet<CounterName> = new Set([
  COUNTER.delivered, COUNTER.bounced, COUNTER.undelivered, COUNTER.complained, COUNTER.opened, COUNTER.clicked,
]);
/** Counters with a bounded `reason` worth a set of its own (exit reasons, suppression reasons: fixed lists in code). */
const BY_REASON: ReadonlySet<CounterName> = new Set([COUNTER.exited, COUNTER.suppressed]);

/**
 * A dimension value CloudWatch takes: ASCII, no control characters, at least one non-whitespace character, at most
 * 1,024 (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html); we bound it at 255.
 */
const DIMENSION_VALUE = /^(?=.*[^ ])[\x20-\x7e]{1,255}$/;
const usable = (value: unknown): value is string => typeof value === 'string' && DIMENSION_VALUE.test(value);

/**
 * The metric of one increment, or undefined when it has none (report-only counter, a journey id CloudWatch would
 * refuse, an amount that is not a finite non-negative number). A node, variant or reason CloudWatch would refuse
 * drops only the sets that need it.
 */
export function journeyMetric(inc: CounterIncrement): JourneyMetric | undefined {
  const name = own<string | null>(JOURNEY_METRIC, inc.name);
  const value = inc.by ?? 1;
  if (!name || !usable(inc.journeyId) || typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  const dims = inc.dims ?? {};
  const node = usable(dims.node) ? dims.node : undefined;
  const variant = usable(dims.variant) ? dims.variant : undefined;
  const reason = usable(dims.reason) ? dims.reason : undefined;
  const sets: ExtraDimensions[] = [];
  if (inc.name === COUNTER.assigned || (PER_SPLIT.has(inc.name) && dims.node !== undefined)) {
    if (node && variant) sets.push({ Node: node, Variant: variant });
  } else {
    sets.push({});
    if (node) sets.push({ Node: node });
    if (variant && !ENGAGEMENT.has(inc.name)) sets.push({ Variant: variant });
    if (reason && BY_REASON.has(inc.name)) sets.push({ Reason: reason });
  }
  if (sets.length === 0) return undefined;
  const unit = inc.name === COUNTER.revenue ? 'None' : 'Count';
  return { name: name as JourneyMetricName, unit, value, journeyId: inc.journeyId, dimensionSets: sets };
}

/**
 * The counters, and after the inner store has added a batch, one metric per increment. A failed add emits nothing
 * (the caller retries or the fact is not counted); a failing emitter never fails the add, it is reported to `onError`.
 */
export function metricJourneyCounters(
  inner: JourneyCounters,
  emit: JourneyMetricEmitter,
  onError: (error: unknown) => void = () => {},
): JourneyCounters {
  return {
    async add(increments) {
      await inner.add(increments);
      for (const inc of increments) {
        try {
          const metric = journeyMetric(inc);
          if (metric) emit(metric);
        } catch (error) {
          onError(error);
        }
      }
    },
    read: (journeyId, fromDay, toDay) => inner.read(journeyId, fromDay, toDay),
  };
}
