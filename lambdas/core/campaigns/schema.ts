import * as z from 'zod';
import { DURATION_PATTERN } from '../shared/duration';
import { Rule, SegmentId } from '../segments/rule';
import { EmailTemplate, Goal, JourneyId, PushTemplate, SmsTemplate } from '../journey/schema';

/**
 * Campaigns as code: a file in `campaigns/` targets an audience on a schedule, in steps over the audience as a set
 * (campaigns/README.md). This module is the file format only; validate.ts checks the graph and references, compile.ts
 * turns a campaign into the state machine that runs it (contract.ts).
 */

export const CAMPAIGN_SCHEMA_VERSION = 1;

const kebab = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Campaign ids prefix run ids, S3 keys and state machine names. */
export const CampaignId = z.string().regex(kebab, 'campaign ids are kebab-case').max(48, 'campaign ids are at most 48 characters');
export type CampaignId = z.infer<typeof CampaignId>;

/** Step ids become state names (with suffixes such as `.batch`), so they stay short. */
export const StepId = z.string().regex(kebab, 'step ids are kebab-case').max(48, 'step ids are at most 48 characters');

const Duration = z.string().regex(DURATION_PATTERN, 'durations are groups of <integer><s|m|h|d|w>, e.g. "1h" or "2d"');
const TimeZone = z.string().min(1).max(64);
const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'times are HH:MM, 24-hour');
/** A local date-time without offset, read in the schedule's `timeZone`. */
const LocalDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'local date-times are YYYY-MM-DDTHH:MM[:SS]');

/** "Got any message from journey or campaign X in the last N days" (the ledger and campaign ledger are read). */
export const MessagedExclusion = z
  .strictObject({
    journey: JourneyId.optional(),
    campaign: CampaignId.optional(),
    withinDays: z.number().int().min(1).max(365),
  })
  .refine((e) => (e.journey === undefined) !== (e.campaign === undefined), { message: 'name exactly one of journey or campaign', path: ['journey'] });
export type MessagedExclusion = z.infer<typeof MessagedExclusion>;

export const Audience = z
  .strictObject({
    /** A segment's members (its current definition, evaluated when the run starts). */
    segment: SegmentId.optional(),
    /** Or an inline segment rule (lambdas/core/segments/rule.ts). */
    rule: Rule.optional(),
    exclude: z
      .strictObject({
        segments: z.array(SegmentId).min(1).max(20).optional(),
        messaged: z.array(MessagedExclusion).min(1).max(20).optional(),
      })
      .optional(),
    /**
     * The global control group (a stable share of all profiles, stage config `campaignControlGroupPercent`) never
     * receives campaigns and is reported separately. `false` only for service messages that everyone must get.
     */
    controlGroup: z.boolean().default(true),
    /** Rows beyond this are not written (the run says the audience was capped). */
    maxMembers: z.number().int().min(1).max(50_000_000).optional(),
  })
  .refine((a) => (a.segment === undefined) !== (a.rule === undefined), { message: 'an audience has exactly one of segment or rule', path: ['segment'] });
export type Audience = z.infer<typeof Audience>;

export const Schedule = z.discriminatedUnion('type', [
  /** Only through `POST /campaigns/{id}/runs`. */
  z.strictObject({ type: z.literal('on-demand') }),
  /** Once, at a local date-time in the zone (EventBridge Scheduler `at(...)` with ScheduleExpressionTimezone). */
  z.strictObject({ type: z.literal('once'), at: LocalDateTime, timeZone: TimeZone }),
  /**
   * Recurring: an EventBridge Scheduler cron expression, six fields `minutes hours day-of-month month day-of-week year`
   * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based), in the zone.
   */
  z.strictObject({
    type: z.literal('recurring'),
    cron: z.string().min(11).max(256),
    timeZone: TimeZone,
    start: LocalDateTime.optional(),
    end: LocalDateTime.optional(),
  }),
]);
export type Schedule = z.infer<typeof Schedule>;

/** Messages per second across the whole audience (the step's Distributed Map is paced to it). */
const Rate = z.number().int().min(1).max(10_000);
export const DEFAULT_RATE = 100;

const stepBase = { description: z.string().max(500).optional() };

/** The same subscription-list ids as journey send nodes. */
const SendList = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a list id is 1 to 64 letters, digits, _ . -');

const deliverBase = {
  ...stepBase,
  kind: z.literal('deliver'),
  list: SendList.optional(),
  /** Picks the best offer per member for this placement; the template reads it as `offer` (and `offers`). */
  decide: z.strictObject({ placement: z.string().regex(kebab).max(64), count: z.number().int().min(1).max(5).default(1) }).optional(),
  rate: Rate.default(DEFAULT_RATE),
  /** Send at this local time of day (`in`: each member's own zone, or the stage default zone for everyone). */
  at: LocalTime.optional(),
  in: z.enum(['member', 'stage']).optional(),
  /** When a zone's `at` has already passed as the run reaches this step: next day (default) or at once. */
  passed: z.enum(['next-day', 'now']).optional(),
  /**
   * One message per item of an array: `profile.attributes.<name>` or `row.<name>` (the audience row), at most `max`
   * items per member; the template reads the item as `item`. Each item's ledger key is the step and the item's index.
   */
  forEach: z
    .strictObject({
      path: z.string().regex(/^(profile\.attributes|row)(\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,4}$/, 'forEach.path is profile.attributes.<name> or row.<name>'),
      max: z.number().int().min(1).max(50).default(10),
    })
    .optional(),
  next: StepId.optional(),
};

