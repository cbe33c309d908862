import { COUNTER, type CounterIncrement } from './counters';
import { isDay, MAX_REPORT_DAYS } from './keys';

const NAMES = new Set<string>(Object.values(COUNTER));

/** An increment a counter store refuses (a programming error: counters are written by the platform, not by users). */
export class CounterInputError extends Error {
  override readonly name = 'CounterInputError';
}

/** A window of days a report may not read (reversed, not days, or longer than MAX_REPORT_DAYS). */
export class CounterWindowError extends Error {
  override readonly name = 'CounterWindowError';
  constructor(
    readonly field: 'from' | 'to',
    message: string,
  ) {
    super(message);
  }
}

/** A journey with more counters in a window than a read may page through. */
export class CounterReadLimitError extends Error {
  override readonly name = 'CounterReadLimitError';
  constructor(journeyId: string, pages: number) {
    super(`journey ${journeyId} has more counters in this window than ${pages} pages per shard; choose a shorter window`);
  }
}

export function checkIncrement(inc: CounterIncrement): void {
  if (typeof inc.journeyId !== 'string' || inc.journeyId === '') throw new CounterInputError('journeyId must be a non-empty string');
  if (!isDay(inc.day)) throw new CounterInputError(`day must be YYYY-MM-DD (got ${JSON.stringify(inc.day)})`);
  if (!NAMES.has(inc.name)) throw new CounterInputError(`unknown counter ${JSON.stringify(inc.name)}`);
  if (inc.by !== undefined && !Number.isFinite(inc.by)) throw new CounterInputError(`by must be a finite number (got ${inc.by})`);
}

export function checkWindow(fromDay: string, toDay: string): void {
  if (!isDay(fromDay)) throw new CounterWindowError('from', 'from must be a day YYYY-MM-DD');
  if (!isDay(toDay)) throw new CounterWindowError('to', 'to must be a day YYYY-MM-DD');
  if (toDay < fromDay) throw new CounterWindowError('to', 'to must not be before from');
  const days = (Date.parse(toDay) - Date.parse(fromDay)) / 86_400_000 + 1;
  if (days > MAX_REPORT_DAYS) throw new CounterWindowError('to', `a window is at most ${MAX_REPORT_DAYS} days (got ${days})`);
}
