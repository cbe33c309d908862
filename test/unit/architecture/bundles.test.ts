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
// awsStores(): every DynamoDB port and both secrets (the privacy key, the unsubscribe links).
const stores = ['dynamodb', 'secrets-manager'];
const withExecutions = [...stores, 'sfn'].sort();
const withBus = [...withExecutions, 'eventbridge'].sort();
/** Which clients each handler's ports need; every handler not listed uses awsStores() (tables and secrets). */
const expected: Partial<Record<HandlerName, string[]>> = {
  // Composed from awsTables() and the stores they use: no secret declared, no Secrets Manager client.
  [HandlerName.resolveWait]: tables,
  [HandlerName.loadProfile]: tables,
  [HandlerName.decideStep]: tables,
  [HandlerName.countRunEnd]: tables,
  [HandlerName.getJourneyReport]: tables,
  [HandlerName.listRules]: tables,
  [HandlerName.getRule]: tables,
  [HandlerName.putRule]: tables,
  [HandlerName.deleteRule]: tables,
  [HandlerName.findProfile]: tables,
  [HandlerName.getProfile]: tables,
  [HandlerName.exportProfile]: tables,
  [HandlerName.getConsent]: tables,
  [HandlerName.updateConsent]: tables,
  [HandlerName.listJourneys]: tables,
  [HandlerName.listRejectedEvents]: tables,
  // The unsubscribe secret only: checking a signed link reads no table.
  [HandlerName.confirmUnsubscribe]: ['secrets-manager'],
  // A table and a secret (the unsubscribe secret; the privacy key for the suppression list and new profiles).
  [HandlerName.unsubscribeProfile]: stores,
  [HandlerName.recordDeliveryEvent]: stores,
  [HandlerName.listSegments]: tables,
  [HandlerName.getSegment]: tables,
  [HandlerName.createSegment]: tables,
  [HandlerName.putSegment]: tables,
  [HandlerName.deleteSegment]: tables,
  [HandlerName.getSegmentSnapshot]: tables,
  [HandlerName.estimateSegment]: tables,
  [HandlerName.listOffers]: tables,
  [HandlerName.getOffer]: tables,
  [HandlerName.createOffer]: tables,
  [HandlerName.putOffer]: tables,
  [HandlerName.deleteOffer]: tables,
  [HandlerName.listPlacements]: tables,
  [HandlerName.getPlacement]: tables,
  [HandlerName.createPlacement]: tables,
  [HandlerName.putPlacement]: tables,
  [HandlerName.deletePlacement]: tables,
  [HandlerName.decide]: tables,
  [HandlerName.listDecisions]: tables,
  [HandlerName.registerWait]: ['dynamodb', 'sfn'],
  [HandlerName.ingestEvent]: ['eventbridge'],
  [HandlerName.routeEvent]: withBus,
  // Re-check pages announce segment changes and enter journeys (no privacy key: they create no profile).
  [HandlerName.scanProfiles]: ['dynamodb', 'eventbridge', 'sfn'],
  [HandlerName.updateProfileAttributes]: withBus,
  [HandlerName.eraseProfile]: withExecutions,
  // Starts the audience scan.
  [HandlerName.evaluateSegment]: ['dynamodb', 'sfn'],
  [HandlerName.triggerJourney]: withExecutions,
  // Priority arbitration: whether higher-priority runs of the profile are still running.
  [HandlerName.prepareSend]: withExecutions,
  // The journey registry, and Step Functions for the live version's publication time.
  [HandlerName.getJourney]: ['dynamodb', 'sfn'],
  // "Why": DescribeExecution of each run (and GetExecutionHistory to explain one).
  [HandlerName.listProfileJourneys]: ['dynamodb', 'sfn'],
  [HandlerName.explainProfileJourney]: ['dynamodb', 'sfn'],
  // The campaign registry and run records only.
  [HandlerName.listCampaigns]: tables,
  // And Step Functions for the live version's publication time, as get-journey.
  [HandlerName.getCampaign]: ['dynamodb', 'sfn'],
  [HandlerName.listCampaignRuns]: tables,
  [HandlerName.getCampaignRun]: tables,
  // Campaign executions: StartExecution and StopExecution of runs.
  [HandlerName.startCampaignRun]: ['dynamodb', 'sfn'],
  [HandlerName.controlCampaignRun]: ['dynamodb', 'sfn'],
  // Enter-journey batches start journeys; sets in the audience bucket; deliver batches send email, SMS and push.
  [HandlerName.campaignStep]: [...withExecutions, 's3', 'sesv2', 'pinpoint', 'pinpoint-sms-voice-v2'].sort(),
};

/** The handlers that render templates: the send step only (reading the registry checks no template). */
// Campaign batches render their messages too.
const WITH_TEMPLATES: HandlerName[] = [HandlerName.prepareSend, HandlerName.campaignStep];

/**
 * The handlers that emit no metric (no `withMetrics`, no journey counter: composed without `awsStores()`), whose bundles
 * hold no Powertools metrics code. Every other handler counts or may count (awsStores() gives it the counters).
 */
const WITHOUT_METRICS: HandlerName[] = [
  HandlerName.ingestEvent,
  HandlerName.registerWait,
  HandlerName.resolveWait,
  HandlerName.loadProfile,
  HandlerName.decideStep,
  HandlerName.getJourney,
  HandlerName.findProfile,
  HandlerName.listOffers,
  HandlerName.getOffer,
  HandlerName.createOffer,
  HandlerName.putOffer,
  HandlerName.deleteOffer,
  HandlerName.listPlacements,
  HandlerName.getPlacement,
  HandlerName.createPlacement,
  HandlerName.putPlacement,
  HandlerName.deletePlacement,
  HandlerName.decide,
  HandlerName.listDecisions,
  HandlerName.listSegments,
  HandlerName.getSegment,
  HandlerName.createSegment,
  HandlerName.putSegment,
  HandlerName.deleteSegment,
  HandlerName.getSegmentSnapshot,
  HandlerName.estimateSegment,
  HandlerName.evaluateSegment,
  HandlerName.getConsent,
  HandlerName.updateConsent,
  HandlerName.confirmUnsubscribe,
  HandlerName.unsubscribeProfile,
  HandlerName.listJourneys,
  HandlerName.listRejectedEvents,
  HandlerName.getProfile,
  HandlerName.exportProfile,
  HandlerName.listProfileJourneys,
  HandlerName.explainProfileJourney,
  HandlerName.getJourneyReport,
  HandlerName.listRules,
  HandlerName.getRule,
  HandlerName.putRule,
  HandlerName.deleteRule,
  HandlerName.listCampaigns,
  HandlerName.getCampaign,
  HandlerName.startCampaignRun,
  HandlerName.listCampaignRuns,
  HandlerName.getCampaignRun,
  HandlerName.controlCampaignRun,
];

describe('Lambda bundles: each function carries only what it uses', () => {
  it.each(Object.values(HandlerName))('%s bundles only the SDK clients its ports use, credentials from the environment, no tracer and no source map', async (name) => {
    const { clients, credentials, liquid, metrics, tracing, text } = await bundled(name);
    expect(clients).toEqual(expected[name] ?? stores);
    // The template engine only where messages are rendered or templates checked (reading the registry does neither).
    expect({ name, liquid }).toEqual({ name, liquid: WITH_TEMPLATES.includes(name) });
    expect({ name, metrics }).toEqual({ name, metrics: !WITHOUT_METRICS.includes(name) });
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
