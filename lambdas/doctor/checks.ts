/**
 * `waymark doctor`: read-only checks of what a first deploy of a stage needs in the AWS account (SES identity and
 * production access, configuration set, SMS origination identity and spend limit, push application and channels,
 * Lambda concurrency). The SDK clients are injected so tests drive them with aws-sdk-client-mock; every call is a
 * Get/Describe, never a change.
 */
import { GetAccountSettingsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetApnsChannelCommand,
  GetAppCommand,
  GetGcmChannelCommand,
  type PinpointClient,
} from '@aws-sdk/client-pinpoint';
import {
  DescribeAccountAttributesCommand,
  DescribePhoneNumbersCommand,
  DescribePoolsCommand,
  DescribeSenderIdsCommand,
  DescribeSpendLimitsCommand,
  type PinpointSMSVoiceV2Client,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetEmailIdentityCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { Channel } from '../core/journey/schema';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';
export type CheckArea = 'aws' | 'email' | 'sms' | 'push' | 'lambda';

export interface CheckResult {
  /** Stable id, e.g. `ses-identity` (the JSON output's key for scripts). */
  id: string;
  area: CheckArea;
  status: CheckStatus;
  /** What was found, in one sentence. */
  summary: string;
  /** What to do about a `fail` or `warn`. */
  fix?: string;
  /** The read-only calls the check made, as IAM actions (what the doctor's credentials need). */
  api: string[];
}

export interface DoctorReport {
  stage: string;
  region?: string;
  /** False when a check failed; warnings and skips do not count. */
  ok: boolean;
  checks: CheckResult[];
}

export interface DoctorClients {
  sesv2: Pick<SESv2Client, 'send'>;
  sms: Pick<PinpointSMSVoiceV2Client, 'send'>;
  pinpoint: Pick<PinpointClient, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
}

export interface DoctorInput {
  stage: string;
  /** Shown in the report; the clients were built for it (or for the SDK's default region). */
  region?: string;
  senderEmail: string;
  /** The End User Messaging (Pinpoint) application id, or `none`. */
  pushApplicationId: string;
  /**
   * What the stage's SMS go out from (`smsOriginationIdentity`, lib/config.ts; `none` when unset). When given, the
   * `sms-stage-identity` check looks for it among the account's numbers, pools and sender IDs.
   */
  smsOriginationIdentity?: string;
  /** The SES configuration set the stage's emails go through. @default `waymark-<stage>` */
  configurationSetName?: string;
  /** The channels the stage's journeys send on; a channel's checks run only when it is used. */
  channels: ReadonlySet<Channel>;
  /** @default REQUIRED_CONCURRENCY */
  requiredConcurrency?: number;
}

/** The value of `pushApplicationId` when no push application is configured (lib/config.ts). */
export const NO_PUSH_APPLICATION = 'none';

/**
 * Account concurrency Waymark needs: its ~30 functions (router, API, journey steps) share the account's pool, and
 * Lambda keeps 100 of it unreserved; a new account's pool can be as low as 10, where a burst throttles the router.
 */
export const REQUIRED_CONCURRENCY = 100;

/** Domains reserved for documentation (RFC 2606): the stage config's default sender is one, not a real address. */
const PLACEHOLDER_DOMAIN = /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost)$/i;

