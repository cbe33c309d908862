import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetApnsChannelCommand, GetAppCommand, GetGcmChannelCommand, PinpointClient } from '@aws-sdk/client-pinpoint';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, USAGE, type Io } from '../../../bin/waymark';

const ROOT = join(__dirname, '..', '..', '..');
let emailOnly: string;
let withPush: string;

/** A repository with the given journey files (copied from statemachines/) and, optionally, a cdk.json. */
function repo(journeys: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-doctor-'));
  mkdirSync(join(dir, 'statemachines'));
  for (const name of journeys) copyFileSync(join(ROOT, 'statemachines', name), join(dir, 'statemachines', name));
  return dir;
}

beforeAll(() => {
  emailOnly = repo(['cross-sell.json']);
  withPush = repo(['cross-sell.json', 'welcome.json']);
});
afterAll(() => {
  for (const dir of [emailOnly, withPush]) rmSync(dir, { recursive: true, force: true });
});

const options = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };

/** SDK clients whose `send` is mocked: an account ready for email and push. */
function account() {
  const clients = { sesv2: new SESv2Client(options), sms: new PinpointSMSVoiceV2Client(options), pinpoint: new PinpointClient(options), lambda: new LambdaClient(options) };
  const ses = mockClient(clients.sesv2);
  const sms = mockClient(clients.sms);
  const pinpoint = mockClient(clients.pinpoint);
  const lambda = mockClient(clients.lambda);
  sms.onAnyCommand().rejects(new Error('unexpected SMS call'));
  ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
  ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
  ses.on(GetConfigurationSetCommand).resolves({ SendingOptions: { SendingEnabled: true } });
  pinpoint.on(GetAppCommand).resolves({ ApplicationResponse: { Id: 'app1', Arn: 'arn', Name: 'shop' } });
  pinpoint.on(GetApnsChannelCommand).resolves({ APNSChannelResponse: { Platform: 'APNS', Enabled: true } });
  pinpoint.on(GetGcmChannelCommand).resolves({ GCMChannelResponse: { Platform: 'GCM', Enabled: true } });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000 } });
  return { clients, ses, sms, pinpoint, lambda };
}

const CDK_JSON = JSON.stringify({ app: 'npx tsx bin/app.ts', context: { waymark: { stage: 'staging', senderEmail: 'news@shop.acme.io', pushApplicationId: 'app1' } } });

async function cli(argv: string[], { root = emailOnly, files = { 'cdk.json': CDK_JSON } as Record<string, string>, mocks = account() } = {}) {
  let stdout = '';
  let stderr = '';
  const regions: (string | undefined)[] = [];
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: async (path) => {
      const name = Object.keys(files).find((file) => join(root, file) === path);
      if (name === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return files[name];
    },
  };
  const doctorClients = (region: string | undefined) => {
    regions.push(region);
    return mocks.clients;
  };
  const code = await run(['doctor', ...argv], io, { root, doctorClients });
  return { code, stdout, stderr, regions, mocks };
}

