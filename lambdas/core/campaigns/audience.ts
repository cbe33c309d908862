import { isTimeZone } from '../governance/local-time';
import { unitHash } from '../measure/assignment';
import { NotFoundError } from '../runtime/errors';
import type { Clock, MessageSender, Profile, ProfileRuns } from '../runtime/ports';
import { compileRule } from '../segments/compile';
import type { Evaluator } from '../segments/context';
import { ruleDependencies } from '../segments/dependencies';
import type { MembershipStore, ProfileScanner, SegmentStore } from '../segments/ports';
import type { Rule } from '../segments/rule';
import { own } from '../shared/records';
import {
  EXCLUSION,
  RUN_COUNTER,
  type AudienceCounts,
  type AudienceFiles,
  type AudiencePageResult,
  type AudienceRow,
  type CampaignRegistry,
  type CampaignRuns,
  type CampaignStepPayload,
  type ExclusionReason,
  type RunContext,
  type RunCount,
  type SetRef,
} from './contract';
import type { Campaign } from './schema';
import { runWindows, type CampaignConversionStore } from './conversions';

/**
 * The run's audience: one page of one parallel-scan segment of the profiles table at a time (as segment snapshots,
 * segments/batch.ts), evaluated against the campaign's audience, then its exclusions in order (excluded segments,
 * recently messaged, the global control group, the `maxMembers` cap). Each page writes its rows to a part object of
 * its own (a deterministic key: a retried page replaces it) and counts once per page (`CampaignRuns.addOnce`);
 * `compose` joins the parts into the set the next steps read.
 */

export type AudiencePagePayload = Extract<CampaignStepPayload, { action: 'audience-page' }>;
export type ComposePayload = Extract<CampaignStepPayload, { action: 'compose' }>;

export interface CampaignLookup {
  campaigns: Pick<CampaignRegistry, 'get'>;
}

export interface AudienceDeps extends CampaignLookup {
  profileScanner: ProfileScanner;
  /** The audience segment's current definition (and those its rule references through memberships). */
  segmentStore: Pick<SegmentStore, 'get'>;
  memberships: Pick<MembershipStore, 'get'>;
  profileRuns: Pick<ProfileRuns, 'messagedBy'>;
  files: Pick<AudienceFiles, 'writeRows'>;
  runs: Pick<CampaignRuns, 'addOnce'>;
  clock: Clock;
  /** Stage config `campaignControlGroupPercent` (0–100): the share of all profiles that never receives campaigns. */
  controlGroupPercent?: number;
  /** Profiles per page; default 500. */
  pageSize?: number;
  /** Ledger keys read per profile for the recently-messaged exclusion; default 100. */
  messagedKeys?: number;
  /** A campaign with a goal: each member's and control-group member's conversion window (conversions.ts). */
  campaignConversions?: Pick<CampaignConversionStore, 'open'>;
}

export const DEFAULT_AUDIENCE_PAGE_SIZE = 500;
export const DEFAULT_MESSAGED_KEYS = 100;
/** Profiles evaluated at once within a page (each may read memberships and the ledger). */
const CONCURRENCY = 16;
const DAY_MS = 86_400_000;

/** The campaign a run belongs to, as deployed now. */
export async function loadCampaign(deps: CampaignLookup, campaignId: string): Promise<Campaign> {
  const registered = await deps.campaigns.get(campaignId);
  if (!registered) throw new NotFoundError(`campaign "${campaignId}" is not registered`);
  return registered.campaign;
}

/** Is the profile in the global control group? A stable hash of its id alone: the same profiles for every campaign. */
export function inControlGroup(profileId: string, percent: number): boolean {
  return percent > 0 && unitHash('campaign-control-group', profileId) * 100 < percent;
}

/**
 * The rows a scan segment may write under `maxMembers`: the cap split evenly over the segments (DynamoDB spreads
 * profiles over parallel-scan segments by key hash), so a run never exceeds it and is within a few rows of it.
 */