/** Stops the run: no check can succeed without credentials or a region, so one message says so. */
class CannotConnectError extends Error {
  override readonly name = 'CannotConnectError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const errorName = (error: unknown) => String((error as AwsError | undefined)?.name ?? '');
const errorMessage = (error: unknown) => String((error as AwsError | undefined)?.message ?? error);

// SESv2 and Pinpoint answer a missing resource with NotFoundException (HTTP 404):
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html (Errors)
const isNotFound = (error: unknown) =>
  /^(NotFoundException|ResourceNotFoundException)$/.test(errorName(error)) ||
  (error as AwsError)?.$metadata?.httpStatusCode === 404;

// Credentials that are missing or rejected fail every call alike. The v3 default chain throws CredentialsProviderError
// when no provider has credentials:
// https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/migrate-credential-providers.html
const REJECTED_CREDENTIALS = new RegExp(
  '^(ExpiredToken|ExpiredTokenException|InvalidClientTokenId|UnrecognizedClientException|InvalidSignatureException|' +
    'SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId)$',
);

function cannotConnect(error: unknown): CannotConnectError | undefined {
  const name = errorName(error);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(errorMessage(error))) {
    return new CannotConnectError(
      'no AWS credentials found (environment, shared config/credentials files, SSO, container or instance role)',
      'sign in as the account you will deploy to: `aws configure sso` / `aws sso login --profile P` and run with ' +
        'AWS_PROFILE=P, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  if (REJECTED_CREDENTIALS.test(name)) {
    return new CannotConnectError(
      `AWS rejected the credentials (${name}: ${errorMessage(error)})`,
      'refresh them (`aws sso login`) or use other ones, then run again',
    );
  }
  if (/region is missing/i.test(errorMessage(error))) {
    return new CannotConnectError(
      'no AWS region configured',
      'pass --region (e.g. --region eu-west-1) or set AWS_REGION / a region in your AWS profile',
    );
  }
  return undefined;
}

/** A check that could not run: the cause and the fix, naming the IAM action for a denied call. */
function failedCall(id: string, area: CheckArea, action: string, api: string[], error: unknown): CheckResult {
  const { fail } = outcomes(id, area, api);
  const name = errorName(error);
  const aws = error as AwsError;
  const denied = /^(AccessDenied|AccessDeniedException|ForbiddenException|UnauthorizedOperation|AuthorizationError)$/;
  if (denied.test(name) || aws?.$metadata?.httpStatusCode === 403) {
    return fail(
      `could not check: the credentials may not call ${action} (${name || 'HTTP 403'})`,
      `run the doctor as a principal allowed ${action} (read-only), e.g. the one that will run \`cdk deploy\``,
    );
  }
  // The SDK has already retried a throttled call with backoff when the error reaches here.
  const throttled = /^(ThrottlingException|Throttling|TooManyRequestsException|ThrottledException|RequestLimitExceeded)$/;
  if (throttled.test(name) || aws?.$retryable?.throttling) {
    return fail(`could not check: ${action} was throttled (${name})`, 'run the doctor again in a minute');
  }
  return fail(
    `could not check: ${action} failed (${name || 'Error'}: ${errorMessage(error)})`,
    'run again; if it persists, check the region and the service status',
  );
}

type Check = (input: DoctorInput, clients: DoctorClients) => Promise<CheckResult[]>;

/** The results one check can give, with its id, area and calls filled in. */
function outcomes(id: string, area: CheckArea, api: string[]) {
  return {
    pass: (summary: string): CheckResult => ({ id, area, status: 'pass', summary, api }),
    warn: (summary: string, fix: string): CheckResult => ({ id, area, status: 'warn', summary, fix, api }),
    fail: (summary: string, fix: string): CheckResult => ({ id, area, status: 'fail', summary, fix, api }),
  };
}

/** Runs `body`; an AWS error becomes a failed result (or stops the run when credentials/region are missing). */
async function guarded(
  id: string,
  area: CheckArea,
  api: string[],
  body: (calls: string[]) => Promise<CheckResult[]>,
): Promise<CheckResult[]> {
  const calls: string[] = [];
  try {
    return await body(calls);
  } catch (error) {
    const stop = cannotConnect(error);
    if (stop) throw stop;
    return [failedCall(id, area, calls.at(-1) ?? api[0], api, error)];
  }
}

const senderAddress: Check = async (input) => {
  const { pass, fail } = outcomes('sender-address', 'email', []);
  const domain = input.senderEmail.split('@')[1] ?? '';
  if (!PLACEHOLDER_DOMAIN.test(domain)) return [pass(`the stage sends email from ${input.senderEmail}`)];
  return [
    fail(
      `the stage sends email from ${input.senderEmail}, a placeholder address`,
      'set senderEmail to an address on your domain: `-c waymark:senderEmail=news@shop.example` or the ' +
        '"waymark" object in cdk.json (context)',
    ),
  ];
};

const sesIdentity: Check = (input, { sesv2 }) => {
  const api = ['ses:GetEmailIdentity'];
  const { pass, fail } = outcomes('ses-identity', 'email', api);
  return guarded('ses-identity', 'email', api, async (calls) => {
    const address = input.senderEmail;
    const domain = address.split('@')[1] ?? '';
    // SES sends from an address when the address itself or its domain is a verified identity. GetEmailIdentity's
    // VerifiedForSendingStatus: https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/sesv2/
    // aws.sdk.kotlin.services.sesv2.model/-get-email-identity-response/verified-for-sending-status.html
    const seen: string[] = [];
    for (const identity of [domain, address]) {
      calls.push('ses:GetEmailIdentity');
      try {
        const found = await sesv2.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
        if (found.VerifiedForSendingStatus === true) return [pass(`SES identity ${identity} is verified for sending`)];
        seen.push(`${identity} exists but is not verified (${found.VerificationStatus ?? 'status unknown'})`);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        seen.push(`${identity} is not an SES identity`);
      }
    }
    return [
      fail(
        `SES cannot send from ${address} in this region: ${seen.join('; ')}`,
        `verify the domain: \`aws sesv2 create-email-identity --email-identity ${domain}\` and publish the three ` +
          'DKIM CNAME records it returns (or verify the single address, which sends a confirmation email)',
      ),
    ];
  });
};

const sesAccount: Check = (_input, { sesv2 }) => {
  const api = ['ses:GetAccount'];
  const access = outcomes('ses-production-access', 'email', api);
  const sending = outcomes('ses-sending-enabled', 'email', api);
  return guarded('ses-production-access', 'email', api, async (calls) => {
    calls.push('ses:GetAccount');
    // ProductionAccessEnabled false = sandbox (verified recipients only, 200 a day); SendingEnabled false = paused:
    // https://docs.rs/aws-sdk-sesv2/latest/aws_sdk_sesv2/operation/get_account/struct.GetAccountOutput.html
    const account = await sesv2.send(new GetAccountCommand({}));
    const quota = account.SendQuota?.Max24HourSend;
    return [
      account.ProductionAccessEnabled === true
        ? access.pass('SES has production access (out of the sandbox)')
        : access.fail(
            'SES is in the sandbox: it sends only to verified addresses, at most 200 a day, 1 a second',
            'request production access: SES console > Account dashboard > Request production access (or ' +
              '`aws sesv2 put-account-details --production-access-enabled ...`); AWS answers within about a day',
          ),
      account.SendingEnabled === true && account.EnforcementStatus !== 'SHUTDOWN'
        ? sending.pass(`SES sending is enabled${quota === undefined ? '' : ` (quota ${quota} a day)`}`)
        : sending.fail(
            `SES sending is paused for the account (enforcement status ${account.EnforcementStatus ?? 'unknown'})`,
            'see the SES console Account dashboard / reputation page for the cause, then resume sending ' +
              '(`aws sesv2 put-account-sending-attributes --sending-enabled`) or contact AWS Support',
          ),
    ];
  });
};

const sesConfigurationSet: Check = (input, { sesv2 }) => {
  const api = ['ses:GetConfigurationSet'];
  const { pass, warn, fail } = outcomes('ses-configuration-set', 'email', api);
  const name = input.configurationSetName ?? `waymark-${input.stage}`;
  return guarded('ses-configuration-set', 'email', api, async (calls) => {
    calls.push('ses:GetConfigurationSet');
    try {
      // SendingOptions.SendingEnabled false pauses every email of the set:
      // https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html
      const set = await sesv2.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }));
      if (set.SendingOptions?.SendingEnabled !== false) return [pass(`SES configuration set ${name} exists and sends`)];
      return [
        fail(
          `SES configuration set ${name} exists but its sending is paused`,
          `\`aws sesv2 put-configuration-set-sending-options --configuration-set-name ${name} --sending-enabled\``,
        ),
      ];
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return [
        warn(
          `SES configuration set ${name} does not exist yet`,
          'nothing to do before a first deploy: `cdk deploy` creates it; after a deploy it should exist',
        ),
      ];
    }
  });
};

