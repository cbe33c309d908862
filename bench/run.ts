// `npm run bench`: quiet Powertools (the local stack runs the Lambda handler code) before anything loads.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_REGION ??= 'local';

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark, Figure } from './types';

async function main(): Promise<void> {
  const benchmarks: Benchmark[] = [
    (await import('./journey-cost.bench')).journeyCost,
    (await import('./local-throughput.bench')).localThroughput,
    (await import('./ingestion.bench')).ingestion,
    (await import('./segments.bench')).segments,
  ];
  const only = process.env.BENCH_ONLY;
  const figures: Figure[] = [];
  for (const bench of benchmarks.filter((b) => !only || b.name === only)) {
    process.stdout.write(`running ${bench.name}…\n`);
    figures.push(...(await bench.run()));
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(figures, null, 2)}\n`);
  const width = Math.max(...figures.map((f) => f.name.length));
  for (const f of figures) {
    const base = f.baseline === undefined ? '' : `   baseline ${f.baseline} ${f.unit}, ratio ${f.ratio}`;
    process.stdout.write(`${f.name.padEnd(width)}  ${String(f.value).padStart(10)} ${f.unit}${base}\n`);
  }
  process.stdout.write(`written to ${join(dir, 'latest.json')}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