export function segmentQuota(maxMembers: number, segment: number, totalSegments: number): number {
  return Math.floor(maxMembers / totalSegments) + (segment < maxMembers % totalSegments ? 1 : 0);
}

/** `runs/<c>/<r>/parts/audience/<segment>-<page>.jsonl`, zero-padded so parts list in scan order. */
export function audiencePartKey(run: RunContext, segment: number, page: number): string {
  return `${run.prefix}parts/audience/${String(segment).padStart(4, '0')}-${String(page).padStart(6, '0')}.jsonl`;
}

interface Selection {
  evaluate: Evaluator;
  readsMemberships: boolean;
}

async function audienceRule(deps: Pick<AudienceDeps, 'segmentStore'>, campaign: Campaign): Promise<Rule> {
  const { segment, rule } = campaign.audience;
  if (rule !== undefined) return rule;
  const record = segment === undefined ? undefined : await deps.segmentStore.get(segment);
  if (!record) throw new NotFoundError(`campaign "${campaign.id}": its audience segment "${segment}" does not exist`);
  return record.definition.rule;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The row of a member: its id and, when its profile names a valid IANA zone, that zone. */
export function audienceRow(profile: Pick<Profile, 'id' | 'attributes'>): AudienceRow {
  const zone = own(profile.attributes, 'timezone');
  return isTimeZone(zone) ? { profileId: profile.id, timeZone: zone } : { profileId: profile.id };
}

function addCounts(before: AudienceCounts | undefined, page: AudienceCounts): AudienceCounts {
  const excluded: AudienceCounts['excluded'] = { ...(before?.excluded ?? {}) };
  for (const [reason, n] of Object.entries(page.excluded) as [ExclusionReason, number][]) {
    excluded[reason] = (excluded[reason] ?? 0) + n;
  }
  return {
    scanned: (before?.scanned ?? 0) + page.scanned,
    matched: (before?.matched ?? 0) + page.matched,
    members: (before?.members ?? 0) + page.members,
    excluded,
  };
}

/**
 * The `audience-page` action: reads one page of one scan segment, writes the members (after exclusions) to the page's
 * part and counts `audience` and `excluded` (by reason) for the run, once per page. The result carries the cursor of
 * the next page (absent when the segment is done), the next page's number and the segment's running counts: the
 * audience Map passes it back as the next payload.
 */
export async function audiencePage(deps: AudienceDeps, payload: AudiencePagePayload): Promise<AudiencePageResult> {
  const { run, segment, totalSegments } = payload;
  const inRange = Number.isInteger(segment) && segment >= 0 && segment < totalSegments;
  if (!Number.isInteger(totalSegments) || totalSegments < 1 || !inRange) {
    throw new RangeError(`audience-page: segment ${segment} of ${totalSegments} is not a scan segment`);
  }
  const page = payload.page ?? 0;
  const campaign = await loadCampaign(deps, run.campaignId);
  const { audience } = campaign;
  const rule = await audienceRule(deps, campaign);
  const excludedSegments = audience.exclude?.segments ?? [];
  const selection: Selection = {
    evaluate: compileRule(rule),
    readsMemberships: ruleDependencies(rule).segments.length > 0 || excludedSegments.length > 0,
  };
  const now = deps.clock.now().getTime();
  const senders: MessageSender[] = (audience.exclude?.messaged ?? []).map((e) => ({
    journeyId: e.journey ?? `campaign:${e.campaign}`,
    since: new Date(now - e.withinDays * DAY_MS).toISOString(),
  }));
  const controlPercent = audience.controlGroup ? (deps.controlGroupPercent ?? 0) : 0;

  const limit = deps.pageSize ?? DEFAULT_AUDIENCE_PAGE_SIZE;
  const scan = await deps.profileScanner.scan({ segment, totalSegments, cursor: payload.cursor, limit });
  const verdicts = new Map<string, ExclusionReason | 'member'>();
  await forEachLimit(scan.profiles, CONCURRENCY, async (profile) => {
    let memberships: Record<string, string> = {};
    if (selection.readsMemberships) memberships = profile.segments ?? (await deps.memberships.get(profile.id)).segments;
    if (!selection.evaluate(profile, { now, memberships: new Set(Object.keys(memberships)) })) return;
    if (excludedSegments.some((id) => Object.hasOwn(memberships, id))) {
      return void verdicts.set(profile.id, EXCLUSION.segment);
    }
    if (senders.length > 0) {
      const by = await deps.profileRuns.messagedBy(profile.id, senders, deps.messagedKeys ?? DEFAULT_MESSAGED_KEYS);
      if (by.length > 0) return void verdicts.set(profile.id, EXCLUSION.messaged);
    }
    if (inControlGroup(profile.id, controlPercent)) return void verdicts.set(profile.id, EXCLUSION.controlGroup);
    verdicts.set(profile.id, 'member');
  });

  // The cap applies in profile-id order, so a retried page keeps the same members.
  const { maxMembers } = audience;
  const quota = maxMembers === undefined ? Infinity : segmentQuota(maxMembers, segment, totalSegments);
  let room = quota - (payload.counts?.members ?? 0);
  const rows: AudienceRow[] = [];
  const control: string[] = [];
  const pageCounts: AudienceCounts = {
    scanned: scan.profiles.length,
    matched: verdicts.size,
    members: 0,
    excluded: {},
  };
  for (const profile of [...scan.profiles].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    let verdict = verdicts.get(profile.id);
    if (verdict === undefined) continue;
    if (verdict === 'member' && room <= 0) verdict = EXCLUSION.capped;
    if (verdict === 'member') {
      rows.push(audienceRow(profile));
      room--;
    } else {
      pageCounts.excluded[verdict] = (pageCounts.excluded[verdict] ?? 0) + 1;
      if (verdict === EXCLUSION.controlGroup) control.push(profile.id);
    }
  }
  pageCounts.members = rows.length;

  await deps.files.writeRows(audiencePartKey(run, segment, page), rows);
  if (deps.campaignConversions && campaign.goal) {
    const members = rows.map((r) => r.profileId);
    const windows = [...runWindows(campaign, run, members, 'audience'), ...runWindows(campaign, run, control, 'control-group')];
    if (windows.length > 0) await deps.campaignConversions.open(windows);
  }
  const counts: RunCount[] = [];
  if (rows.length > 0) counts.push({ step: '', name: RUN_COUNTER.audience, dim: '', value: rows.length });
  for (const [reason, n] of Object.entries(pageCounts.excluded)) {
    counts.push({ step: '', name: RUN_COUNTER.excluded, dim: reason, value: n });
  }
  if (counts.length > 0) await deps.runs.addOnce(run.campaignId, run.runId, `audience/${segment}-${page}`, counts);

  return {
    run,
    segment,
    totalSegments,
    ...(scan.cursor !== undefined ? { cursor: scan.cursor } : {}),
    page: page + 1,
    counts: addCounts(payload.counts, pageCounts),
  };
}

/** A key of the payload: a bucket key under the run's prefix as given, else relative to the prefix. */
function underRun(run: RunContext, key: string): string {
  return key.startsWith(run.prefix) ? key : `${run.prefix}${key}`;
}

/**
 * The `compose` action: the objects under `parts` (in key order) joined into `key`; a retried compose writes the same
 * object. Keys are bucket keys under the run's prefix, or relative to it (`parts/audience/`, `audience.jsonl`).
 */
export async function composeSet(
  deps: { files: Pick<AudienceFiles, 'list' | 'compose'> },
  payload: ComposePayload,
): Promise<SetRef> {
  const prefix = underRun(payload.run, payload.parts);
  const key = underRun(payload.run, payload.key);
  const parts = (await deps.files.list(prefix)).filter((k) => k !== key);
  const count = await deps.files.compose(parts, key);
  return { key, count };
}
