import { build } from 'esbuild';
import { esbuildOptions, WAYMARK_BASE_ENVIRONMENT } from '../../../lib/constructs/bundling';
import { handlerEntry, HandlerName, PROJECT_ROOT } from '../../../lib/constructs/waymark-function';

/** The AWS SDK clients in a handler's bundle, built as the CDK builds it. */
async function bundled(name: HandlerName): Promise<{ clients: string[]; text: string }> {
  const result = await build({
    ...esbuildOptions(),
    entryPoints: [handlerEntry(name)],
    outfile: `${name}.js`,
    write: false,
    metafile: true,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'error',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const clients = new Set(inputs.flatMap((i) => /node_modules\/@aws-sdk\/client-([a-z0-9-]+)\//.exec(i)?.[1] ?? []));
  return { clients: [...clients].sort(), text: result.outputFiles.map((f) => f.text).join('') };
}

const stores = ['dynamodb', 'secrets-manager'];
const withExecutions = [...stores, 'sfn'].sort();
const withBus = [...withExecutions, 'eventbridge'].sort();
/** Which clients each handler's ports need; every handler not listed reads and writes the tables only. */
const expected: Partial<Record<HandlerName, string[]>> = {
  [HandlerName.ingestEvent]: ['eventbridge'],
  [HandlerName.routeEvent]: withBus,
  [HandlerName.scanProfiles]: withBus,
  [HandlerName.updateProfileAttributes]: withBus,
  [HandlerName.eraseProfile]: withExecutions,
  [HandlerName.evaluateSegment]: withExecutions,
  [HandlerName.registerWait]: withExecutions,
  [HandlerName.triggerJourney]: withExecutions,
  // Priority arbitration: whether higher-priority runs of the profile are still running.
  [HandlerName.prepareSend]: withExecutions,
  // The journey registry, and Step Functions for the live version's publication time.
  [HandlerName.getJourney]: withExecutions,
  // "Why": DescribeExecution of each run (and GetExecutionHistory to explain one).
  [HandlerName.listProfileJourneys]: withExecutions,
  [HandlerName.explainProfileJourney]: withExecutions,
  // Campaign executions: StartExecution and StopExecution of runs.
  [HandlerName.startCampaignRun]: withExecutions,
  [HandlerName.controlCampaignRun]: withExecutions,
  // Enter-journey batches start journeys; sets in the audience bucket; deliver batches send email, SMS and push.
  [HandlerName.campaignStep]: [...withExecutions, 's3', 'sesv2', 'pinpoint', 'pinpoint-sms-voice-v2'].sort(),
};

describe('Lambda bundles: each function carries only what it uses', () => {
  it.each(Object.values(HandlerName))('%s bundles only the SDK clients its ports use, and no source map', async (name) => {
    const { clients, text } = await bundled(name);
    expect(clients).toEqual(expected[name] ?? stores);
    expect(text).not.toContain('sourceMappingURL');
  });

  it('loads no source maps at run time', () => {
    expect(Object.values(WAYMARK_BASE_ENVIRONMENT).join(' ')).not.toContain('--enable-source-maps');
  });
});
