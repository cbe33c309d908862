import { simulate as simulateWith, type SimulateOptions } from '../../lambdas/simulate';

/**
 * This playbook's own paths and timing, WITHOUT the shipped governance rules (`rules: []`): starting at midnight UTC,
 * quiet hours would hold its SMS and push until 08:00, and repeated runs would meet the weekly email cap. The playbooks
 * under the shipped rules: test/e2e/governed-playbooks.test.ts.
 */
const simulate = (options: SimulateOptions) => simulateWith({ rules: [], ...options });

/** One simulation per branch of statemachines/event-reminder.json (until-waits at local times). */
const journey = 'statemachines/event-reminder.json';
const start = '2026-01-05T12:00:00Z';
const ann = { email: 'ann@example.com' };
const registered = (at: string, startsAt: string, endsAt: string, attributes: Record<string, string> = {}, n = 1) => ({
  at,
  type: 'event.registered',
  identities: ann,
  attributes,
  properties: {
    eventName: `Tasting night ${n}`,
    startsAt,
    endsAt,
    url: `https://shop.example/events/${n}`,
    ...(n === 1 ? { surveyUrl: 'https://shop.example/survey/1' } : {}),
  },
});
const ofAnn = async (events: unknown[]) => (await simulate({ journey, start, events })).profile('email:ann@example.com');
const sent = (m: { at: string; node: string; recipient: string; subject?: string }) => [m.at, m.node, m.recipient, m.subject];
const PATH = ['day-before', 'reminder-email', 'morning-of', 'offer-channel'];

