import type { CounterDimensions, CounterName, CounterTotal } from './counters';

/**
 * Where counters live (the runtime table): one item per journey, shard, UTC day, name and dimensions.
 *   pk `COUNTER#<journeyId>#<shard>`   sk `<YYYY-MM-DD>#<name>#<dim>=<value>&…` (dimensions sorted, values escaped)
 * A journey's increments spread over COUNTER_SHARDS partition keys chosen at random, so it takes COUNTER_SHARDS times
 * a partition key's write throughput; a report reads COUNTER_SHARDS partitions, each one sort-key range per window.
 * The compiled send steps write the same keys (lambdas/core/journey/compile.ts), so the format is shared here.
 */
export const COUNTER_SHARDS = 16;
export const COUNTER_PREFIX = 'COUNTER#';

const DIMENSION_NAMES = ['agent', 'channel', 'node', 'reason', 'variant'] as const satisfies readonly (keyof CounterDimensions)[];

/** RFC 3986 escaping, stricter than encodeURIComponent (`'()*!` too), so a key part never holds `#`, `&`, `=`, quotes or braces. */
export const escapeKeyPart = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const counterPartitionKey = (journeyId: string, shard: number) => `${COUNTER_PREFIX}${journeyId}#${shard}`;

export function dimensionsPart(dims: CounterDimensions = {}): string {
  const parts: string[] = [];
  for (const name of DIMENSION_NAMES) {
    const value = Object.hasOwn(dims, name) ? dims[name] : undefined;
    if (value !== undefined) parts.push(`${name}=${escapeKeyPart(value)}`);
  }
  return parts.join('&');
}

export const counterSortKey = (day: string, name: CounterName, dims?: CounterDimensions) => `${day}#${name}#${dimensionsPart(dims)}`;

/** The day, name and dimensions of a counter item's sort key (undefined for a key this module did not write). */
export function parseCounterSortKey(sk: string): Omit<CounterTotal, 'value'> | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})#([^#]+)#([^#]*)$/.exec(sk);
  if (!match) return undefined;
  const dims: Record<string, string> = Object.create(null);
  for (const part of match[3] === '' ? [] : match[3].split('&')) {
    const at = part.indexOf('=');
    const name = part.slice(0, at);
    if (at < 1 || !(DIMENSION_NAMES as readonly string[]).includes(name)) return undefined;
    dims[name] = decodeURIComponent(part.slice(at + 1));
  }
  return { day: match[1], name: match[2] as CounterName, dims: { ...dims } as CounterDimensions };
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** A real calendar day `YYYY-MM-DD`. */
export function isDay(day: unknown): day is string {
  if (typeof day !== 'string' || !DAY_PATTERN.test(day)) return false;
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === day;
}

/** The sort-key bounds of a window of days, inclusive (`~` sorts after every key character used). */
export const dayRange = (fromDay: string, toDay: string) => ({ start: `${fromDay}#`, end: `${toDay}#~` });

/** Counters a journey's report reads at most per window, so a read stays bounded (see DynamoJourneyCounters). */
export const MAX_REPORT_DAYS = 400;

/** Days from `from` to `to`, inclusive. */
export function daysBetween(fromDay: string, toDay: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${fromDay}T00:00:00Z`); t <= Date.parse(`${toDay}T00:00:00Z`); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Sums totals that share day, name and dimensions (the shards of one counter). */
export function sumTotals(totals: Iterable<CounterTotal>): CounterTotal[] {
  const byKey = new Map<string, CounterTotal>();
  for (const t of totals) {
    const key = counterSortKey(t.day, t.name, t.dims);
    const seen = byKey.get(key);
    if (seen) seen.value += t.value;
    else byKey.set(key, { ...t, dims: { ...t.dims } });
  }
  return [...byKey.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}
