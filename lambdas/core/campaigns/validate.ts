import { isTimeZone } from '../governance/local-time';
import { ruleDependencies } from '../segments/dependencies';
import type { Rule } from '../segments/rule';
import { MAX_WAIT_SECONDS, parseDuration } from '../shared/duration';
import { checkTemplate } from '../templates/liquid';
import { assertNever } from '../shared/assert-never';
import { goalConditionProblems } from '../measure/conversions';
import type { Violation } from '../journey/validate';
import { HOLDOUT_BRANCH, OTHERWISE_BRANCH, splitBranches, stepSuccessors } from './graph';
import { Campaign, type CampaignStep, type DeliverStep, type Schedule, type SplitStep } from './schema';

/**
 * Campaign files are checked in two passes, like journeys (lambdas/core/journey/validate.ts): the schema (every issue
 * with its field path), then the graph, the schedule and, given a catalog, the references to segments, journeys and
 * placements. A violation's `nodeId` (the field journeys use) names the offending step.
 */
export type CampaignViolation = Violation;
export type CampaignValidationResult =
  | { ok: true; campaign: Campaign }
  | { ok: false; violations: CampaignViolation[] };

/** What the deployment knows: the ids of segments/*.json, statemachines/*.json, placements/*.json, campaigns/*.json. */
export interface CampaignCatalog {
  segments?: ReadonlySet<string>;
  journeys?: ReadonlySet<string>;
  placements?: ReadonlySet<string>;
  campaigns?: ReadonlySet<string>;
  /** The journeys with an API entry: only they can be started for each member (enter-journey). */
  apiJourneys?: ReadonlySet<string>;
}

export const CAMPAIGN_LIMITS = {
  /** One Wait state per wait step; like journeys, at most 90 days each. */
  maxWaitSeconds: MAX_WAIT_SECONDS,
  /** A run is one Standard execution: at most a year, so the waits on one path stay well under it. */
  maxPathWaitSeconds: 300 * 86400,
  /** Step Functions state names are at most 80 characters. */
  maxStateNameLength: 80,
  /** Cron fields of EventBridge Scheduler: minutes hours day-of-month month day-of-week year. */
  cronFields: 6,
} as const;

