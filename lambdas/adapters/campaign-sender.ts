import { SendMessagesCommand, type PinpointClient } from '@aws-sdk/client-pinpoint';
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { SendTextMessageCommand, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { CampaignMessageOrigin, CampaignMessageSender } from '../core/campaigns/contract';
import type { PreparedMessage } from '../core/runtime/send';

/**
 * `CampaignMessageSender` on AWS: the same requests as the journeys' delivery states (lambdas/core/journey/compile.ts
 * `deliveryState`), made by the campaign-step function itself. Errors keep the SDK's names (`MessageRejected`,
 * `ThrottlingException`…), which deliver.ts classifies like the states' Catch; a push whose address's DeliveryStatus
 * is not SUCCESSFUL fails with `Pinpoint.<DeliveryStatus>` as the journey's push branch does.
 */
export interface CampaignSenderOptions {
  ses: Pick<SESv2Client, 'send'>;
  /** End User Messaging SMS, as the journeys' SMS state sends (lambdas/core/journey/compile.ts). */
  sms: Pick<PinpointSMSVoiceV2Client, 'send'>;
  /** The stage's SMS origination identity and configuration set (lib/config.ts); the set's rule reads status events. */
  smsOriginationIdentity?: string;
  smsConfigurationSetName?: string;
  pinpoint: Pick<PinpointClient, 'send'>;
  /** The verified identity journeys send from (stage `senderEmail`). */
  senderEmail: string;
  /** The stage's configuration set: its event destination publishes the engagement events. */
  configurationSetName: string;
  /** The End User Messaging (Pinpoint) application of push; without it a push fails as `Pinpoint.NoApplication`. */
  pushApplicationId?: string;
}

/** A push that was not delivered, named as the journeys' push branch names it (`Pinpoint.<DeliveryStatus>`). */
export class PushNotDeliveredError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export function awsCampaignSender(options: CampaignSenderOptions): CampaignMessageSender {
  return {
    async send(message: PreparedMessage, origin?: CampaignMessageOrigin) {
      switch (message.channel) {
        case 'email':
          return sendEmail(options, message);
        case 'sms':
          return sendSms(options, message, origin?.messageClass ?? 'marketing');
        case 'push':
          return sendPush(options, message);
      }
    },
  };
}

async function sendEmail(options: CampaignSenderOptions, message: Extract<PreparedMessage, { channel: 'email' }>) {
  const headers = message.headers ?? [];
  const out = await options.ses.send(
    new SendEmailCommand({
      FromEmailAddress: options.senderEmail,
      Destination: { ToAddresses: [message.to] },
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: message.text, Charset: 'UTF-8' },
            ...(message.html === undefined ? {} : { Html: { Data: message.html, Charset: 'UTF-8' } }),
          },
          // List-Unsubscribe and List-Unsubscribe-Post of marketing email (send.ts `unsubscribeHeaders`).
          ...(headers.length === 0 ? {} : { Headers: headers }),
        },
      },
      ConfigurationSetName: options.configurationSetName,
      // The tags SES events come back with (engagement/tags.ts): they lead to the ledger entry.
      ...(message.tags === undefined ? {} : { EmailTags: message.tags }),
    }),
  );
  if (!out.MessageId) throw Object.assign(new Error('SES answered without a MessageId'), { name: 'SesV2.NoMessageId' });
  return { messageId: out.MessageId };
}

type Sms = Extract<PreparedMessage, { channel: 'sms' }>;

async function sendSms(options: CampaignSenderOptions, message: Sms, messageClass: string) {
  // SendTextMessage (https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html):
  // the same request as the journeys' SMS state, `Context` carrying what the message's status events come back with.
  const context = { ...(message.context ?? {}), ...(options.smsConfigurationSetName ? { configurationSet: options.smsConfigurationSetName } : {}) };
  const out = await options.sms.send(
    new SendTextMessageCommand({
      DestinationPhoneNumber: message.to,
      MessageBody: message.body,
      MessageType: messageClass === 'marketing' ? 'PROMOTIONAL' : 'TRANSACTIONAL',
      ...(options.smsOriginationIdentity ? { OriginationIdentity: options.smsOriginationIdentity } : {}),
      ...(options.smsConfigurationSetName ? { ConfigurationSetName: options.smsConfigurationSetName } : {}),
      ...(Object.keys(context).length === 0 ? {} : { Context: context }),
    }),
  );
  if (!out.MessageId) throw Object.assign(new Error('End User Messaging SMS answered without a MessageId'), { name: 'PinpointSmsVoiceV2.NoMessageId' });
  return { messageId: out.MessageId };
}

/**
 * SendMessages answers 200 with a DeliveryStatus per address in `MessageResponse.Result`
 * (MessageResult: https://docs.aws.amazon.com/sdk-for-ruby/v2/api/Aws/Pinpoint/Types/MessageResult.html),
 * one address a request.
 */
async function sendPush(options: CampaignSenderOptions, message: Extract<PreparedMessage, { channel: 'push' }>) {
  if (!options.pushApplicationId) {
    throw new PushNotDeliveredError('Pinpoint.NoApplication', 'no push application is configured for the stage');
  }
  const out = await options.pinpoint.send(
    new SendMessagesCommand({ ApplicationId: options.pushApplicationId, MessageRequest: message.request as never }),
  );
  const result = out.MessageResponse?.Result ?? {};
  const status = Object.values(result)[0]?.DeliveryStatus;
  if (status === undefined) {
    throw new PushNotDeliveredError('Pinpoint.NoDeliveryStatus', 'no DeliveryStatus for the address');
  }
  if (status !== 'SUCCESSFUL') {
    throw new PushNotDeliveredError(`Pinpoint.${status}`, `not delivered (DeliveryStatus ${status})`);
  }
  return { messageId: out.MessageResponse?.RequestId ?? Object.values(result)[0]?.MessageId ?? '' };
}
