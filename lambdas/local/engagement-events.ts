import * as z from 'zod';
import { formatIssues } from '../core/events/business-event';
import { SES_EVENT_TYPE, type SesDetailType, type SesEmailEventKind } from '../core/engagement/ses-events';
import { SMS_EVENT_SOURCE, SMS_STATUS_DETAIL_TYPE } from '../core/engagement/sms-events';
import { NotFoundError, ValidationError } from '../core/runtime/errors';
import type { PutEventsEntry } from './bus';
import type { OutboxMessage } from './outbox';

/**
 * `POST /local/outbox/{messageId}/events`: what SES would put on the default bus for an email in the outbox, or End
 * User Messaging SMS for an SMS, so the engagement handler runs as on AWS. Shapes follow the SES event records
 * (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html) and the EventBridge
 * detail types (https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html); the SMS status event
 * (https://docs.aws.amazon.com/sms-voice/latest/userguide/monitor-event-bridge.html).
 */
/** The carrier statuses a local SMS failure may name (a final non-delivery: lambdas/core/engagement/sms-events.ts). */
export const LOCAL_SMS_FAILURES = ['BLOCKED', 'CARRIER_BLOCKED', 'CARRIER_UNREACHABLE', 'UNREACHABLE', 'INVALID', 'SPAM', 'TTL_EXPIRED'] as const;

export const LocalEngagementRequest = z.strictObject({
  type: z.enum(['delivery', 'open', 'click', 'bounce', 'complaint', 'failure']),
  /** An SMS failure's carrier status (default BLOCKED). */
  status: z.enum(LOCAL_SMS_FAILURES).optional(),
  /** The link clicked (click only; required there). */
  link: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** As SES reports it: a person's browser by default. */
  userAgent: z.string().max(1024).optional(),
  ip: z.string().max(64).optional(),
});
export type LocalEngagementRequest = z.infer<typeof LocalEngagementRequest>;

const DETAIL_TYPE: Record<Exclude<LocalEngagementRequest['type'], 'failure'>, SesDetailType> = {
  delivery: 'Email Delivered',
  open: 'Email Opened',
  click: 'Email Clicked',
  bounce: 'Email Bounced',
  complaint: 'Email Complaint Received',
};

/** A mail client on a laptop, from a documentation address (RFC 5737): what a person's open looks like by default. */
export const PERSON_USER_AGENT = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const PERSON_IP = '192.0.2.10';

/** Checks the request and the message; 404 for an unknown id, 400 naming the field otherwise. */
export function checkEngagementRequest(message: OutboxMessage | undefined, messageId: string, body: unknown): LocalEngagementRequest {
  if (!message) throw new NotFoundError(`no message ${JSON.stringify(messageId.slice(0, 256))} in the outbox`);
  const parsed = LocalEngagementRequest.safeParse(body);
  if (!parsed.success) throw new ValidationError('invalid engagement event', formatIssues(parsed.error.issues));
  if (message.channel === 'push') {
    const issue = { field: 'messageId', message: `message ${messageId} is push` };
    throw new ValidationError('push outcomes are recorded at send (Pinpoint DeliveryStatus)', [issue]);
  }
  if (message.channel === 'sms') return checkSmsRequest(parsed.data);
  if (parsed.data.type === 'failure' || parsed.data.status !== undefined) {
    const field = parsed.data.type === 'failure' ? 'type' : 'status';
    throw new ValidationError('SMS events only', [{ field, message: `message ${messageId} is email: delivery, open, click, bounce or complaint` }]);
  }
  if (parsed.data.type === 'click' && parsed.data.link === undefined) {
    throw new ValidationError('a click names its link', [{ field: 'link', message: 'required for a click' }]);
  }
  if (parsed.data.type !== 'click' && parsed.data.link !== undefined) {
    throw new ValidationError('only a click has a link', [{ field: 'link', message: `not part of a ${parsed.data.type} event` }]);
  }
  return parsed.data;
}