/** The first page of the account's phone numbers, pools and sender IDs in this region (each call recorded). */
async function smsIdentities(sms: DoctorClients['sms'], calls: string[]) {
  calls.push('sms-voice:DescribePhoneNumbers');
  const numbers = (await sms.send(new DescribePhoneNumbersCommand({}))).PhoneNumbers ?? [];
  calls.push('sms-voice:DescribePools');
  const pools = (await sms.send(new DescribePoolsCommand({}))).Pools ?? [];
  calls.push('sms-voice:DescribeSenderIds');
  const senderIds = (await sms.send(new DescribeSenderIdsCommand({}))).SenderIds ?? [];
  return { numbers, pools, senderIds };
}

const smsOrigination: Check = (_input, { sms }) => {
  const api = ['sms-voice:DescribePhoneNumbers', 'sms-voice:DescribePools', 'sms-voice:DescribeSenderIds'];
  const { pass, fail } = outcomes('sms-origination', 'sms', api);
  return guarded('sms-origination', 'sms', api, async (calls) => {
    // One page of each is enough to know whether any identity exists (AWS End User Messaging SMS API v2):
    // https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/pinpointsmsvoicev2/
    // aws.sdk.kotlin.services.pinpointsmsvoicev2/describe-phone-numbers.html
    const { numbers, pools, senderIds } = await smsIdentities(sms, calls);
    const active = numbers.filter((n) => n.Status === 'ACTIVE').length;
    const activePools = pools.filter((p) => p.Status === 'ACTIVE').length;
    if (active + activePools + senderIds.length > 0) {
      const found = `${active} active phone number(s), ${activePools} active pool(s), ${senderIds.length} sender ID(s)`;
      return [pass(`SMS origination identities: ${found}`)];
    }
    const pending = numbers.length + pools.length > 0 ? ` (${numbers.length + pools.length} not active yet)` : '';
    return [
      fail(
        `no SMS origination identity in this region${pending}: SMS steps have nothing to send from`,
        'in AWS End User Messaging SMS, request a phone number for your countries (toll-free or 10DLC in the US ' +
          'need a registration) or register a sender ID: `aws pinpoint-sms-voice-v2 request-phone-number ...`',
      ),
    ];
  });
};

