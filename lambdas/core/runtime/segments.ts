import type { SegmentCatalog } from '../segments/cached-catalog';
import type { EvaluationScope } from '../segments/engine';
import { segmentTransitionEvent, type EvaluationCause } from '../segments/events';
import type { MembershipStore, PendingTransitions } from '../segments/ports';
import { enterJourney, type EntryOutcome } from './enter';
import { COUNTER, utcDay, type JourneyCounters } from '../measure/counters';
import type { ConversionStore } from '../measure/conversions';
import type { Clock, EnrollmentStore, EventPublisher, Executions, JourneyRecord, Profile, ProfileStore } from './ports';

export interface SegmentRuntimeDeps {
  segments: SegmentCatalog;
  memberships: MembershipStore;
  profiles: Pick<ProfileStore, 'get'>;
  publisher: EventPublisher;
  enrollments: EnrollmentStore;
  executions: Executions;
  clock: Clock;
  counters?: JourneyCounters;
  /** The conversion windows of the journeys it enters (passed on to `enterJourney`, as the router's). */
  conversions?: ConversionStore;
}

export interface SegmentUpdate {
  /** Segment rules run. */
  evaluated: number;
  entered: string[];
  exited: string[];
  /** Memberships afterwards (undefined when nothing was evaluated and they were not read). */
  memberships?: Record<string, string>;
  /** Journeys started because the profile entered their segment. */
  entries: EntryOutcome[];
  /** Runs stopped by an exit criterion: journey id and execution. */
  stopped: { journeyId: string; executionArn: string }[];
}

const MAX_ATTEMPTS = 5;

/**
 * Re-evaluates a profile's segments in `scope`, then for each change: announces `SegmentEntered` / `SegmentExited` on the
 * bus, starts journeys that enter on the segment, stops runs whose exit criteria name it.
 *
 * The memberships are written first, with the transitions as `pending` (an outbox), so that a journey started on a
 * segment already sees the membership; then the transitions are announced and acted on, then `pending` is cleared.
 * A failure in between leaves `pending` set, and the next evaluation of the profile (a retry, the next event, the
 * re-check) announces it again before anything else: at least once, and entries are idempotent by execution name.
 * When another evaluation of the same profile wrote in between, the evaluation is repeated on what it wrote.
 */
export async function updateSegments(
  deps: SegmentRuntimeDeps,
  journeys: readonly JourneyRecord[],
  profile: Profile,
  scope: EvaluationScope,
  cause: EvaluationCause,
): Promise<SegmentUpdate> {
  const engine = await deps.segments.engine();
  const scoped = engine.resolve(scope);
  const update: SegmentUpdate = { evaluated: 0, entered: [], exited: [], entries: [], stopped: [] };
  let subject = profile;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let state = await deps.memberships.get(profile.id);
    if (state.pending !== undefined) {
      // An earlier evaluation stored transitions it may not have announced.
      await announce(deps, journeys, { ...profile, segments: state.segments }, state.pending, update);
      if (!(await deps.memberships.put(profile.id, state.segments, state.version))) continue;
      state = { segments: state.segments, version: state.version + 1 };
    }
    // A profile never evaluated (new, or segments added since) is evaluated against every segment once: a segment
    // true of an empty profile (`not` an event, `notEquals` an unset attribute) must not wait for the re-check.
    const first = state.version === 0;
    const ids = first ? engine.resolve('all') : scoped;
    if (ids.length === 0) return update;
    if (engine.readsEvents(ids) && subject.recentEvents === undefined) subject = (await deps.profiles.get(profile.id, { recentEvents: true })) ?? profile;
    const now = deps.clock.now();
    const at = now.toISOString();
    const result = engine.evaluateResolved(subject, state.segments, ids, now.getTime(), at);
    update.evaluated += result.evaluated;
    update.memberships = result.memberships;
    const transitions = result.entered.length > 0 || result.exited.length > 0;
    const changed = transitions || Object.keys(result.memberships).length !== Object.keys(state.segments).length;
    if (!changed && !first) return update;
    if (!transitions) {
      // Dropped memberships of deleted segments, or the first evaluation with no membership: written, nothing to announce.
      if (!(await deps.memberships.put(profile.id, result.memberships, state.version))) continue;
      return update;
    }
    const pending: PendingTransitions = { entered: result.entered, exited: result.exited, cause, at };
    if (!(await deps.memberships.put(profile.id, result.memberships, state.version, pending))) continue;
    await announce(deps, journeys, { ...profile, segments: result.memberships }, pending, update);
    // Clearing may lose to a concurrent writer: it then holds `pending` itself and announces it again (idempotently).
    await deps.memberships.put(profile.id, result.memberships, state.version + 1);
    update.entered = result.entered;
    update.exited = result.exited;
    return update;
  }
  throw new Error(`segment memberships of profile ${profile.id} kept changing during evaluation (${MAX_ATTEMPTS} attempts)`);
}

async function announce(deps: SegmentRuntimeDeps, journeys: readonly JourneyRecord[], profile: Profile, pending: PendingTransitions, update: SegmentUpdate): Promise<void> {
  const { entered, exited, cause, at } = pending;
  const events = [
    ...entered.map((id) => ({ id, event: segmentTransitionEvent('entered', id, profile, cause, at) })),
    ...exited.map((id) => ({ id, event: segmentTransitionEvent('exited', id, profile, cause, at) })),
  ];
  if (events.length === 0) return;
  await deps.publisher.publish(events.map((e) => e.event));
  for (const { id, event } of events.slice(0, entered.length)) {
    for (const record of journeys) {
      const entry = record.journey.entry;
      if (entry.kind === 'segment' && entry.segment === id) update.entries.push(await enterJourney(deps, record, profile, { id: event.id, event, context: {} }));
    }
  }
  for (const id of exited) {
    for (const record of journeys) {
      if (!record.journey.exitCriteria?.some((c) => c.kind === 'segment-exited' && c.segment === id)) continue;
      const enrollment = await deps.enrollments.get(record.journey.id, profile.id);
      if (enrollment === undefined) continue;
      if (await deps.executions.stop(enrollment.executionArn, `exit criteria: profile left segment "${id}"`)) {
        update.stopped.push({ journeyId: record.journey.id, executionArn: enrollment.executionArn });
        // Only the stop that ended the run counts it (stop answers false for a run that had already ended).
        const exit = { journeyId: record.journey.id, day: utcDay(enrollment.enteredAt), name: COUNTER.exited, dims: { reason: 'exit-criteria' } };
        await deps.counters?.add([exit]);
      }
    }
  }
}
