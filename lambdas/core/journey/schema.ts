import * as z from 'zod';
import { DURATION_PATTERN } from '../shared/duration';
import { DATA_PATH_PATTERN } from '../shared/paths';
import { EventType } from '../events/business-event';
import { Condition } from './condition';
import { SegmentId } from '../segments/rule';
import { DEFAULT_PRIORITY, SCHEMA_VERSION } from './constants';

/** The journey language version this code reads and writes. */
export { DEFAULT_PRIORITY, SCHEMA_VERSION };

/** Node ids are kebab-case; they become state names, so they stay short (a suffix such as `.deliver` is added). */
export const NodeId = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'node ids are kebab-case: lowercase letters and digits separated by single hyphens')
  .max(64, 'node ids are at most 64 characters (state names are limited to 80)');

export const JourneyId = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'journey ids are kebab-case')
  .max(48, 'journey ids are at most 48 characters (they prefix execution names, limited to 80)');

export const Duration = z.string().regex(DURATION_PATTERN, 'durations are groups of <integer><s|m|h|d|w>, e.g. "1h" or "1d12h"');
const DataPath = z.string().regex(DATA_PATH_PATTERN, 'path must be event|profile|context|steps followed by .identifier segments other than .length');

export const EventEntry = z.strictObject({
  kind: z.literal('event'),
  /** The business event's type (EventBridge `detail-type`). */
  event: EventType,
  /** Only events from this source. */
  source: z.string().min(1).optional(),
  /** Only events (and profiles) for which this holds; paths under `event` and `profile`. */
  condition: Condition.optional(),
});
export type EventEntry = z.infer<typeof EventEntry>;

export const ApiEntry = z.strictObject({ kind: z.literal('api') });
export type ApiEntry = z.infer<typeof ApiEntry>;

/** Starts when a profile enters the segment (streaming evaluation or the scheduled re-check qualifies it). */
export const SegmentEntry = z.strictObject({ kind: z.literal('segment'), segment: SegmentId });
export type SegmentEntry = z.infer<typeof SegmentEntry>;

export const Entry = z.discriminatedUnion('kind', [EventEntry, ApiEntry, SegmentEntry]);
export type Entry = z.infer<typeof Entry>;

export const Reentry = z.union([z.literal('never'), z.literal('always'), z.strictObject({ after: Duration })]);
export type Reentry = z.infer<typeof Reentry>;

export const Settings = z.strictObject({
  /** Default: a profile may enter again once its previous run of this journey has ended. */
  reentry: Reentry.optional(),
  /** Global timeout of one run; default 91 days. */
  timeout: Duration.default('91d'),
  messageClass: z.enum(['marketing', 'transactional']).default('marketing'),
  /** Arbitration between journeys (governance rules, exclusive groups): 1–100, higher wins; 50 when absent. */
  priority: z.number().int().min(1).max(100).optional(),
  /** A profile is in at most one journey of this group at a time (the higher priority wins). */
  exclusive: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'exclusive groups are kebab-case').max(64).optional(),
  /** Labels that governance rules may select journeys by (`journeyTags`). */
  tags: z.array(z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'tags are kebab-case').max(64)).min(1).max(10).optional(),
  /** This share of entering profiles (stable per profile) runs the journey without receiving any of its messages. */
  holdout: z.strictObject({ percent: z.number().gt(0).max(50) }).optional(),
});
export type Settings = z.infer<typeof Settings>;

const nodeBase = { id: NodeId, description: z.string().max(500).optional() };

export const WaitNode = z
  .strictObject({
    ...nodeBase,
    kind: z.literal('wait'),
    /** Wait this long. */
    duration: Duration.optional(),
    /** Or wait until the timestamp at this path (`event.properties.startsAt`, `profile.attributes.renewalDate`). */
    until: DataPath.optional(),
    /** Shift the `until` timestamp, e.g. "-1d" for the day before; a leading "-" means earlier. */
    offset: z.string().regex(/^-?(\d+[smhdw])+$/, 'offset is a duration, optionally negative, e.g. "-1d"').optional(),
    /** With `until`: move to this local time of day (HH:MM) on that date, in the profile's `timezone` attribute (default UTC). */
    atLocalTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'atLocalTime is HH:MM, 24-hour').optional(),
    next: NodeId,
  })
  .refine((n) => (n.duration === undefined) !== (n.until === undefined), { message: 'a wait has exactly one of duration or until', path: ['duration'] })
  .refine((n) => n.until !== undefined || (n.offset === undefined && n.atLocalTime === undefined), {
    message: 'offset and atLocalTime apply to until-waits only',
    path: ['offset'],
  });
export type WaitNode = z.infer<typeof WaitNode>;

export const Correlation = z.strictObject({
  /** Property of the awaited event, e.g. `cartId` (its `properties.cartId`). */
  property: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'property is an identifier of at most 64 characters'),
  /** Path in this journey's data whose value (or any element, for a list) must equal it, e.g. `event.properties.cartId`. */
  equals: DataPath,
  /**
   * `profile` (the default): only an event of this run's profile resumes it. `catalog`: a catalog event (`"catalog":
   * true`, no identities: a price drop, a restock) with the value resumes every run waiting on it; customers' events
   * do not.
   */
  scope: z.enum(['profile', 'catalog']).optional(),
});
export type Correlation = z.infer<typeof Correlation>;

export const WaitForEventNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('wait-for-event'),
  /** One or more event types; the first to arrive resumes the journey. */
  events: z.array(EventType).min(1).max(5),
  /** How the awaited event is matched to this run; without it, any such event of the same profile matches. */
  correlate: Correlation.optional(),
  timeout: Duration,
  onEvent: NodeId,
  onTimeout: NodeId,
});
export type WaitForEventNode = z.infer<typeof WaitForEventNode>;

