import { campaignExecutionId } from './keys';
import { createHash } from 'node:crypto';
import { unitHash } from '../measure/assignment';
import type { Clock, Ledger, LedgerRecord, Profile, ProfileStore } from '../runtime/ports';
import { compileRule } from '../segments/compile';
import type { Evaluator } from '../segments/context';
import { ruleDependencies } from '../segments/dependencies';
import type { MembershipStore } from '../segments/ports';
import { parseDuration } from '../shared/duration';
import { loadCampaign, type CampaignLookup } from './audience';
import {
  RUN_COUNTER,
  type AudienceFiles,
  type AudienceRow,
  type BatchResult,
  type CampaignRuns,
  type CampaignStepPayload,
  type RunContext,
} from './contract';
import type { Campaign, SplitStep } from './schema';
import { assignBranches, type CampaignConversionStore } from './conversions';
import { goalMatches } from '../measure/conversions';

/**
 * A split step's Distributed Map child: assigns each member of its batch to a branch and writes one part per branch
 * (`runs/<c>/<r>/parts/<step>/<branch>/<batch hash>.jsonl`, the same key when the batch is retried), counted once per
 * batch. Branch ids: a percent split's variant ids and `holdout`; a rule split's branch ids and `otherwise`; an
 * engagement split's `yes` and `no`.
 */

export type BatchPayload = Extract<CampaignStepPayload, { action: 'deliver' | 'split' | 'enter-journey' }>;

export const HOLDOUT_BRANCH = 'holdout';
export const OTHERWISE_BRANCH = 'otherwise';
export const ENGAGED_BRANCH = 'yes';
export const NOT_ENGAGED_BRANCH = 'no';

export interface SplitDeps extends CampaignLookup {
  runs: Pick<CampaignRuns, 'get' | 'addOnce'>;
  files: Pick<AudienceFiles, 'writeRows'>;
  /** Rule splits and `converted`: the member's profile with its recent events. */
  profiles: Pick<ProfileStore, 'get'>;
  /** Rule splits whose rules test segment membership. */
  memberships: Pick<MembershipStore, 'get'>;
  /** Engagement splits: the member's ledger entry of the referenced deliver step in this run. */
  ledger: Pick<Ledger, 'get'>;
  clock: Clock;
  /** A campaign with a goal: a percent split records each member's branch on its conversion window. */
  campaignConversions?: Pick<CampaignConversionStore, 'assign'>;
}

/** Members evaluated at once within a batch (each reads its profile or ledger entry). */
const CONCURRENCY = 16;

/** The ledger `executionId` of a campaign run's messages to one member (the one key of keys.ts). */
export function campaignLedgerId(run: Pick<RunContext, 'campaignId' | 'runId'>, profileId: string): string {
  return campaignExecutionId(run.campaignId, run.runId, profileId);
}

/** A batch's name: a hash of its members, so a retried batch writes the same keys and counts once. */
export function batchHash(items: readonly AudienceRow[]): string {
  return createHash('sha256').update(items.map((i) => i.profileId).join('\n')).digest('hex').slice(0, 20);
}

/** The key of a split batch's part for one branch. */
export function splitPartKey(run: RunContext, step: string, branch: string, hash: string): string {
  return `${run.prefix}parts/${step}/${branch}/${hash}.jsonl`;
}

/** The variant of a percent split for this member: stable per campaign, step and profile; weights are relative. */
export function percentBranch(
  campaignId: string,
  stepId: string,
  split: Extract<SplitStep, { by: 'percent' }>,
  profileId: string,
): string {
  const total = split.variants.reduce((sum, v) => sum + v.weight, 0) + (split.holdout?.weight ?? 0);
  const point = unitHash('campaign-split', campaignId, stepId, profileId) * total;
  let upTo = 0;
  for (const variant of split.variants) {
    upTo += variant.weight;
    if (point < upTo) return variant.id;
  }
  return split.holdout ? HOLDOUT_BRANCH : split.variants[split.variants.length - 1].id;
}

/**
 * Did the member engage with its delivery as the split asks? `converted`: the goal event after the delivery, within
 * the goal's window.
 */
