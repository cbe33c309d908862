import type { Clock } from '../runtime/ports';
import { cachedValue } from '../shared/cached';
import { orderSegments } from './catalog';
import { SegmentEngine } from './engine';
import type { SegmentDefinition } from './rule';
import type { SegmentStore } from './ports';

/** The compiled segments a function evaluates with. */
export interface SegmentCatalog {
  engine(): Promise<SegmentEngine>;
}

/** A catalog that can be told its segments changed (the local stack, where the API and the router share a process). */
export interface InvalidatableSegmentCatalog extends SegmentCatalog {
  invalidate(): void;
}

/**
 * Drops what cannot be evaluated (unknown references, cycles, and segments that reference those), so one bad stored
 * segment never stops evaluation of the others. The API refuses such writes; this covers races between two writers.
 */
export function buildEngine(definitions: readonly SegmentDefinition[]): { engine: SegmentEngine; dropped: string[] } {
  let remaining = [...definitions];
  const dropped: string[] = [];
  for (;;) {
    const ordered = orderSegments(remaining);
    if (ordered.ok) return { engine: SegmentEngine.create(ordered.order), dropped: dropped.sort() };
    dropped.push(...ordered.invalid);
    remaining = remaining.filter((d) => !ordered.invalid.includes(d.id));
  }
}

/** The stored segments compiled, rebuilt at most every `ttlMs` (a new or changed segment applies within that time). */
export function cachedSegmentCatalog(store: Pick<SegmentStore, 'list'>, clock: Clock, ttlMs = 30_000): InvalidatableSegmentCatalog {
  const cache = cachedValue(async () => buildEngine((await store.list()).map((r) => r.definition)).engine, clock, ttlMs);
  return { engine: () => cache.get(), invalidate: () => cache.invalidate() };
}