export const ConditionNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('condition'),
  /** Evaluated in order; the first that holds wins. */
  branches: z.array(z.strictObject({ when: Condition, next: NodeId, label: z.string().max(60).optional() })).min(1).max(10),
  default: NodeId,
});
export type ConditionNode = z.infer<typeof ConditionNode>;

export const EmailTemplate = z.strictObject({
  subject: z.string().min(1).max(998),
  html: z.string().max(200_000).optional(),
  text: z.string().min(1).max(200_000),
});
export const SmsTemplate = z.strictObject({ body: z.string().min(1).max(1600) });
export const PushTemplate = z.strictObject({ title: z.string().min(1).max(200), body: z.string().min(1).max(2000), url: z.string().max(2000).optional() });

/** A send node may name the subscription list its message belongs to: an opt-out of `list:<id>` then stops it. */
const SendList = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a list id is 1 to 64 letters, digits, _ . -');

export const SendNode = z.discriminatedUnion('channel', [
  z.strictObject({ ...nodeBase, kind: z.literal('send'), channel: z.literal('email'), list: SendList.optional(), template: EmailTemplate, next: NodeId }),
  z.strictObject({ ...nodeBase, kind: z.literal('send'), channel: z.literal('sms'), list: SendList.optional(), template: SmsTemplate, next: NodeId }),
  z.strictObject({ ...nodeBase, kind: z.literal('send'), channel: z.literal('push'), list: SendList.optional(), template: PushTemplate, next: NodeId }),
]);
export type SendNode = z.infer<typeof SendNode>;
export type Channel = SendNode['channel'];

/**
 * Picks the best offer for a placement (decisioning) and keeps it at `steps.<id with - as _>`: `offer` (the first, or
 * null), `offers`, `fallback`, `decisionId`. A later send renders it, e.g. `{{ steps.pick_offer.offer.content.title }}`.
 */
export const DecideNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('decide'),
  placement: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'placement ids are kebab-case').max(64),
  /** Offers wanted (default 1). */
  count: z.number().int().min(1).max(5).default(1),
  /** The decision context for ranking formulas: name → data path, e.g. `{ "cartTotal": "event.properties.total" }`. */
  context: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'context names are identifiers'), DataPath).optional(),
  next: NodeId,
  /** Where to go when no offer (not even a fallback) qualifies; default: `next`. */
  onNoOffer: NodeId.optional(),
});
export type DecideNode = z.infer<typeof DecideNode>;

const Weight = z.number().int('weights are whole percents').min(1).max(100);
const VariantId = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'variant ids are kebab-case').max(32);

/**
 * An A/B(/n) test: each entering profile is assigned one variant (stable per profile and node: a hash of the profile,
 * journey and node ids, decided when it enters), or the holdout, which gets no message from here on and exits.
 * Weights are percents summing to 100. The run keeps its variant at `variant` (the last split passed) and every
 * split's at `variants.<id with - as _>`.
 */
export const SplitNode = z.strictObject({
  ...nodeBase,
  kind: z.literal('split'),
  variants: z
    .array(z.strictObject({ id: VariantId, weight: Weight, next: NodeId, label: z.string().max(60).optional() }))
    .min(1)
    .max(10),
  holdout: z.strictObject({ weight: Weight }).optional(),
});
export type SplitNode = z.infer<typeof SplitNode>;

export const ExitNode = z.strictObject({ ...nodeBase, kind: z.literal('exit') });
export type ExitNode = z.infer<typeof ExitNode>;

export const JourneyNode = z.union([WaitNode, WaitForEventNode, ConditionNode, SendNode, DecideNode, SplitNode, ExitNode]);
export type JourneyNode = z.infer<typeof JourneyNode>;
export type NodeKind = JourneyNode['kind'];
export const NODE_KINDS = ['wait', 'wait-for-event', 'condition', 'send', 'decide', 'split', 'exit'] as const;

/** Exit criteria: a running run of this journey stops as soon as one holds (the profile left the segment). */
export const ExitCriterion = z.strictObject({ kind: z.literal('segment-exited'), segment: SegmentId });
export type ExitCriterion = z.infer<typeof ExitCriterion>;

export const Goal = z.strictObject({
  event: EventType,
  /** A conversion counts when the goal event happens within this long after the entry. */
  within: Duration,
  /** The revenue of a conversion: a path into the goal event, e.g. `properties.total` (a non-number counts no revenue). */
  value: z
    .string()
    .regex(/^properties(\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,8}$/, 'value is a path into the goal event\'s properties, e.g. "properties.total"')
    .optional(),
  /** Only goal events for which this holds convert (paths under `event`, e.g. `event.properties.channel`). */
  condition: Condition.optional(),
});
export type Goal = z.infer<typeof Goal>;

export const Journey = z.strictObject({
  $schema: z.string().optional(),
  schemaVersion: z.literal(SCHEMA_VERSION, { error: `schemaVersion must be ${SCHEMA_VERSION}` }),
  id: JourneyId,
  name: z.string().min(1).max(120),
  description: z.string().max(2000).optional(),
  entry: Entry,
  settings: Settings.default({ timeout: '91d', messageClass: 'marketing' }),
  /** The conversion this journey aims for: measured per entry (lambdas/core/measure/README.md). */
  goal: Goal.optional(),
  /** Stop a running run when any of these happens to its profile. */
  exitCriteria: z.array(ExitCriterion).min(1).max(10).optional(),
  start: NodeId,
  nodes: z.array(z.unknown()).min(1),
});
export type Journey = Omit<z.infer<typeof Journey>, 'nodes'> & { nodes: JourneyNode[] };
export type JourneyInput = z.input<typeof Journey>;