/** The PutEvents entry SES would publish for this message and event, `mail.tags` made of the message's tags. */
export function sesEventEntry(message: OutboxMessage, request: LocalEngagementRequest, now: Date, configurationSet: string): PutEventsEntry {
  const at = now.toISOString();
  const kind = request.type as SesEmailEventKind;
  const tags: Record<string, string[]> = Object.create(null);
  tags['ses:configuration-set'] = [configurationSet];
  tags['ses:from-domain'] = ['waymark.local'];
  tags['ses:caller-identity'] = ['waymark-local'];
  for (const [name, value] of Object.entries(message.tags ?? {})) tags[name] = [value];
  const destination = message.recipient.split(', ');
  const mail = {
    timestamp: message.time,
    source: 'no-reply@waymark.local',
    sendingAccountId: '000000000000',
    messageId: message.messageId,
    destination,
    headersTruncated: false,
    headers: [{ name: 'Subject', value: message.subject ?? '' }],
    commonHeaders: { from: ['no-reply@waymark.local'], to: destination, messageId: message.messageId, subject: message.subject ?? '' },
    tags,
  };
  const agent = { ipAddress: request.ip ?? PERSON_IP, timestamp: at, userAgent: request.userAgent ?? PERSON_USER_AGENT };
  const body = {
    delivery: { delivery: { timestamp: at, processingTimeMillis: 0, recipients: destination, smtpResponse: '250 2.6.0 Message received', reportingMTA: 'local' } },
    open: { open: agent },
    click: { click: { ...agent, link: request.link, linkTags: {} } },
    bounce: {
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: destination.map((emailAddress) => ({ emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' })),
        timestamp: at,
        feedbackId: `local-${message.messageId}`,
        reportingMTA: 'dsn; local',
      },
    },
    complaint: {
      complaint: { complainedRecipients: destination.map((emailAddress) => ({ emailAddress })), complaintFeedbackType: 'abuse', timestamp: at, feedbackId: `local-${message.messageId}` },
    },
  }[request.type as SesEmailEventKind & keyof typeof DETAIL_TYPE];
  return { Source: 'aws.ses', DetailType: DETAIL_TYPE[request.type as keyof typeof DETAIL_TYPE], Time: at, Detail: JSON.stringify({ eventType: SES_EVENT_TYPE[kind], mail, ...body }) };
}

/** An SMS has `delivery` and `failure` (with an optional carrier `status`) events, nothing else. */
function checkSmsRequest(request: LocalEngagementRequest): LocalEngagementRequest {
  if (request.type !== 'delivery' && request.type !== 'failure') {
    throw new ValidationError('an SMS has delivery and failure events', [{ field: 'type', message: `not an SMS event: ${request.type}` }]);
  }
  for (const field of ['link', 'userAgent', 'ip'] as const) {
    if (request[field] !== undefined) {
      throw new ValidationError('not part of an SMS event', [{ field, message: `not part of an SMS ${request.type} event` }]);
    }
  }
  if (request.type === 'delivery' && request.status !== undefined) {
    throw new ValidationError('only a failure has a status', [{ field: 'status', message: 'not part of a delivery event' }]);
  }
  return request;
}

/**
 * The PutEvents entry End User Messaging SMS would publish for this outbox SMS: `Text Message Delivery Status Updated`
 * with DELIVERED or the failure's status, final, and the message's context as sent.
 */
export function smsEventEntry(message: OutboxMessage, request: LocalEngagementRequest, now: Date): PutEventsEntry {
  const at = now.toISOString();
  const delivered = request.type === 'delivery';
  const status = delivered ? 'DELIVERED' : (request.status ?? 'BLOCKED');
  const detail = {
    eventType: `TEXT_${status}`,
    eventVersion: '1.0',
    eventTimestamp: now.getTime(),
    isFinal: true,
    originationPhoneNumber: '+15555550100',
    destinationPhoneNumber: message.recipient,
    isoCountryCode: 'US',
    messageId: message.messageId,
    messageRequestTimestamp: Date.parse(message.time),
    messageEncoding: 'GSM',
    messageType: 'TRANSACTIONAL',
    messageStatus: status,
    messageStatusDescription: delivered ? 'Message has been accepted by phone' : `The carrier reported ${status}`,
    ...(message.context ? { context: { ...message.context } } : {}),
    totalMessageParts: 1,
    totalMessagePrice: 0,
    totalCarrierFee: 0,
  };
  return { Source: SMS_EVENT_SOURCE, DetailType: SMS_STATUS_DETAIL_TYPE, Time: at, Detail: JSON.stringify(detail) };
}

/** The provider's event for an outbox message: SES's for an email, End User Messaging SMS's for an SMS. */
export function engagementEventEntry(message: OutboxMessage, request: LocalEngagementRequest, now: Date, configurationSet: string): PutEventsEntry {
  return message.channel === 'sms' ? smsEventEntry(message, request, now) : sesEventEntry(message, request, now, configurationSet);
}
