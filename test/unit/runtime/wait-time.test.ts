import fc from 'fast-check';
import { atLocalTime, isTimeZone, resolveWaitUntil } from '../../../lambdas/core/runtime/wait-time';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

/** The wall-clock date and time of an instant in a zone, as `YYYY-MM-DD HH:MM`. */
function wallClock(instant: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

describe('atLocalTime', () => {
  const cases: { zone: string; instant: string; expected: string; note: string }[] = [
    { zone: 'Europe/Berlin', instant: '2026-03-28T12:00:00Z', expected: '2026-03-28T09:00:00.000Z', note: 'the day before summer time (CET, +1)' },
    { zone: 'Europe/Berlin', instant: '2026-03-29T00:30:00Z', expected: '2026-03-29T08:00:00.000Z', note: 'the day summer time starts, asked before the change' },
    { zone: 'Europe/Berlin', instant: '2026-03-29T20:00:00Z', expected: '2026-03-29T08:00:00.000Z', note: 'the day summer time starts, asked after the change' },
    { zone: 'Europe/Berlin', instant: '2026-03-30T12:00:00Z', expected: '2026-03-30T08:00:00.000Z', note: 'the day after (CEST, +2)' },
    { zone: 'Europe/Berlin', instant: '2026-10-25T12:00:00Z', expected: '2026-10-25T09:00:00.000Z', note: 'the day summer time ends' },
    { zone: 'Europe/Berlin', instant: '2026-03-29T23:30:00Z', expected: '2026-03-30T08:00:00.000Z', note: 'late UTC evening is the next local day' },
    { zone: 'America/New_York', instant: '2026-10-31T12:00:00Z', expected: '2026-10-31T14:00:00.000Z', note: 'the day before standard time (EDT, -4)' },
    { zone: 'America/New_York', instant: '2026-11-01T04:30:00Z', expected: '2026-11-01T15:00:00.000Z', note: 'the day standard time starts, asked before the change' },
    { zone: 'America/New_York', instant: '2026-11-01T12:00:00Z', expected: '2026-11-01T15:00:00.000Z', note: 'the day standard time starts (EST, -5)' },
    { zone: 'America/New_York', instant: '2026-11-01T03:00:00Z', expected: '2026-10-31T14:00:00.000Z', note: 'early UTC morning is the previous local day' },
    { zone: 'America/New_York', instant: '2026-03-08T12:00:00Z', expected: '2026-03-08T14:00:00.000Z', note: 'the day summer time starts' },
    { zone: 'Asia/Kolkata', instant: '2026-03-29T12:00:00Z', expected: '2026-03-29T04:30:00.000Z', note: 'a half-hour offset (+5:30), no daylight saving' },
    { zone: 'Asia/Kolkata', instant: '2026-03-29T20:00:00Z', expected: '2026-03-30T04:30:00.000Z', note: 'after 18:30 UTC it is the next local day' },
    { zone: 'UTC', instant: '2026-03-29T23:59:59Z', expected: '2026-03-29T10:00:00.000Z', note: 'UTC' },
  ];

  it.each(cases)('10:00 in $zone on the local date of $instant is $expected ($note)', ({ zone, instant, expected }) => {
    expect(iso(atLocalTime(at(instant), '10:00', zone))).toBe(expected);
  });

  it('lands on the requested wall-clock time on the same local date, in any zone, any day of 2026', () => {
    // Hours 02 and 03 are left out: on some days they do not exist locally (the clock jumps over them).
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns', 'Pacific/Chatham', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC'];
    const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }).filter((h) => h !== 2 && h !== 3), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2027-01-01T00:00:00Z') }), hhmm, fc.constantFrom(...zones), (instant, time, zone) => {
        const result = atLocalTime(instant, time, zone);
        expect(wallClock(result, zone)).toBe(`${wallClock(instant, zone).slice(0, 10)} ${time}`);
      }),
    );
  });
});

