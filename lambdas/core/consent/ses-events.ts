import * as z from 'zod';
import { SES_EMAIL_EVENT_PATTERN } from '../engagement/ses-events';
import type { EventPattern } from '../events/pattern';
import type { SuppressionReason } from './policy';
import { normalizeAddress, type SuppressionList } from './ports';

/**
 * SES email events as EventBridge delivers them from a configuration set's event destination (always the account's
 * default bus): every type the destination publishes; bounces and complaints suppress, all are attributed to their
 * message (lambdas/core/engagement/README.md).
 */
export const SES_DELIVERY_EVENT_PATTERN: EventPattern = SES_EMAIL_EVENT_PATTERN;

const Recipients = z.array(z.looseObject({ emailAddress: z.string() })).optional();

/** The parts of the SES event record we read; everything else (headers, tags, diagnostics) passes through unread. */
export const SesDeliveryEvent = z.looseObject({
  id: z.string(),
  source: z.literal('aws.ses'),
  'detail-type': z.string(),
  time: z.string(),
  detail: z.looseObject({
    eventType: z.string().optional(),
    mail: z.looseObject({ messageId: z.string().optional(), destination: z.array(z.string()).default([]) }),
    bounce: z.looseObject({ bounceType: z.string(), bounceSubType: z.string().optional(), bouncedRecipients: Recipients, timestamp: z.string().optional() }).optional(),
    complaint: z.looseObject({ complainedRecipients: Recipients, timestamp: z.string().optional() }).optional(),
  }),
});
export type SesDeliveryEvent = z.infer<typeof SesDeliveryEvent>;

export interface SuppressionRequest {
  address: string;
  reason: SuppressionReason;
  at: string;
  source: string;
}


/**
 * What an SES event asks for: a permanent bounce or a complaint suppresses the recipients it names (or, when it
 * names none, every destination of the message); transient and undetermined bounces suppress nothing.
 */
export function suppressionsFrom(event: SesDeliveryEvent): SuppressionRequest[] {
  const { mail, bounce, complaint } = event.detail;
  const source = `ses:${mail.messageId ?? event.id}`;
  const requests = (reason: SuppressionReason, named: { emailAddress: string }[] | undefined, at: string | undefined) => {
    const addresses = named && named.length > 0 ? named.map((r) => r.emailAddress) : mail.destination;
    return [...new Set(addresses.map(normalizeAddress))].filter((a) => a.length > 0).map((address) => ({ address, reason, at: at ?? event.time, source }));
  };
  if (bounce) return bounce.bounceType === 'Permanent' ? requests('bounce', bounce.bouncedRecipients, bounce.timestamp) : [];
  if (complaint) return requests('complaint', complaint.complainedRecipients, complaint.timestamp);
  return [];
}

export type DeliveryEventResult = { status: 'ignored'; reason: string } | { status: 'suppressed'; addresses: string[] };

/** Records what an SES delivery event means for the suppression list. A redelivery writes the same items again. */
export async function recordDeliveryEvent(deps: { suppression: SuppressionList }, raw: unknown): Promise<DeliveryEventResult> {
  const parsed = SesDeliveryEvent.safeParse(raw);
  if (!parsed.success) return { status: 'ignored', reason: `not an SES delivery event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const requests = suppressionsFrom(parsed.data);
  if (requests.length === 0) return { status: 'ignored', reason: parsed.data.detail.bounce ? `${parsed.data.detail.bounce.bounceType} bounce` : `${parsed.data['detail-type']}` };
  for (const r of requests) await deps.suppression.suppress(r.address, r.reason, r.at, r.source);
  return { status: 'suppressed', addresses: requests.map((r) => r.address) };
}