/** The value of `smsOriginationIdentity` when none is configured (lib/config.ts). */
export const NO_SMS_ORIGINATION = 'none';

/**
 * The stage's own origination identity: SendTextMessage names it (as a number, an id or an ARN), so it must be one of
 * the account's phone numbers, pools or sender IDs in this region (first page of each), and a number or pool ACTIVE.
 */
const smsStageIdentity: Check = (input, { sms }) => {
  const wanted = input.smsOriginationIdentity!;
  if (wanted === NO_SMS_ORIGINATION) {
    return Promise.resolve([
      outcomes('sms-stage-identity', 'sms', []).fail(
        'journeys send SMS but the stage has no smsOriginationIdentity',
        'set `-c waymark:smsOriginationIdentity=<phone number, pool or sender ID, or its ARN>` ' +
          '(or the "waymark" object in cdk.json)',
      ),
    ]);
  }
  const api = ['sms-voice:DescribePhoneNumbers', 'sms-voice:DescribePools', 'sms-voice:DescribeSenderIds'];
  const { pass, fail } = outcomes('sms-stage-identity', 'sms', api);
  return guarded('sms-stage-identity', 'sms', api, async (calls) => {
    const { numbers, pools, senderIds } = await smsIdentities(sms, calls);
    const named = (...ids: (string | undefined)[]) => ids.includes(wanted);
    const found: { what: string; status?: string }[] = [
      ...numbers.filter((n) => named(n.PhoneNumber, n.PhoneNumberId, n.PhoneNumberArn)).map((n) => ({ what: 'phone number', status: n.Status })),
      ...pools.filter((p) => named(p.PoolId, p.PoolArn)).map((p) => ({ what: 'pool', status: p.Status })),
      ...senderIds.filter((x) => named(x.SenderId, x.SenderIdArn)).map(() => ({ what: 'sender ID', status: 'ACTIVE' })),
    ];
    const [first] = found;
    if (first?.status === 'ACTIVE') return [pass(`SMS go out from ${wanted} (${first.what})`)];
    if (first) {
      const summary = `the stage's SMS origination identity ${wanted} is a ${first.what} not active yet (${first.status})`;
      return [fail(summary, 'wait for it to become ACTIVE (a registration may be pending)')];
    }
    return [
      fail(
        `the stage's smsOriginationIdentity ${JSON.stringify(wanted)} is none of this region's phone numbers, pools or sender IDs`,
        'check `waymark:smsOriginationIdentity` and --region: give the number (E.164), its id, a pool id, a sender ID or the ARN of one',
      ),
    ];
  });
};

