import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { Clock } from '../../lambdas/core/runtime/ports';
import type { LocalExecution } from '../../lambdas/local/executions';
import { bodies, finished, openStack } from './local-stack';

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

describe('event-reminder playbook (registration days ahead, 1 virtual day = 0.17 s)', () => {
  const scale = 500_000;
  let ctx: Awaited<ReturnType<typeof openStack>>;
  beforeAll(async () => {
    ctx = await openStack(scale);
  });
  afterAll(() => ctx.stack.stop());

  // 16:00 UTC two days from now: the day before is tomorrow, so 10:00 local then is still ahead in every zone used here.
  const startsAt = () => {
    const today = new Date();
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
      await ctx.put('event.registered', registered(n, starts, ends, { timezone: zone, ...(pushToken ? { pushToken } : {}) }));
      const [run] = await finished(ctx.stack, 'event-reminder', profileOf(n));

      expect(run.status).toBe('SUCCEEDED');
      const steps = stepsOf(run);
      const dayBefore = atWallClock(zone, starts - DAY, 10);
      expect(steps.day_before.until).toBe(new Date(dayBefore).toISOString());
      expect(utcHours).toContain(new Date(steps.day_before.until).getUTCHours());
      expect(steps.morning_of.until).toBe(new Date(atWallClock(zone, starts, 8)).toISOString());
      expect(steps.after_event.until).toBe(new Date(ends + 2 * HOUR).toISOString());

      const messages = ctx.stack.outbox.list({ profileId: profileOf(n) });
      expect(bodies(messages)).toEqual(['email:reminder-email', offer, 'email:thank-you-email']);
      expect(messages[0]).toMatchObject({ recipient: `guest${n}@example.com`, subject: `Tomorrow: Tasting night ${n}` });
      expect(messages[1].recipient).toBe(pushToken ?? `guest${n}@example.com`);
      expect(messages[2].body).toContain(`https://shop.example/survey/${n}`);
      // The reminder waited (scaled) until its instant: no earlier than the run start plus the scaled distance to it.
      const waitedMs = Date.parse(messages[0].time) - Date.parse(run.startDate);
      expect(waitedMs).toBeGreaterThanOrEqual((dayBefore - Date.parse(run.startDate)) / scale - 5);
    },
  );

  it('goes on at once when the event started in the past', async () => {
    const starts = Date.now() - DAY;
    await ctx.put('event.registered', registered(3, starts, starts + 2 * HOUR, { timezone: 'Europe/Berlin' }));
    const [run] = await finished(ctx.stack, 'event-reminder', profileOf(3));

    expect(run.status).toBe('SUCCEEDED');
    const steps = stepsOf(run);
    for (const until of [steps.day_before.until, steps.morning_of.until, steps.after_event.until]) {
      // Not the past instant itself: the time the step resolved, within the run.
      expect(Date.parse(until)).toBeGreaterThanOrEqual(Date.parse(run.startDate));
      expect(Date.parse(until)).toBeLessThanOrEqual(Date.parse(run.stopDate!));
    }
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(3) }))).toEqual(['email:reminder-email', 'email:offer-email', 'email:thank-you-email']);
  });
});

describe('event-reminder playbook (clock set to October 2025, around the daylight-saving changes)', () => {
  let ctx: Awaited<ReturnType<typeof openStack>> & { clock: Clock };
  beforeAll(async () => {
    const base = Date.parse('2025-10-23T12:00:00Z');
    const started = Date.now();
    // Resolved instants lie in the real past, so the local waits end at once while the resolver sees October 2025.
    const clock = { now: () => new Date(base + Date.now() - started) };
    ctx = { ...(await openStack(1_000_000, { clock })), clock };
  });
  afterAll(() => ctx.stack.stop());

  it.each([
    // 00:30 UTC on 27 Oct: the day before starts in summer time (02:30 CEST), 10:00 that day is winter time (CET).
    { n: 4, label: 'Europe/Berlin', timezone: 'Europe/Berlin', wallZone: 'Europe/Berlin', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T09:00:00.000Z', morningOf: '2025-10-27T07:00:00.000Z' },
    // 05:30 UTC on 3 Nov: the day before starts at 01:30 EDT, 10:00 that day is EST.
    { n: 5, label: 'America/New_York', timezone: 'America/New_York', wallZone: 'America/New_York', startsAt: '2025-11-03T05:30:00Z', dayBefore: '2025-11-02T15:00:00.000Z', morningOf: '2025-11-03T13:00:00.000Z' },
    { n: 6, label: 'UTC (no timezone attribute)', timezone: undefined, wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
    { n: 7, label: 'UTC (unknown zone Mars/Olympus)', timezone: 'Mars/Olympus', wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
  ])('resolves 10:00 the day before and 08:00 on the day on $label wall clocks across the October 2025 clock changes', async ({ n, timezone, wallZone, startsAt, dayBefore, morningOf }) => {
    const starts = Date.parse(startsAt);
    await ctx.put('event.registered', registered(n, starts, starts + 2 * HOUR, timezone ? { timezone } : {}));
    const [run] = await finished(ctx.stack, 'event-reminder', profileOf(n));

    const steps = stepsOf(run);
    expect(steps.day_before.until).toBe(dayBefore);
    expect(steps.morning_of.until).toBe(morningOf);
    // The expectations above are hand-computed; the Intl search agrees with them.
    expect(new Date(atWallClock(wallZone, starts - DAY, 10)).toISOString()).toBe(dayBefore);
    expect(bodies(ctx.stack.outbox.list({ profileId: profileOf(n) }))).toEqual(['email:reminder-email', 'email:offer-email', 'email:thank-you-email']);
  });

  it('waits at most 90 days for an event further ahead', async () => {
    const before = ctx.clock.now().getTime();
    const starts = before + 200 * DAY;
    await ctx.put('event.registered', registered(8, starts, starts + 2 * HOUR, { timezone: 'Europe/Berlin' }));
    const [run] = await finished(ctx.stack, 'event-reminder', profileOf(8));
    const after = ctx.clock.now().getTime();

    const steps = stepsOf(run);
    for (const until of [steps.day_before.until, steps.morning_of.until, steps.after_event.until].map(Date.parse)) {
      expect(until).toBeGreaterThanOrEqual(before + 90 * DAY);
      expect(until).toBeLessThanOrEqual(after + 90 * DAY);
    }
  });
});
