/**
 * An ESTIMATE of what governance rules would do to the messages of a simulation (`waymark rules --estimate`): the
 * simulation runs without rules, then this small evaluator replays its messages, profile by profile in time order,
 * against the rules. It is not the send step's evaluator: journeys' paths are those of the run without rules (a
 * deferred message moves alone; the steps after it in its journey do not), journey priority and exclusive groups are
 * not considered, and each profile has one time zone for the whole simulation. See rules/README.md.
 */
import { parseDuration } from '../core/shared/duration';
import { atLocalTime, isTimeZone } from '../core/runtime/wait-time';
import type { FrequencyCapRule, QuietHoursRule, Rule, Weekday } from '../core/governance/rules';
import { governanceReason } from '../core/governance/rules';
import type { Journey } from '../core/journey/schema';
import type { SimulationEngine } from './engine';
import type { ProfileReport } from './report';
import type { ScriptEntry, StartProfile } from './script';

/** A message the simulation would send, with what the rules select it by. */
export interface EstimateMessage {
  profileId: string;
  journeyId: string;
  node: string;
  channel: string;
  /** ISO-8601 UTC: when the simulation sent it. */
  at: string;
  messageClass: 'marketing' | 'transactional';
  /** The journey's `settings.tags`. */
  tags: readonly string[];
  /** An IANA time zone; an unknown one reads as UTC. */
  timeZone: string;
}

export interface RuleEstimate {
  ruleId: string;
  kind: Rule['kind'];
  /** Messages this rule stopped: a full cap, quiet hours with `skip`, or a deferral past `maxDeferral`. */
  suppressed: number;
  /** Messages this rule held until its window ended (they may still be stopped afterwards, by a cap). */
  deferred: number;
}

export interface EstimateOutcome {
  message: EstimateMessage;
  /** `sent` at `at` (later than the message's own time when deferred), or `suppressed` with the ledger's reason. */
  status: 'sent' | 'suppressed';
  at: string;
  reason?: string;
  /** The rules that deferred it, in order. */
  deferredBy: string[];
}

export interface PolicyEstimate {
  messages: number;
  sent: number;
  suppressed: number;
  deferred: number;
  /** One line per rule, in the order given. */
  rules: RuleEstimate[];
  outcomes: EstimateOutcome[];
}

