import type { BusinessEvent } from '../events/business-event';
import type { Goal } from '../journey/schema';
import { goalMatches, goalValue } from '../measure/conversions';
import type { Clock, LedgerStatus } from '../runtime/ports';
import { parseDuration } from '../shared/duration';
import {
  EXCLUSION,
  RUN_COUNTER,
  type CampaignRegistry,
  type CampaignRuns,
  type RunContext,
  type RunCount,
} from './contract';
import { stepSuccessors } from './graph';
import { campaignExecutionId, stepOfNode } from './keys';
import type { Campaign } from './schema';

/**
 * A campaign run's conversions (campaigns README "Conversions"). A run with a goal opens one window per member and
 * profile: every audience member (`audience`, intention to treat) and every member of the global control group
 * (`control-group`, who gets nothing), from the run's start. A percent split records each member's branch (variant or
 * `holdout`) on the window. A goal event converts each open window once (a conditional write) and counts, with its
 * revenue: the run (treated or control), each percent split's branch, and each deliver step that sent the member a
 * message within the goal's window before the event.
 */

export type CampaignGoalGroup = 'audience' | 'control-group';

export interface CampaignGoalWindow {
  campaignId: string;
  runId: string;
  profileId: string;
  /** The goal as it was when the run started (a later version's goal does not change open windows). */
  goal: Goal;
  /** The run's start: control and treated members are measured from the same instant. */
  openedAt: string;
  /** openedAt + the waits on the campaign's longest path + a day per local-time step + goal.within. */
  until: string;
  group: CampaignGoalGroup;
  /** Percent split step → the member's branch there (a variant id or `holdout`). */
  branches: Record<string, string>;
}

/** A member's message of the run, as the ledger holds it (`campaign:<c>:<r>:<profile>` / node). */
export interface CampaignDelivery {
  nodeId: string;
  status: LedgerStatus;
  preparedAt: string;
}

export interface CampaignConversion {
  at: string;
  eventId: string;
  revenue?: number;
}

/** What names a member's window of a run. */
export type CampaignWindowKey = Pick<CampaignGoalWindow, 'campaignId' | 'runId' | 'profileId' | 'goal' | 'openedAt'>;

/** Windows in the runtime table under the profile (`profileId` set: erasure and export find them). */
export interface CampaignConversionStore {
  /** Opens windows; a window that exists is kept as it is (a retried audience page changes nothing). */
  open(windows: readonly CampaignGoalWindow[]): Promise<void>;
  /** Records the member's branch of a percent split on its window; nothing when the member has no window. */
  assign(window: CampaignWindowKey, split: string, branch: string): Promise<void>;
  /** The profile's windows for a goal event opened at or before `at` and open at `at`: the newest `limit`. */
  openAt(profileId: string, goalEvent: string, at: string, limit: number): Promise<CampaignGoalWindow[]>;
  /** Marks the window converted; false when it already was (one conversion per member and run). */
  convert(window: CampaignGoalWindow, conversion: CampaignConversion): Promise<boolean>;
  /** The member's ledger entries of the run (at most one per node: steps × forEach items). */
  deliveries(executionId: string): Promise<CampaignDelivery[]>;
}

/** Windows a goal event reads per profile id, and profile ids (the profile and those merged into it). */
export const CAMPAIGN_CONVERSION_LIMITS = { windowsPerProfile: 50, profileIds: 10, assignConcurrency: 16 } as const;

const DAY_SECONDS = 86_400;

/**
 * The waits on the campaign's longest path, plus a day per local-time deliver step on it (a zone's hour may be
 * tomorrow).
 */
export function longestPathSeconds(campaign: Campaign): number {
  const longest = (id: string, seen: ReadonlySet<string>): number => {
    const step = Object.hasOwn(campaign.steps, id) ? campaign.steps[id] : undefined;
    if (!step || seen.has(id)) return 0;
    const local = step.kind === 'deliver' && step.at !== undefined;
    const own = step.kind === 'wait' ? parseDuration(step.duration) : local ? DAY_SECONDS : 0;
    const next = new Set(seen).add(id);
    return own + Math.max(0, ...stepSuccessors(step).map((e) => longest(e.target, next)));
  };
  return longest(campaign.start, new Set());
}

/**
 * The variant tag of a deliver step's messages: the branch of the nearest split above the step (a percent split's
 * variant, a rule split's branch, an engagement split's `yes`/`no`), undefined when no split leads to it.
 */
export function stepVariant(campaign: Campaign, stepId: string): string | undefined {
  const parent = new Map<string, { step: string; branch?: string }>();
  for (const [id, step] of Object.entries(campaign.steps)) {
    for (const edge of stepSuccessors(step)) {
      if (!parent.has(edge.target)) parent.set(edge.target, { step: id, branch: edge.branch });
    }
  }
  const seen = new Set<string>();
  for (let at = parent.get(stepId); at && !seen.has(at.step); at = parent.get(at.step)) {
    if (at.branch !== undefined) return at.branch;
    seen.add(at.step);
  }
  return undefined;
}

/** The windows of a run's members (treated or control), or none when the campaign has no goal or the run is dry. */
export function runWindows(
  campaign: Campaign,
  run: Pick<RunContext, 'campaignId' | 'runId' | 'startedAt' | 'dryRun'>,
  profileIds: readonly string[],
  group: CampaignGoalGroup,
): CampaignGoalWindow[] {
  const { goal } = campaign;
  if (!goal || run.dryRun || profileIds.length === 0) return [];
  const openedAt = new Date(run.startedAt).toISOString();
  const seconds = longestPathSeconds(campaign) + parseDuration(goal.within);
  const until = new Date(Date.parse(openedAt) + seconds * 1000).toISOString();
  const { campaignId, runId } = run;
  return profileIds.map((profileId) => ({ campaignId, runId, profileId, goal, openedAt, until, group, branches: {} }));
}

