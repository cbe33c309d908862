import type { Clock } from '../runtime/ports';

/**
 * A value loaded on first use and kept for `ttlMs`; concurrent callers share one load. `invalidate` forgets it (and
 * a load that began before the invalidation is used once, not kept).
 */
export function cachedValue<T>(load: () => Promise<T>, clock: Clock, ttlMs: number): { get(): Promise<T>; invalidate(): void } {
  let cached: { value: T; at: number } | undefined;
  let loading: Promise<T> | undefined;
  let generation = 0;
  return {
    invalidate() {
      cached = undefined;
      loading = undefined;
      generation++;
    },
    async get() {
      const now = clock.now().getTime();
      if (cached && now - cached.at < ttlMs) return cached.value;
      const started = generation;
      loading ??= load()
        .then((value) => {
          if (started === generation) cached = { value, at: now };
          return value;
        })
        .finally(() => {
          if (started === generation) loading = undefined;
        });
      return loading;
    },
  };
}
