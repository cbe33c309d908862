import { parseDuration } from '../core/shared/duration';
import type { Clock } from '../core/runtime/ports';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  /** A background timer (the hourly re-check) fires when time passes it, but never keeps `runUntilIdle` going. */
  background: boolean;
  /** Still waiting in its queue (false once cancelled, or taken out to fire: cancelling it then does nothing). */
  queued: boolean;
}

/**
 * Timers ordered by (at, seq) in a binary heap: a run's timers are set and cancelled in any order, and a simulation
 * holds one or more per run (10,000 runs: a sorted array's inserts and removals were quadratic). A cancelled timer is
 * only marked and dropped when it reaches the top, or when the dropped ones outnumber the live ones (memory stays
 * proportional to the live timers).
 */
class TimerQueue {
  private heap: Timer[] = [];
  live = 0;

  push(timer: Timer): void {
    this.live++;
    this.heap.push(timer);
    this.up(this.heap.length - 1);
  }

  cancel(timer: Timer): void {
    timer.queued = false;
    this.live--;
    if (this.heap.length > 64 && this.heap.length > 2 * this.live) this.compact();
  }

  /** The earliest live timer, if any. */
  peek(): Timer | undefined {
    while (this.heap.length > 0 && !this.heap[0].queued) this.pop();
    return this.heap[0];
  }

  /** Takes out the earliest live timer (call after `peek` returned one). */
  take(): Timer {
    const timer = this.peek()!;
    this.pop();
    timer.queued = false;
    this.live--;
    return timer;
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.down(0);
  }

  private compact(): void {
    this.heap = this.heap.filter((t) => t.queued);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): void {
    const heap = this.heap;
    const timer = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(heap[parent], timer) <= 0) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = timer;
  }

  private down(i: number): void {
    const heap = this.heap;
    const timer = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && compare(heap[child + 1], heap[child]) < 0) child++;
      if (compare(timer, heap[child]) <= 0) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = timer;
  }
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
  /** Background timers apart, so the next timer that keeps `runUntilIdle` going is the top of `timers`. */
  private timers = new TimerQueue();
  private background = new TimerQueue();
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
    const background = options.background === true;
    const timer: Timer = { at: Math.max(at, this.current), seq: ++this.seq, fire, background, queued: true };
    // Ordered by (at, seq): equal times fire in the order they were scheduled.
    const queue = background ? this.background : this.timers;
    queue.push(timer);
    return () => {
      if (timer.queued) queue.cancel(timer);
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
    return this.timers.live + this.background.live;
  }

  /** The time of the next timer that is not a background one, if any. */
  nextDue(): Date | undefined {
    const next = this.timers.peek();
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
      const next = this.first();
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
    const at = this.first()!.at;
    // Both queues' timers at that instant, taken out before any fires, then merged by seq.
    const due: Timer[] = [];
    for (const queue of [this.timers, this.background]) {
      while (queue.peek()?.at === at) due.push(queue.take());
    }
    if (due.length > 1) due.sort(compare);
    this.current = Math.max(this.current, at);
    for (const timer of due) timer.fire();
  }

  /** The earliest timer, background ones included. */
  private first(): Timer | undefined {
    const a = this.timers.peek();
    const b = this.background.peek();
    if (!a || !b) return a ?? b;
    return compare(a, b) <= 0 ? a : b;
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
