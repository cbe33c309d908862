import fc from 'fast-check';
import {
  capClaims,
  calendarKey,
  profileTimeZone,
  quietHours,
  quietUntil,
  quietWindowEnd,
  ruleApplies,
  type GovernedMessage,
} from '../../../lambdas/core/governance/evaluate';
import { localParts, localToInstant, weekdayOf } from '../../../lambdas/core/governance/local-time';
import { Rule, type QuietHoursRule, type RuleInput, type Weekday } from '../../../lambdas/core/governance/rules';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const at = (text: string) => Date.parse(text);
const rule = (input: Partial<RuleInput> & Pick<RuleInput, 'kind'>) => Rule.parse({ id: 'r', channel: 'email', ...input } as RuleInput);
const quiet = (from: string, to: string, extra: Partial<QuietHoursRule> = {}) =>
  rule({ kind: 'quiet-hours', from, to, action: 'defer', ...extra } as never) as QuietHoursRule;

function message(overrides: Partial<GovernedMessage> = {}): GovernedMessage {
  return {
    profileId: 'p-1',
    timeZone: 'Europe/Berlin',
    channel: 'email',
    messageClass: 'marketing',
    journey: { id: 'welcome', priority: 50 },
    now: new Date('2026-12-03T12:00:00Z'),
    ...overrides,
  };
}

describe('localToInstant', () => {
  it.each([
    ['Europe/Berlin', '2026-12-03 08:00', '2026-12-03T07:00:00.000Z', 'winter (+1)'],
    ['Europe/Berlin', '2026-07-03 08:00', '2026-07-03T06:00:00.000Z', 'summer (+2)'],
    ['America/New_York', '2026-03-08 02:30', '2026-03-08T07:30:00.000Z', 'a time skipped by spring forward reads past the gap (03:30 EDT)'],
    ['America/New_York', '2026-03-08 03:00', '2026-03-08T07:00:00.000Z', 'the first time after the gap'],
    ['America/New_York', '2026-11-01 01:30', '2026-11-01T05:30:00.000Z', 'a time that occurs twice is its first occurrence (EDT)'],
    ['America/New_York', '2026-11-01 02:00', '2026-11-01T07:00:00.000Z', 'after the repeated hour (EST)'],
    ['Pacific/Tongatapu', '2026-12-04 08:00', '2026-12-03T19:00:00.000Z', '+13'],
    ['Pacific/Kiritimati', '2026-12-04 08:00', '2026-12-03T18:00:00.000Z', '+14'],
    ['Pacific/Pago_Pago', '2026-12-03 08:00', '2026-12-03T19:00:00.000Z', '−11'],
    ['Asia/Kathmandu', '2026-12-03 08:00', '2026-12-03T02:15:00.000Z', '+5:45'],
  ])('%s %s is %s (%s)', (zone, local, expected) => {
    const [date, time] = local.split(' ');
    const [year, month, day] = date.split('-').map(Number);
    const [hour, minute] = time.split(':').map(Number);
    expect(iso(localToInstant({ year, month, day, hour, minute }, zone))).toBe(expected);
  });
});

