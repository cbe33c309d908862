import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, WAYMARK_BASE_ENVIRONMENT, waymarkBundling, type BundlingChoices } from '../../../lib/constructs/bundling';
import { handlerEntry, HandlerName, PROJECT_ROOT } from '../../../lib/constructs/waymark-function';

/** The AWS SDK clients and credential providers in a handler's bundle (code that is in the output), built as the CDK builds it. */
async function bundled(name: HandlerName, choices: BundlingChoices = {}) {
  const result = await build({
    ...esbuildOptions(waymarkBundling(choices)),
    entryPoints: [handlerEntry(name)],
    outfile: `${name}.js`,
    write: false,
    metafile: true,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'error',
  });
  const inputs = Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([file]) => file));
  const clients = new Set(inputs.flatMap((i) => /node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//.exec(i)?.[1] ?? []));
  const credentials = new Set(inputs.flatMap((i) => /node_modules\/@aws-sdk\/(credential-provider-[a-z-]+|nested-clients)\//.exec(i)?.[1] ?? []));
  const liquid = inputs.some((i) => i.includes('node_modules/liquidjs/'));
  // The Powertools tracer and what it loads (the X-Ray SDK, its context library).
  const metrics = inputs.some((i) => i.includes('node_modules/@aws-lambda-powertools/metrics/'));
  const tracing = [...new Set(inputs.flatMap((i) => /node_modules\/(@aws-lambda-powertools\/tracer|aws-xray-sdk-core|cls-hooked)\//.exec(i)?.[1] ?? []))].sort();
  return { clients: [...clients].sort(), credentials: [...credentials].sort(), liquid, metrics, tracing, text: result.outputFiles.map((f) => f.text).join('') };
}

const tables = ['dynamodb'];
// The privacy key (profile ids, the suppression list) or the unsubscribe secret: only where the entry point declares it.
const withSecrets = ['dynamodb', 'secrets-manager'];
const withExecutions = ['dynamodb', 'sfn'];
const withSecretsAndExecutions = [...withSecrets, 'sfn'].sort();
/**
 * Which clients each handler's ports need: every handler builds only the stores its factory takes (no handler but
 * campaign-step uses awsStores()), so only those declaring a secret carry the Secrets Manager client.
 */
const expected: Record<HandlerName, string[]> = {
  [HandlerName.ingestEvent]: ['eventbridge'],
  [HandlerName.listRejectedEvents]: tables,
  [HandlerName.routeEvent]: [...withSecretsAndExecutions, 'eventbridge'].sort(),
  // --- profiles
  [HandlerName.findProfile]: tables,
  [HandlerName.getProfile]: tables,
  [HandlerName.exportProfile]: tables,
  // Erasure stops the profile's runs and finds the rejected events naming it by keyed hashes (the privacy key).
  [HandlerName.eraseProfile]: withSecretsAndExecutions,
  // Evaluates the segments an update affects, like the router: journeys entered, changes announced on the bus.
  [HandlerName.updateProfileAttributes]: [...withSecretsAndExecutions, 'eventbridge'].sort(),
  // "Why": DescribeExecution of each run (and GetExecutionHistory to explain one).
  [HandlerName.listProfileJourneys]: withExecutions,
  [HandlerName.explainProfileJourney]: withExecutions,
  // --- consent
  [HandlerName.getConsent]: tables,
  [HandlerName.updateConsent]: tables,
  // The unsubscribe secret only: checking a signed link reads no table.
  [HandlerName.confirmUnsubscribe]: ['secrets-manager'],
  [HandlerName.unsubscribeProfile]: withSecrets,
  // The privacy key keys the suppression list.
  [HandlerName.recordDeliveryEvent]: withSecrets,
  // --- journeys
  [HandlerName.listJourneys]: tables,
  // The privacy key names a profile the trigger creates.
  [HandlerName.triggerJourney]: withSecretsAndExecutions,
  // Priority arbitration: whether higher-priority runs of the profile are still running.
  [HandlerName.prepareSend]: withSecretsAndExecutions,
  [HandlerName.registerWait]: withExecutions,
  [HandlerName.resolveWait]: tables,
  [HandlerName.loadProfile]: tables,
  // The journey registry, and Step Functions for the live version's publication time.
  [HandlerName.getJourney]: withExecutions,
  [HandlerName.getJourneyReport]: tables,
  [HandlerName.countRunEnd]: tables,
  // --- segments
  [HandlerName.listSegments]: tables,
  [HandlerName.createSegment]: tables,
  [HandlerName.getSegment]: tables,
  [HandlerName.putSegment]: tables,
  [HandlerName.deleteSegment]: tables,
  // Starts the audience scan.
  [HandlerName.evaluateSegment]: withExecutions,
  [HandlerName.getSegmentSnapshot]: tables,
  [HandlerName.estimateSegment]: tables,
  // Re-check pages announce segment changes and enter journeys (no privacy key: they create no profile).
  [HandlerName.scanProfiles]: [...withExecutions, 'eventbridge'].sort(),
  // --- decisioning
  [HandlerName.listOffers]: tables,
  [HandlerName.createOffer]: tables,
  [HandlerName.getOffer]: tables,
  [HandlerName.putOffer]: tables,
  [HandlerName.deleteOffer]: tables,
  [HandlerName.listPlacements]: tables,
  [HandlerName.createPlacement]: tables,
  [HandlerName.getPlacement]: tables,
  [HandlerName.putPlacement]: tables,
  [HandlerName.deletePlacement]: tables,
  [HandlerName.decide]: tables,
  [HandlerName.listDecisions]: tables,
  [HandlerName.decideStep]: tables,
  // --- governance
  [HandlerName.listRules]: tables,
  [HandlerName.getRule]: tables,
  [HandlerName.putRule]: tables,
  [HandlerName.deleteRule]: tables,
  // --- campaigns: the registry and run records; Step Functions for the live version (as get-journey) and runs.
  [HandlerName.listCampaigns]: tables,
  [HandlerName.getCampaign]: withExecutions,
  [HandlerName.startCampaignRun]: withExecutions,
  [HandlerName.listCampaignRuns]: tables,
  [HandlerName.getCampaignRun]: tables,
  [HandlerName.controlCampaignRun]: withExecutions,
  // Enter-journey batches start journeys; sets in the audience bucket; deliver batches send email, SMS and push.
  [HandlerName.campaignStep]: [...withSecretsAndExecutions, 's3', 'sesv2', 'pinpoint', 'pinpoint-sms-voice-v2'].sort(),
};

/** The handlers that render templates: the send step only (reading the registry checks no template). */
// Campaign batches render their messages too.
const WITH_TEMPLATES: HandlerName[] = [HandlerName.prepareSend, HandlerName.campaignStep];

/**
 * The handlers that emit metrics (`withMetrics`, or journey counters: `awsJourneyCounters`), the only bundles holding
 * Powertools metrics code: those that enter, stop or end runs, or record engagement.
 */
const WITH_METRICS: HandlerName[] = [
  HandlerName.routeEvent,
  HandlerName.eraseProfile,
  HandlerName.updateProfileAttributes,
  HandlerName.recordDeliveryEvent,
  HandlerName.triggerJourney,
  HandlerName.prepareSend,
  HandlerName.countRunEnd,
  HandlerName.scanProfiles,
  HandlerName.campaignStep,
];

describe('Lambda bundles: each function carries only what it uses', () => {
  it.each(Object.values(HandlerName))('%s bundles only the SDK clients its ports use, credentials from the environment, no tracer and no source map', async (name) => {
    const { clients, credentials, liquid, metrics, tracing, text } = await bundled(name);
    expect(clients).toEqual(expected[name]);
    // The template engine only where messages are rendered or templates checked (reading the registry does neither).
    expect({ name, liquid }).toEqual({ name, liquid: WITH_TEMPLATES.includes(name) });
    expect({ name, metrics }).toEqual({ name, metrics: WITH_METRICS.includes(name) });
    // Lambda puts the role's credentials in the environment: the rest of the default chain is not bundled.
    expect(credentials).toEqual(['credential-provider-env']);
    // No X-Ray SDK unless the stage sets traceAwsCalls: Lambda's active tracing records the invocation without it.
    expect(tracing).toEqual([]);
    expect(text).not.toContain('sourceMappingURL');
  });

  it('bundles the Powertools tracer and the X-Ray SDK where the stage traces AWS calls', async () => {
    expect((await bundled(HandlerName.routeEvent, { traceAwsCalls: true })).tracing).toEqual(['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core', 'cls-hooked']);
  });

  it("gives a bundled SDK client the credentials of the function's environment (where Lambda puts the role's)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-credentials-'));
    try {
      const outfile = join(dir, 'probe.js');
      const probe = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const credentials = () => new DynamoDBClient({ region: 'eu-west-1' }).config.credentials();";
      await build({ ...esbuildOptions(), stdin: { contents: probe, resolveDir: PROJECT_ROOT, loader: 'ts' }, outfile, absWorkingDir: PROJECT_ROOT, logLevel: 'error' });
      const run = (env: NodeJS.ProcessEnv) =>
        spawnSync(process.execPath, ['-e', `require(${JSON.stringify(outfile)}).credentials().then((c) => console.log(JSON.stringify(c)), (e) => console.log('refused: ' + e.message))`], {
          env: { PATH: process.env.PATH, ...env },
          encoding: 'utf8',
        }).stdout.trim();
      const given = JSON.parse(run({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' })) as Record<string, string>;
      expect(given).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
      // Without them it does not look further (no shared files, no instance metadata): it says so.
      expect(run({ HOME: dir })).toMatch(/^refused: Unable to find environment variable credentials/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads no source maps at run time', () => {
    expect(Object.values(WAYMARK_BASE_ENVIRONMENT).join(' ')).not.toContain('--enable-source-maps');
  });
});