/** Records a percent split's branches for a batch's members (a run with a goal, not dry). */
export async function assignBranches(
  store: Pick<CampaignConversionStore, 'assign'>,
  campaign: Campaign,
  run: Pick<RunContext, 'campaignId' | 'runId' | 'startedAt' | 'dryRun'>,
  split: string,
  members: readonly { profileId: string; branch: string }[],
): Promise<void> {
  const { goal } = campaign;
  if (!goal || run.dryRun) return;
  const openedAt = new Date(run.startedAt).toISOString();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < members.length) {
      const { profileId, branch } = members[next++];
      await store.assign({ campaignId: run.campaignId, runId: run.runId, profileId, goal, openedAt }, split, branch);
    }
  };
  const workers = Math.min(CAMPAIGN_CONVERSION_LIMITS.assignConcurrency, members.length);
  await Promise.all(Array.from({ length: workers }, worker));
}

/** Statuses of a message that went (or may have gone) out: a step is credited with a conversion after one. */
const SENT: ReadonlySet<LedgerStatus> = new Set(['sent', 'unknown']);

/**
 * The counts one conversion makes (`value` 1 for `converted`, the amount for `revenue`): the run's (`dim` '' for the
 * audience, `control-group` for the control group), each percent split's branch (`step` the split, `dim` the branch),
 * and each deliver step with a message sent at or before `at` and at most `goal.within` before it (`dim` '').
 */
export function conversionCounts(
  window: CampaignGoalWindow,
  conversion: CampaignConversion,
  deliveries: readonly CampaignDelivery[],
): RunCount[] {
  const counts: RunCount[] = [];
  const add = (step: string, dim: string) => {
    counts.push({ step, name: RUN_COUNTER.converted, dim, value: 1 });
    const { revenue } = conversion;
    if (revenue !== undefined) counts.push({ step, name: RUN_COUNTER.revenue, dim, value: revenue });
  };
  add('', window.group === 'control-group' ? EXCLUSION.controlGroup : '');
  for (const split of Object.keys(window.branches).sort()) add(split, window.branches[split]);
  const at = Date.parse(conversion.at);
  const within = parseDuration(window.goal.within) * 1000;
  const steps = new Set<string>();
  for (const d of deliveries) {
    const sentAt = Date.parse(d.preparedAt);
    if (SENT.has(d.status) && sentAt <= at && at - sentAt <= within) steps.add(stepOfNode(d.nodeId));
  }
  for (const step of [...steps].sort()) add(step, '');
  return counts;
}

/** The goal event types of deployed campaigns, read at most every `ttlMs` (the router asks on every event). */
export function cachedCampaignGoals(registry: Pick<CampaignRegistry, 'list'>, clock: Clock, ttlMs = 30_000) {
  let cache: { at: number; events: ReadonlySet<string> } | undefined;
  return async (): Promise<ReadonlySet<string>> => {
    const now = clock.now().getTime();
    if (cache && now - cache.at < ttlMs && now >= cache.at) return cache.events;
    const events = new Set<string>();
    for (const { campaign } of await registry.list()) if (campaign.goal) events.add(campaign.goal.event);
    cache = { at: now, events };
    return events;
  };
}

export interface CampaignConversionDeps {
  /** The goal event types of deployed campaigns (`cachedCampaignGoals`): other events convert nothing. */
  goals: () => Promise<ReadonlySet<string>>;
  store: CampaignConversionStore;
  runs: Pick<CampaignRuns, 'add'>;
}

export interface CampaignConverted {
  campaignId: string;
  runId: string;
  group: CampaignGoalGroup;
  revenue?: number;
}

/**
 * A goal event of campaigns (the router, after the journeys' conversions): each open window of the profile and of the
 * profiles merged into it converts once; its counts are added to its run. A repeated event converts nothing more.
 */
export async function recordCampaignConversions(
  deps: CampaignConversionDeps,
  event: BusinessEvent,
  profileIds: readonly string[],
): Promise<CampaignConverted[]> {
  if (!(await deps.goals()).has(event.type)) return [];
  const at = new Date(event.time).toISOString();
  const out: CampaignConverted[] = [];
  for (const profileId of profileIds.slice(0, CAMPAIGN_CONVERSION_LIMITS.profileIds)) {
    const windows = await deps.store.openAt(profileId, event.type, at, CAMPAIGN_CONVERSION_LIMITS.windowsPerProfile);
    for (const window of windows) {
      if (at < window.openedAt || at > window.until || window.goal.event !== event.type) continue;
      if (!goalMatches(window.goal, event)) continue;
      const revenue = goalValue(window.goal, event);
      const conversion = { at, eventId: event.id, ...(revenue === undefined ? {} : { revenue }) };
      if (!(await deps.store.convert(window, conversion))) continue;
      const executionId = campaignExecutionId(window.campaignId, window.runId, window.profileId);
      const deliveries = window.group === 'audience' ? await deps.store.deliveries(executionId) : [];
      await deps.runs.add(window.campaignId, window.runId, conversionCounts(window, conversion, deliveries));
      const { campaignId, runId, group } = window;
      out.push({ campaignId, runId, group, ...(revenue === undefined ? {} : { revenue }) });
    }
  }
  return out;
}
