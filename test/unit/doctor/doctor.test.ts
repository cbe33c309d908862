import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetApnsChannelCommand, GetAppCommand, GetGcmChannelCommand, NotFoundException as PinpointNotFound, PinpointClient } from '@aws-sdk/client-pinpoint';
import {
  DescribeAccountAttributesCommand,
  DescribePhoneNumbersCommand,
  DescribePoolsCommand,
  DescribeSenderIdsCommand,
  DescribeSpendLimitsCommand,
  PinpointSMSVoiceV2Client,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import type { Channel } from '../../../lambdas/core/journey/schema';
import { renderJson, renderText, runDoctor, type CheckResult, type DoctorInput } from '../../../lambdas/doctor';

// Static credentials and a region: the mocks replace `send`, and nothing may fall through to the network.
const options = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };

function setUp() {
  const clients = {
    sesv2: new SESv2Client(options),
    sms: new PinpointSMSVoiceV2Client(options),
    pinpoint: new PinpointClient(options),
    lambda: new LambdaClient(options),
  };
  const ses = mockClient(clients.sesv2);
  const sms = mockClient(clients.sms);
  const pinpoint = mockClient(clients.pinpoint);
  const lambda = mockClient(clients.lambda);
  // Any call a test did not expect fails loudly instead of answering undefined.
  for (const mock of [ses, sms, pinpoint, lambda] as { onAnyCommand(): { rejects(e: Error): unknown } }[]) {
    mock.onAnyCommand().rejects(new Error('unexpected call'));
  }
  // A healthy account: every check passes.
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'shop.acme.io' }).resolves({ VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
  ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 50000 } });
  ses.on(GetConfigurationSetCommand).resolves({ ConfigurationSetName: 'waymark-prod', SendingOptions: { SendingEnabled: true } });
  sms.on(DescribePhoneNumbersCommand).resolves({ PhoneNumbers: [phone('ACTIVE')] });
  sms.on(DescribePoolsCommand).resolves({ Pools: [] });
  sms.on(DescribeSenderIdsCommand).resolves({ SenderIds: [] });
  sms.on(DescribeSpendLimitsCommand).resolves({ SpendLimits: [{ Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT', MaxLimit: 100, EnforcedLimit: 0, Overridden: false }] });
  sms.on(DescribeAccountAttributesCommand).resolves({ AccountAttributes: [{ Name: 'ACCOUNT_TIER', Value: 'PRODUCTION' }] });
  pinpoint.on(GetAppCommand).resolves({ ApplicationResponse: { Id: 'app1', Arn: 'arn:aws:mobiletargeting:eu-west-1:1:apps/app1', Name: 'shop' } });
  pinpoint.on(GetApnsChannelCommand).resolves({ APNSChannelResponse: { Platform: 'APNS', Enabled: true } });
  pinpoint.on(GetGcmChannelCommand).resolves({ GCMChannelResponse: { Platform: 'GCM', Enabled: true } });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
  return { clients, ses, sms, pinpoint, lambda };
}

type Mocks = ReturnType<typeof setUp>;

const notFound = () => new NotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });
const pinpointNotFound = () => new PinpointNotFound({ message: 'Resource not found', $metadata: { httpStatusCode: 404 } });
const awsError = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, $metadata: {}, ...extra });
const phone = (Status: 'ACTIVE' | 'PENDING') => ({ PhoneNumberArn: 'arn', PhoneNumber: '+12065550100', Status }) as never;

function input(channels: Channel[] = ['email', 'sms', 'push'], overrides: Partial<DoctorInput> = {}): DoctorInput {
  return { stage: 'prod', region: 'eu-west-1', senderEmail: 'news@shop.acme.io', pushApplicationId: 'app1', channels: new Set(channels), ...overrides };
}

async function doctor(mocks: Mocks, given: DoctorInput = input()) {
  const report = await runDoctor(given, mocks.clients);
  const by = (id: string): CheckResult => {
    const found = report.checks.find((c) => c.id === id);
    if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
    return found;
  };
  return { report, by };
}

