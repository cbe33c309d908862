import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, WAYMARK_BASE_ENVIRONMENT, waymarkBundling } from '../lib/constructs/bundling';
import { EnvKey } from '../lambdas/core/config/env-keys';
import { handlerEntry, HandlerName, PROJECT_ROOT } from '../lib/constructs/waymark-function';
import { withBaseline, type Benchmark, type Figure } from './types';

const RUNS = Number(process.env.BENCH_INIT_RUNS ?? 5);
/** The default stage's bundles (no tracer, no X-Ray SDK); BENCH_TRACE_AWS_CALLS=true: a stage with `traceAwsCalls`. */
const BUNDLING = esbuildOptions(waymarkBundling({ traceAwsCalls: process.env.BENCH_TRACE_AWS_CALLS === 'true' }));

/** What Lambda sets, and every variable a handler may read, so each loads as it would in its container. */
const lambdaEnvironment = (name: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: `waymark-${name}`,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  [EnvKey.profilesTable]: 'profiles',
  [EnvKey.journeysTable]: 'journeys',
  [EnvKey.runtimeTable]: 'runtime',
  [EnvKey.eventBusName]: 'bus',
  [EnvKey.unsubscribeSecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:unsubscribe',
  [EnvKey.privacyKeySecretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:privacy',
  [EnvKey.publicUrl]: 'https://example.com/',
  [EnvKey.audienceScanStateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:scan',
  // campaign-step and the campaign API: without them their bundles refuse to load.
  [EnvKey.audienceBucketName]: 'audience',
  [EnvKey.campaignStateMachinePrefix]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-bench_c-',
  [EnvKey.senderEmail]: 'journeys@shop.example',
  [EnvKey.emailConfigurationSet]: 'waymark-bench',
  [EnvKey.pushApplicationId]: 'a1b2c3d4e5f6',
  [EnvKey.smsOriginationIdentity]: 'pool-0123456789abcdef',
  [EnvKey.smsConfigurationSet]: 'waymark-bench',
  ...WAYMARK_BASE_ENVIRONMENT,
});

/** CPU ms (user + system) to `require` the bundle in a fresh Node process: what a cold start pays before a handler. */
function initCpuMs(file: string, name: string): number {
  const probe = [
    `const s = process.cpuUsage(); require(${JSON.stringify(file)}); const u = process.cpuUsage(s);`,
    'process.stdout.write(String((u.user + u.system) / 1000));',
  ].join(' ');
  const runs = Array.from({ length: RUNS }, () => {
    const child = spawnSync(process.execPath, ['-e', probe], { env: lambdaEnvironment(name), encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${name}: loading the bundle failed: ${child.stderr}`);
    return Number(child.stdout);
  }).sort((a, b) => a - b);
  return Number(runs[Math.floor(runs.length / 2)].toFixed(1));
}

async function bundle(entry: string, outfile: string): Promise<number> {
  await build({ ...BUNDLING, entryPoints: [entry], outfile, absWorkingDir: PROJECT_ROOT, logLevel: 'error' });
  return Number((statSync(outfile).size / 1024).toFixed(1));
}

export const functions: Benchmark = {
  name: 'functions',
  async run(): Promise<Figure[]> {
    const dir = mkdtempSync(join(tmpdir(), 'waymark-functions-'));
    try {
      const empty = join(dir, 'empty.ts');
      writeFileSync(empty, 'export const handler = async () => undefined;\n');
      const baselineKb = await bundle(empty, join(dir, 'empty', 'index.js'));
      const baselineMs = initCpuMs(join(dir, 'empty', 'index.js'), 'empty');
      const figures: Figure[] = [];
      for (const name of Object.values(HandlerName)) {
        const out = join(dir, name, 'index.js');
        const kb = await bundle(handlerEntry(name), out);
        figures.push(withBaseline({ name: `functions/${name}/bundle`, value: kb, unit: 'KB', baseline: baselineKb }));
        const ms = initCpuMs(out, name);
        figures.push(withBaseline({ name: `functions/${name}/init`, value: ms, unit: 'ms CPU', baseline: baselineMs }));
      }
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
