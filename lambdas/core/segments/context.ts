import type { ComputedStats, RecentEvent } from '../profiles/model';

/** What a rule reads from a profile: the runtime `Profile` satisfies it, and so do compact generated profiles. */
export interface SegmentProfile {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly computed?: Readonly<Record<string, ComputedStats>>;
  /** Newest first, bounded (see `ProfilePolicy.window`); the evaluator does not rely on the order. */
  readonly recentEvents?: readonly RecentEvent[];
}

export interface EvaluationContext {
  /** Epoch milliseconds: relative dates and event windows are measured from it. */
  readonly now: number;
  /** Segments the profile is currently a member of (for `segment` conditions). */
  readonly memberships: ReadonlySet<string>;
}

export type Evaluator = (profile: SegmentProfile, context: EvaluationContext) => boolean;
