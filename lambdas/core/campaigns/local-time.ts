import { addDays, isTimeZone, localParts, localToInstant } from '../governance/local-time';
import type { Clock } from '../runtime/ports';
import { loadCampaign, type CampaignLookup } from './audience';
import type { AudienceFiles, AudienceRow, CampaignStepPayload, RunContext, TimeGroup } from './contract';
import type { DeliverStep } from './schema';

/**
 * Local time of day: a `deliver` step with `at` sends each member at that wall-clock time in its zone (`in: member`,
 * the default: the row's zone, else the stage's; `in: stage`: the stage's for everyone). `group-by-time` streams the
 * step's set once and writes one set per distinct send instant; the state machine waits for each in turn.
 */

export type GroupByTimePayload = Extract<CampaignStepPayload, { action: 'group-by-time' }>;

export interface LocalTimeDeps extends CampaignLookup {
  files: Pick<AudienceFiles, 'readRows' | 'writeRows' | 'compose'>;
  clock: Clock;
  /** Stage config `defaultTimezone`: the zone of members without a valid one, and of `in: stage`. */
  stageTimeZone: string;
}

/** Rows held per group before they are written as a part (bounds memory however large the set). */
export const GROUP_CHUNK_ROWS = 5_000;

/**
 * The next instant at or after `now` (ms) at which the wall clock in `zone` reads `at` (HH:MM) today; when that has
 * passed, tomorrow's (`next-day`) or `now` itself (`now`). Daylight saving as `localToInstant`: a skipped time is read
 * past the gap, a repeated one at its first occurrence.
 */
export function nextSendAt(now: number, at: string, zone: string, passed: 'next-day' | 'now'): number {
  const [hour, minute] = at.split(':').map(Number);
  const local = localParts(now, zone);
  const today = localToInstant({ year: local.year, month: local.month, day: local.day, hour, minute }, zone);
  if (today >= now) return today;
  if (passed === 'now') return now;
  return localToInstant({ ...addDays(local, 1), hour, minute }, zone);
}

/** `20261203T090000Z` */
function compactInstant(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The set of one send instant of a step. */
export function timeGroupKey(run: RunContext, step: string, sendAt: number): string {
  return `${run.prefix}sets/${step}/at-${compactInstant(sendAt)}.jsonl`;
}

function deliverAt(step: DeliverStep | undefined, campaignId: string, stepId: string): DeliverStep & { at: string } {
  if (step?.kind !== 'deliver' || step.at === undefined) {
    throw new Error(`campaign "${campaignId}" has no deliver step "${stepId}" with a local time`);
  }
  return step as DeliverStep & { at: string };
}

interface Group {
  sendAt: number;
  rows: AudienceRow[];
  parts: string[];
  count: number;
}

/**
 * The `group-by-time` action: each member of `set` gets its send instant relative to the clock; members sharing one
 * are written to one set (parts of at most GROUP_CHUNK_ROWS rows, composed). Returns the groups sorted by `sendAt`.
 */
export async function groupByTime(deps: LocalTimeDeps, payload: GroupByTimePayload): Promise<{ groups: TimeGroup[] }> {
  const { run, step: stepId } = payload;
  const campaign = await loadCampaign(deps, run.campaignId);
  const found = Object.hasOwn(campaign.steps, stepId) ? (campaign.steps[stepId] as DeliverStep) : undefined;
  const step = deliverAt(found, campaign.id, stepId);
  if (!isTimeZone(deps.stageTimeZone)) {
    throw new RangeError(`the stage time zone "${deps.stageTimeZone}" is not an IANA zone`);
  }
  const perMember = (step.in ?? 'member') === 'member';
  const passed = step.passed ?? 'next-day';
  const now = deps.clock.now().getTime();
  const set = payload.set.startsWith(run.prefix) ? payload.set : `${run.prefix}${payload.set}`;

  // Zone → instant, computed once per zone seen (a set has few distinct zones).
  const instants = new Map<string, number>();
  const groups = new Map<number, Group>();
  const flush = async (group: Group): Promise<void> => {
    if (group.rows.length === 0) return;
    const chunk = String(group.parts.length).padStart(6, '0');
    const key = `${run.prefix}parts/${stepId}/at-${compactInstant(group.sendAt)}/${chunk}.jsonl`;
    await deps.files.writeRows(key, group.rows);
    group.parts.push(key);
    group.rows = [];
  };
  for await (const row of deps.files.readRows(set)) {
    const zone = perMember && isTimeZone(row.timeZone) ? row.timeZone : deps.stageTimeZone;
    let sendAt = instants.get(zone);
    if (sendAt === undefined) {
      sendAt = nextSendAt(now, step.at, zone, passed);
      instants.set(zone, sendAt);
    }
    let group = groups.get(sendAt);
    if (!group) {
      group = { sendAt, rows: [], parts: [], count: 0 };
      groups.set(sendAt, group);
    }
    group.rows.push(row);
    group.count++;
    if (group.rows.length >= GROUP_CHUNK_ROWS) await flush(group);
  }
  const result: TimeGroup[] = [];
  for (const group of [...groups.values()].sort((a, b) => a.sendAt - b.sendAt)) {
    await flush(group);
    const key = timeGroupKey(run, stepId, group.sendAt);
    // The parts this call wrote, by name: a retried call (another clock, other groups) never picks up stale ones.
    await deps.files.compose(group.parts, key);
    result.push({ sendAt: new Date(group.sendAt).toISOString(), key, count: group.count });
  }
  return { groups: result };
}
