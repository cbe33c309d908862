/**
 * Journey counters: the contract between what counts (router, send step, engagement events, conversions) and what
 * reads them (reports, metrics). Counters are per journey, per UTC day, per name and dimensions; the adapter shards
 * them so one journey takes thousands of increments per second, and a report reads a bounded number of items.
 * Callers make their increments once per fact (a conditional write decides "first time"), the store only adds.
 */

export const COUNTER = {
  /** A profile entered the journey (dims: variant `holdout` for the journey holdout, else none). */
  entered: 'entered',
  /** A run ended (dims.reason: completed | exit-criteria | timeout | erased | failed | preempted). */
  exited: 'exited',
  /** A node was reached (dims.node). */
  reached: 'reached',
  /** A message was handed to the provider (dims.node, dims.channel). */
  sent: 'sent',
  /** A message was not sent (dims.node, dims.channel, dims.reason). */
  suppressed: 'suppressed',
  /** The provider refused it, or its outcome is unknown (dims.node, dims.channel, dims.reason failed|unknown). */
  failed: 'failed',
  /** Engagement, unique per message (dims.node, dims.channel, dims.variant; dims.agent human|machine for opens/clicks). */
  delivered: 'delivered',
  bounced: 'bounced',
  /** An SMS its carrier did not deliver, once per message (dims.node, dims.channel, dims.reason: the carrier status). */
  undelivered: 'undelivered',
  complained: 'complained',
  opened: 'opened',
  clicked: 'clicked',
  /** A goal conversion, at most one per entry (dims.variant: split variant or `holdout`; `node` of the split). */
  converted: 'converted',
  /** Revenue of conversions (the goal's `value`), same dims as `converted`. */
  revenue: 'revenue',
  /** Conversions that followed a click on one of the run's messages. */
  convertedAfterClick: 'converted-after-click',
  /** Sum of seconds from entry to conversion (average = this / converted). */
  secondsToConvert: 'seconds-to-convert',
  /** Entries assigned to a split variant (dims.node, dims.variant; `holdout` for the split's holdout). */
  assigned: 'assigned',
} as const;
export type CounterName = (typeof COUNTER)[keyof typeof COUNTER];

export interface CounterDimensions {
  node?: string;
  channel?: string;
  variant?: string;
  reason?: string;
  agent?: 'human' | 'machine';
}

export interface CounterIncrement {
  journeyId: string;
  /** UTC day the fact is bucketed by, `YYYY-MM-DD` (see the metric definitions for which time each uses). */
  day: string;
  name: CounterName;
  dims?: CounterDimensions;
  /** Default 1; revenue and seconds add their amount. */
  by?: number;
}

export interface CounterTotal {
  day: string;
  name: CounterName;
  dims: CounterDimensions;
  value: number;
}

export interface JourneyCounters {
  add(increments: readonly CounterIncrement[]): Promise<void>;
  /** Every counter of the journey for the days from..to (inclusive, UTC), shards summed. */
  read(journeyId: string, fromDay: string, toDay: string): Promise<CounterTotal[]>;
}

/** The UTC day of an ISO timestamp or Date. */
export const utcDay = (at: string | Date): string => (typeof at === 'string' ? new Date(at) : at).toISOString().slice(0, 10);