export function engaged(
  engagement: Extract<SplitStep, { by: 'engagement' }>['engagement'],
  entry: Pick<LedgerRecord, 'status' | 'preparedAt' | 'openedAt' | 'clickedAt'> | undefined,
  goal: Campaign['goal'],
  profile: Pick<Profile, 'recentEvents'> | undefined,
): boolean {
  // A click implies the message was opened (image blocking hides many opens).
  const opened = entry?.openedAt !== undefined || entry?.clickedAt !== undefined;
  switch (engagement) {
    case 'opened':
      return opened;
    case 'clicked':
      return entry?.clickedAt !== undefined;
    case 'not-opened':
      return !opened;
    case 'converted': {
      if (!entry || !goal || entry.status === 'suppressed' || entry.status === 'failed') return false;
      const from = Date.parse(entry.preparedAt);
      const until = from + parseDuration(goal.within) * 1000;
      return (profile?.recentEvents ?? []).some((e) => {
        const at = Date.parse(e.time);
        return e.type === goal.event && at >= from && at <= until && goalMatches(goal, e);
      });
    }
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A member's branch, or undefined when its profile no longer exists (erased since the audience was read). */
type Assign = (row: AudienceRow) => Promise<string | undefined>;

function assigner(deps: SplitDeps, campaign: Campaign, run: RunContext, stepId: string, split: SplitStep): Assign {
  switch (split.by) {
    case 'percent':
      return async (row) => percentBranch(campaign.id, stepId, split, row.profileId);
    case 'rule': {
      const branches = split.branches.map((b) => ({ id: b.id, evaluate: compileRule(b.rule) as Evaluator }));
      const readsMemberships = split.branches.some((b) => ruleDependencies(b.rule).segments.length > 0);
      return async (row) => {
        const profile = await deps.profiles.get(row.profileId);
        if (!profile) return undefined;
        let memberships: Record<string, string> = {};
        if (readsMemberships) memberships = profile.segments ?? (await deps.memberships.get(profile.id)).segments;
        const context = { now: deps.clock.now().getTime(), memberships: new Set(Object.keys(memberships)) };
        return branches.find((b) => b.evaluate(profile, context))?.id ?? OTHERWISE_BRANCH;
      };
    }
    case 'engagement': {
      const delivery = Object.hasOwn(campaign.steps, split.step) ? campaign.steps[split.step] : undefined;
      const items = delivery?.kind === 'deliver' && delivery.forEach ? delivery.forEach.max : 0;
      return async (row) => {
        const entry = await deliveryEntry(deps, campaignLedgerId(run, row.profileId), split.step, items);
        let profile: Profile | undefined;
        if (split.engagement === 'converted' && entry) {
          profile = await deps.profiles.get(row.profileId);
          if (!profile) return undefined;
        }
        return engaged(split.engagement, entry, campaign.goal, profile) ? ENGAGED_BRANCH : NOT_ENGAGED_BRANCH;
      };
    }
  }
}

type Delivery = Pick<LedgerRecord, 'status' | 'preparedAt' | 'openedAt' | 'clickedAt'>;

/**
 * The member's delivery by a step: its ledger entry, or for a `forEach` step (entries `<step>#<index>`, from 0 on) the
 * items' entries as one: opened or clicked when any was, sent at the first one's time.
 */
async function deliveryEntry(
  deps: Pick<SplitDeps, 'ledger'>,
  executionId: string,
  step: string,
  items: number,
): Promise<Delivery | undefined> {
  if (items === 0) return (await deps.ledger.get(executionId, step)) as LedgerRecord | undefined;
  const entries: LedgerRecord[] = [];
  for (let i = 0; i < items; i++) {
    const entry = (await deps.ledger.get(executionId, `${step}#${i}`)) as LedgerRecord | undefined;
    if (!entry) break;
    entries.push(entry);
  }
  if (entries.length === 0) return undefined;
  const out = entries.filter((e) => e.status !== 'failed' && e.status !== 'suppressed');
  const first = (out.length > 0 ? out : entries).reduce((a, b) => (a.preparedAt <= b.preparedAt ? a : b));
  return {
    status: first.status,
    preparedAt: first.preparedAt,
    openedAt: entries.find((e) => e.openedAt !== undefined)?.openedAt,
    clickedAt: entries.find((e) => e.clickedAt !== undefined)?.clickedAt,
  };
}

/**
 * The `split` action. A paused run answers `paused` (cursor 0: the batch is assigned whole when resumed), a cancelled
 * one `cancelled`; otherwise every member is assigned, each branch's members written to its part, and `assigned`
 * counted per branch once per batch.
 */
export async function splitBatch(deps: SplitDeps, payload: BatchPayload): Promise<BatchResult> {
  const { run, step, items } = payload;
  const result = (status: BatchResult['status'], cursor?: number): BatchResult => ({
    status,
    ...(cursor === undefined ? {} : { cursor }),
    paceSeconds: 0,
    run,
    step,
    items,
  });
  const record = await deps.runs.get(run.campaignId, run.runId);
  if (!record) throw new Error(`campaign "${run.campaignId}" has no run "${run.runId}"`);
  if (record.status === 'paused') return result('paused', 0);
  if (record.status === 'cancelled' || record.status === 'cancelling') return result('cancelled');

  const campaign = await loadCampaign(deps, run.campaignId);
  const split = Object.hasOwn(campaign.steps, step) ? campaign.steps[step] : undefined;
  if (split?.kind !== 'split') throw new Error(`campaign "${campaign.id}" has no split step "${step}"`);
  const assign = assigner(deps, campaign, run, step, split);
  const branches = await mapLimit(items, CONCURRENCY, assign);

  const byBranch = new Map<string, AudienceRow[]>();
  items.forEach((row, i) => {
    const branch = branches[i];
    if (branch === undefined) return;
    const rows = byBranch.get(branch) ?? [];
    rows.push(row);
    byBranch.set(branch, rows);
  });
  if (split.by === 'percent' && deps.campaignConversions) {
    const members = items.flatMap((row, i) => (branches[i] === undefined ? [] : [{ profileId: row.profileId, branch: branches[i] }]));
    await assignBranches(deps.campaignConversions, campaign, run, step, members);
  }
  const hash = batchHash(items);
  const ordered = [...byBranch.keys()].sort();
  for (const branch of ordered) {
    await deps.files.writeRows(splitPartKey(run, step, branch, hash), byBranch.get(branch) ?? []);
  }
  const counts = ordered.map((branch) => ({
    step,
    name: RUN_COUNTER.assigned,
    dim: branch,
    value: byBranch.get(branch)?.length ?? 0,
  }));
  if (counts.length > 0) await deps.runs.addOnce(run.campaignId, run.runId, `split/${step}/${hash}`, counts);
  return result('done');
}
