/**
 * What a handler's bundle holds, by package (or source folder), largest first: `npx tsx bench/bundle-contents.ts
 * route-event [prepare-send …]` (TOP=n lines, default 20; FILES=1 lists files instead of packages). Bundled with the
 * options the CDK uses (lib/constructs/bundling.ts), from esbuild's metafile; TRACE_AWS_CALLS=true bundles as a stage
 * with `traceAwsCalls` does (the Powertools tracer and the X-Ray SDK).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions, waymarkBundling } from '../lib/constructs/bundling';
import { handlerEntry, PROJECT_ROOT, type HandlerName } from '../lib/constructs/waymark-function';

const groupOf = (file: string): string => {
  if (process.env.FILES) return file;
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file);
  return pkg ? pkg[1] : file.split('/').slice(0, 3).join('/');
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-bundle-'));
  const options = esbuildOptions(waymarkBundling({ traceAwsCalls: process.env.TRACE_AWS_CALLS === 'true' }));
  try {
    for (const name of process.argv.slice(2)) {
      const outfile = join(dir, name, 'index.js');
      const result = await build({ ...options, entryPoints: [handlerEntry(name as HandlerName)], outfile, absWorkingDir: PROJECT_ROOT, metafile: true, logLevel: 'error' });
      const output = Object.values(result.metafile.outputs)[0];
      const sizes = new Map<string, number>();
      for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) sizes.set(groupOf(file), (sizes.get(groupOf(file)) ?? 0) + bytesInOutput);
      console.log(`${name}: ${(output.bytes / 1024).toFixed(1)} KB`);
      for (const [group, bytes] of [...sizes].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 20))) {
        console.log(`${(bytes / 1024).toFixed(1).padStart(9)} KB  ${group}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