export const DeliverStep = z.discriminatedUnion('channel', [
  z.strictObject({ ...deliverBase, channel: z.literal('email'), template: EmailTemplate }),
  z.strictObject({ ...deliverBase, channel: z.literal('sms'), template: SmsTemplate }),
  z.strictObject({ ...deliverBase, channel: z.literal('push'), template: PushTemplate }),
]);
export type DeliverStep = z.infer<typeof DeliverStep>;

/** The whole audience waits: one Wait state, not one per member. */
export const WaitStep = z.strictObject({ ...stepBase, kind: z.literal('wait'), duration: Duration, next: StepId });
export type WaitStep = z.infer<typeof WaitStep>;

const Weight = z.number().int('weights are whole percents').min(1).max(100);
const BranchId = z.string().regex(kebab, 'branch ids are kebab-case').max(32);

export const PercentSplit = z.strictObject({
  ...stepBase,
  kind: z.literal('split'),
  by: z.literal('percent'),
  /** Stable per member, campaign and step (a hash), so a recurring campaign keeps its groups. */
  variants: z.array(z.strictObject({ id: BranchId, weight: Weight, next: StepId })).min(1).max(10),
  /** This share gets nothing from here on; its conversions are still measured. */
  holdout: z.strictObject({ weight: Weight }).optional(),
});
export const RuleSplit = z.strictObject({
  ...stepBase,
  kind: z.literal('split'),
  by: z.literal('rule'),
  /** The first branch whose segment rule holds for the member's profile wins. */
  branches: z.array(z.strictObject({ id: BranchId, rule: Rule, next: StepId })).min(1).max(10),
  otherwise: StepId,
});
export const EngagementSplit = z.strictObject({
  ...stepBase,
  kind: z.literal('split'),
  by: z.literal('engagement'),
  /** An earlier `deliver` step on this path. */
  step: StepId,
  /** `converted`: the campaign's goal event since that delivery. */
  engagement: z.enum(['opened', 'clicked', 'not-opened', 'converted']),
  yes: StepId,
  no: StepId,
});
export const SplitStep = z.discriminatedUnion('by', [PercentSplit, RuleSplit, EngagementSplit]);
export type SplitStep = z.infer<typeof SplitStep>;

/** Starts the journey (its API entry) for each member, rate-limited, respecting the journey's re-entry setting. */
export const EnterJourneyStep = z.strictObject({ ...stepBase, kind: z.literal('enter-journey'), journey: JourneyId, rate: Rate.default(DEFAULT_RATE), next: StepId.optional() });
export type EnterJourneyStep = z.infer<typeof EnterJourneyStep>;

export const ExitStep = z.strictObject({ ...stepBase, kind: z.literal('exit') });
export type ExitStep = z.infer<typeof ExitStep>;

export const CampaignStep = z.union([DeliverStep, WaitStep, SplitStep, EnterJourneyStep, ExitStep]);
export type CampaignStep = z.infer<typeof CampaignStep>;
export const STEP_KINDS = ['deliver', 'wait', 'split', 'enter-journey', 'exit'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const MAX_STEPS = 50;

export const Campaign = z.strictObject({
  $schema: z.string().optional(),
  schemaVersion: z.literal(CAMPAIGN_SCHEMA_VERSION, { error: `schemaVersion must be ${CAMPAIGN_SCHEMA_VERSION}` }),
  id: CampaignId,
  name: z.string().min(1).max(120),
  description: z.string().max(2000).optional(),
  audience: Audience,
  schedule: Schedule,
  messageClass: z.enum(['marketing', 'transactional']).default('marketing'),
  /** Governance rules select campaigns like journeys: by priority and tags. */
  priority: z.number().int().min(1).max(100).optional(),
  tags: z.array(z.string().regex(kebab).max(64)).min(1).max(10).optional(),
  /**
   * The conversion the campaign aims for, the journeys' goal (event, window, revenue `value`): engagement splits on
   * `converted`, and each run's conversions and revenue, treated against the control group and split holdouts.
   */
  goal: Goal.optional(),
  start: StepId,
  /** Step id → step. A tree: every step but `start` is the `next` of exactly one step. */
  steps: z.record(StepId, CampaignStep).refine((s) => Object.keys(s).length >= 1 && Object.keys(s).length <= MAX_STEPS, {
    message: `a campaign has 1 to ${MAX_STEPS} steps`,
  }),
});
export type Campaign = z.infer<typeof Campaign>;
export type CampaignInput = z.input<typeof Campaign>;
