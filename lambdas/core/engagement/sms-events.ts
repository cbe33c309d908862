import * as z from 'zod';
import { checkEventTime } from '../events/event-time';
import type { EventPattern } from '../events/pattern';
import { ownRecord } from '../shared/own-record';

/**
 * SMS delivery status events of AWS End User Messaging SMS (sms-voice v2). The service puts them on the account's
 * default bus by itself, `source: aws.sms-voice`, `detail-type: Text Message Delivery Status Updated`
 * (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sms-voice.html); EventBridge is no configuration-set
 * event destination (those are CloudWatch Logs, Firehose and SNS:
 * https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_CreateEventDestination.html). `detail` is
 * the SMS event record (https://docs.aws.amazon.com/sms-voice/latest/userguide/monitor-event-bridge.html,
 * https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-format.html): `messageId`,
 * `messageStatus`, `messageStatusDescription`, `eventTimestamp` (Unix ms), `isFinal`, and `context`, the key-value
 * pairs given to SendTextMessage.
 */
export const SMS_EVENT_SOURCE = 'aws.sms-voice';
export const SMS_STATUS_DETAIL_TYPE = 'Text Message Delivery Status Updated';

/** The rule of the SMS status events (the stage rule adds its configuration set, which every message's context names). */
export const SMS_STATUS_EVENT_PATTERN: EventPattern = { source: [SMS_EVENT_SOURCE], 'detail-type': [SMS_STATUS_DETAIL_TYPE] };

// The context prepare-send gives an SMS lives apart from the event schema (zod), for the steps' bundles.
export { SMS_CONTEXT, smsContext } from './sms-context';

const When = z.string().max(64);
/** Outside keys: a null-prototype record (records.ts), bounded. */
const Context = ownRecord(z.string().min(1).max(100), z.string().max(800)).refine((c) => Object.keys(c).length <= 32, 'at most 32 context keys');

/** The parts of an SMS status event we read; the rest (price, carrier, country codes) passes through unread. */
export const SmsStatusEvent = z.looseObject({
  id: z.string().max(256),
  source: z.literal(SMS_EVENT_SOURCE),
  'detail-type': z.literal(SMS_STATUS_DETAIL_TYPE),
  time: When,
  detail: z.looseObject({
    eventType: z.string().max(64).optional(),
    messageId: z.string().min(1).max(256),
    messageStatus: z.string().min(1).max(64),
    messageStatusDescription: z.string().max(4096).optional(),
    eventTimestamp: z.number().int().min(0).max(8.64e15).optional(),
    isFinal: z.boolean().optional(),
    context: Context.optional(),
  }),
});
export type SmsStatusEvent = z.infer<typeof SmsStatusEvent>;

/**
 * What a status says (https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-types.html):
 * DELIVERED, and SUCCESSFUL ("accepted by the recipient's carrier"; some countries report only it, used
 * interchangeably with DELIVERED) unless it says it is not final, are deliveries. A final BLOCKED, CARRIER_BLOCKED,
 * CARRIER_UNREACHABLE, UNREACHABLE, INVALID, INVALID_MESSAGE, SPAM, TTL_EXPIRED, PROTECT_BLOCKED or FAILED is a
 * message that did not arrive. QUEUED, PENDING and SENT are on the way; UNKNOWN (no final word from the carrier after
 * 72 hours) says nothing: both are ignored, as is any status not listed (logged).
 */
export type SmsStatusMeaning = { kind: 'delivered' } | { kind: 'undelivered'; status: string } | { kind: 'ignored'; reason: string };

const UNDELIVERED = new Set([
  'BLOCKED',
  'CARRIER_BLOCKED',
  'CARRIER_UNREACHABLE',
  'UNREACHABLE',
  'INVALID',
  'INVALID_MESSAGE',
  'SPAM',
  'TTL_EXPIRED',
  'PROTECT_BLOCKED',
  'FAILED',
]);
const ON_THE_WAY = new Set(['QUEUED', 'PENDING', 'SENT']);

export function smsStatusMeaning(detail: Pick<SmsStatusEvent['detail'], 'messageStatus' | 'isFinal'>): SmsStatusMeaning {
  const status = detail.messageStatus;
  if (status === 'DELIVERED') return { kind: 'delivered' };
  if (status === 'SUCCESSFUL') return detail.isFinal === false ? { kind: 'ignored', reason: 'SUCCESSFUL, not final' } : { kind: 'delivered' };
  if (UNDELIVERED.has(status)) {
    return detail.isFinal === false ? { kind: 'ignored', reason: `${status}, not final` } : { kind: 'undelivered', status };
  }
  if (ON_THE_WAY.has(status)) return { kind: 'ignored', reason: `${status}: on the way` };
  if (status === 'UNKNOWN') return { kind: 'ignored', reason: 'UNKNOWN: no final status from the carrier' };
  return { kind: 'ignored', reason: `unknown messageStatus ${JSON.stringify(status.slice(0, 64))}` };
}

/**
 * When the event happened: its `eventTimestamp` (Unix ms), else the bus event's time, else receipt; never later than
 * the receipt plus the accepted skew, nor before 2000.
 */
export function smsOccurredAt(event: SmsStatusEvent, receivedAt: Date): string {
  const own = event.detail.eventTimestamp === undefined ? undefined : new Date(event.detail.eventTimestamp).toISOString();
  for (const candidate of [own, event.time]) {
    if (candidate !== undefined && checkEventTime(candidate, receivedAt) === undefined) return new Date(candidate).toISOString();
  }
  return receivedAt.toISOString();
}
