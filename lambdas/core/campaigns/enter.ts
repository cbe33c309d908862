import { enterJourney, type EnterDeps } from '../runtime/enter';
import { NotFoundError } from '../runtime/errors';
import type { JourneyRegistry, Profile, ProfileStore } from '../runtime/ports';
import { PROFILE_ERASED } from '../runtime/send';
import { own } from '../shared/records';
import { runBatch, type BatchPayload, type StepCount } from './batch';
import { RUN_COUNTER, type AudienceRow, type BatchResult, type CampaignRegistry, type CampaignRuns } from './contract';

/**
 * The `enter-journey` step's batch: starts the step's journey for each member through the journeys' own entry
 * (`enterJourney`: re-entry rules, enrollments, exclusive groups, the journey holdout and split variants, its entered
 * count), as an API trigger would. The entry id is the run's, so a retried batch starts no run twice (execution
 * names are deterministic; Step Functions refuses a second start of a name).
 */

export interface EnterJourneyDeps extends EnterDeps {
  campaigns: Pick<CampaignRegistry, 'get'>;
  runs: Pick<CampaignRuns, 'get' | 'add' | 'addOnce'>;
  /** `getMany`, when there, reads a window's profiles in one go (`get` one by one without it). */
  profiles: Pick<ProfileStore, 'get' | 'getMany'>;
  /** The journey named by the step (and, for exclusive groups, every journey). */
  journeys: Pick<JourneyRegistry, 'get' | 'list'>;
  /** Members worked on at once within a batch. @default BATCH_LIMITS.concurrency */
  concurrency?: number;
}

export type EnterJourneyPayload = BatchPayload & { action?: 'enter-journey' };

/** Not entered because the journey does not start by API (only API-entry journeys can be entered by a campaign). */
export const NOT_API_ENTRY = 'not-api-entry';

/** The entry id of a campaign run's entries (one per run: a recurring campaign enters a member once per occurrence). */
export const campaignEntryId = (campaignId: string, runId: string) => `campaign:${campaignId}:${runId}`;

/**
 * One batch of the enter-journey step. Counts `entered` once per run started, `not-entered` by reason (the
 * journeys' skip reasons, `profile-erased`, `not-api-entry`); a dry run counts `would-enter` and starts nothing.
 * No write makes `not-entered` and `would-enter` facts: they are counted once per window (`StepCount.once`), so a
 * retried batch does not count them again.
 */
export async function enterJourneyBatch(deps: EnterJourneyDeps, payload: EnterJourneyPayload): Promise<BatchResult> {
  const { run } = payload;
  const registered = await deps.campaigns.get(run.campaignId);
  if (!registered) throw new NotFoundError(`campaign "${run.campaignId}" is not registered`);
  const step = own(registered.campaign.steps, payload.step);
  if (!step || step.kind !== 'enter-journey') {
    throw new NotFoundError(`campaign "${run.campaignId}" has no enter-journey step "${payload.step}"`);
  }
  const record = await deps.journeys.get(step.journey);
  // Validated against the catalog when deployed; a journey removed since fails the run with a clear error.
  if (!record) throw new NotFoundError(`journey "${step.journey}" of step "${payload.step}" is not deployed`);
  const entryId = campaignEntryId(run.campaignId, run.runId);
  const notEntered = (reason: string): StepCount => ({ name: RUN_COUNTER.notEntered, dim: reason, once: true });

  type Loaded = Map<string, Profile | undefined>;
  const load = async (rows: readonly AudienceRow[]): Promise<Loaded> => {
    const ids = [...new Set(rows.map((r) => r.profileId))];
    const found = deps.profiles.getMany ? await deps.profiles.getMany(ids, { recentEvents: false }) : undefined;
    return new Map(found ? ids.map((id, i) => [id, found[i]]) : []);
  };
  const member = async (row: AudienceRow, count: (c: StepCount) => void, loaded?: Loaded): Promise<number> => {
    const profile = loaded?.has(row.profileId)
      ? loaded.get(row.profileId)
      : await deps.profiles.get(row.profileId, { recentEvents: false });
    if (!profile) {
      count(notEntered(PROFILE_ERASED));
      return 0;
    }
    if (record.journey.entry.kind !== 'api') {
      count(notEntered(NOT_API_ENTRY));
      return 0;
    }
    if (run.dryRun) {
      count({ name: RUN_COUNTER.wouldEnter, dim: '', once: true });
      return 0;
    }
    const time = deps.clock.now().toISOString();
    const properties = { campaignId: run.campaignId, runId: run.runId, step: payload.step };
    const source = 'waymark.campaign';
    const event = { id: entryId, type: 'journey.triggered', source, time, identities: {}, properties };
    // The journey's templates and conditions read the campaign as `context.campaign`, the row's data as `context.row`.
    const context = { campaign: properties, ...(row.data === undefined ? {} : { row: row.data }) };
    const outcome = await enterJourney(deps, record, profile, { id: entryId, event, context });
    switch (outcome.status) {
      case 'started':
        count({ name: RUN_COUNTER.entered, dim: '' });
        return 1;
      case 'already-started':
        // A retried batch: this member's run was started (and counted) by the first attempt.
        return 0;
      case 'skipped':
        count(notEntered(outcome.reason));
        return 0;
    }
  };
  return runBatch({ deps, payload, member, load });
}
