import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { LocalExecution } from '../../lambdas/local/executions';
import { bodies, openVirtualStack } from './local-stack';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const guest = (n: number) => ({ email: `guest${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `guest${n}@example.com`);
const registered = (n: number, startsAt: number, endsAt: number, attributes: Record<string, string> = {}) => ({
  id: `registration-${n}`,
  identities: guest(n),
  attributes,
  properties: {
    eventName: `Tasting night ${n}`,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    url: `https://shop.example/events/${n}`,
    surveyUrl: `https://shop.example/survey/${n}`,
  },
});

/** The calendar date and time of day of an instant on the wall clocks of `zone`. */
function wallClock(zone: string, instant: number) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute') };
}

/**
 * The instant at which the wall clocks of `zone` read `hour:00` on the local calendar date of `instant`, found by
 * trying every UTC offset (in quarter hours) and keeping the one Intl agrees with: independent of the product's arithmetic.
 */
function atWallClock(zone: string, instant: number, hour: number): number {
  const { year, month, day } = wallClock(zone, instant);
  for (let offsetMinutes = -14 * 60; offsetMinutes <= 14 * 60; offsetMinutes += 15) {
    const candidate = Date.UTC(year, month - 1, day, hour) - offsetMinutes * 60_000;
    const shown = wallClock(zone, candidate);
    if (shown.year === year && shown.month === month && shown.day === day && shown.hour === hour && shown.minute === 0) return candidate;
  }
  throw new Error(`no instant shows ${hour}:00 on ${year}-${month}-${day} in ${zone}`);
}

type Steps = { day_before: { until: string }; morning_of: { until: string }; after_event: { until: string } };
const stepsOf = (run: LocalExecution) => (run.output as { steps: Steps }).steps;
const iso = (ms: number) => new Date(ms).toISOString();

describe('event-reminder playbook (registration days ahead)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());
  const runOf = (n: number) => ctx.stack.executions.list({ journeyId: 'event-reminder', profileId: profileOf(n) })[0];

  // 16:00 UTC two days from now: the day before is tomorrow, so 10:00 local then is still ahead in every zone used here.
  const startsAt = () => {
    const today = ctx.clock.now();
    return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 2, 16, 0);
  };

  it.each([
    { n: 1, zone: 'Europe/Berlin', utcHours: [8, 9], pushToken: 'device-1', offer: 'push:offer-push' },
    { n: 2, zone: 'America/New_York', utcHours: [14, 15], pushToken: undefined, offer: 'email:offer-email' },
  ])(
    'reminds at 10:00 $zone time the day before, offers on the morning of the day and thanks two hours after the end ($offer)',
    async ({ n, zone, utcHours, pushToken, offer }) => {
      const starts = startsAt();
      const ends = starts + 3 * HOUR;
      const dayBefore = atWallClock(zone, starts - DAY, 10);
      const morningOf = atWallClock(zone, starts, 8);
      await ctx.put('event.registered', registered(n, starts, ends, { timezone: zone, ...(pushToken ? { pushToken } : {}) }));
      // Nothing a moment before 10:00 the day before; the reminder at that instant.
      await ctx.clock.advanceTo(dayBefore - 1);
      expect(ctx.stack.outbox.list({ profileId: profileOf(n) })).toEqual([]);
      await ctx.clock.advanceTo(dayBefore);
      expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(n) }))).toEqual(['email:reminder-email']);
      await ctx.clock.runUntilIdle();
      const run = runOf(n);

      expect(run.status).toBe('SUCCEEDED');
      const steps = stepsOf(run);
      expect(steps.day_before.until).toBe(iso(dayBefore));
      expect(utcHours).toContain(new Date(steps.day_before.until).getUTCHours());
      expect(steps.morning_of.until).toBe(iso(morningOf));
      expect(steps.after_event.until).toBe(iso(ends + 2 * HOUR));

      const messages = ctx.stack.outbox.list({ profileId: profileOf(n) });
      expect(bodies(messages)).toEqual(['email:reminder-email', offer, 'email:thank-you-email']);
      expect(messages[0]).toMatchObject({ recipient: `guest${n}@example.com`, subject: `Tomorrow: Tasting night ${n}` });
      expect(messages[1].recipient).toBe(pushToken ?? `guest${n}@example.com`);
      expect(messages[2].body).toContain(`https://shop.example/survey/${n}`);
      // Each message went out at the instant its wait resolved to, and the run ended with the last one.
      expect(messages.map((m) => m.time)).toEqual([iso(dayBefore), iso(morningOf), iso(ends + 2 * HOUR)]);
      expect(run.stopDate).toBe(iso(ends + 2 * HOUR));
    },
  );

  it('goes on at once when the event started in the past', async () => {
    const now = ctx.clock.nowMs();
    const starts = now - DAY;
    await ctx.put('event.registered', registered(3, starts, starts + 2 * HOUR, { timezone: 'Europe/Berlin' }));
    // No time passes: every wait resolves to the present and the run ends.
    const run = runOf(3);

    expect(run.status).toBe('SUCCEEDED');
    const steps = stepsOf(run);
    // Not the past instants themselves: the time each step resolved.
    expect([steps.day_before.until, steps.morning_of.until, steps.after_event.until]).toEqual([iso(now), iso(now), iso(now)]);
    expect([run.startDate, run.stopDate]).toEqual([iso(now), iso(now)]);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(3) });
    expect(bodies(messages)).toEqual(['email:reminder-email', 'email:offer-email', 'email:thank-you-email']);
    expect(messages.map((m) => m.time)).toEqual([iso(now), iso(now), iso(now)]);
  });
});

