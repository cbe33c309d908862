import type { CapCarryOver } from '../decisions/ports';
import type { MembershipStore, Memberships, PendingTransitions } from '../segments/ports';
import type { Enrollment, EnrollmentStore, JourneyRecord } from './ports';

/** Conditional writes lost to a concurrent writer before the carry-over gives up (the event is then retried). */
const MAX_ATTEMPTS = 5;

export class MergeCarryOverError extends Error {
  override readonly name = 'MergeCarryOverError';
}

export interface CarryOverDeps {
  enrollments: EnrollmentStore;
  /** Without it (no streaming segmentation), memberships stay where they are. */
  memberships?: MembershipStore;
  /** Without it (no decisioning wired), per-profile cap history stays with the absorbed id. */
  caps?: CapCarryOver;
  /** Frequency-cap slots of governance rules (counted in `caps` of the result). */
  sendCaps?: CapCarryOver;
}

export interface CarriedOver {
  /** Journeys whose latest run of an absorbed profile is now the survivor's latest run. */
  enrollments: string[];
  /** Absorbed profiles whose memberships (and pending transitions) were folded into the survivor's. */
  memberships: string[];
  /** Per-profile cap items folded into the survivor's. */
  caps: number;
}

/**
 * Carries what the runtime keeps per profile from absorbed profiles into the survivor of a merge, so that the merged
 * person is not treated as new: a journey's re-entrance policy sees the absorbed profile's latest run, the segments it
 * was in are not entered (and announced, and journeys started) again, its pending transitions are announced by the
 * survivor's next evaluation, and offer caps count its proposals.
 *
 * Idempotent (a retried event, a merge announced twice): the later run wins, memberships are a union, cap times a set.
 * Conditional single-item writes only; a lost race is re-read and retried.
 */
export async function carryOverMerge(
  deps: CarryOverDeps,
  journeys: readonly JourneyRecord[],
  survivorId: string,
  absorbedIds: readonly string[],
): Promise<CarriedOver> {
  const carried: CarriedOver = { enrollments: [], memberships: [], caps: 0 };
  for (const absorbedId of absorbedIds) {
    if (absorbedId === survivorId) continue;
    for (const record of journeys) {
      // Parallel runs (`always`) have no latest run to carry: re-entrance never reads it.
      if (record.journey.settings.reentry === 'always') continue;
      const moved = await carryEnrollment(deps.enrollments, record.journey.id, survivorId, absorbedId);
      if (moved) carried.enrollments.push(record.journey.id);
    }
    const moved = deps.memberships !== undefined && (await carryMemberships(deps.memberships, survivorId, absorbedId));
    if (moved) carried.memberships.push(absorbedId);
    if (deps.caps) carried.caps += await deps.caps.carryOver(absorbedId, survivorId);
    if (deps.sendCaps) carried.caps += await deps.sendCaps.carryOver(absorbedId, survivorId);
  }
  return carried;
}

/** Makes the absorbed profile's run the survivor's latest, unless the survivor's own is as late. */
async function carryEnrollment(
  store: EnrollmentStore,
  journeyId: string,
  survivorId: string,
  absorbedId: string,
): Promise<boolean> {
  const theirs = await store.get(journeyId, absorbedId);
  if (theirs === undefined) return false;
  const carried: Enrollment = { ...theirs, profileId: survivorId };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const ours = await store.get(journeyId, survivorId);
    const sameOrLater = ours !== undefined && (ours.executionName === theirs.executionName || Date.parse(ours.enteredAt) >= Date.parse(theirs.enteredAt));
    if (sameOrLater) return false;
    if (await store.replace(carried, ours?.executionName)) return true;
  }
  throw new MergeCarryOverError(
    `journey ${journeyId}: the enrollment of ${survivorId} kept changing while carrying ${absorbedId}'s`,
  );
}

/**
 * Folds the absorbed profile's memberships (earliest entry per segment) and pending transitions into the survivor's,
 * then empties the absorbed profile's (so a repeat finds nothing to carry). A crash in between carries them again: a
 * union, and pending transitions are announced at least once anyway.
 */
async function carryMemberships(store: MembershipStore, survivorId: string, absorbedId: string): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const theirs = await store.get(absorbedId);
    if (Object.keys(theirs.segments).length === 0 && theirs.pending === undefined) return false;
    const ours = await store.get(survivorId);
    const segments: Memberships = { ...ours.segments };
    for (const [segmentId, at] of Object.entries(theirs.segments)) {
      const mine = Object.hasOwn(segments, segmentId) ? segments[segmentId] : undefined;
      if (mine === undefined || Date.parse(at) < Date.parse(mine)) segments[segmentId] = at;
    }
    const pending = combinePending(ours.pending, theirs.pending);
    if (!(await store.put(survivorId, segments, ours.version, pending))) continue;
    if (await store.put(absorbedId, {}, theirs.version)) return true;
  }
  throw new MergeCarryOverError(`memberships of ${survivorId} or ${absorbedId} kept changing during the carry-over`);
}

function combinePending(
  ours: PendingTransitions | undefined,
  theirs: PendingTransitions | undefined,
): PendingTransitions | undefined {
  if (ours === undefined || theirs === undefined) return ours ?? theirs;
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    entered: union(ours.entered, theirs.entered),
    exited: union(ours.exited, theirs.exited),
    cause: ours.cause,
    at: ours.at > theirs.at ? ours.at : theirs.at,
  };
}
