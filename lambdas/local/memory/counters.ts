import type { CounterDimensions, CounterIncrement, CounterTotal, JourneyCounters } from '../../core/measure/counters';

const DIMS: readonly (keyof CounterDimensions)[] = ['node', 'channel', 'variant', 'reason', 'agent'];

/**
 * The `JourneyCounters` port in memory, unsharded: what the local stack counts with until a store is given
 * (`startLocalStack({ counters })`), and what unit tests read. Totals are kept per journey, day, name and dimensions.
 */
export class MemoryJourneyCounters implements JourneyCounters {
  private readonly totals = new Map<string, CounterTotal & { journeyId: string }>();

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    for (const i of increments) {
      const dims: CounterDimensions = {};
      for (const d of DIMS) if (i.dims?.[d] !== undefined) Object.assign(dims, { [d]: i.dims[d] });
      const key = JSON.stringify([i.journeyId, i.day, i.name, DIMS.map((d) => dims[d] ?? null)]);
      const held = this.totals.get(key);
      if (held) held.value += i.by ?? 1;
      else this.totals.set(key, { journeyId: i.journeyId, day: i.day, name: i.name, dims, value: i.by ?? 1 });
    }
  }

  async read(journeyId: string, fromDay: string, toDay: string): Promise<CounterTotal[]> {
    return [...this.totals.values()]
      .filter((t) => t.journeyId === journeyId && t.day >= fromDay && t.day <= toDay)
      .map(({ journeyId: _journeyId, ...t }) => ({ ...t, dims: { ...t.dims } }));
  }
}