describe('event-reminder playbook (clock set to October 2025, around the daylight-saving changes)', () => {
  const cases = [
    // 00:30 UTC on 27 Oct: the day before starts in summer time (02:30 CEST), 10:00 that day is winter time (CET).
    { n: 4, label: 'Europe/Berlin', timezone: 'Europe/Berlin', wallZone: 'Europe/Berlin', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T09:00:00.000Z', morningOf: '2025-10-27T07:00:00.000Z' },
    // 05:30 UTC on 3 Nov: the day before starts at 01:30 EDT, 10:00 that day is EST.
    { n: 5, label: 'America/New_York', timezone: 'America/New_York', wallZone: 'America/New_York', startsAt: '2025-11-03T05:30:00Z', dayBefore: '2025-11-02T15:00:00.000Z', morningOf: '2025-11-03T13:00:00.000Z' },
    { n: 6, label: 'UTC (no timezone attribute)', timezone: undefined, wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
    { n: 7, label: 'UTC (unknown zone Mars/Olympus)', timezone: 'Mars/Olympus', wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
  ];
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    // Every guest registers on 23 October 2025; then time runs until every run has ended (the resolved instants are
    // ahead of that clock, and each case's must still be when it registers).
    ctx = await openVirtualStack({ start: '2025-10-23T12:00:00.000Z' });
    for (const { n, timezone, startsAt } of cases) {
      const starts = Date.parse(startsAt);
      await ctx.put('event.registered', registered(n, starts, starts + 2 * HOUR, timezone ? { timezone } : {}));
    }
    await ctx.clock.runUntilIdle();
  });
  afterAll(() => ctx.stack.stop());
  const runOf = (n: number) => ctx.stack.executions.list({ journeyId: 'event-reminder', profileId: profileOf(n) })[0];

  it.each(cases)('resolves 10:00 the day before and 08:00 on the day on $label wall clocks across the October 2025 clock changes', async ({ n, wallZone, startsAt, dayBefore, morningOf }) => {
    const starts = Date.parse(startsAt);
    const run = runOf(n);
    expect(run.status).toBe('SUCCEEDED');

    const steps = stepsOf(run);
    expect(steps.day_before.until).toBe(dayBefore);
    expect(steps.morning_of.until).toBe(morningOf);
    // The expectations above are hand-computed; the Intl search agrees with them.
    expect(new Date(atWallClock(wallZone, starts - DAY, 10)).toISOString()).toBe(dayBefore);
    const messages = ctx.stack.outbox.list({ profileId: profileOf(n) });
    expect(bodies(messages)).toEqual(['email:reminder-email', 'email:offer-email', 'email:thank-you-email']);
    // The thank-you is due 2 hours after the end; for a night event that is before 08:00, so it goes out at once then.
    expect(messages.map((m) => m.time)).toEqual([dayBefore, morningOf, iso(Math.max(Date.parse(morningOf), starts + 4 * HOUR))]);
  });

  it('waits at most 90 days for an event further ahead (and the 91-day journey timeout ends the run after the reminder)', async () => {
    const before = ctx.clock.nowMs();
    const starts = before + 200 * DAY;
    await ctx.put('event.registered', registered(8, starts, starts + 2 * HOUR, { timezone: 'Europe/Berlin' }));
    // The day-before wait is capped at 90 days: the reminder goes out then, not a moment sooner.
    await ctx.clock.advance(90 * DAY - 1);
    expect(ctx.stack.outbox.list({ profileId: profileOf(8) })).toEqual([]);
    await ctx.clock.advance(1);
    const [reminder] = ctx.stack.outbox.list({ profileId: profileOf(8) });
    expect(reminder).toMatchObject({ nodeId: 'reminder-email', time: iso(before + 90 * DAY) });
    // The morning-of wait is capped at 90 days again, beyond the journey's 91-day timeout, which ends the run.
    await ctx.clock.runUntilIdle();
    const run = runOf(8);
    expect(run).toMatchObject({ status: 'TIMED_OUT', stopDate: iso(before + 91 * DAY) });
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(8) }))).toEqual(['email:reminder-email']);
  });
});