describe('event-reminder playbook, simulated', () => {
  it('reminds at 10:00 Berlin time the day before, pushes the offer at 08:00 on the day to the app, thanks 2 h after', async () => {
    const p = await ofAnn([registered('+0s', '2026-01-20T18:00:00Z', '2026-01-20T21:00:00Z', { timezone: 'Europe/Berlin', pushToken: 'device-ann' })]);
    expect(p.path).toEqual([...PATH, 'offer-push', 'after-event', 'thank-you-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-19T09:00:00.000Z', 'reminder-email', 'ann@example.com', 'Tomorrow: Tasting night 1'],
      ['2026-01-20T07:00:00.000Z', 'offer-push', 'device-ann', 'Today only'],
      ['2026-01-20T23:00:00.000Z', 'thank-you-email', 'ann@example.com', 'Thanks for joining Tasting night 1'],
    ]);
    expect(p.messages[1]).toMatchObject({ body: 'Tasting night 1 starts today: show this for 10% off.', url: 'https://shop.example/events/1' });
    expect(p.messages[2].body).toBe('Thank you for coming. Two minutes for our survey? https://shop.example/survey/1');
    expect(p.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-01-20T23:00:00.000Z' });
  });

  it('emails the offer to a guest without the app, at local times in New York, and links the event without a survey', async () => {
    const p = await ofAnn([registered('+0s', '2026-01-20T23:00:00Z', '2026-01-21T01:00:00Z', { timezone: 'America/New_York' }, 2)]);
    expect(p.path).toEqual([...PATH, 'offer-email', 'after-event', 'thank-you-email', 'done']);
    expect(p.messages.map(sent)).toEqual([
      ['2026-01-19T15:00:00.000Z', 'reminder-email', 'ann@example.com', 'Tomorrow: Tasting night 2'],
      ['2026-01-20T13:00:00.000Z', 'offer-email', 'ann@example.com', 'Today: Tasting night 2'],
      ['2026-01-21T03:00:00.000Z', 'thank-you-email', 'ann@example.com', 'Thanks for joining Tasting night 2'],
    ]);
    expect(p.messages[2].body).toBe('Thank you for coming. Two minutes for our survey? https://shop.example/events/2');
  });

  it('reads local times in UTC without a timezone attribute', async () => {
    const p = await ofAnn([registered('+0s', '2026-01-20T18:00:00Z', '2026-01-20T21:00:00Z')]);
    expect(p.messages.map((m) => m.at)).toEqual(['2026-01-19T10:00:00.000Z', '2026-01-20T08:00:00.000Z', '2026-01-20T23:00:00.000Z']);
  });

  it('goes on at once when the event started in the past', async () => {
    const p = await ofAnn([registered('+0s', '2026-01-01T18:00:00Z', '2026-01-01T20:00:00Z', { timezone: 'Europe/Berlin' })]);
    expect(p.path).toEqual([...PATH, 'offer-email', 'after-event', 'thank-you-email', 'done']);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([
      ['2026-01-05T12:00:00.000Z', 'reminder-email'],
      ['2026-01-05T12:00:00.000Z', 'offer-email'],
      ['2026-01-05T12:00:00.000Z', 'thank-you-email'],
    ]);
    expect([p.run().startedAt, p.run().ended]).toEqual(['2026-01-05T12:00:00.000Z', { status: 'SUCCEEDED', at: '2026-01-05T12:00:00.000Z' }]);
  });

  /** The hour and minute wall clocks in `zone` show at an instant (Intl's reading, not the product's arithmetic). */
  const wallTime = (zone: string, at: string) =>
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(new Date(at));

  it.each([
    // 00:30 UTC on 27 Oct: the day before starts in summer time (02:30 CEST), 10:00 that day is winter time (CET).
    { label: 'Europe/Berlin', timezone: 'Europe/Berlin', wallZone: 'Europe/Berlin', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T09:00:00.000Z', morningOf: '2025-10-27T07:00:00.000Z' },
    // 05:30 UTC on 3 Nov: the day before starts at 01:30 EDT, 10:00 that day is EST.
    { label: 'America/New_York', timezone: 'America/New_York', wallZone: 'America/New_York', startsAt: '2025-11-03T05:30:00Z', dayBefore: '2025-11-02T15:00:00.000Z', morningOf: '2025-11-03T13:00:00.000Z' },
    { label: 'UTC (no timezone attribute)', timezone: undefined, wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
    { label: 'UTC (unknown zone Mars/Olympus)', timezone: 'Mars/Olympus', wallZone: 'UTC', startsAt: '2025-10-27T00:30:00Z', dayBefore: '2025-10-26T10:00:00.000Z', morningOf: '2025-10-27T08:00:00.000Z' },
  ])('resolves 10:00 the day before and 08:00 on the day on $label wall clocks across the October 2025 clock changes', async ({ timezone, wallZone, startsAt, dayBefore, morningOf }) => {
    const endsAt = new Date(Date.parse(startsAt) + 2 * 3_600_000).toISOString();
    const sim = await simulate({ journey, start: '2025-10-23T12:00:00Z', events: [registered('+0s', startsAt, endsAt, timezone ? { timezone } : {})] });
    const p = sim.profile('email:ann@example.com');
    // The hand-computed instants show the wall-clock times Intl agrees with.
    expect([wallTime(wallZone, dayBefore), wallTime(wallZone, morningOf)]).toEqual(['10:00', '08:00']);
    // The thank-you is due 2 hours after the end; for a night event that is before 08:00, so it goes out at once then.
    const thanks = new Date(Math.max(Date.parse(morningOf), Date.parse(endsAt) + 2 * 3_600_000)).toISOString();
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([
      [dayBefore, 'reminder-email'],
      [morningOf, 'offer-email'],
      [thanks, 'thank-you-email'],
    ]);
    expect(p.run().status).toBe('SUCCEEDED');
  });

  it('waits at most 90 days for an event further ahead, and times out at the journey timeout of 91 days', async () => {
    const p = await ofAnn([registered('+0s', '2026-09-01T18:00:00Z', '2026-09-01T20:00:00Z')]);
    expect(p.path).toEqual(['day-before', 'reminder-email', 'morning-of']);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([['2026-04-05T12:00:00.000Z', 'reminder-email']]);
    expect(p.run().ended).toMatchObject({ status: 'TIMED_OUT', at: '2026-04-06T12:00:00.000Z' });
  });

  it('runs once per registration, even for the same guest at the same time', async () => {
    const p = await ofAnn([
      registered('+0s', '2026-01-20T18:00:00Z', '2026-01-20T21:00:00Z'),
      registered('+0s', '2026-01-25T18:00:00Z', '2026-01-25T21:00:00Z', {}, 2),
    ]);
    expect(p.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(p.messages.filter((m) => m.node === 'reminder-email').map((m) => [m.at, m.subject])).toEqual([
      ['2026-01-19T10:00:00.000Z', 'Tomorrow: Tasting night 1'],
      ['2026-01-24T10:00:00.000Z', 'Tomorrow: Tasting night 2'],
    ]);
  });

  it('still pushes the offer to a guest who opted out of email, and suppresses the emails', async () => {
    const registration = registered('+0s', '2026-01-20T18:00:00Z', '2026-01-20T21:00:00Z', { pushToken: 'device-ann' });
    const p = await ofAnn([{ ...registration, consent: { email: 'opted-out' } }]);
    expect(p.messages.map((m) => [m.at, m.node])).toEqual([['2026-01-20T08:00:00.000Z', 'offer-push']]);
    expect(p.suppressions.map((s) => [s.at, s.node, s.reason])).toEqual([
      ['2026-01-19T10:00:00.000Z', 'reminder-email', 'consent:email'],
      ['2026-01-20T23:00:00.000Z', 'thank-you-email', 'consent:email'],
    ]);
  });
});
