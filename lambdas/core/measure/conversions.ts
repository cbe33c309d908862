import type { BusinessEvent } from '../events/business-event';
import type { Journey } from '../journey/schema';
import type { JourneyRecord } from '../runtime/ports';
import { parseDuration } from '../shared/duration';
import { readPath } from '../shared/paths';
import { conditionPaths, evaluateCondition } from '../journey/condition-eval';
import { HOLDOUT, type Assignment } from './assignment';
import { COUNTER, utcDay, type CounterDimensions, type CounterIncrement, type JourneyCounters } from './counters';

/**
 * One entry's conversion window: opened when a profile enters a journey that has a goal, kept until the window ends
 * (whether the run is still going or not), converted at most once.
 */
export interface GoalWindow {
  journeyId: string;
  profileId: string;
  executionId: string;
  /** The goal as it was when the profile entered (a later version's goal does not change open windows). */
  goal: Journey['goal'] & {};
  enteredAt: string;
  /** enteredAt + goal.within. */
  until: string;
  holdout: boolean;
  /** The run's variant of each split node, by node id. */
  variants: Record<string, string>;
}

export interface Conversion {
  at: string;
  eventId: string;
  /** The goal event's value, when it is a number. */
  revenue?: number;
}

/** Conversion windows, in the runtime table under the profile (erasure removes them with the profile's other items). */
export interface ConversionStore {
  open(window: GoalWindow): Promise<void>;
  /** The windows of these entries of a profile for a goal event type that were open at `at`: the newest `limit` entries. */
  openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<GoalWindow[]>;
  /** Marks the window converted; false when it already was (a conditional write: one conversion per entry). */
  convert(window: GoalWindow, conversion: Conversion): Promise<boolean>;
  /** Whether the run's ledger shows a click (`clickedAt`, set by engagement events) at or before `at`. */
  clickedBefore(executionId: string, at: string): Promise<boolean>;
}

/** How many of a profile's newest entries per goal event a conversion looks at; and how many merged ids. */
export const CONVERSION_LIMITS = { entriesPerProfile: 50, profileIds: 10 } as const;

/** The dimensions a fact about an entry is counted under: once for the journey (`holdout` or none), once per split. */
export function entryDimensions(holdout: boolean, variants: Record<string, string>): CounterDimensions[] {
  if (holdout) return [{ variant: HOLDOUT }];
  // The journey holdout gets no message in any variant: it is left out of the splits' comparison.
  return [{}, ...Object.keys(variants).sort().map((node) => ({ node, variant: variants[node] }))];
}

export interface EntryMeasureDeps {
  conversions?: ConversionStore;
  counters?: JourneyCounters;
}

/**
 * What a new entry records (once: the caller has just started its run): its conversion window when the journey has a
 * goal, and the counts `entered` (variant `holdout` for the journey holdout) and `assigned` per split.
 */
export async function measureEntry(
  deps: EntryMeasureDeps,
  journey: Journey,
  entry: { profileId: string; executionId: string; at: Date; assignment: Assignment },
): Promise<void> {
  const { profileId, executionId, at, assignment } = entry;
  const enteredAt = at.toISOString();
  if (journey.goal && deps.conversions) {
    const until = new Date(at.getTime() + parseDuration(journey.goal.within) * 1000).toISOString();
    const { holdout, byNode: variants } = assignment;
    await deps.conversions.open({ journeyId: journey.id, profileId, executionId, goal: journey.goal, enteredAt, until, holdout, variants });
  }
  if (!deps.counters) return;
  const day = utcDay(at);
  const entered = { journeyId: journey.id, day, name: COUNTER.entered, dims: assignment.holdout ? { variant: HOLDOUT } : {} };
  const increments: CounterIncrement[] = [entered];
  if (!assignment.holdout) {
    for (const node of Object.keys(assignment.byNode).sort()) {
      increments.push({ journeyId: journey.id, day, name: COUNTER.assigned, dims: { node, variant: assignment.byNode[node] } });
    }
  }
  await deps.counters.add(increments);
}

export interface ConversionDeps {
  conversions: ConversionStore;
  counters?: JourneyCounters;
}

export interface Converted {
  journeyId: string;
  executionId: string;
  revenue?: number;
  afterClick: boolean;
  seconds: number;
}

/** The revenue a goal event carries: the number at the goal's `value` path (finite, not negative), else none. */
export function goalValue(goal: GoalWindow['goal'], event: Pick<BusinessEvent, 'properties'>): number | undefined {
  if (goal.value === undefined) return undefined;
  const value = readPath(event, goal.value);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Does the event satisfy the goal's `condition` (read against `{ event }`)? True without one. */
export function goalMatches(goal: Pick<GoalWindow['goal'], 'condition'>, event: unknown): boolean {
  return goal.condition === undefined || evaluateCondition(goal.condition, { event });
}

/** What is wrong with a goal's condition: it reads the goal event only (`event.…` paths, no segment membership). */
export function goalConditionProblems(goal: Pick<GoalWindow['goal'], 'condition'>): string[] {
  if (goal.condition === undefined) return [];
  return conditionPaths(goal.condition)
    .filter((path) => !path.startsWith('event.'))
    .map((path) => `a goal condition reads the goal event only ("event.…"), not "${path}"`);
}

/**
 * The goal event of journeys' conversions: every entry of the profile (and of profiles merged into it) whose window is
 * open at the event's time converts, once. Counted by entry day (a cohort: conversions / entries of the same days),
 * under the entry's dimensions (entryDimensions): converted, revenue, converted-after-click, seconds-to-convert.
 */
export async function recordConversions(
  deps: ConversionDeps,
  journeys: readonly JourneyRecord[],
  event: BusinessEvent,
  profileIds: readonly string[],
): Promise<Converted[]> {
  if (!journeys.some((r) => r.journey.goal?.event === event.type)) return [];
  const at = new Date(event.time).toISOString();
  const out: Converted[] = [];
  const increments: CounterIncrement[] = [];
  for (const profileId of profileIds.slice(0, CONVERSION_LIMITS.profileIds)) {
    const windows = await deps.conversions.openAt(profileId, event.type, at, CONVERSION_LIMITS.entriesPerProfile);
    for (const window of windows) {
      if (at < window.enteredAt || at > window.until || window.goal.event !== event.type) continue;
      if (!goalMatches(window.goal, event)) continue;
      const revenue = goalValue(window.goal, event);
      const worth = revenue === undefined ? {} : { revenue };
      if (!(await deps.conversions.convert(window, { at, eventId: event.id, ...worth }))) continue;
      const afterClick = await deps.conversions.clickedBefore(window.executionId, at);
      const seconds = Math.max(0, Math.round((Date.parse(at) - Date.parse(window.enteredAt)) / 1000));
      out.push({ journeyId: window.journeyId, executionId: window.executionId, ...worth, afterClick, seconds });
      const day = utcDay(window.enteredAt);
      for (const dims of entryDimensions(window.holdout, window.variants)) {
        const add = (name: CounterIncrement['name'], by: number) =>
          increments.push({ journeyId: window.journeyId, day, name, dims, by });
        add(COUNTER.converted, 1);
        if (revenue !== undefined) add(COUNTER.revenue, revenue);
        if (afterClick) add(COUNTER.convertedAfterClick, 1);
        add(COUNTER.secondsToConvert, seconds);
      }
    }
  }
  if (increments.length > 0 && deps.counters) await deps.counters.add(increments);
  return out;
}