const smsSpendLimit: Check = (_input, { sms }) => {
  const api = ['sms-voice:DescribeSpendLimits'];
  const { pass, fail } = outcomes('sms-spend-limit', 'sms', api);
  return guarded('sms-spend-limit', 'sms', api, async (calls) => {
    calls.push('sms-voice:DescribeSpendLimits');
    // EnforcedLimit applies when Overridden, otherwise MaxLimit (US dollars a month): https://boto3.amazonaws.com/
    // v1/documentation/api/1.28.9/reference/services/pinpoint-sms-voice-v2/client/describe_spend_limits.html
    const limits = (await sms.send(new DescribeSpendLimitsCommand({}))).SpendLimits ?? [];
    const text = limits.find((l) => l.Name === 'TEXT_MESSAGE_MONTHLY_SPEND_LIMIT');
    const dollars = text === undefined ? 0 : ((text.Overridden ? text.EnforcedLimit : text.MaxLimit) ?? 0);
    if (dollars > 0) return [pass(`the monthly SMS spend limit is $${dollars}`)];
    return [
      fail(
        'the monthly SMS spend limit is $0: every SMS is refused',
        'request a higher "SMS monthly spend limit" in the AWS End User Messaging SMS console (a Support case)',
      ),
    ];
  });
};

const smsSandbox: Check = (_input, { sms }) => {
  const api = ['sms-voice:DescribeAccountAttributes'];
  const { pass, fail } = outcomes('sms-sandbox', 'sms', api);
  return guarded('sms-sandbox', 'sms', api, async (calls) => {
    calls.push('sms-voice:DescribeAccountAttributes');
    // ACCOUNT_TIER says whether the account is in the SMS sandbox or in production:
    // https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_DescribeAccountAttributes.html
    const attributes = (await sms.send(new DescribeAccountAttributesCommand({}))).AccountAttributes ?? [];
    const tier = attributes.find((a) => a.Name === 'ACCOUNT_TIER')?.Value;
    if (tier === undefined || !/sandbox/i.test(tier)) return [pass(`SMS account tier: ${tier ?? 'not reported'}`)];
    return [
      fail(
        `SMS is in the sandbox (account tier ${tier}): it sends only to verified destination numbers`,
        'request production access in the AWS End User Messaging SMS console (Account settings > Move to production)',
      ),
    ];
  });
};

