import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

const CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
const LAMBDA_CREDENTIALS = 'lambdas/shared/lambda-credentials.ts';

/**
 * The constant lambdas/shared/powertools.ts checks before loading the Powertools tracer: esbuild replaces it (`define`)
 * by the stage's `traceAwsCalls`, so where it is false the tracer, the X-Ray SDK and cls-hooked are not bundled.
 */
export const TRACE_AWS_CALLS_CONSTANT = 'WAYMARK_TRACE_AWS_CALLS';

/** The build-time choices a stage makes about its functions' bundles (lib/config.ts). */
export interface BundlingChoices {
  /**
   * Bundle the Powertools tracer, so each AWS SDK call shows as an X-Ray subsegment of the invocation. Without it
   * Lambda's active tracing still records each invocation and the service map.
   * @default false
   */
  readonly traceAwsCalls?: boolean;
}

/**
 * How every Waymark function is bundled, shared by `WaymarkFunction` and `bench/functions.bench.ts` (which bundles
 * the handlers the same way to report their size and cold init). `keepNames`: Step Functions `Retry`/`Catch` match on
 * error names. No source map: loading one with `--enable-source-maps` costs 110–190 ms of every cold start.
 */
export function waymarkBundling(choices: BundlingChoices = {}): nodejs.BundlingOptions {
  return { ...COMMON_BUNDLING, define: { [TRACE_AWS_CALLS_CONSTANT]: JSON.stringify(choices.traceAwsCalls ?? false) } };
}

const COMMON_BUNDLING: nodejs.BundlingOptions = {
  minify: true,
  sourceMap: false,
  keepNames: true,
  target: 'node24',
  format: nodejs.OutputFormat.CJS,
  // The ES modules where a package ships both: esbuild then drops the commands and code a handler never imports
  // (the AWS SDK's CommonJS builds bundle every command of a client).
  mainFields: ['module', 'main'],
  // Bundle the AWS SDK too: the versions in package-lock.json are the ones the tests ran against.
  externalModules: [],
  forceDockerBundling: false,
  // The SDK clients' default credential chain replaced by its first link, the environment variables, where Lambda puts
  // the role's credentials (lambdas/shared/lambda-credentials.ts): ~140 KB less in every bundle. Relative to the
  // project root, where esbuild runs.
  esbuildArgs: { [`--alias:${CREDENTIAL_CHAIN}`]: `./${LAMBDA_CREDENTIALS}` },
};

/** The default bundling: no tracer, no X-Ray SDK. */
export const WAYMARK_BUNDLING: nodejs.BundlingOptions = waymarkBundling();

/** The variables every function gets before its own (none: source maps are not loaded at run time). */
export const WAYMARK_BASE_ENVIRONMENT: Readonly<Record<string, string>> = {};

/** The esbuild options `NodejsFunction` derives from `bundling` (its `--bundle --platform=node …` command line). */
export function esbuildOptions(bundling: nodejs.BundlingOptions = WAYMARK_BUNDLING) {
  return {
    bundle: true,
    platform: 'node' as const,
    target: bundling.target,
    format: bundling.format === nodejs.OutputFormat.ESM ? ('esm' as const) : ('cjs' as const),
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    keepNames: bundling.keepNames ?? false,
    external: [...(bundling.externalModules ?? [])],
    alias: Object.fromEntries(
      Object.entries(bundling.esbuildArgs ?? {}).flatMap(([arg, to]) => (arg.startsWith('--alias:') && typeof to === 'string' ? [[arg.slice('--alias:'.length), to]] : [])),
    ),
    define: { ...bundling.define },
    ...(bundling.mainFields ? { mainFields: [...bundling.mainFields] } : {}),
  };
}
