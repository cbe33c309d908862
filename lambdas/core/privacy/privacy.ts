import { onceMarkItemKey, runEndKey } from '../measure/once-marks';
import type { MembershipStore } from '../segments/ports';
import type { Executions, PrivacyProfileStore, ProfileRecord, ProfileRecords, RejectedEventEraser } from '../runtime/ports';
import { profileMentions } from './mentions';
import { COUNTER, utcDay, type JourneyCounters } from '../measure/counters';

export interface PrivacyDeps {
  profiles: PrivacyProfileStore;
  records: ProfileRecords;
  executions: Pick<Executions, 'stop'>;
  /** Rejected events are kept 30 days; those naming the profile go with it. */
  rejected: RejectedEventEraser;
  /** Counts `exited` (reason `erased`) for each run the erasure stopped; the counters hold no personal data. */
  counters?: JourneyCounters;
}

export interface ErasureReport {
  profileId: string;
  /** The profile and every profile merged into it. */
  profileIds: string[];
  stoppedExecutions: string[];
  profileItems: number;
  runtimeItems: number;
  /** Rejected events that mentioned one of the profile's identities. */
  rejectedEvents: number;
}

/** Runtime records fit for an export: task tokens are capabilities, not data about the person. */
function exportable(record: ProfileRecord): Record<string, unknown> {
  const { token: _token, ...rest } = record.item;
  return { kind: record.kind, ...rest };
}

/**
 * Erases a profile everywhere: first its running journeys are stopped (so nothing writes again), then the runtime
 * records (enrollments, runs, waits, send ledger), the rejected events naming it, then the profile, its identities,
 * consent and event records (the profile last: its identities are what finds the rest).
 * Idempotent: a retry after a failure finishes the job. Undefined when no such profile exists.
 */
export async function eraseProfile(deps: PrivacyDeps, profileId: string): Promise<ErasureReport | undefined> {
  const data = await deps.profiles.exportData(profileId);
  if (!data) return undefined;
  const records = (await Promise.all(data.profileIds.map((id) => deps.records.list(id)))).flat();
  const executions = [...new Set(records.map((r) => r.executionId).filter((e): e is string => typeof e === 'string'))];
  const stoppedExecutions: string[] = [];
  for (const executionArn of executions) {
    if (await deps.executions.stop(executionArn, 'profile erased')) stoppedExecutions.push(executionArn);
  }
  await deps.counters?.add(erasedRuns(records, stoppedExecutions));
  // The runs' end marks (count-run-end) name their execution ARNs, not the profile: removed by key.
  await deps.records.remove([...records, ...executions.map((arn) => onceMarkItemKey(runEndKey(arn)))]);
  const rejectedEvents = await deps.rejected.eraseMentioning(profileMentions(data.profile));
  const erased = await deps.profiles.erase(profileId);
  return { profileId: data.profile.id, profileIds: data.profileIds, stoppedExecutions, profileItems: erased?.items ?? 0, runtimeItems: records.length, rejectedEvents };
}

/** An `exited` increment per stopped run, bucketed by its entry day (from its enrollment or run record). */
function erasedRuns(records: readonly ProfileRecord[], stopped: readonly string[]) {
  return stopped.flatMap((executionArn) => {
    const run = records.find((r) => (r.kind === 'enrollment' || r.kind === 'run') && r.item.executionArn === executionArn)?.item;
    if (typeof run?.journeyId !== 'string' || typeof run.enteredAt !== 'string' || !Number.isFinite(Date.parse(run.enteredAt))) return [];
    return [{ journeyId: run.journeyId, day: utcDay(run.enteredAt), name: COUNTER.exited, dims: { reason: 'erased' } }];
  });
}

/** Everything held about a profile, as one JSON document (the data subject's copy). */
/** A decision-log item's record, parsed (it is stored as a JSON string). */
function decisionOf(record: ProfileRecord): unknown {
  const stored = record.item.record;
  return typeof stored === 'string' ? JSON.parse(stored) : exportable(record);
}

export async function exportProfile(deps: Omit<PrivacyDeps, 'executions' | 'rejected'> & { memberships?: Pick<MembershipStore, 'get'> }, profileId: string, exportedAt: string) {
  const data = await deps.profiles.exportData(profileId);
  if (!data) return undefined;
  const records = (await Promise.all(data.profileIds.map((id) => deps.records.list(id)))).flat();
  return {
    exportedAt,
    profile: data.profile,
    mergedProfileIds: data.profileIds.filter((id) => id !== data.profile.id),
    events: data.events,
    journeys: {
      enrollments: records.filter((r) => r.kind === 'enrollment' || r.kind === 'run').map(exportable),
      waiting: records.filter((r) => r.kind === 'wait').map(exportable),
      messages: records.filter((r) => r.kind === 'ledger').map(exportable),
      /** Goal conversion windows of its entries (lambdas/core/measure/README.md). */
      conversions: records.filter((r) => r.kind === 'conversion').map(exportable),
    },
    segments: deps.memberships ? (await deps.memberships.get(data.profile.id)).segments : undefined,
    decisions: records.filter((r) => r.kind === 'decision').map(decisionOf),
    offerProposals: records.filter((r) => r.kind === 'offer-cap').map(exportable),
    /** The sends counted against frequency caps (lambdas/core/governance/README.md). */
    messageCapSlots: records.filter((r) => r.kind === 'send-cap').map(exportable),
  };
}