const pushApplication: Check = async (input, { pinpoint }) => {
  const id = input.pushApplicationId;
  if (id === NO_PUSH_APPLICATION) {
    return [
      outcomes('push-application', 'push', []).fail(
        'journeys send push messages but the stage has no pushApplicationId',
        'create an application in AWS End User Messaging Push (`aws pinpoint create-app ...`) and set ' +
          '`-c waymark:pushApplicationId=<its id>` (or the "waymark" object in cdk.json)',
      ),
    ];
  }
  const app = outcomes('push-application', 'push', ['mobiletargeting:GetApp']);
  const channelApi = ['mobiletargeting:GetApnsChannel', 'mobiletargeting:GetGcmChannel'];
  const channels = outcomes('push-channels', 'push', channelApi);
  return guarded('push-application', 'push', ['mobiletargeting:GetApp', ...channelApi], async (calls) => {
    calls.push('mobiletargeting:GetApp');
    try {
      // GetApp answers the ApplicationResponse (Arn, Id, Name):
      // https://docs.rs/aws-sdk-pinpoint/0.5.2/aws_sdk_pinpoint/model/struct.ApplicationResponse.html
      await pinpoint.send(new GetAppCommand({ ApplicationId: id }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return [
        app.fail(
          `push application ${id} does not exist in this region`,
          'check pushApplicationId and --region, or create the application (`aws pinpoint create-app ...`)',
        ),
      ];
    }
    // A channel that was never set up answers NotFoundException; Enabled false means switched off:
    // https://boto3.amazonaws.com/v1/documentation/api/1.28.13/reference/services/pinpoint/client/get_gcm_channel.html
    const enabled = async (name: string, call: () => Promise<{ Enabled?: boolean } | undefined>) => {
      calls.push(name);
      try {
        return (await call())?.Enabled === true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    };
    const apns = await enabled('mobiletargeting:GetApnsChannel', async () =>
      (await pinpoint.send(new GetApnsChannelCommand({ ApplicationId: id }))).APNSChannelResponse);
    const fcm = await enabled('mobiletargeting:GetGcmChannel', async () =>
      (await pinpoint.send(new GetGcmChannelCommand({ ApplicationId: id }))).GCMChannelResponse);
    const howTo = 'APNs: `aws pinpoint update-apns-channel` with your .p8 key (token) or certificate; FCM: ' +
      '`aws pinpoint update-gcm-channel` with the Firebase service-account JSON';
    const exists = app.pass(`push application ${id} exists`);
    if (!apns && !fcm) {
      return [
        exists,
        channels.fail(`push application ${id} has neither an APNs nor an FCM channel enabled: every push fails`, `enable at least one: ${howTo}`),
      ];
    }
    if (!apns || !fcm) {
      const [has, missing] = apns ? ['APNs (iOS)', 'FCM (Android)'] : ['FCM (Android)', 'APNs (iOS)'];
      return [
        exists,
        channels.warn(
          `push application ${id} has ${has} enabled but no ${missing} channel: those devices get no push`,
          `if you have ${missing} users, enable it: ${howTo}`,
        ),
      ];
    }
    return [exists, channels.pass(`push application ${id} has APNs and FCM enabled`)];
  });
};

const lambdaConcurrency: Check = (input, { lambda }) => {
  const api = ['lambda:GetAccountSettings'];
  const { pass, fail } = outcomes('lambda-concurrency', 'lambda', api);
  const required = input.requiredConcurrency ?? REQUIRED_CONCURRENCY;
  return guarded('lambda-concurrency', 'lambda', api, async (calls) => {
    calls.push('lambda:GetAccountSettings');
    // AccountLimit.ConcurrentExecutions: https://docs.amazonaws.cn/goto/WebAPI/lambda-2015-03-31/GetAccountSettings
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    if (limit >= required) return [pass(`the account's Lambda concurrency is ${limit} (Waymark needs ${required})`)];
    const low = limit <= 10 ? ' (new accounts start as low as 10: the router, the API and the journey steps throttle)' : '';
    return [
      fail(
        `the account's Lambda concurrency is ${limit}; Waymark needs at least ${required}${low}`,
        // New accounts have reduced concurrency quotas: https://docs.aws.amazon.com/lambda/latest/dg/limits.html
        'Service Quotas console > AWS Lambda > "Concurrent executions" > Request increase (e.g. to 1000), or ' +
          '`aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 ' +
          '--desired-value 1000`',
      ),
    ];
  });
};

const skipped = (area: CheckArea, what: string): CheckResult => ({
  id: `${area}-checks`,
  area,
  status: 'skip',
  summary: `no journey sends ${what}: its checks were not run`,
  api: [],
});

/** Runs the checks the stage needs, in order; never throws for an AWS answer. */
export async function runDoctor(input: DoctorInput, clients: DoctorClients): Promise<DoctorReport> {
  const checks: Check[] = [];
  const results: CheckResult[] = [];
  if (input.channels.has('email')) checks.push(senderAddress, sesIdentity, sesAccount, sesConfigurationSet);
  else results.push(skipped('email', 'email'));
  const stageIdentity = input.smsOriginationIdentity === undefined ? [] : [smsStageIdentity];
  if (input.channels.has('sms')) checks.push(smsOrigination, ...stageIdentity, smsSpendLimit, smsSandbox);
  else results.push(skipped('sms', 'SMS'));
  if (input.channels.has('push')) checks.push(pushApplication);
  else results.push(skipped('push', 'push'));
  checks.push(lambdaConcurrency);
  try {
    for (const check of checks) results.push(...(await check(input, clients)));
  } catch (error) {
    if (!(error instanceof CannotConnectError)) throw error;
    // One line instead of the same failure under every check; the checks that need no call (settings) still count.
    const offline = results.filter((r) => r.api.length === 0);
    results.length = 0;
    results.push(outcomes('aws-credentials', 'aws', []).fail(error.message, error.fix), ...offline);
  }
  const order: Record<CheckArea, number> = { aws: 0, email: 1, sms: 2, push: 3, lambda: 4 };
  results.sort((a, b) => order[a.area] - order[b.area]);
  return { stage: input.stage, region: input.region, ok: results.every((r) => r.status !== 'fail'), checks: results };
}