describe('quiet windows', () => {
  const night = quiet('21:00', '08:00');

  it.each([
    ['2026-12-03T21:30:00Z', '2026-12-04T07:00:00.000Z', '22:30 local: until 08:00 local the next morning'],
    ['2026-12-04T06:59:00Z', '2026-12-04T07:00:00.000Z', '07:59 local: a minute left, in the window that began the evening before'],
    ['2026-12-03T20:00:00Z', '2026-12-04T07:00:00.000Z', '21:00 local: the window has begun'],
    ['2026-12-04T07:00:00Z', undefined, '08:00 local: open'],
    ['2026-12-03T19:59:00Z', undefined, '20:59 local: open'],
  ] as [string, string | undefined, string][])('21:00–08:00 Berlin at %s ends at %s (%s)', (now, expected) => {
    expect(iso(quietWindowEnd(night, at(now), 'Europe/Berlin'))).toBe(expected);
  });

  it('a window within a day (12:00–14:00) covers only its hours', () => {
    const lunch = quiet('12:00', '14:00');
    expect(iso(quietWindowEnd(lunch, at('2026-12-03T11:30:00Z'), 'Europe/Berlin'))).toBe('2026-12-03T13:00:00.000Z');
    expect(quietWindowEnd(lunch, at('2026-12-03T13:00:00Z'), 'Europe/Berlin')).toBeUndefined();
    expect(quietWindowEnd(lunch, at('2026-12-03T10:59:00Z'), 'Europe/Berlin')).toBeUndefined();
  });

  it('a window of a weekday covers the night after it, not the night after the next day', () => {
    // 2026-12-04 is a Friday: the Friday window runs Fri 21:00 → Sat 08:00.
    const friday = quiet('21:00', '08:00', { days: ['fri'] });
    expect(iso(quietWindowEnd(friday, at('2026-12-05T01:00:00Z'), 'Europe/Berlin'))).toBe('2026-12-05T07:00:00.000Z');
    expect(iso(quietWindowEnd(friday, at('2026-12-04T20:30:00Z'), 'Europe/Berlin'))).toBe('2026-12-05T07:00:00.000Z');
    expect(quietWindowEnd(friday, at('2026-12-06T01:00:00Z'), 'Europe/Berlin')).toBeUndefined();
    expect(quietWindowEnd(friday, at('2026-12-04T01:00:00Z'), 'Europe/Berlin')).toBeUndefined();
  });

  it('weekend-only daytime windows skip the weekdays', () => {
    const weekend = quiet('00:00', '10:00', { days: ['sat', 'sun'] });
    expect(iso(quietUntil(weekend, at('2026-12-05T08:00:00Z'), 'Europe/Berlin'))).toBe('2026-12-05T09:00:00.000Z');
    expect(quietUntil(weekend, at('2026-12-07T08:00:00Z'), 'Europe/Berlin')).toBe(at('2026-12-07T08:00:00Z'));
  });

  it('the same UTC instant is quiet at +13 and −11 with their own local dates and weekdays', () => {
    const now = at('2026-12-03T09:30:00Z');
    // 22:30 on Thursday 3 December in Tonga, 22:30 on Wednesday 2 December in American Samoa.
    expect(iso(quietWindowEnd(night, now, 'Pacific/Tongatapu'))).toBe('2026-12-03T19:00:00.000Z');
    expect(iso(quietWindowEnd(night, now, 'Pacific/Pago_Pago'))).toBe('2026-12-03T19:00:00.000Z');
    expect(iso(quietWindowEnd(quiet('21:00', '08:00', { days: ['thu'] }), now, 'Pacific/Tongatapu'))).toBe('2026-12-03T19:00:00.000Z');
    expect(quietWindowEnd(quiet('21:00', '08:00', { days: ['thu'] }), now, 'Pacific/Pago_Pago')).toBeUndefined();
    expect(iso(quietWindowEnd(quiet('21:00', '08:00', { days: ['wed'] }), now, 'Pacific/Pago_Pago'))).toBe('2026-12-03T19:00:00.000Z');
    expect(iso(quietWindowEnd(night, now, 'Pacific/Kiritimati'))).toBe('2026-12-03T18:00:00.000Z');
  });

  it('a night across the spring-forward change ends at 08:00 summer time', () => {
    // New York, 7→8 March 2026: 23:00 EST is 04:00Z; 08:00 EDT is 12:00Z (not 13:00Z).
    expect(iso(quietWindowEnd(night, at('2026-03-08T04:00:00Z'), 'America/New_York'))).toBe('2026-03-08T12:00:00.000Z');
    // Europe: 28→29 March 2026, 08:00 CEST is 06:00Z.
    expect(iso(quietWindowEnd(night, at('2026-03-28T22:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T06:00:00.000Z');
  });

  it('a night across the fall-back change ends at 08:00 standard time', () => {
    // New York, 31 Oct → 1 Nov 2026: 22:00 EDT is 02:00Z; 08:00 EST is 13:00Z.
    expect(iso(quietWindowEnd(night, at('2026-11-01T02:00:00Z'), 'America/New_York'))).toBe('2026-11-01T13:00:00.000Z');
    expect(iso(quietWindowEnd(night, at('2026-10-25T00:00:00Z'), 'Europe/London'))).toBe('2026-10-25T08:00:00.000Z');
  });

  it('a window ending in the skipped hour ends after the gap; one ending in the repeated hour at its first occurrence', () => {
    const early = quiet('01:00', '02:30');
    expect(iso(quietWindowEnd(early, at('2026-03-08T06:30:00Z'), 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    const repeated = quiet('00:00', '01:30');
    expect(iso(quietWindowEnd(repeated, at('2026-11-01T04:30:00Z'), 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    // The second 01:10 (EST) is after the window's end.
    expect(quietWindowEnd(repeated, at('2026-11-01T06:10:00Z'), 'America/New_York')).toBeUndefined();
  });

  it('windows that follow one another are waited out together', () => {
    const rules = [quiet('21:00', '08:00', { days: ['fri'] }), quiet('08:00', '12:00', { days: ['sat'] })];
    // quietHours re-checks on the send step; quietUntil follows one rule's chain: 20:00–08:00 then 08:00–10:00.
    const chain = quiet('08:00', '08:00', { days: ['sat'] });
    expect(iso(quietUntil(chain, at('2026-12-05T10:00:00Z'), 'Europe/Berlin'))).toBe('2026-12-06T07:00:00.000Z');
    const decision = quietHours(rules, message({ now: new Date('2026-12-04T22:00:00Z') }));
    expect(decision).toMatchObject({ action: 'defer', until: new Date('2026-12-05T07:00:00Z') });
  });

  // Reference: fixed-offset zones, where local time is plain arithmetic.
  const FIXED = { UTC: 0, 'Asia/Tokyo': 540, 'Pacific/Tongatapu': 780, 'Pacific/Pago_Pago': -660, 'Asia/Kolkata': 330, 'Asia/Kathmandu': 345 };
  const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const days = fc.option(fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as Weekday[], { minLength: 1 }), { nil: undefined });

  it('agrees with minute arithmetic in fixed-offset zones (property)', () => {
    fc.assert(
      fc.property(hhmm, hhmm, days, fc.constantFrom(...Object.keys(FIXED)), fc.integer({ min: at('2026-01-01T00:00:00Z') / 60000, max: at('2028-01-01T00:00:00Z') / 60000 }), (from, to, d, zone, minute) => {
        const now = minute * 60000;
        const offset = FIXED[zone as keyof typeof FIXED];
        const local = new Date(now + offset * 60000);
        const m = local.getUTCHours() * 60 + local.getUTCMinutes();
        const f = Number(from.slice(0, 2)) * 60 + Number(from.slice(3));
        const t = Number(to.slice(0, 2)) * 60 + Number(to.slice(3));
        const weekday = (shift: number) => weekdayOf(localParts(now - shift * 86_400_000, zone));
        const on = (shift: number) => d === undefined || d.includes(weekday(shift));
        const inside = f < t ? m >= f && m < t && on(0) : (m >= f && on(0)) || (m < t && on(1));
        const end = quietWindowEnd({ from, to, days: d }, now, zone);
        expect(end !== undefined).toBe(inside);
        if (end !== undefined) {
          const endLocal = new Date(end + offset * 60000);
          expect(endLocal.getUTCHours() * 60 + endLocal.getUTCMinutes()).toBe(t);
          expect(end).toBeGreaterThan(now);
          expect(end - now).toBeLessThanOrEqual(86_400_000);
        }
      }),
    );
  });

  it('never lets a message out inside a window, in zones with daylight saving (property)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'America/Santiago', 'Pacific/Chatham', 'Europe/London'];
    fc.assert(
      fc.property(hhmm, hhmm, days, fc.constantFrom(...zones), fc.integer({ min: at('2026-01-01T00:00:00Z') / 60000, max: at('2028-01-01T00:00:00Z') / 60000 }), (from, to, d, zone, minute) => {
        const r = { from, to, days: d };
        const until = quietUntil(r, minute * 60000, zone);
        expect(until).toBeGreaterThanOrEqual(minute * 60000);
        // A 24-hour window every day (from = to, no days or all seven) is quiet for ever: quietUntil stops after its
        // chain of windows, still inside one.
        const everyDay = d === undefined || d.length === 7;
        if (until > minute * 60000 && !(from === to && everyDay)) expect(quietWindowEnd(r, until, zone)).toBeUndefined();
      }),
    );
  });
});

describe('which rules apply', () => {
  it('a rule applies to its channel, or every channel with `any`', () => {
    expect(ruleApplies(rule({ kind: 'quiet-hours', from: '21:00', to: '08:00', action: 'skip', channel: 'sms' } as never), message())).toBe(false);
    expect(ruleApplies(rule({ kind: 'quiet-hours', from: '21:00', to: '08:00', action: 'skip', channel: 'any' } as never), message({ channel: 'push' }))).toBe(true);
  });

  it('transactional messages bypass rules unless a rule names their class', () => {
    const cap = rule({ kind: 'frequency-cap', limit: 1, period: { calendar: 'day' } } as never);
    const both = rule({ kind: 'frequency-cap', limit: 1, period: { calendar: 'day' }, messageClass: ['marketing', 'transactional'] } as never);
    expect(capClaims([cap], message({ messageClass: 'transactional' }))).toEqual([]);
    expect(capClaims([both], message({ messageClass: 'transactional' }))).toHaveLength(1);
    const night = quiet('00:00', '23:59');
    expect(quietHours([night], message({ messageClass: 'transactional' }))).toEqual({ action: 'send' });
    expect(quietHours([night], message())).toMatchObject({ action: 'defer' });
  });

  it('a rule with journey tags governs only journeys carrying one of them', () => {
    const promo = rule({ kind: 'frequency-cap', limit: 1, period: { calendar: 'day' }, journeyTags: ['promo'] } as never);
    expect(capClaims([promo], message())).toEqual([]);
    expect(capClaims([promo], message({ journey: { id: 'sale', priority: 50, tags: ['seasonal', 'promo'] } }))).toHaveLength(1);
  });

  it('a skip rule wins over a defer rule; among defers the later opening wins', () => {
    const now = new Date('2026-12-03T21:30:00Z');
    const late = quiet('22:00', '09:00', { id: 'late' } as never);
    const early = quiet('21:00', '08:00', { id: 'early' } as never);
    expect(quietHours([early, late], message({ now }))).toMatchObject({ action: 'defer', rule: { id: 'late' }, until: new Date('2026-12-04T08:00:00Z') });
    const skip = rule({ kind: 'quiet-hours', id: 'skip', from: '22:00', to: '07:00', action: 'skip' } as never);
    expect(quietHours([early, skip], message({ now }))).toMatchObject({ action: 'skip', rule: { id: 'skip' } });
  });
});

describe('cap claims', () => {
  it('a rolling period is counted to the second', () => {
    const cap = rule({ kind: 'frequency-cap', id: 'week', limit: 3, period: { rolling: '7d' } } as never);
    expect(capClaims([cap], message())).toEqual([{ ruleId: 'week', limit: 3, period: { rolling: 604800 }, keepSeconds: 604800 }]);
  });

  it('calendar days and weeks are the profile’s local ones', () => {
    const late = new Date('2026-12-03T23:30:00Z');
    expect(calendarKey('day', late, 'Asia/Tokyo')).toBe('2026-12-04');
    expect(calendarKey('day', late, 'America/New_York')).toBe('2026-12-03');
    expect(calendarKey('day', new Date('2026-12-03T10:30:00Z'), 'Pacific/Pago_Pago')).toBe('2026-12-02');
    expect(calendarKey('day', new Date('2026-12-03T10:30:00Z'), 'Pacific/Kiritimati')).toBe('2026-12-04');
    // ISO weeks: 2026 has 53; Sunday 3 January 2027 still belongs to it.
    expect(calendarKey('week', new Date('2026-12-31T12:00:00Z'), 'UTC')).toBe('2026-W53');
    expect(calendarKey('week', new Date('2027-01-03T12:00:00Z'), 'UTC')).toBe('2026-W53');
    expect(calendarKey('week', new Date('2027-01-03T23:30:00Z'), 'Europe/Berlin')).toBe('2027-W01');
    expect(calendarKey('week', new Date('2026-12-07T00:30:00Z'), 'America/Los_Angeles')).toBe('2026-W49');
    expect(calendarKey('week', new Date('2026-12-07T00:30:00Z'), 'UTC')).toBe('2026-W50');
  });

  it('only the caps of the message’s channel, or of every channel, claim a slot', () => {
    const rules = [
      rule({ kind: 'frequency-cap', id: 'email', limit: 3, period: { rolling: '7d' } } as never),
      rule({ kind: 'frequency-cap', id: 'sms', channel: 'sms', limit: 1, period: { calendar: 'day' } } as never),
      rule({ kind: 'frequency-cap', id: 'total', channel: 'any', limit: 5, period: { calendar: 'week' } } as never),
    ];
    expect(capClaims(rules, message()).map((c) => c.ruleId)).toEqual(['email', 'total']);
    expect(capClaims(rules, message({ channel: 'sms' })).map((c) => c.ruleId)).toEqual(['sms', 'total']);
  });
});

describe('profileTimeZone', () => {
  it('uses the profile’s zone when it is a valid IANA name, else the stage default', () => {
    expect(profileTimeZone({ timezone: 'Pacific/Tongatapu' }, 'Europe/Berlin')).toBe('Pacific/Tongatapu');
    expect(profileTimeZone({ timezone: 'Mars/Olympus' }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(profileTimeZone({ timezone: 42 }, 'Europe/Berlin')).toBe('Europe/Berlin');
    expect(profileTimeZone({}, 'UTC')).toBe('UTC');
    expect(profileTimeZone(Object.create(null), 'UTC')).toBe('UTC');
  });
});