const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local calendar date (days since the epoch), weekday (0 = Monday) and minute of the day of an instant. */
function localTime(instant: number, timeZone: string): { day: number; weekday: number; minute: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const day = Math.floor(Date.UTC(get('year'), get('month') - 1, get('day')) / DAY_MS);
  // 1970-01-01 was a Thursday (3 with Monday 0).
  return { day, weekday: (((day + 3) % 7) + 7) % 7, minute: get('hour') * 60 + get('minute') };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const applies = (rule: Rule, m: EstimateMessage) =>
  (rule.channel === 'any' || rule.channel === m.channel) &&
  rule.messageClass.includes(m.messageClass) &&
  (rule.journeyTags === undefined || rule.journeyTags.some((tag) => m.tags.includes(tag)));

/** When the quiet window holding `instant` ends, or undefined when `instant` is outside every window of the rule. */
export function quietWindowEnd(rule: QuietHoursRule, instant: number, timeZone: string): number | undefined {
  const local = localTime(instant, timeZone);
  const from = minutes(rule.from);
  const to = minutes(rule.to);
  const startsOn = (weekday: number) => rule.days === undefined || rule.days.includes(WEEKDAYS[weekday]);
  if (to > from) {
    return local.minute >= from && local.minute < to && startsOn(local.weekday) ? atLocalTime(instant, rule.to, timeZone) : undefined;
  }
  // Past midnight: the evening part of a window that starts today, or the morning part of one that started yesterday.
  if (local.minute >= from && startsOn(local.weekday)) return atLocalTime(instant + DAY_MS, rule.to, timeZone);
  if (local.minute < to && startsOn((local.weekday + 6) % 7)) return atLocalTime(instant, rule.to, timeZone);
  return undefined;
}

/** Whether a message sent at `sent` counts in the period of a cap checked at `now`. */
function inPeriod(rule: FrequencyCapRule, sent: number, now: number, timeZone: string): boolean {
  if ('rolling' in rule.period) return sent > now - parseDuration(rule.period.rolling) * 1000 && sent <= now;
  const a = localTime(sent, timeZone);
  const b = localTime(now, timeZone);
  if (rule.period.calendar === 'day') return a.day === b.day;
  return a.day - a.weekday === b.day - b.weekday;
}

/**
 * Replays the messages against the rules, each profile on its own: quiet hours first (a deferred message comes back at
 * the window's end, and is checked again), then every cap that applies (counting the messages sent before it in its
 * period). Rules are evaluated in the order given; the first that stops a message is its reason.
 */
export function estimatePolicy(messages: readonly EstimateMessage[], rules: readonly Rule[]): PolicyEstimate {
  const counts = new Map(rules.map((r) => [r.id, { ruleId: r.id, kind: r.kind, suppressed: 0, deferred: 0 } as RuleEstimate]));
  const quiet = rules.filter((r): r is QuietHoursRule => r.kind === 'quiet-hours');
  const caps = rules.filter((r): r is FrequencyCapRule => r.kind === 'frequency-cap');
  const outcomes: EstimateOutcome[] = [];
  const byProfile = new Map<string, { message: EstimateMessage; order: number }[]>();
  messages.forEach((message, order) => {
    const list = byProfile.get(message.profileId) ?? [];
    list.push({ message, order });
    byProfile.set(message.profileId, list);
  });
  for (const list of byProfile.values()) {
    const queue = list.map(({ message, order }) => ({ message, order, at: Date.parse(message.at), deferredBy: [] as string[] }));
    const sent: { message: EstimateMessage; at: number }[] = [];
    for (;;) {
      // The earliest pending message (ties in the simulation's order).
      queue.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = queue.shift();
      if (next === undefined) break;
      const { message } = next;
      const zone = isTimeZone(message.timeZone) ? message.timeZone : 'UTC';
      const done = (status: EstimateOutcome['status'], reason?: string) =>
        outcomes.push({ message, status, at: new Date(next.at).toISOString(), ...(reason === undefined ? {} : { reason }), deferredBy: next.deferredBy });
      const quietRule = quiet.find((r) => applies(r, message) && quietWindowEnd(r, next.at, zone) !== undefined);
      if (quietRule) {
        const end = quietWindowEnd(quietRule, next.at, zone)!;
        if (quietRule.action === 'skip') {
          counts.get(quietRule.id)!.suppressed++;
          done('suppressed', governanceReason.quietHours(quietRule.id));
        } else if (end - Date.parse(message.at) > parseDuration(quietRule.maxDeferral) * 1000) {
          counts.get(quietRule.id)!.suppressed++;
          done('suppressed', governanceReason.quietHoursExpired);
        } else {
          // Held until the window ends, then checked again (another window, or caps filled meanwhile).
          counts.get(quietRule.id)!.deferred++;
          queue.push({ ...next, at: end, deferredBy: [...next.deferredBy, quietRule.id] });
        }
        continue;
      }
      const full = caps.find((rule) => applies(rule, message) && sent.filter((s) => applies(rule, s.message) && inPeriod(rule, s.at, next.at, zone)).length >= rule.limit);
      if (full) {
        counts.get(full.id)!.suppressed++;
        done('suppressed', governanceReason.frequencyCap(full.id));
        continue;
      }
      sent.push({ message, at: next.at });
      done('sent');
    }
  }
  outcomes.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const suppressed = outcomes.filter((o) => o.status === 'suppressed').length;
  return {
    messages: messages.length,
    sent: outcomes.length - suppressed,
    suppressed,
    deferred: outcomes.filter((o) => o.deferredBy.length > 0).length,
    rules: [...counts.values()],
    outcomes,
  };
}

/** The estimate for people: totals, then one line per rule. */
export function renderEstimate(estimate: PolicyEstimate): string {
  const lines = [
    `estimate: ${estimate.messages} messages without rules; with them ${estimate.sent} sent, ${estimate.suppressed} suppressed, ${estimate.deferred} deferred`,
    ...estimate.rules.map((r) => `  ${r.ruleId} (${r.kind}): ${r.suppressed} suppressed${r.kind === 'quiet-hours' ? `, ${r.deferred} deferred` : ''}`),
    'An estimate: journeys ran without rules; a deferred message moves alone, priority is not considered (rules/README.md).',
  ];
  return `${lines.join('\n')}\n`;
}

/** A journey to simulate for the estimate: where it came from, and its validated definition. */
export interface EstimateJourney {
  file: string;
  journey: Journey;
}

export interface EstimateInput {
  engine: SimulationEngine;
  root: string;
  journeys: readonly EstimateJourney[];
  script: readonly ScriptEntry[];
  profiles: readonly StartProfile[];
  start: Date;
  until?: Date;
  rules: readonly Rule[];
  /** The stage's default time zone: for profiles the profiles file and the script give no `timezone` attribute. */
  defaultTimeZone: string;
}

/** Whether a name is a time zone this runtime knows (`--timezone`). */
export const isTimeZoneName = (name: string) => isTimeZone(name);

const identityKeys = (identities: Readonly<Record<string, string>>) => Object.entries(identities).map(([ns, v]) => `${ns}:${v}`);

/**
 * Each profile's time zone: the last `timezone` attribute the starting profiles, then the script's entries (attribute
 * updates and events, in time order), give any of its identities; else the default.
 */
export function profileTimeZones(profiles: readonly ProfileReport[], start: readonly StartProfile[], script: readonly ScriptEntry[], fallback: string): Map<string, string> {
  const byIdentity = new Map<string, string>();
  const note = (identities: Readonly<Record<string, string>>, attributes: Readonly<Record<string, unknown>> | undefined) => {
    const zone = attributes !== undefined && Object.hasOwn(attributes, 'timezone') ? attributes.timezone : undefined;
    if (typeof zone === 'string') for (const key of identityKeys(identities)) byIdentity.set(key, zone);
  };
  for (const p of start) note(p.identities, p.attributes);
  for (const entry of script) {
    if (entry.kind === 'attributes') note(entry.identities, entry.attributes);
    if (entry.kind === 'event') note(entry.event.identities, entry.event.attributes);
  }
  return new Map(profiles.map((p) => [p.profileId, identityKeys(p.identities).map((k) => byIdentity.get(k)).find((z) => z !== undefined) ?? fallback]));
}

/**
 * Runs the script once per journey (each simulation reports its own journey's runs; a journey another one's script
 * triggers is counted once, in its own), gathers every message with its journey's class and tags and its profile's
 * time zone, and replays them against the rules.
 */
export async function estimateRules(input: EstimateInput): Promise<PolicyEstimate & { simulatedJourneys: string[] }> {
  const messages: EstimateMessage[] = [];
  for (const { file, journey } of input.journeys) {
    const report = await input.engine.run({
      journeyFile: file,
      journey,
      root: input.root,
      script: [...input.script],
      profiles: [...input.profiles],
      start: input.start,
      // Without rules: the evaluator here applies them.
      rules: [],
      ...(input.until === undefined ? {} : { until: input.until }),
    });
    const zones = profileTimeZones(report.profiles, input.profiles, input.script, input.defaultTimeZone);
    for (const profile of report.profiles) {
      for (const run of profile.runs.filter((r) => r.journeyId === journey.id)) {
        for (const m of run.messages) {
          messages.push({
            profileId: profile.profileId,
            journeyId: journey.id,
            node: m.node,
            channel: m.channel,
            at: m.at,
            messageClass: journey.settings.messageClass,
            tags: journey.settings.tags ?? [],
            timeZone: zones.get(profile.profileId) ?? input.defaultTimeZone,
          });
        }
      }
    }
  }
  messages.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { ...estimatePolicy(messages, input.rules), simulatedJourneys: input.journeys.map((j) => j.journey.id) };
}
