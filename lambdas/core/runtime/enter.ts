import { createHash } from 'node:crypto';
import type { BusinessEvent } from '../events/business-event';
import type { ExecutionInput } from '../journey/asl';
import { evaluateCondition } from '../journey/condition-eval';
import { executionArnOf, startArn } from '../journey/registry-item';
import { parseDuration } from '../shared/duration';
import { membershipKey } from '../segments/catalog';
import { jsonBytes, RUN_DATA_LIMITS, runEvent, runProfile } from './execution-data';
import type { Clock, EnrollmentStore, Executions, JourneyRecord, JourneyRegistry, Profile } from './ports';
import { arbitrateExclusive } from '../governance/exclusive';
import { enrollmentRuns } from '../governance/runs';
import type { ActiveRun } from '../governance/ports';
import { assignEntry } from '../measure/assignment';
import { measureEntry, type EntryMeasureDeps } from '../measure/conversions';
import type { JourneyCounters } from '../measure/counters';

export type EntryOutcome =
  /** `preempted`: runs of lower-priority journeys of the same exclusive group, stopped for this one. */
  | { status: 'started'; journeyId: string; executionArn: string; executionName: string; preempted?: ActiveRun[] }
  /** A run of a journey of the same exclusive group with the same or a higher priority holds the profile. */
  | { status: 'skipped'; journeyId: string; reason: 'exclusive'; heldBy: ActiveRun }
  | { status: 'already-started'; journeyId: string; executionArn: string; executionName: string }
  | { status: 'skipped'; journeyId: string; reason: 'already-active' | 'reentry-never' | 'reentry-period' | 'concurrent-entry' }
  /** The start input would pass its budget (see execution-data.ts): this journey is not entered, the others are. */
  | { status: 'skipped'; journeyId: string; reason: 'input-too-large'; bytes: number };

/**
 * Execution names are deterministic: the same entry (journey, profile, event id) always gets the same name,
 * so a retried or duplicated event cannot start a journey twice (Step Functions refuses a second run of a name).
 */
export function executionName(journeyId: string, profileId: string, entryId: string): string {
  const digest = createHash('sha256').update(`${journeyId}\n${profileId}\n${entryId}`).digest('hex').slice(0, 28);
  return `${journeyId}--${digest}`;
}

/**
 * How long after its enrollment a run counts as active even if its execution cannot be found yet: the window between
 * the enrollment write and StartExecution of a concurrent entry. A re-entry within it is refused.
 */
export const STARTING_GRACE_MS = 60_000;

/** The ARN of the run named `name`, whether `stateMachineArn` is the state machine, its alias or one of its versions. */
export function executionArnFor(stateMachineArn: string, name: string): string {
  return executionArnOf(stateMachineArn, name);
}

/** Does this journey start on this event (type, source and condition on event and profile)? */
export function entryMatches(record: JourneyRecord, event: BusinessEvent, profile: Profile): boolean {
  const entry = record.journey.entry;
  if (entry.kind !== 'event' || entry.event !== event.type) return false;
  if (entry.source !== undefined && entry.source !== event.source) return false;
  return entry.condition === undefined || evaluateCondition(entry.condition, { event, profile });
}

export interface EnterDeps extends EntryMeasureDeps {
  enrollments: EnrollmentStore;
  executions: Executions;
  clock: Clock;
  /** The journeys, for exclusive groups (`settings.exclusive`); without it groups are not enforced. */
  journeys?: Pick<JourneyRegistry, 'list'>;
  /** Counts `entered` once per run started (absent: nothing is counted, e.g. in unit tests of routing alone). */
  counters?: JourneyCounters;
}

/** The profile as a step that reloads it returns it (the start input carries `runProfile`, ids only). */
export function profileSnapshot(profile: Profile): ExecutionInput['profile'] {
  const snapshot: ExecutionInput['profile'] = { id: profile.id, attributes: profile.attributes, identities: profile.identities };
  if (profile.segments !== undefined) snapshot.segments = Object.fromEntries(Object.entries(profile.segments).map(([id, at]) => [membershipKey(id), at]));
  return snapshot;
}

