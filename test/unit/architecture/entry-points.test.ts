import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../../../lib/constructs/bundling';
import { handlerEntry, PROJECT_ROOT } from '../../../lib/constructs/waymark-function';
import { entryPoints, type EntryPoint } from '../../../lib/entry-points';

/** The AWS SDK clients in a handler's bundle, built as the CDK builds it. */
async function clientsOf(handler: string): Promise<Set<string>> {
  const result = await build({
    ...esbuildOptions(),
    entryPoints: [handlerEntry(handler as never)],
    outfile: `${handler}.js`,
    write: false,
    metafile: true,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'error',
  });
  return new Set(Object.keys(result.metafile.inputs).flatMap((i) => /node_modules\/@aws-sdk\/client-([a-z-]+)\//.exec(i)?.[1] ?? []));
}

describe('entry points (lib/entry-points.ts) against the handlers they run', () => {
  it('declares every handler file exactly once, and no handler that has no file', () => {
    const files = readdirSync(join(PROJECT_ROOT, 'lambdas', 'handlers'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(entryPoints().map(([, e]) => e.handler).sort()).toEqual(files);
  });

  // What the code uses must be what the declaration grants: a handler that puts events without `bus` would be denied on
  // AWS, and a declaration naming a client the handler never builds grants too much.
  it.each(entryPoints().map(([name, e]) => [name, e] as [string, EntryPoint]))('%s bundles the clients its declaration implies', async (_name, entry) => {
    const clients = await clientsOf(entry.handler);
    const { uses } = entry;
    expect({ eventbridge: clients.has('eventbridge'), sfn: clients.has('sfn') }).toEqual({
      eventbridge: uses.bus === 'put',
      sfn: !!(uses.journeyRuns || uses.audienceScan || uses.taskTokens || uses.journeyVersions || uses.campaignVersions || uses.campaignRuns),
    });
  });
});