describe('waymark doctor (CLI)', () => {
  it('exits 0 and prints a line per passed check when the account is ready', async () => {
    const { code, stdout, stderr, regions } = await cli(['--region', 'eu-west-1']);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout.split('\n')[0]).toBe('waymark doctor: stage "staging", region eu-west-1 (read-only checks)');
    expect(stdout).toContain('ok    email  SES identity shop.acme.io is verified for sending');
    expect(stdout).toContain('skip  push   no journey sends push');
    expect(regions).toEqual(['eu-west-1']);
  });

  it('reads the stage settings like cdk: cdk.json, then cdk.context.json, then -c, and --stage last', async () => {
    const files = { 'cdk.json': CDK_JSON, 'cdk.context.json': JSON.stringify({ 'waymark:senderEmail': 'hello@mail.acme.io' }) };
    const { code, mocks } = await cli(['--stage', 'prod', '-c', 'waymark:senderEmail=team@acme.io', '--region=eu-west-1'], { files });
    expect(code).toBe(0);
    expect(mocks.ses.commandCalls(GetConfigurationSetCommand)[0].args[0].input).toEqual({ ConfigurationSetName: 'waymark-prod' });
    expect(mocks.ses.commandCalls(GetEmailIdentityCommand).map((c) => c.args[0].input.EmailIdentity)).toEqual(['acme.io']);
    const context = await cli([], { files });
    expect(context.mocks.ses.commandCalls(GetEmailIdentityCommand)[0].args[0].input).toEqual({ EmailIdentity: 'mail.acme.io' });
  });

  it('runs the push checks when a journey sends push, with the configured application', async () => {
    const { code, mocks, stdout } = await cli([], { root: withPush });
    expect(code).toBe(0);
    expect(mocks.pinpoint.commandCalls(GetAppCommand)[0].args[0].input).toEqual({ ApplicationId: 'app1' });
    expect(stdout).toContain('push application app1 has APNs and FCM enabled');
  });

  it('exits 1 and prints the fix when a required check fails', async () => {
    const mocks = account();
    mocks.ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const { code, stdout } = await cli([], { mocks });
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL {2}email {2}SES is in the sandbox.*\n {14}fix: request production access/);
  });

  it('exits 0 with warnings only', async () => {
    const mocks = account();
    mocks.pinpoint.on(GetGcmChannelCommand).resolves({ GCMChannelResponse: { Platform: 'GCM', Enabled: false } });
    const { code, stdout } = await cli([], { root: withPush, mocks });
    expect(code).toBe(0);
    expect(stdout).toContain('WARN  push');
  });

  it('exits 1 for a push journey without a push application id, naming the setting', async () => {
    const files = { 'cdk.json': JSON.stringify({ context: { waymark: { senderEmail: 'news@shop.acme.io' } } }) };
    const { code, stdout } = await cli([], { root: withPush, files });
    expect(code).toBe(1);
    expect(stdout).toContain('journeys send push messages but the stage has no pushApplicationId');
  });

  it('prints the report as JSON with --json', async () => {
    const { code, stdout } = await cli(['--json', '--region', 'us-east-1']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ stage: 'staging', region: 'us-east-1', ok: true });
    expect(report.checks.map((c: { id: string }) => c.id)).toContain('lambda-concurrency');
  });

  it('exits 1 with one clear message when there are no AWS credentials', async () => {
    const mocks = account();
    const missing = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    for (const mock of [mocks.ses, mocks.sms, mocks.pinpoint, mocks.lambda] as { reset(): void; onAnyCommand(): { rejects(e: Error): unknown } }[]) {
      mock.reset();
      mock.onAnyCommand().rejects(missing);
    }
    const { code, stdout } = await cli([], { mocks });
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL {2}aws {4}no AWS credentials found.*\n {14}fix: sign in/);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 warning(s), 1 failed: fix the failures before deploying');
  });

  it.each([
    [['--stage'], '--stage takes a value'],
    [['--stage', 'a', '--stage', 'b'], '--stage is given twice'],
    [['--region', 'Europe'], '--region takes a region name like eu-west-1 (got "Europe")'],
    [['-c', 'senderEmail=x@y.io'], '-c takes waymark:<setting>=<value> (got "senderEmail=x@y.io")'],
    [['--verbose'], 'unknown option --verbose'],
    [['statemachines/welcome.json'], 'doctor takes no file (got "statemachines/welcome.json")'],
    [['--stage', 'Prod'], 'waymark.stage: stage is lowercase letters'],
    [['-c', 'waymark:senderEmail=nope'], 'waymark.senderEmail: senderEmail must be an email address'],
  ])('exits 2 on a usage error: %j', async (argv, message) => {
    const { code, stderr, stdout, regions } = await cli(argv);
    expect([code, stdout]).toEqual([2, '']);
    expect(stderr).toContain(message);
    expect(stderr).toContain(USAGE);
    expect(regions).toEqual([]);
  });

  it('exits 2 when cdk.json is not JSON', async () => {
    const { code, stderr } = await cli([], { files: { 'cdk.json': '{' } });
    expect(code).toBe(2);
    expect(stderr).toContain('cdk.json is not valid JSON');
  });

  it('exits 1 without calling AWS when a journey does not validate', async () => {
    const broken = repo([]);
    writeFileSync(join(broken, 'statemachines', 'broken.json'), '{"id": "broken"}');
    try {
      const { code, stdout, regions } = await cli([], { root: broken });
      expect(code).toBe(1);
      expect(stdout).toContain('FAIL  journeys:');
      expect(regions).toEqual([]);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
