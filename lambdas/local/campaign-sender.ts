import type { CampaignMessageOrigin, CampaignMessageSender } from '../core/campaigns/contract';
import { campaignJourneyId } from '../core/campaigns/keys';
import type { PreparedMessage } from '../core/runtime/send';
import type { Outbox, OutboxMessage } from './outbox';

/**
 * The local stack's `CampaignMessageSender`: writes the outbox exactly as a journey's SES, SNS and Pinpoint states do
 * locally (executions.ts), so `POST /local/outbox/{messageId}/events` simulates a campaign email's engagement (its
 * tags lead to the campaign ledger entry) and injected faults (`outbox.inject`) fail a campaign send the same way: an
 * error before sending, `sent: true` after the message went out, a push's `deliveryStatus`.
 */
export function localCampaignSender(outbox: Outbox): CampaignMessageSender {
  return {
    async send(message: PreparedMessage, origin?: CampaignMessageOrigin) {
      const fault = outbox.takeFault(message.channel);
      const raise = () => {
        throw Object.assign(new Error(`injected fault: ${fault!.error}`), { name: fault!.error });
      };
      if (fault?.error && !fault.sent) raise();
      const from = {
        journeyId: origin ? campaignJourneyId(origin.campaignId) : 'campaign',
        nodeId: origin?.nodeId ?? '',
        profileId: origin?.profileId ?? '',
        executionId: origin?.executionId ?? '',
      };
      const sent = outbox.add({ ...content(message), ...from });
      if (fault?.error) raise();
      if (message.channel === 'push') {
        const status = fault?.deliveryStatus ?? 'SUCCESSFUL';
        // Kept in the outbox only when it went out, as the local Pinpoint state does.
        if (status !== 'SUCCESSFUL') {
          if (!fault?.sent) outbox.remove(sent.messageId);
          throw Object.assign(new Error(`not delivered (DeliveryStatus ${status})`), { name: `Pinpoint.${status}` });
        }
      }
      return { messageId: sent.messageId };
    },
  };
}

type Content = Omit<OutboxMessage, 'journeyId' | 'nodeId' | 'profileId' | 'executionId' | 'messageId' | 'time'>;

function content(message: PreparedMessage): Content {
  switch (message.channel) {
    case 'email': {
      const headers = message.headers ?? [];
      return {
        channel: 'email',
        recipient: message.to,
        subject: message.subject,
        body: message.text,
        ...(message.html === undefined ? {} : { html: message.html }),
        ...(headers.length > 0 ? { headers: Object.fromEntries(headers.map((h) => [h.Name, h.Value])) } : {}),
        // The tags SES would publish with the message's events.
        ...(message.tags ? { tags: Object.fromEntries(message.tags.map((t) => [t.Name, t.Value])) } : {}),
      };
    }
    case 'sms':
      return { channel: 'sms', recipient: message.to, body: message.body };
    case 'push':
      const url = message.url ? { url: message.url } : {};
      return { channel: 'push', recipient: message.to, subject: message.title, body: message.body, ...url };
  }
}
