import { nextOccurrences } from '../../../lambdas/core/campaigns/occurrences';

const NOW = new Date('2026-12-03T09:00:00.000Z'); // a Thursday

describe('next occurrences of a campaign schedule', () => {
  it('answers a once schedule read in its zone while it is ahead, then none', () => {
    const once = { type: 'once', at: '2026-12-24T09:00', timeZone: 'Europe/Paris' } as const;
    expect(nextOccurrences(once, NOW)).toEqual(['2026-12-24T08:00:00.000Z']);
    expect(nextOccurrences(once, new Date('2026-12-24T08:00:00.000Z'))).toEqual([]);
    expect(nextOccurrences({ type: 'on-demand' }, NOW)).toEqual([]);
  });

  it.each([
    ['Mondays 09:00 in London', '0 9 ? * MON *', 'Europe/London', ['2026-12-07T09:00:00.000Z', '2026-12-14T09:00:00.000Z', '2026-12-21T09:00:00.000Z']],
    ['Mondays 09:00 in New York (UTC-5 in winter)', '0 9 ? * 2 *', 'America/New_York', ['2026-12-07T14:00:00.000Z', '2026-12-14T14:00:00.000Z', '2026-12-21T14:00:00.000Z']],
    ['every 15 minutes from 10:00 on weekdays', '0/15 10 ? * MON-FRI *', 'UTC', ['2026-12-03T10:00:00.000Z', '2026-12-03T10:15:00.000Z', '2026-12-03T10:30:00.000Z']],
    ['the 1st of each quarter at 08:30', '30 8 1 1,4,7,10 ? *', 'UTC', ['2027-01-01T08:30:00.000Z', '2027-04-01T08:30:00.000Z', '2027-07-01T08:30:00.000Z']],
    ['yearly on 1 March, across a year', '0 0 1 MAR ? *', 'UTC', ['2027-03-01T00:00:00.000Z']],
  ])('computes %s', (_what, cron, timeZone, expected) => {
    expect(nextOccurrences({ type: 'recurring', cron, timeZone }, NOW)?.slice(0, expected.length)).toEqual(expected);
  });

  it('keeps to the schedule’s start and end, read in its zone', () => {
    const schedule = { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'UTC', start: '2026-12-14T09:00', end: '2026-12-21T09:00' } as const;
    expect(nextOccurrences(schedule, NOW)).toEqual(['2026-12-14T09:00:00.000Z', '2026-12-21T09:00:00.000Z']);
  });

  it('answers unknown (undefined) for wildcards it does not evaluate, or a malformed expression, never a wrong date', () => {
    for (const cron of ['0 9 L * ? *', '0 9 ? * 6#3 *', '0 9 15W * ? *', '0 9 * *', '99 9 * * ? *', '0 9 * * ? 1969-1970/0']) {
      expect([cron, nextOccurrences({ type: 'recurring', cron, timeZone: 'UTC' }, NOW)]).toEqual([cron, undefined]);
    }
  });
});

it('answers an every-minute schedule with its next minutes', () => {
  expect(nextOccurrences({ type: 'recurring', cron: '* * * * ? *', timeZone: 'Asia/Kolkata' }, new Date('2026-12-03T09:00:30.000Z'))).toEqual([
    '2026-12-03T09:01:00.000Z',
    '2026-12-03T09:02:00.000Z',
    '2026-12-03T09:03:00.000Z',
  ]);
});