describe('resolveWaitUntil', () => {
  const now = new Date('2026-03-01T12:00:00.000Z');
  const cases: { name: string; value: unknown; spec: { offset?: string; atLocalTime?: string }; zone?: string; until: string; reason?: string; now?: string }[] = [
    { name: 'the timestamp itself', value: '2026-03-10T08:00:00Z', spec: {}, until: '2026-03-10T08:00:00.000Z' },
    { name: 'a timestamp with an offset from UTC', value: '2026-03-10T08:00:00+02:00', spec: {}, until: '2026-03-10T06:00:00.000Z' },
    { name: 'epoch milliseconds', value: at('2026-03-10T08:00:00Z'), spec: {}, until: '2026-03-10T08:00:00.000Z' },
    { name: 'shifted a day earlier', value: '2026-03-10T08:00:00Z', spec: { offset: '-1d' }, until: '2026-03-09T08:00:00.000Z' },
    { name: 'shifted later', value: '2026-03-10T08:00:00Z', spec: { offset: '1d2h' }, until: '2026-03-11T10:00:00.000Z' },
    {
      name: 'the day before at 10:00 in Berlin, the day summer time starts',
      value: '2026-03-30T18:00:00+02:00',
      spec: { offset: '-1d', atLocalTime: '10:00' },
      zone: 'Europe/Berlin',
      until: '2026-03-29T08:00:00.000Z',
    },
    {
      name: 'the day before at 10:00 in New York, the day standard time starts',
      value: '2026-11-02T19:00:00-05:00',
      spec: { offset: '-1d', atLocalTime: '10:00' },
      zone: 'America/New_York',
      until: '2026-11-01T15:00:00.000Z',
      now: '2026-10-01T00:00:00.000Z',
    },
    { name: '10:00 in Kolkata', value: '2026-03-10T20:00:00Z', spec: { atLocalTime: '10:00' }, zone: 'Asia/Kolkata', until: '2026-03-11T04:30:00.000Z' },
    { name: 'an unknown time zone as UTC', value: '2026-03-10T20:00:00Z', spec: { atLocalTime: '10:00' }, zone: 'Mars/Olympus_Mons', until: '2026-03-10T10:00:00.000Z' },
    { name: 'no time zone as UTC', value: '2026-03-10T20:00:00Z', spec: { atLocalTime: '10:00' }, zone: undefined, until: '2026-03-10T10:00:00.000Z' },
    { name: 'an empty time zone as UTC', value: '2026-03-10T20:00:00Z', spec: { atLocalTime: '10:00' }, zone: '', until: '2026-03-10T10:00:00.000Z' },
    { name: 'a past timestamp: now', value: '2026-02-01T00:00:00Z', spec: {}, until: '2026-03-01T12:00:00.000Z' },
    { name: 'a future timestamp shifted into the past: now', value: '2026-03-01T18:00:00Z', spec: { offset: '-1d' }, until: '2026-03-01T12:00:00.000Z' },
    { name: 'a local time already past today: now', value: '2026-03-01T18:00:00Z', spec: { atLocalTime: '10:00' }, zone: 'UTC', until: '2026-03-01T12:00:00.000Z' },
    { name: 'exactly 90 days ahead', value: '2026-05-30T12:00:00Z', spec: {}, until: '2026-05-30T12:00:00.000Z' },
    { name: 'more than 90 days ahead: 90 days', value: '2027-01-01T00:00:00Z', spec: {}, until: '2026-05-30T12:00:00.000Z' },
    { name: 'missing: now', value: undefined, spec: { atLocalTime: '10:00' }, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
    { name: 'null: now', value: null, spec: {}, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
    { name: 'an empty string: now', value: '', spec: {}, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
    { name: 'garbage: now', value: 'next tuesday', spec: { offset: '-1d' }, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
    { name: 'a boolean: now', value: true, spec: {}, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
    { name: 'an object: now', value: { at: '2026-03-10T08:00:00Z' }, spec: {}, until: '2026-03-01T12:00:00.000Z', reason: 'no-timestamp' },
  ];

  it.each(cases)('$name', ({ value, spec, zone, until, reason, now: asOf }) => {
    expect(resolveWaitUntil(value, spec, zone, asOf === undefined ? now : new Date(asOf))).toEqual(reason === undefined ? { until } : { until, reason });
  });

  it('never ends before now nor more than 90 days after it', () => {
    const day = 86_400_000;
    fc.assert(
      fc.property(fc.integer({ min: now.getTime() - 400 * day, max: now.getTime() + 400 * day }), fc.constantFrom(undefined, '-1d', '3h', '-2w'), fc.constantFrom(undefined, '00:00', '10:00', '23:59'), (value, offset, time) => {
        const { until, reason } = resolveWaitUntil(new Date(value).toISOString(), { offset, atLocalTime: time }, 'America/New_York', now);
        expect(reason).toBeUndefined();
        expect(Date.parse(until)).toBeGreaterThanOrEqual(now.getTime());
        expect(Date.parse(until)).toBeLessThanOrEqual(now.getTime() + 90 * day);
      }),
    );
  });
});

describe('isTimeZone', () => {
  it.each([
    ['Europe/Berlin', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    [42, false],
    [undefined, false],
  ])('%p → %p', (zone, expected) => {
    expect(isTimeZone(zone)).toBe(expected);
  });
});
