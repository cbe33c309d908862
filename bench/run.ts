// `npm run bench`: quiet Powertools (the local stack runs the Lambda handler code) before anything loads.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_REGION ??= 'local';

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Benchmark, Figure } from './types';

/** Loaded only when selected, so `BENCH_ONLY=segments` does not load the local stack. */
const registry: { name: string; load: () => Promise<Benchmark> }[] = [
  { name: 'journey-cost', load: async () => (await import('./journey-cost.bench')).journeyCost },
  { name: 'local-throughput', load: async () => (await import('./local-throughput.bench')).localThroughput },
  { name: 'simulation', load: async () => (await import('./simulation.bench')).simulation },
  { name: 'ingestion', load: async () => (await import('./ingestion.bench')).ingestion },
  { name: 'segments', load: async () => (await import('./segments.bench')).segments },
  { name: 'segments-streaming', load: async () => (await import('./segments-streaming.bench')).segmentsStreaming },
  { name: 'decisions', load: async () => (await import('./decisions.bench')).decisions },
  { name: 'functions', load: async () => (await import('./functions.bench')).functions },
  { name: 'decisions-http', load: async () => (await import('./decisions-http.bench')).decisionsHttp },
  { name: 'report', load: async () => (await import('./report.bench')).report },
  { name: 'engagement', load: async () => (await import('./engagement.bench')).engagement },
  { name: 'campaign-cost', load: async () => (await import('./campaign-cost.bench')).campaignCostBench },
  { name: 'campaign', load: async () => (await import('./campaign.bench')).campaignBench },
];

/**
 * Each benchmark runs in a process of its own (same Node, same loader), so none measures the heap, the garbage or the
 * peak RSS another left behind. The child writes its figures to a file the parent reads.
 */
function runIsolated(name: string): Figure[] {
  const out = join(mkdtempSync(join(tmpdir(), 'waymark-bench-')), 'figures.json');
  const child = spawnSync(process.execPath, [...process.execArgv, __filename], { stdio: 'inherit', env: { ...process.env, BENCH_CHILD: name, BENCH_CHILD_OUT: out } });
  if (child.status !== 0) throw new Error(`benchmark ${name} failed (exit ${child.status ?? child.signal})`);
  const figures = JSON.parse(readFileSync(out, 'utf8')) as Figure[];
  rmSync(dirname(out), { recursive: true, force: true });
  return figures;
}

async function child(name: string, out: string): Promise<void> {
  const entry = registry.find((b) => b.name === name);
  if (!entry) throw new Error(`unknown benchmark ${name}`);
  const figures = await (await entry.load()).run();
  writeFileSync(out, JSON.stringify(figures));
}

async function main(): Promise<void> {
  if (process.env.BENCH_CHILD && process.env.BENCH_CHILD_OUT) return child(process.env.BENCH_CHILD, process.env.BENCH_CHILD_OUT);
  // BENCH_ONLY=a,b runs those benchmarks; their figures replace theirs in latest.json, the others' are kept.
  const only = process.env.BENCH_ONLY?.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  const unknown = (only ?? []).filter((n) => !registry.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown benchmark ${unknown.join(', ')}; expected one of ${registry.map((b) => b.name).join(', ')}`);
  const selected = registry.filter((b) => !only || only.includes(b.name));
  const figures: Figure[] = [];
  for (const entry of selected) {
    process.stdout.write(`running ${entry.name}…\n`);
    figures.push(...runIsolated(entry.name));
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  const ran = (f: Figure) => selected.some((b) => f.name.startsWith(`${b.name}/`));
  const kept = only && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Figure[]).filter((f) => !ran(f)) : [];
  writeFileSync(file, `${JSON.stringify([...kept, ...figures], null, 2)}\n`);
  const width = Math.max(...figures.map((f) => f.name.length));
  for (const f of figures) {
    const base = f.baseline === undefined ? '' : `   baseline ${f.baseline} ${f.unit}, ratio ${f.ratio}`;
    process.stdout.write(`${f.name.padEnd(width)}  ${String(f.value).padStart(10)} ${f.unit}${base}\n`);
  }
  process.stdout.write(`written to ${file}${kept.length > 0 ? ` (kept ${kept.length} figures of benchmarks not run)` : ''}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
