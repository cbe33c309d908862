import { PinpointClient, SendMessagesCommand } from '@aws-sdk/client-pinpoint';
import { MessageRejected, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { PinpointSMSVoiceV2Client, SendTextMessageCommand, ThrottlingException } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { awsCampaignSender } from '../../../lambdas/adapters/campaign-sender';
import { classifySendError } from '../../../lambdas/core/campaigns/deliver';
import type { CampaignMessageOrigin } from '../../../lambdas/core/campaigns/contract';

const ses = mockClient(SESv2Client);
const sms = mockClient(PinpointSMSVoiceV2Client);
const pinpoint = mockClient(PinpointClient);

const origin = (messageClass: 'marketing' | 'transactional'): CampaignMessageOrigin => ({
  campaignId: 'promo',
  runId: 'r1',
  nodeId: 'mail',
  profileId: 'p-1',
  executionId: 'campaign:promo:r1:p-1',
  messageClass,
});

const sender = (pushApplicationId: string | undefined = 'app-1') =>
  awsCampaignSender({
    ses: new SESv2Client({}),
    sms: new PinpointSMSVoiceV2Client({}),
    smsOriginationIdentity: 'pool-1',
    smsConfigurationSetName: 'waymark-test',
    pinpoint: new PinpointClient({}),
    senderEmail: 'news@shop.example',
    configurationSetName: 'waymark-test',
    pushApplicationId,
  });

const push = { channel: 'push' as const, to: 'tok', title: 'T', body: 'B', request: { Addresses: { tok: { ChannelType: 'GCM' } }, MessageConfiguration: { GCMMessage: { Title: 'T', Body: 'B' } } } };
const pushAnswer = (status: string) => ({ MessageResponse: { ApplicationId: 'app-1', RequestId: 'req-1', Result: { tok: { DeliveryStatus: status as never, StatusCode: 200 } } } });

beforeEach(() => {
  ses.reset();
  sms.reset();
  pinpoint.reset();
});

describe('awsCampaignSender', () => {
  it('sends email with SES v2 as the journey step does: configuration set, tags and the unsubscribe headers', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    const headers = [{ Name: 'List-Unsubscribe', Value: '<https://u.example/x>' }, { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' }];
    const tags = [{ Name: 'campaign', Value: 'promo' }];
    const message = { channel: 'email' as const, to: 'ann@example.com', subject: 'Hi', text: 'Text', html: '<p>Html</p>', headers, tags };
    expect(await sender().send(message, origin('marketing'))).toEqual({ messageId: 'ses-1' });
    expect(ses.commandCalls(SendEmailCommand)[0].args[0].input).toEqual({
      FromEmailAddress: 'news@shop.example',
      Destination: { ToAddresses: ['ann@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Hi', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Text', Charset: 'UTF-8' }, Html: { Data: '<p>Html</p>', Charset: 'UTF-8' } },
          Headers: headers,
        },
      },
      ConfigurationSetName: 'waymark-test',
      EmailTags: tags,
    });
  });

  it('leaves out headers and html a message does not have', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'ses-2' });
    await sender().send({ channel: 'email', to: 'a@example.com', subject: 's', text: 't' }, origin('transactional'));
    const simple = ses.commandCalls(SendEmailCommand)[0].args[0].input.Content?.Simple;
    expect(simple).not.toHaveProperty('Headers');
    expect(simple?.Body).not.toHaveProperty('Html');
  });

  it('keeps the SDK error name, which deliver classifies (a rejected email is failed)', async () => {
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }));
    const error = await sender().send({ channel: 'email', to: 'a@example.com', subject: 's', text: 't' }).catch((e: Error) => e);
    expect((error as Error).name).toBe('MessageRejected');
    expect(classifySendError('email', (error as Error).name)).toBe('failed');
  });

  it('sends SMS with End User Messaging SendTextMessage, promotional for marketing and transactional otherwise', async () => {
    sms.on(SendTextMessageCommand).resolves({ MessageId: 'sms-1' });
    const message = { channel: 'sms' as const, to: '+4915100000000', body: 'Hi', context: { campaign: 'spring' } };
    expect(await sender().send(message, origin('marketing'))).toEqual({ messageId: 'sms-1' });
    await sender().send(message, origin('transactional'));
    const inputs = sms.commandCalls(SendTextMessageCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.MessageType)).toEqual(['PROMOTIONAL', 'TRANSACTIONAL']);
    expect(inputs[0]).toMatchObject({
      DestinationPhoneNumber: '+4915100000000',
      MessageBody: 'Hi',
      OriginationIdentity: 'pool-1',
      ConfigurationSetName: 'waymark-test',
      Context: { campaign: 'spring', configurationSet: 'waymark-test' },
    });
  });

  it('lets a throttled SMS fail with its SDK name (deliver tries it again)', async () => {
    sms.on(SendTextMessageCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    const error = (await sender().send({ channel: 'sms', to: '+4915100000000', body: 'Hi' }).catch((e: Error) => e)) as Error;
    expect(classifySendError('sms', error.name)).toBe('throttled');
  });

  it('sends push with Pinpoint SendMessages and the request prepared for the address', async () => {
    pinpoint.on(SendMessagesCommand).resolves(pushAnswer('SUCCESSFUL'));
    expect(await sender().send(push)).toEqual({ messageId: 'req-1' });
    expect(pinpoint.commandCalls(SendMessagesCommand)[0].args[0].input).toEqual({ ApplicationId: 'app-1', MessageRequest: push.request });
  });

  it.each([
    ['THROTTLED', 'throttled'],
    ['TEMPORARY_FAILURE', 'throttled'],
    ['PERMANENT_FAILURE', 'failed'],
    ['OPT_OUT', 'failed'],
    ['UNKNOWN_FAILURE', 'unknown'],
    ['TIMEOUT', 'unknown'],
  ])('fails a push whose DeliveryStatus is %s as Pinpoint.<status> (%s)', async (status, kind) => {
    pinpoint.on(SendMessagesCommand).resolves(pushAnswer(status));
    const error = (await sender().send(push).catch((e: Error) => e)) as Error;
    expect(error.name).toBe(`Pinpoint.${status}`);
    expect(classifySendError('push', error.name)).toBe(kind);
  });

  it('fails a push without a DeliveryStatus, or without a push application, as unknown and failed', async () => {
    pinpoint.on(SendMessagesCommand).resolves({ MessageResponse: { ApplicationId: 'app-1', RequestId: 'r', Result: {} } });
    const noStatus = (await sender().send(push).catch((e: Error) => e)) as Error;
    expect(noStatus.name).toBe('Pinpoint.NoDeliveryStatus');
    expect(classifySendError('push', noStatus.name)).toBe('unknown');
    const noApp = (await sender('').send(push).catch((e: Error) => e)) as Error;
    expect(noApp.name).toBe('Pinpoint.NoApplication');
    expect(classifySendError('push', noApp.name)).toBe('failed');
    expect(pinpoint.commandCalls(SendMessagesCommand)).toHaveLength(1);
  });
});
