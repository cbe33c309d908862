import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../../../lib/constructs/bundling';
import { handlerEntry, PROJECT_ROOT, type HandlerName } from '../../../lib/constructs/waymark-function';

/**
 * The event router, the journey steps' functions and the run-end counter carry no zod (~105 KB, a third of a cold
 * start): their input is checked by hand (lambdas/handlers/README.md). Bundled as the CDK does, from the metafile.
 */
const ZOD_FREE = ['route-event', 'prepare-send', 'register-wait', 'resolve-wait', 'load-profile', 'decide-step', 'count-run-end'] as HandlerName[];

/** The modules of the project that import zod and are in the bundle (empty when zod is not in it). */
function zodImporters(metafile: Metafile): string[] {
  const [output] = Object.values(metafile.outputs);
  const zodBytes = Object.entries(output.inputs).filter(([file]) => file.includes('node_modules/zod/')).reduce((sum, [, i]) => sum + i.bytesInOutput, 0);
  if (zodBytes === 0) return [];
  return Object.entries(metafile.inputs)
    .filter(([file, input]) => !file.includes('node_modules') && input.imports.some((i) => i.path.includes('node_modules/zod/')))
    .filter(([file]) => (output.inputs[file]?.bytesInOutput ?? 0) > 0)
    .map(([file]) => file);
}

describe('lean bundles', () => {
  it.each(ZOD_FREE)('%s bundles no zod', async (name) => {
    const result = await build({
      ...esbuildOptions(),
      entryPoints: [handlerEntry(name)],
      outfile: `${name}/index.js`,
      absWorkingDir: PROJECT_ROOT,
      metafile: true,
      write: false,
      logLevel: 'error',
    });
    // On failure: the modules (of this project, in the bundle) whose zod import brought it back.
    expect(zodImporters(result.metafile)).toEqual([]);
  }, 30_000);
});
