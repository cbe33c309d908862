import * as z from 'zod';
import { Duration } from '../journey/schema';

/**
 * Governance rules (`rules/*.json`, and the API): frequency caps and quiet hours, applied by the send step to every
 * journey's messages. The contract between the rule files, the API, the evaluator and the cap store.
 */

const KebabId = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'ids are kebab-case').max(64);
export const RuleId = KebabId;

/** A channel, or `any`: the rule counts (or quiets) every channel together. */
export const RuleChannel = z.enum(['email', 'sms', 'push', 'any']);
export type RuleChannel = z.infer<typeof RuleChannel>;

/** `HH:MM`, 24-hour local time. */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are HH:MM (00:00–23:59)');
export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

/** Which messages a rule applies to: marketing by default; transactional ones only when a rule says so. */
const appliesTo = {
  messageClass: z.array(z.enum(['marketing', 'transactional'])).min(1).max(2).default(['marketing']),
  /** Only messages of journeys carrying one of these tags (`settings.tags`); every journey when absent. */
  journeyTags: z.array(KebabId).min(1).max(10).optional(),
};

const ruleBase = {
  $schema: z.string().optional(),
  id: RuleId,
  description: z.string().max(500).optional(),
};

/**
 * `rolling`: the last <duration> before the send, to the second. `calendar`: the current day or ISO week (Monday
 * first) in the profile's time zone (`attributes.timezone`, else the stage default).
 */
export const CapPeriod = z.union([
  z.strictObject({ rolling: Duration }),
  z.strictObject({ calendar: z.enum(['day', 'week']) }),
]);
export type CapPeriod = z.infer<typeof CapPeriod>;

/** At most `limit` messages on `channel` per `period` for one profile, counted at send time. */
export const FrequencyCapRule = z.strictObject({
  ...ruleBase,
  kind: z.literal('frequency-cap'),
  channel: RuleChannel,
  limit: z.number().int().min(1).max(1000),
  period: CapPeriod,
  ...appliesTo,
});
export type FrequencyCapRule = z.infer<typeof FrequencyCapRule>;

/**
 * No message on `channel` between `from` and `to` local time (a window past midnight when `to` ≤ `from`), on the
 * `days` it starts (every day when absent). `defer`: sent when the window opens, dropped (`quiet-hours-expired`) once
 * deferred longer than `maxDeferral`; `skip`: not sent.
 */
export const QuietHoursRule = z.strictObject({
  ...ruleBase,
  kind: z.literal('quiet-hours'),
  channel: RuleChannel,
  from: TimeOfDay,
  to: TimeOfDay,
  days: z.array(Weekday).min(1).max(7).optional(),
  action: z.enum(['defer', 'skip']),
  maxDeferral: Duration.default('7d'),
  ...appliesTo,
});
export type QuietHoursRule = z.infer<typeof QuietHoursRule>;

export const Rule = z.discriminatedUnion('kind', [FrequencyCapRule, QuietHoursRule]);
export type Rule = z.infer<typeof Rule>;
export type RuleInput = z.input<typeof Rule>;
export type RuleKind = Rule['kind'];

export { governanceReason } from './reasons';
