import * as z from 'zod';
import { checkEventTime } from '../events/event-time';
import type { EventPattern } from '../events/pattern';
import { dict } from '../shared/records';
import { ownRecord } from '../shared/own-record';

/**
 * SES email sending events as EventBridge delivers them from a configuration set's event destination: `detail-type`
 * per event type (https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html), `detail` the event record
 * (`eventType`, `mail` with `messageId`, `timestamp` and `tags` name → values, and one object per type:
 * https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html).
 */
export const SES_EMAIL_EVENTS = {
  'Email Sent': 'send',
  'Email Delivered': 'delivery',
  'Email Bounced': 'bounce',
  'Email Complaint Received': 'complaint',
  'Email Rejected': 'reject',
  'Email Opened': 'open',
  'Email Clicked': 'click',
  'Email Rendering Failed': 'rendering-failure',
} as const;
export type SesEmailEventKind = (typeof SES_EMAIL_EVENTS)[keyof typeof SES_EMAIL_EVENTS];
export type SesDetailType = keyof typeof SES_EMAIL_EVENTS;

/** The `detail.eventType` SES writes for each kind (the event record's own name). */
export const SES_EVENT_TYPE: Record<SesEmailEventKind, string> = {
  send: 'Send',
  delivery: 'Delivery',
  bounce: 'Bounce',
  complaint: 'Complaint',
  reject: 'Reject',
  open: 'Open',
  click: 'Click',
  'rendering-failure': 'Rendering Failure',
};

/** The rule of the configuration set's events (the stage rule adds its `ses:configuration-set` tag). */
export const SES_EMAIL_EVENT_PATTERN: EventPattern = { source: ['aws.ses'], 'detail-type': Object.keys(SES_EMAIL_EVENTS) };

const Text = z.string().max(4096);
const When = z.string().max(64);

/** Tag values arrive as lists (`{"journey":["welcome"]}`); kept in a Map, names being outside data. */
const Tags = ownRecord(z.string().max(256), z.array(z.string().max(256)).max(16))
  .refine((tags) => Object.keys(tags).length <= 64, 'at most 64 tags')
  .optional()
  .transform((tags) => new Map(Object.entries(tags ?? dict<string[]>())));

/** The parts of an SES email event we read; the rest (headers, diagnostics) passes through unread. */
export const SesEmailEvent = z.looseObject({
  id: z.string().max(256),
  source: z.literal('aws.ses'),
  'detail-type': z.enum(Object.keys(SES_EMAIL_EVENTS) as [SesDetailType, ...SesDetailType[]]),
  time: When,
  detail: z.looseObject({
    eventType: z.string().max(64).optional(),
    mail: z.looseObject({ messageId: z.string().min(1).max(256), timestamp: When.optional(), tags: Tags }),
    delivery: z.looseObject({ timestamp: When.optional() }).optional(),
    bounce: z.looseObject({ bounceType: z.string().max(64), timestamp: When.optional() }).optional(),
    complaint: z.looseObject({ timestamp: When.optional() }).optional(),
    reject: z.looseObject({ reason: Text.optional() }).optional(),
    open: z.looseObject({ timestamp: When.optional(), userAgent: Text.optional(), ipAddress: z.string().max(64).optional() }).optional(),
    click: z
      .looseObject({ timestamp: When.optional(), userAgent: Text.optional(), ipAddress: z.string().max(64).optional(), link: z.string().max(8192).optional() })
      .optional(),
    failure: z.looseObject({ errorMessage: Text.optional() }).optional(),
  }),
});
export type SesEmailEvent = z.infer<typeof SesEmailEvent>;

/** The timestamp of the event's own object (`delivery.timestamp`, `open.timestamp`, …), when it has one. */
function ownTimestamp(event: SesEmailEvent, kind: SesEmailEventKind): string | undefined {
  const d = event.detail;
  switch (kind) {
    case 'delivery':
      return d.delivery?.timestamp;
    case 'bounce':
      return d.bounce?.timestamp;
    case 'complaint':
      return d.complaint?.timestamp;
    case 'open':
      return d.open?.timestamp;
    case 'click':
      return d.click?.timestamp;
    default:
      return undefined;
  }
}

/**
 * When the event happened: the type's own timestamp, else the bus event's time, else receipt; never later than the
 * receipt plus the accepted skew (it would hold the profile's `lastSeen` for ever) nor before 2000.
 */
export function occurredAt(event: SesEmailEvent, kind: SesEmailEventKind, receivedAt: Date): string {
  for (const candidate of [ownTimestamp(event, kind), event.time]) {
    if (candidate !== undefined && checkEventTime(candidate, receivedAt) === undefined) return new Date(candidate).toISOString();
  }
  return receivedAt.toISOString();
}