describe('waymark doctor checks', () => {
  it('passes every check of a ready account, one result per check, in channel order', async () => {
    const { report } = await doctor(setUp());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['sender-address', 'pass'],
      ['ses-identity', 'pass'],
      ['ses-production-access', 'pass'],
      ['ses-sending-enabled', 'pass'],
      ['ses-configuration-set', 'pass'],
      ['sms-origination', 'pass'],
      ['sms-spend-limit', 'pass'],
      ['sms-sandbox', 'pass'],
      ['push-application', 'pass'],
      ['push-channels', 'pass'],
      ['lambda-concurrency', 'pass'],
    ]);
  });

  it('makes read-only calls only (Get and Describe operations)', async () => {
    const mocks = setUp();
    await doctor(mocks);
    const names = [mocks.ses, mocks.sms, mocks.pinpoint, mocks.lambda].flatMap((m) => m.calls().map((call) => (call.args[0] as object).constructor.name));
    expect(names.length).toBeGreaterThanOrEqual(12);
    expect(names.filter((name) => !/^(Get|Describe)[A-Za-z]+Command$/.test(name))).toEqual([]);
  });

  it('runs only the checks of the channels the journeys use', async () => {
    const mocks = setUp();
    const { report } = await doctor(mocks, input(['email']));
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => c.id)).toEqual(['sms-checks', 'push-checks']);
    expect(mocks.sms.calls()).toHaveLength(0);
    expect(mocks.pinpoint.calls()).toHaveLength(0);
    expect(mocks.lambda.calls()).toHaveLength(1);
  });

  describe('email (SES)', () => {
    it('fails a placeholder sender address, naming the setting', async () => {
      const { by, report } = await doctor(setUp(), input(['email'], { senderEmail: 'no-reply@example.com' }));
      expect(report.ok).toBe(false);
      expect(by('sender-address')).toMatchObject({ status: 'fail', fix: expect.stringContaining('waymark:senderEmail') });
    });

    it('passes when only the address (not its domain) is verified', async () => {
      const mocks = setUp();
      mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'shop.acme.io' }).rejects(notFound());
      mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'news@shop.acme.io' }).resolves({ VerifiedForSendingStatus: true });
      expect((await doctor(mocks)).by('ses-identity')).toMatchObject({ status: 'pass', summary: expect.stringContaining('news@shop.acme.io') });
    });

    it('fails when neither the address nor its domain is verified, saying what each is and how to verify', async () => {
      const mocks = setUp();
      mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'shop.acme.io' }).resolves({ VerifiedForSendingStatus: false, VerificationStatus: 'PENDING' });
      mocks.ses.on(GetEmailIdentityCommand, { EmailIdentity: 'news@shop.acme.io' }).rejects(notFound());
      const check = (await doctor(mocks)).by('ses-identity');
      expect(check.status).toBe('fail');
      expect(check.summary).toContain('shop.acme.io exists but is not verified (PENDING)');
      expect(check.summary).toContain('news@shop.acme.io is not an SES identity');
      expect(check.fix).toContain('aws sesv2 create-email-identity --email-identity shop.acme.io');
    });

    it('fails an account in the SES sandbox with how to request production access', async () => {
      const mocks = setUp();
      mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
      const { by, report } = await doctor(mocks);
      expect(report.ok).toBe(false);
      expect(by('ses-production-access')).toMatchObject({ status: 'fail', summary: expect.stringContaining('sandbox'), fix: expect.stringContaining('production access') });
      expect(by('ses-sending-enabled').status).toBe('pass');
    });

    it('fails an account whose sending is paused', async () => {
      const mocks = setUp();
      mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: false, EnforcementStatus: 'SHUTDOWN' });
      expect((await doctor(mocks)).by('ses-sending-enabled')).toMatchObject({ status: 'fail', summary: expect.stringContaining('SHUTDOWN') });
    });

    it('looks up the stage configuration set by name; a missing one is a warning (the deploy creates it)', async () => {
      const mocks = setUp();
      mocks.ses.on(GetConfigurationSetCommand).rejects(notFound());
      const { by, report } = await doctor(mocks);
      expect(mocks.ses.commandCalls(GetConfigurationSetCommand)[0].args[0].input).toEqual({ ConfigurationSetName: 'waymark-prod' });
      expect(by('ses-configuration-set')).toMatchObject({ status: 'warn', fix: expect.stringContaining('cdk deploy') });
      expect(report.ok).toBe(true);
    });

    it('fails a configuration set whose sending is paused', async () => {
      const mocks = setUp();
      mocks.ses.on(GetConfigurationSetCommand).resolves({ SendingOptions: { SendingEnabled: false } });
      expect((await doctor(mocks)).by('ses-configuration-set')).toMatchObject({ status: 'fail', fix: expect.stringContaining('--sending-enabled') });
    });
  });

  describe('SMS (AWS End User Messaging SMS)', () => {
    it('fails without an active origination identity, counting the ones not active yet', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribePhoneNumbersCommand).resolves({ PhoneNumbers: [phone('PENDING')] });
      const check = (await doctor(mocks)).by('sms-origination');
      expect(check).toMatchObject({ status: 'fail', summary: expect.stringContaining('1 not active yet'), fix: expect.stringContaining('request-phone-number') });
    });

    it("finds the stage's origination identity by number, id or ARN among numbers, pools and sender IDs", async () => {
      const mocks = setUp();
      mocks.sms.on(DescribePoolsCommand).resolves({ Pools: [{ PoolId: 'pool-1', PoolArn: 'arn:aws:sms-voice:eu-west-1:1:pool/pool-1', Status: 'ACTIVE' } as never] });
      mocks.sms.on(DescribeSenderIdsCommand).resolves({ SenderIds: [{ SenderId: 'SHOP', SenderIdArn: 'arn:sender', IsoCountryCode: 'GB' } as never] });
      for (const [identity, what] of [['+12065550100', 'phone number'], ['pool-1', 'pool'], ['arn:aws:sms-voice:eu-west-1:1:pool/pool-1', 'pool'], ['SHOP', 'sender ID']]) {
        const check = (await doctor(mocks, input(['sms'], { smsOriginationIdentity: identity }))).by('sms-stage-identity');
        expect(check).toMatchObject({ status: 'pass', summary: `SMS go out from ${identity} (${what})` });
      }
    });

    it("fails when the stage names no origination identity, an unknown one, or one not active yet, each with its fix", async () => {
      const mocks = setUp();
      const none = (await doctor(mocks, input(['sms'], { smsOriginationIdentity: 'none' }))).by('sms-stage-identity');
      expect(none).toMatchObject({ status: 'fail', fix: expect.stringContaining('waymark:smsOriginationIdentity') });
      const unknown = (await doctor(mocks, input(['sms'], { smsOriginationIdentity: 'pool-404' }))).by('sms-stage-identity');
      expect(unknown).toMatchObject({ status: 'fail', summary: expect.stringContaining('"pool-404" is none of'), api: expect.arrayContaining(['sms-voice:DescribePools']) });
      mocks.sms.on(DescribePhoneNumbersCommand).resolves({ PhoneNumbers: [phone('PENDING')] });
      const pending = (await doctor(mocks, input(['sms'], { smsOriginationIdentity: '+12065550100' }))).by('sms-stage-identity');
      expect(pending).toMatchObject({ status: 'fail', summary: expect.stringContaining('not active yet (PENDING)') });
    });

    it('accepts a sender ID or an active pool as the origination identity', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribePhoneNumbersCommand).resolves({ PhoneNumbers: [] });
      mocks.sms.on(DescribeSenderIdsCommand).resolves({ SenderIds: [{ SenderId: 'SHOP', IsoCountryCode: 'GB' } as never] });
      expect((await doctor(mocks)).by('sms-origination')).toMatchObject({ status: 'pass', summary: expect.stringContaining('1 sender ID(s)') });
      mocks.sms.on(DescribeSenderIdsCommand).resolves({ SenderIds: [] });
      mocks.sms.on(DescribePoolsCommand).resolves({ Pools: [{ PoolId: 'pool-1', Status: 'ACTIVE' } as never] });
      expect((await doctor(mocks)).by('sms-origination').status).toBe('pass');
    });

    it.each([
      ['no text limit at all', []],
      ['a $0 maximum', [{ Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT', MaxLimit: 0, EnforcedLimit: 0, Overridden: false }]],
      ['an override of $0 under a $100 maximum', [{ Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT', MaxLimit: 100, EnforcedLimit: 0, Overridden: true }]],
      ['only a voice limit', [{ Name: 'VOICE_MESSAGE_MONTHLY_SPEND_LIMIT', MaxLimit: 100, EnforcedLimit: 0, Overridden: false }]],
    ])('fails a monthly SMS spend limit of $0 (%s)', async (_name, SpendLimits) => {
      const mocks = setUp();
      mocks.sms.on(DescribeSpendLimitsCommand).resolves({ SpendLimits: SpendLimits as never });
      expect((await doctor(mocks)).by('sms-spend-limit')).toMatchObject({ status: 'fail', summary: expect.stringContaining('$0') });
    });

    it('reports the enforced limit when it overrides the maximum', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribeSpendLimitsCommand).resolves({ SpendLimits: [{ Name: 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT', MaxLimit: 100, EnforcedLimit: 25, Overridden: true }] });
      expect((await doctor(mocks)).by('sms-spend-limit')).toMatchObject({ status: 'pass', summary: 'the monthly SMS spend limit is $25' });
    });

    it('fails an account in the SMS sandbox', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribeAccountAttributesCommand).resolves({ AccountAttributes: [{ Name: 'ACCOUNT_TIER', Value: 'SANDBOX' }] });
      expect((await doctor(mocks)).by('sms-sandbox')).toMatchObject({ status: 'fail', fix: expect.stringContaining('production') });
    });
  });

  describe('push (End User Messaging Push / Pinpoint)', () => {
    it('fails a stage without a push application id, without calling AWS', async () => {
      const mocks = setUp();
      const check = (await doctor(mocks, input(['push'], { pushApplicationId: 'none' }))).by('push-application');
      expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('waymark:pushApplicationId') });
      expect(mocks.pinpoint.calls()).toHaveLength(0);
    });

    it('fails a push application that does not exist', async () => {
      const mocks = setUp();
      mocks.pinpoint.on(GetAppCommand).rejects(pinpointNotFound());
      const { by, report } = await doctor(mocks);
      expect(by('push-application')).toMatchObject({ status: 'fail', summary: 'push application app1 does not exist in this region' });
      expect(report.checks.some((c) => c.id === 'push-channels')).toBe(false);
    });

    it('warns, naming the missing one, when only one of APNs and FCM is enabled', async () => {
      const mocks = setUp();
      mocks.pinpoint.on(GetGcmChannelCommand).rejects(pinpointNotFound());
      const { by, report } = await doctor(mocks);
      expect(by('push-channels')).toMatchObject({ status: 'warn', summary: expect.stringContaining('no FCM (Android) channel') });
      expect(report.ok).toBe(true);
      mocks.pinpoint.on(GetGcmChannelCommand).resolves({ GCMChannelResponse: { Platform: 'GCM', Enabled: true } });
      mocks.pinpoint.on(GetApnsChannelCommand).resolves({ APNSChannelResponse: { Platform: 'APNS', Enabled: false } });
      expect((await doctor(mocks)).by('push-channels')).toMatchObject({ status: 'warn', summary: expect.stringContaining('no APNs (iOS) channel') });
    });

    it('fails when neither channel is enabled', async () => {
      const mocks = setUp();
      mocks.pinpoint.on(GetApnsChannelCommand).rejects(pinpointNotFound());
      mocks.pinpoint.on(GetGcmChannelCommand).resolves({ GCMChannelResponse: { Platform: 'GCM', Enabled: false } });
      expect((await doctor(mocks)).by('push-channels')).toMatchObject({ status: 'fail', fix: expect.stringContaining('update-apns-channel') });
    });
  });

  describe('Lambda concurrency', () => {
    it("fails a new account's concurrency of 10, saying so and how to raise it", async () => {
      const mocks = setUp();
      mocks.lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
      const check = (await doctor(mocks)).by('lambda-concurrency');
      expect(check.status).toBe('fail');
      expect(check.summary).toContain("the account's Lambda concurrency is 10; Waymark needs at least 100 (new accounts start as low as 10");
      expect(check.fix).toContain('request-service-quota-increase --service-code lambda --quota-code L-B99A9384');
    });

    it('passes at the required concurrency', async () => {
      const mocks = setUp();
      mocks.lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 100 } });
      expect((await doctor(mocks)).by('lambda-concurrency').status).toBe('pass');
    });
  });

  describe('when AWS refuses', () => {
    it('fails a denied call naming the IAM action, and still runs the other checks', async () => {
      const mocks = setUp();
      mocks.ses.on(GetAccountCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform ses:GetAccount', { $metadata: { httpStatusCode: 403 } }));
      const { by, report } = await doctor(mocks);
      expect(by('ses-production-access')).toMatchObject({ status: 'fail', summary: expect.stringContaining('may not call ses:GetAccount'), fix: expect.stringContaining('ses:GetAccount') });
      expect(report.ok).toBe(false);
      expect(by('lambda-concurrency').status).toBe('pass');
    });

    it('names the call that was denied within a multi-call check', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribePoolsCommand).rejects(awsError('AccessDeniedException', 'denied'));
      expect((await doctor(mocks)).by('sms-origination').summary).toContain('sms-voice:DescribePools');
    });

    it('fails a throttled call with "run again"', async () => {
      const mocks = setUp();
      mocks.sms.on(DescribeSpendLimitsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', { $retryable: { throttling: true } }));
      expect((await doctor(mocks)).by('sms-spend-limit')).toMatchObject({ status: 'fail', summary: expect.stringContaining('throttled'), fix: expect.stringContaining('again') });
    });

    it('reports any other error with its name and message', async () => {
      const mocks = setUp();
      mocks.lambda.on(GetAccountSettingsCommand).rejects(awsError('ServiceException', 'internal error'));
      expect((await doctor(mocks)).by('lambda-concurrency').summary).toContain('ServiceException: internal error');
    });

    it('stops with one clear message when there are no credentials', async () => {
      const mocks = setUp();
      for (const mock of [mocks.ses, mocks.sms, mocks.pinpoint, mocks.lambda] as { reset(): void; onAnyCommand(): { rejects(e: Error): unknown } }[]) {
        mock.reset();
        mock.onAnyCommand().rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
      }
      const { report } = await doctor(mocks, input(['email', 'push'], { senderEmail: 'no-reply@example.com', pushApplicationId: 'none' }));
      expect(report.ok).toBe(false);
      // The settings checks need no call and still report; every check that calls AWS is replaced by one line.
      expect(report.checks.map((c) => [c.id, c.status])).toEqual([
        ['aws-credentials', 'fail'],
        ['sender-address', 'fail'],
        ['sms-checks', 'skip'],
      ]);
      expect(report.checks[0]).toMatchObject({ summary: expect.stringContaining('no AWS credentials'), fix: expect.stringContaining('aws sso login') });
      expect(mocks.ses.calls()).toHaveLength(1);
    });

    it.each([
      ['expired credentials', awsError('ExpiredTokenException', 'The security token included in the request is expired'), 'rejected the credentials'],
      ['no region', new Error('Region is missing'), 'no AWS region'],
    ])('stops with one clear message for %s', async (_name, error, text) => {
      const mocks = setUp();
      mocks.ses.on(GetEmailIdentityCommand).rejects(error);
      const { report } = await doctor(mocks);
      expect(report.checks.filter((c) => c.status === 'fail')).toEqual([expect.objectContaining({ id: 'aws-credentials', summary: expect.stringContaining(text) })]);
      expect(report.checks.every((c) => c.api.length === 0)).toBe(true);
    });
  });

  describe('output', () => {
    it('prints a line per check with the fix under each problem, and a count', async () => {
      const mocks = setUp();
      mocks.lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10 } });
      const text = renderText((await doctor(mocks, input(['email']))).report);
      const lines = text.trimEnd().split('\n');
      expect(lines[0]).toBe('waymark doctor: stage "prod", region eu-west-1 (read-only checks)');
      expect(lines).toContain('ok    email  SES identity shop.acme.io is verified for sending');
      expect(lines).toContain('skip  sms    no journey sends SMS: its checks were not run');
      const fail = lines.findIndex((l) => l.startsWith('FAIL  lambda'));
      expect(lines[fail + 1]).toMatch(/^ {14}fix: Service Quotas console/);
      expect(lines.at(-1)).toBe('5 passed, 0 warning(s), 1 failed: fix the failures before deploying');
    });

    it('gives the same report as JSON', async () => {
      const { report } = await doctor(setUp());
      expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    });
  });
});