function issuePath(path: readonly PropertyKey[]): string {
  const step = (acc: string, key: PropertyKey) =>
    typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`;
  const text = path.reduce<string>(step, '');
  return text.replace(/^\./, '') || '(root)';
}

/** Parses and checks a campaign file: schema first, then the rest. Never throws for bad input. */
export function validateCampaign(input: unknown, catalog?: CampaignCatalog): CampaignValidationResult {
  const parsed = Campaign.safeParse(input);
  if (!parsed.success) {
    return { ok: false, violations: parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })) };
  }
  const violations = checkCampaign(parsed.data, catalog);
  return violations.length > 0 ? { ok: false, violations } : { ok: true, campaign: parsed.data };
}

/** Checks a schema-valid campaign; a pure function returning every violation found. */
export function checkCampaign(campaign: Campaign, catalog?: CampaignCatalog): CampaignViolation[] {
  const violations: CampaignViolation[] = [];
  violations.push(...checkGraph(campaign));
  for (const [id, step] of Object.entries(campaign.steps)) violations.push(...checkStep(campaign, id, step));
  violations.push(...checkSchedule(campaign.schedule));
  if (campaign.goal) {
    const within = parseDuration(campaign.goal.within);
    if (within < 1 || within > 365 * 86400) {
      violations.push({
        path: 'goal.within',
        message: 'a goal window is 1 second to 365 days',
      });
    }
    for (const message of goalConditionProblems(campaign.goal)) violations.push({ path: 'goal.condition', message });
  }
  if (catalog) violations.push(...checkReferences(campaign, catalog));
  return violations;
}

/** `start` and every successor name a step; the steps form a tree rooted at `start` (one parent each, no cycle). */
function checkGraph(campaign: Campaign): CampaignViolation[] {
  const out: CampaignViolation[] = [];
  const steps = new Map(Object.entries(campaign.steps));
  if (!steps.has(campaign.start)) {
    out.push({
      path: 'start',
      message: `start refers to unknown step "${campaign.start}"`,
    });
  }
  const parents = new Map<string, string[]>();
  for (const [id, step] of steps) {
    for (const { field, target } of stepSuccessors(step)) {
      if (!steps.has(target)) {
        out.push({
          nodeId: id,
          path: `steps.${id}.${field}`,
          message: `step "${id}" refers to unknown step "${target}"`,
        });
        continue;
      }
      parents.set(target, [...(parents.get(target) ?? []), id]);
    }
  }
  if (out.length > 0) return out;
  for (const [id, from] of parents) {
    if (id === campaign.start) {
      out.push({
        nodeId: id,
        path: `steps.${id}`,
        message: `the start step "${id}" may not be the next of another step (found in ${quoteAll(from)}); ` +
          'loops are not allowed',
      });
    } else if (from.length > 1) {
      out.push({
        nodeId: id,
        path: `steps.${id}`,
        message: `step "${id}" is the next of ${from.length} steps (${quoteAll(from)}); ` +
          'each step has one parent: copy it under another id',
      });
    }
  }
  // Every step reached once from start; with one parent each, anything unreached sits on a cycle or an orphan chain.
  const reached = new Set<string>();
  const walk = (id: string): void => {
    if (reached.has(id)) return;
    reached.add(id);
    for (const { target } of stepSuccessors(steps.get(id)!)) walk(target);
  };
  walk(campaign.start);
  for (const id of steps.keys()) {
    if (!reached.has(id)) {
      out.push({
        nodeId: id,
        path: `steps.${id}`,
        message: `step "${id}" is not reachable from start "${campaign.start}"`,
      });
    }
  }
  return out;
}

const quoteAll = (ids: readonly string[]) => ids.map((id) => `"${id}"`).join(', ');

/** The steps from `start` to `id` (inclusive), following the tree; undefined when unreachable. */
export function pathTo(campaign: Campaign, id: string): string[] | undefined {
  const seen = new Set<string>();
  const search = (at: string): string[] | undefined => {
    if (seen.has(at)) return undefined;
    seen.add(at);
    if (at === id) return [at];
    const step = campaign.steps[at];
    if (!step) return undefined;
    for (const { target } of stepSuccessors(step)) {
      const rest = search(target);
      if (rest) return [at, ...rest];
    }
    return undefined;
  };
  return search(campaign.start);
}

function checkStep(campaign: Campaign, id: string, step: CampaignStep): CampaignViolation[] {
  const at = `steps.${id}`;
  switch (step.kind) {
    case 'deliver':
      return checkDeliver(id, step, at);
    case 'wait': {
      const seconds = parseDuration(step.duration);
      if (seconds < 1) return [{ nodeId: id, path: `${at}.duration`, message: 'a wait is at least 1 second' }];
      if (seconds > CAMPAIGN_LIMITS.maxWaitSeconds) {
        return [{
          nodeId: id,
          path: `${at}.duration`,
          message: `a wait is at most 90 days (got ${Math.round(seconds / 86400)} days)`,
        }];
      }
      return checkPathWaits(campaign, id, at);
    }
    case 'split':
      return checkSplit(campaign, id, step, at);
    case 'enter-journey':
    case 'exit':
      return [];
    default:
      return assertNever(step, 'step');
  }
}

/**
 * The variables a campaign message template may read (schema.ts): the profile, the audience row, the offers of
 * `decide` (`offer`, `offers`), the item of `forEach`, and the unsubscribe link.
 */
export function campaignTemplateRoots(step: DeliverStep): string[] {
  const offers = step.decide ? ['offer', 'offers'] : [];
  return ['profile', 'row', ...offers, ...(step.forEach ? ['item'] : []), 'unsubscribeUrl'];
}

function checkDeliver(id: string, step: DeliverStep, at: string): CampaignViolation[] {
  const out: CampaignViolation[] = [];
  if (step.in !== undefined && step.at === undefined) {
    out.push({
      nodeId: id,
      path: `${at}.in`,
      message: '"in" says whose time zone "at" is read in: give "at" too',
    });
  }
  if (step.passed !== undefined && step.at === undefined) {
    out.push({
      nodeId: id,
      path: `${at}.passed`,
      message: '"passed" says what happens when "at" has passed: give "at" too',
    });
  }
  const roots = campaignTemplateRoots(step);
  for (const [field, text] of Object.entries(step.template)) {
    if (typeof text !== 'string') continue;
    const kind = field === 'html' ? 'html' : field === 'subject' || field === 'url' ? 'line' : 'text';
    for (const message of checkTemplate(text, kind, roots)) {
      out.push({
        nodeId: id,
        path: `${at}.template.${field}`,
        message,
      });
    }
  }
  return out;
}

/** The waits from start to this wait add up to less than a Standard execution's year (with room for sending). */
function checkPathWaits(campaign: Campaign, id: string, at: string): CampaignViolation[] {
  const path = pathTo(campaign, id) ?? [];
  const total = path.reduce((sum, s) => {
    const step = campaign.steps[s];
    return sum + (step?.kind === 'wait' ? parseDuration(step.duration) : 0);
  }, 0);
  if (total <= CAMPAIGN_LIMITS.maxPathWaitSeconds) return [];
  return [{
    nodeId: id,
    path: `${at}.duration`,
    message: `the waits up to step "${id}" add up to ${Math.round(total / 86400)} days; ` +
      'a run lasts under a year, so at most 300 days of waits on one path',
  }];
}

function checkSplit(campaign: Campaign, id: string, step: SplitStep, at: string): CampaignViolation[] {
  const out: CampaignViolation[] = [];
  const ids =
    step.by === 'percent' ? step.variants.map((v) => v.id) : step.by === 'rule' ? step.branches.map((b) => b.id) : [];
  const field = step.by === 'percent' ? 'variants' : 'branches';
  const seen = new Map<string, number>();
  ids.forEach((branch, i) => {
    const reserved = step.by === 'percent' ? HOLDOUT_BRANCH : OTHERWISE_BRANCH;
    if (branch === reserved) {
      out.push({
        nodeId: id,
        path: `${at}.${field}[${i}].id`,
        message: `the branch id "${reserved}" is reserved`,
      });
    }
    if (seen.has(branch)) {
      out.push({
        nodeId: id,
        path: `${at}.${field}[${i}].id`,
        message: `duplicate branch id "${branch}" (first used by ${field}[${seen.get(branch)}])`,
      });
    }
    else seen.set(branch, i);
  });
  // State names carry the step and branch ids (compile.ts: `<step>.<branch>.set`).
  for (const edge of splitBranches(step)) {
    const name = `${id}.${edge.branch}.set`;
    if (name.length > CAMPAIGN_LIMITS.maxStateNameLength) {
      out.push({
        nodeId: id,
        path: `${at}.${edge.field}`,
        message: `step id "${id}" and branch id "${edge.branch}" together are too long for state names ` +
          `(${name.length} > 80 characters)`,
      });
    }
  }
  if (step.by === 'percent') {
    const total = step.variants.reduce((sum, v) => sum + v.weight, 0) + (step.holdout?.weight ?? 0);
    if (total !== 100) {
      const holdout = step.holdout ? [`holdout ${step.holdout.weight}`] : [];
      const parts = [...step.variants.map((v) => `${v.id} ${v.weight}`), ...holdout];
      out.push({
        nodeId: id,
        path: `${at}.variants`,
        message: `split weights must sum to 100 (got ${total}: ${parts.join(' + ')})`,
      });
    }
    if (step.variants.length + (step.holdout ? 1 : 0) < 2) {
      out.push({
        nodeId: id,
        path: `${at}.variants`,
        message: 'a split needs two variants, or one variant and a holdout',
      });
    }
  }
  if (step.by === 'engagement') {
    if (step.engagement === 'converted' && campaign.goal === undefined) {
      out.push({
        nodeId: id,
        path: `${at}.engagement`,
        message: '"converted" reads the campaign\'s goal event: give the campaign a goal',
      });
    }
    const target = campaign.steps[step.step];
    const before = (pathTo(campaign, id) ?? []).slice(0, -1);
    if (target?.kind !== 'deliver' || !before.includes(step.step)) {
      out.push({
        nodeId: id,
        path: `${at}.step`,
        message:
          `"${step.step}" must be a deliver step on the path to this split ` +
          `(the path is ${quoteAll(before) || 'empty'})`,
      });
    }
  }
  return out;
}

/** A local date-time "YYYY-MM-DDTHH:MM[:SS]" as a comparable number, or undefined when the calendar has no such day. */
function localDateTimeValue(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0));
  const value = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(value);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? value : undefined;
}

function checkSchedule(schedule: Schedule): CampaignViolation[] {
  if (schedule.type === 'on-demand') return [];
  const out: CampaignViolation[] = [];
  if (!isTimeZone(schedule.timeZone)) {
    out.push({
      path: 'schedule.timeZone',
      message: `"${schedule.timeZone}" is not an IANA time zone (e.g. "Europe/Paris")`,
    });
  }
  const date = (field: 'at' | 'start' | 'end', text: string | undefined) => {
    if (text === undefined) return undefined;
    const value = localDateTimeValue(text);
    if (value === undefined) {
      out.push({
        path: `schedule.${field}`,
        message: `"${text}" is not a date on the calendar`,
      });
    }
    return value;
  };
  if (schedule.type === 'once') {
    date('at', schedule.at);
    return out;
  }
  const fields = schedule.cron.trim().split(/\s+/);
  if (fields.length !== CAMPAIGN_LIMITS.cronFields) {
    out.push({
      path: 'schedule.cron',
      message:
        `a cron expression has 6 fields: minutes hours day-of-month month day-of-week year (got ${fields.length})`,
    });
  } else if (fields[2] !== '?' && fields[4] !== '?') {
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based: one of the two is "?".
    out.push({
      path: 'schedule.cron',
      message: 'day-of-month or day-of-week must be "?" (EventBridge Scheduler cron)',
    });
  }
  const start = date('start', schedule.start);
  const end = date('end', schedule.end);
  if (start !== undefined && end !== undefined && end <= start) {
    out.push({
      path: 'schedule.end',
      message: `the end (${schedule.end}) must be after the start (${schedule.start})`,
    });
  }
  return out;
}

function ruleSegments(rule: Rule): string[] {
  return ruleDependencies(rule).segments;
}

/** What a campaign names outside itself, with where. */
export interface CampaignReference {
  kind: 'segment' | 'journey' | 'placement' | 'campaign';
  id: string;
  where: string;
}

export function campaignReferences(campaign: Campaign): CampaignReference[] {
  const out: CampaignReference[] = [];
  const { audience } = campaign;
  if (audience.segment) out.push({ kind: 'segment', id: audience.segment, where: 'audience.segment' });
  if (audience.rule) for (const id of ruleSegments(audience.rule)) {
    out.push({
      kind: 'segment',
      id,
      where: 'audience.rule',
    });
  }
  audience.exclude?.segments?.forEach((id, i) => {
    out.push({ kind: 'segment', id, where: `audience.exclude.segments[${i}]` });
  });
  audience.exclude?.messaged?.forEach((m, i) => {
    if (m.journey) out.push({ kind: 'journey', id: m.journey, where: `audience.exclude.messaged[${i}].journey` });
    if (m.campaign) out.push({ kind: 'campaign', id: m.campaign, where: `audience.exclude.messaged[${i}].campaign` });
  });
  for (const [id, step] of Object.entries(campaign.steps)) {
    const at = `steps.${id}`;
    if (step.kind === 'deliver' && step.decide) {
      out.push({
        kind: 'placement',
        id: step.decide.placement,
        where: `${at}.decide.placement`,
      });
    }
    if (step.kind === 'enter-journey') out.push({ kind: 'journey', id: step.journey, where: `${at}.journey` });
    if (step.kind === 'split' && step.by === 'rule') {
      step.branches.forEach((b, i) => {
        for (const segment of ruleSegments(b.rule)) {
          out.push({
            kind: 'segment',
            id: segment,
            where: `${at}.branches[${i}].rule`,
          });
        }
      });
    }
  }
  return out;
}

const FOLDER = {
  segment: 'segments',
  journey: 'statemachines',
  placement: 'placements',
  campaign: 'campaigns',
} as const;

function checkReferences(campaign: Campaign, catalog: CampaignCatalog): CampaignViolation[] {
  const known: Record<CampaignReference['kind'], ReadonlySet<string> | undefined> = {
    segment: catalog.segments,
    journey: catalog.journeys,
    placement: catalog.placements,
    campaign: catalog.campaigns,
  };
  const notApi: CampaignViolation[] = [];
  for (const [id, step] of Object.entries(campaign.steps)) {
    if (step.kind !== 'enter-journey' || !catalog.apiJourneys || catalog.apiJourneys.has(step.journey)) continue;
    if (catalog.journeys && !catalog.journeys.has(step.journey)) continue;
    notApi.push({
      nodeId: id,
      path: `steps.${id}.journey`,
      message: `journey "${step.journey}" has no API entry ("entry": { "kind": "api" }), ` +
        'so members cannot be entered into it',
    });
  }
  return notApi.concat(campaignReferences(campaign)
    .filter((r) => known[r.kind] !== undefined && !known[r.kind]!.has(r.id))
    // A campaign may exclude the members its own earlier runs messaged.
    .filter((r) => !(r.kind === 'campaign' && r.id === campaign.id))
    .map((r) => ({ path: r.where, message: `unknown ${r.kind} "${r.id}" (no ${FOLDER[r.kind]}/*.json has that id)` })));
}
