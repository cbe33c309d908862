/** The last scheduled re-check: when it started and, once it has ended, when it ended (epoch ms, real time). */
export interface RecheckRun {
  startedAt: number;
  stoppedAt?: number;
}

export interface RecheckPolicy {
  /** Real milliseconds between two starts (the hourly schedule of AWS on the scaled clock). */
  intervalMs: number;
  /** The most of the real time re-checks may take: after a run of d ms, the next waits d·(1/share − 1) ms. */
  maxBusyShare: number;
}

/** At most a tenth of the time: an idle local stack with many profiles stays idle. */
export const DEFAULT_MAX_BUSY_SHARE = 0.1;

export type RecheckDecision = { start: true } | { start: false; reason: 'running' | 'not-due' | 'busy-share' };

/**
 * Whether a scheduled tick starts a re-check. Never while one runs (they used to overlap: at time scale 3600, an
 * hourly re-check over 800 profiles started every second and took seven); never sooner than the interval after the
 * last start; never so soon after a long run that re-checks take more than `maxBusyShare` of the real time.
 */
export function recheckDecision(last: RecheckRun | undefined, now: number, policy: RecheckPolicy): RecheckDecision {
  if (!last) return { start: true };
  if (last.stoppedAt === undefined) return { start: false, reason: 'running' };
  if (now - last.startedAt < policy.intervalMs) return { start: false, reason: 'not-due' };
  const busy = Math.max(0, last.stoppedAt - last.startedAt);
  const rest = busy * (1 / policy.maxBusyShare - 1);
  if (now - last.stoppedAt < rest) return { start: false, reason: 'busy-share' };
  return { start: true };
}