/** Enters a profile into a journey, honouring the journey's re-entrance policy; safe to retry. */
export async function enterJourney(
  deps: EnterDeps,
  record: JourneyRecord,
  profile: Profile,
  entry: { id: string; event: unknown; context: Record<string, unknown> },
): Promise<EntryOutcome> {
  const journeyId = record.journey.id;
  const name = executionName(journeyId, profile.id, entry.id);
  // The journey holdout and every split's variant: a hash of the profile (stable across runs), decided here.
  const assignment = assignEntry(record.journey, profile.id);
  const input: ExecutionInput = {
    journey: { id: journeyId, version: record.version },
    profileId: profile.id,
    profile: runProfile(profile),
    event: runEvent(entry.event),
    context: entry.context,
    steps: {},
    ...(assignment.holdout ? { holdout: true } : {}),
    ...(Object.keys(assignment.variants).length > 0 ? { variants: assignment.variants } : {}),
  };
  // Checked before the enrollment is written, so an oversized entry neither starts nor blocks a later one.
  const bytes = jsonBytes(input);
  if (bytes > RUN_DATA_LIMITS.maxInputBytes) return { status: 'skipped', journeyId, reason: 'input-too-large', bytes };
  let preempted: ActiveRun[] = [];
  if (record.journey.settings.exclusive !== undefined && deps.journeys) {
    const verdict = await arbitrateExclusive({ ...deps, journeys: deps.journeys, runs: enrollmentRuns(deps) }, record.journey, profile.id);
    if (!verdict.enter) return { status: 'skipped', journeyId, reason: 'exclusive', heldBy: verdict.heldBy };
    preempted = verdict.preempted;
  }
  const policy = record.journey.settings.reentry;
  // Whether this call made the entry (its enrollment write): a duplicate of the event, racing it, starts the same
  // execution, which Step Functions answers as started too (same name and input), and must not count twice.
  let enrolled = policy === 'always';
  if (policy !== 'always') {
    const enrollment = { journeyId, profileId: profile.id, executionName: name, executionArn: executionArnFor(record.stateMachineArn, name), enteredAt: deps.clock.now().toISOString() };
    // First entry: one conditional write, no read. Otherwise read the latest run and apply the policy.
    enrolled = await deps.enrollments.replace(enrollment, undefined);
    if (!enrolled) {
      const current = await deps.enrollments.get(journeyId, profile.id);
      if (current && current.executionName !== name) {
        if (policy === 'never') return { status: 'skipped', journeyId, reason: 'reentry-never' };
        // A run whose execution does not exist yet may be one a concurrent entry is starting right now.
        const starting = deps.clock.now().getTime() - Date.parse(current.enteredAt) < STARTING_GRACE_MS;
        if (starting || (await deps.executions.isRunning(current.executionArn))) return { status: 'skipped', journeyId, reason: 'already-active' };
        if (typeof policy === 'object') {
          const allowedAt = Date.parse(current.enteredAt) + parseDuration(policy.after) * 1000;
          if (deps.clock.now().getTime() < allowedAt) return { status: 'skipped', journeyId, reason: 'reentry-period' };
        }
        if (!(await deps.enrollments.replace(enrollment, current.executionName))) return { status: 'skipped', journeyId, reason: 'concurrent-entry' };
        enrolled = true;
      }
    }
  }
  // On the `live` alias: the run stays on the version it started on, whatever later deploys publish.
  const started = await deps.executions.start(startArn(record), name, input);
  // Once per entry: only the call that made the entry (its enrollment write) and started its run counts it, by the
  // start's day (the day $$.Execution.StartTime names, which the send steps bucket by). A crash between enrollment,
  // start and count loses one entry; a repeat of the start counts none.
  if (started.started && enrolled) await measureEntry(deps, record.journey, { profileId: profile.id, executionId: started.executionArn, at: deps.clock.now(), assignment });
  if (policy === 'always' && started.started) {
    const timeoutSeconds = parseDuration(record.journey.settings.timeout);
    await deps.enrollments.recordRun(
      { journeyId, profileId: profile.id, executionName: name, executionArn: started.executionArn, enteredAt: deps.clock.now().toISOString() },
      Math.floor(deps.clock.now().getTime() / 1000) + timeoutSeconds + 86400,
    );
  }
  if (!started.started) return { status: 'already-started', journeyId, executionArn: started.executionArn, executionName: name };
  return { status: 'started', journeyId, executionArn: started.executionArn, executionName: name, ...(preempted.length > 0 ? { preempted } : {}) };
}
