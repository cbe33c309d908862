import { parseDuration } from '../core/shared/duration';
import type { Clock } from '../core/runtime/ports';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  /** A background timer (the hourly re-check) fires when time passes it, but never keeps `runUntilIdle` going. */
  background: boolean;
}

/** How long `runUntilIdle` may go on before it reports a run that never settles (a loop in a journey, say). */
export const MAX_TIMERS_PER_RUN = 1_000_000;

/**
 * Time that passes only when told: `advance('1h')`, `advanceTo(ts)`, `runUntilIdle()`. The local runtime's Wait
 * states, wait-for-event timeouts, retry intervals, global timeouts and the re-check schedule are timers on it.
 * Before each timer fires, the clock lets the system settle (the `quiesce` hook: the bus has delivered everything
 * and every run is parked on a timer or a task token), so a run of timers is deterministic and never sleeps. Timers
 * due at the same instant fire together, in the order they were set.
 */
export class VirtualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private seq = 0;
  private quiesce: () => Promise<void> = () => new Promise((resolve) => setImmediate(resolve));

  constructor(start: Date | string | number = '2026-01-01T00:00:00.000Z') {
    this.current = toMs(start, 'start');
  }

  now(): Date {
    return new Date(this.current);
  }

  nowMs(): number {
    return this.current;
  }

  /** How the clock waits for the system to settle before each timer (set by the local stack). */
  onQuiesce(quiesce: () => Promise<void>): void {
    this.quiesce = quiesce;
  }

  /** Waits until the system has settled, without moving time. */
  settle(): Promise<void> {
    return this.quiesce();
  }

  /** Runs `fire` when virtual time reaches `at` (ms); returns a function that cancels it. */
  schedule(at: number, fire: () => void, options: { background?: boolean } = {}): () => void {
    const timer: Timer = { at: Math.max(at, this.current), seq: ++this.seq, fire, background: options.background === true };
    // Kept sorted by (at, seq): equal times fire in the order they were scheduled.
    let i = this.timers.length;
    while (i > 0 && compare(this.timers[i - 1], timer) > 0) i--;
    this.timers.splice(i, 0, timer);
    return () => {
      const index = this.timers.indexOf(timer);
      if (index >= 0) this.timers.splice(index, 1);
    };
  }

  /** Resolves after `ms` of virtual time (at once for 0); an abort signal cancels it with the signal's reason. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.schedule(this.current + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        cancel();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Timers waiting to fire (background ones included). */
  pending(): number {
    return this.timers.length;
  }

  /** The time of the next timer that is not a background one, if any. */
  nextDue(): Date | undefined {
    const next = this.timers.find((t) => !t.background);
    return next && new Date(next.at);
  }

  /** Moves time forward by a duration (`90s`, `1h`, `3d`) or milliseconds, firing every timer on the way. */
  async advance(by: string | number): Promise<void> {
    const ms = typeof by === 'number' ? by : parseDuration(by) * 1000;
    if (!(ms >= 0)) throw new RangeError(`advance: a duration of 0 or more is needed (got ${String(by)})`);
    await this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `target`, firing every timer due by then in order, letting the system settle between. */
  async advanceTo(target: Date | string | number): Promise<void> {
    const until = toMs(target, 'advanceTo');
    if (until < this.current) throw new RangeError(`advanceTo: ${new Date(until).toISOString()} is before now (${this.now().toISOString()})`);
    for (let fired = 0; ; fired++) {
      await this.quiesce();
      const next = this.timers[0];
      if (!next || next.at > until) break;
      if (fired >= MAX_TIMERS_PER_RUN) throw new Error(`advanceTo: more than ${MAX_TIMERS_PER_RUN} timers fired; a run never settles`);
      this.fireNext();
    }
    this.current = until;
    await this.quiesce();
  }

  /**
   * Fires timers until only background ones are left (or the next is after `until`): every run goes as far as time can
   * take it. Returns the virtual time it stopped at.
   */
  async runUntilIdle(options: { until?: Date | string | number } = {}): Promise<Date> {
    const until = options.until === undefined ? Infinity : toMs(options.until, 'until');
    for (let fired = 0; ; fired++) {
      await this.quiesce();
      const due = this.nextDue();
      if (!due || due.getTime() > until) break;
      if (fired >= MAX_TIMERS_PER_RUN) throw new Error(`runUntilIdle: more than ${MAX_TIMERS_PER_RUN} timers fired; a run never settles`);
      this.fireNext();
    }
    if (Number.isFinite(until) && until > this.current) await this.advanceTo(until);
    return this.now();
  }

  /**
   * Fires the next timer and every other one due at the same instant, in the order they were set: things that happen at
   * one time run together (as they would on AWS), and the system settles once for them all, not once each.
   */
  private fireNext(): void {
    const at = this.timers[0].at;
    let count = 0;
    while (count < this.timers.length && this.timers[count].at === at) count++;
    const due = this.timers.splice(0, count);
    this.current = Math.max(this.current, at);
    for (const timer of due) timer.fire();
  }
}

function compare(a: Timer, b: Timer): number {
  return a.at - b.at || a.seq - b.seq;
}

function toMs(value: Date | string | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`${what}: not a time (${String(value)})`);
  return ms;
}

export function isVirtualClock(clock: Clock): clock is VirtualClock {
  return clock instanceof VirtualClock;
}
