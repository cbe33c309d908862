import fc from 'fast-check';
import type { AudienceRow } from '../../../lambdas/core/campaigns/contract';
import { GROUP_CHUNK_ROWS, groupByTime, nextSendAt, type LocalTimeDeps } from '../../../lambdas/core/campaigns/local-time';
import { memoryAudienceFiles } from '../../../lambdas/core/campaigns/memory';
import { localParts } from '../../../lambdas/core/governance/local-time';
import { campaign, registry, runContext } from './fakes';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'Europe/London',
  'America/New_York',
  'America/Santiago',
  'America/St_Johns',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Africa/Casablanca',
];
/** Daylight-saving changes of 2026 in several zones: instants near them are drawn often. */
const TRANSITIONS = ['2026-03-08T07:00:00Z', '2026-03-29T01:00:00Z', '2026-04-05T16:00:00Z', '2026-10-04T16:00:00Z', '2026-10-25T01:00:00Z', '2026-11-01T06:00:00Z', '2026-09-06T04:00:00Z'].map(Date.parse);

const dateKey = (p: { year: number; month: number; day: number }) => `${p.year}-${p.month}-${p.day}`;

/**
 * Reference by brute force over the wall clock: every instant from 30 h before to 50 h after `now` whose UTC minute
 * agrees with the target's modulo 15 (every zone's offset is whole quarter hours), read in the zone; the first instant
 * of each local date that reads `at`. Undefined when today's or tomorrow's `at` does not exist (a daylight-saving gap).
 */
function reference(now: number, at: string, zone: string, passed: 'next-day' | 'now'): number | undefined {
  const [hour, minute] = at.split(':').map(Number);
  const first = new Map<string, number>();
  let t = Math.floor((now - 30 * HOUR) / MINUTE) * MINUTE;
  while (new Date(t).getUTCMinutes() % 15 !== minute % 15) t += MINUTE;
  for (; t < now + 50 * HOUR; t += 15 * MINUTE) {
    const p = localParts(t, zone);
    if (p.hour === hour && p.minute === minute && !first.has(dateKey(p))) first.set(dateKey(p), t);
  }
  const today = localParts(now, zone);
  const tomorrow = localParts(Date.UTC(today.year, today.month - 1, today.day + 1, 12), 'UTC');
  const todays = first.get(dateKey(today));
  const tomorrows = first.get(dateKey(tomorrow));
  if (todays === undefined) return undefined;
  if (todays >= now) return todays;
  if (passed === 'now') return now;
  return tomorrows;
}

const instant = fc.oneof(
  fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') }),
  fc.tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -40 * HOUR, max: 40 * HOUR })).map(([t, d]) => t + d),
);
const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);

describe('nextSendAt', () => {
  it("is the first instant at or after now whose wall clock in the zone reads the time, today or else tomorrow (brute-force reference)", () => {
    fc.assert(
      fc.property(instant, time, fc.constantFrom(...ZONES), fc.constantFrom('next-day' as const, 'now' as const), (now, at, zone, passed) => {
        const expected = reference(now, at, zone, passed);
        fc.pre(expected !== undefined);
        expect(new Date(nextSendAt(now, at, zone, passed)).toISOString()).toBe(new Date(expected as number).toISOString());
      }),
      { numRuns: 200 },
    );
  });

  it('is never before now and at most 26 hours ahead (a day and a change of offset), in any zone', () => {
    fc.assert(
      fc.property(instant, time, fc.constantFrom(...ZONES), fc.constantFrom('next-day' as const, 'now' as const), (now, at, zone, passed) => {
        const next = nextSendAt(now, at, zone, passed);
        expect(next).toBeGreaterThanOrEqual(now);
        expect(next - now).toBeLessThanOrEqual(26 * HOUR);
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['a time skipped by spring-forward is read past the gap', '2026-03-29T00:00:00Z', '02:30', 'Europe/Berlin', 'next-day', '2026-03-29T01:30:00.000Z'],
    ['a time repeated by fall-back is its first occurrence', '2026-11-01T04:00:00Z', '01:30', 'America/New_York', 'next-day', '2026-11-01T05:30:00.000Z'],
    ['a passed time moves to tomorrow across a change of offset', '2026-03-28T10:00:00Z', '09:00', 'Europe/Berlin', 'next-day', '2026-03-29T07:00:00.000Z'],
    ['a passed time is now when the campaign says so', '2026-03-28T10:00:00Z', '09:00', 'Europe/Berlin', 'now', '2026-03-28T10:00:00.000Z'],
    ['a time still ahead today is today', '2026-12-03T02:00:00Z', '09:00', 'Asia/Kolkata', 'now', '2026-12-03T03:30:00.000Z'],
    ["a passed time goes to the zone's tomorrow (Kiritimati's is UTC's today)", '2026-12-03T09:00:00Z', '09:00', 'Pacific/Kiritimati', 'next-day', '2026-12-03T19:00:00.000Z'],
  ] as const)('%s', (_name, now, at, zone, passed, expected) => {
    expect(new Date(nextSendAt(Date.parse(now), at, zone, passed)).toISOString()).toBe(expected);
  });
});

describe('groupByTime', () => {
  const NOW = '2026-12-03T09:00:00.000Z';
  function setup(deliver: Record<string, unknown>, rows: AudienceRow[]) {
    const c = campaign({ steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, at: '09:00', ...deliver } as never } });
    const files = memoryAudienceFiles();
    const deps: LocalTimeDeps = { campaigns: registry(c), files, clock: { now: () => new Date(NOW) }, stageTimeZone: 'Europe/Berlin' };
    return { deps, files, ready: files.writeRows('runs/news/r-1/audience.jsonl', rows) };
  }
  const read = async (files: ReturnType<typeof memoryAudienceFiles>, key: string) => {
    const ids: string[] = [];
    for await (const row of files.readRows(key)) ids.push(row.profileId);
    return ids;
  };
  const members: AudienceRow[] = [
    { profileId: 'tokyo', timeZone: 'Asia/Tokyo' },
    { profileId: 'ny', timeZone: 'America/New_York' },
    { profileId: 'berlin', timeZone: 'Europe/Berlin' },
    { profileId: 'unknown' },
    { profileId: 'bad', timeZone: 'Mars/Olympus' },
    { profileId: 'ny-2', timeZone: 'America/New_York' },
  ];
  const payload = { action: 'group-by-time' as const, run: runContext(), step: 'email', set: 'runs/news/r-1/audience.jsonl' };

  it("groups members by 09:00 in their own zone, the stage's when unknown; passed zones go to tomorrow", async () => {
    const { deps, files, ready } = setup({ in: 'member' }, members);
    await ready;
    const { groups } = await groupByTime(deps, payload);
    expect(groups).toEqual([
      { sendAt: '2026-12-03T14:00:00.000Z', key: 'runs/news/r-1/sets/email/at-20261203T140000Z.jsonl', count: 2 },
      { sendAt: '2026-12-04T00:00:00.000Z', key: 'runs/news/r-1/sets/email/at-20261204T000000Z.jsonl', count: 1 },
      { sendAt: '2026-12-04T08:00:00.000Z', key: 'runs/news/r-1/sets/email/at-20261204T080000Z.jsonl', count: 3 },
    ]);
    expect(await read(files, groups[0].key)).toEqual(['ny', 'ny-2']);
    expect(await read(files, groups[1].key)).toEqual(['tokyo']);
    expect(await read(files, groups[2].key)).toEqual(['berlin', 'unknown', 'bad']);
  });

  it("sends the passed zones at once with passed: now, and everyone at the stage's time with in: stage", async () => {
    const now = setup({ in: 'member', passed: 'now' }, members);
    await now.ready;
    expect((await groupByTime(now.deps, payload)).groups.map((g) => [g.sendAt, g.count])).toEqual([
      ['2026-12-03T09:00:00.000Z', 4],
      ['2026-12-03T14:00:00.000Z', 2],
    ]);
    const stage = setup({ in: 'stage' }, members);
    await stage.ready;
    expect((await groupByTime(stage.deps, payload)).groups.map((g) => [g.sendAt, g.count])).toEqual([['2026-12-04T08:00:00.000Z', 6]]);
  });

  it('writes a large group in parts and composes them whole', async () => {
    const many = Array.from({ length: GROUP_CHUNK_ROWS * 2 + 7 }, (_, i) => ({ profileId: `p-${i}`, timeZone: 'Asia/Tokyo' }));
    const { deps, files, ready } = setup({}, many);
    await ready;
    const { groups } = await groupByTime(deps, payload);
    expect(groups).toEqual([{ sendAt: '2026-12-04T00:00:00.000Z', key: 'runs/news/r-1/sets/email/at-20261204T000000Z.jsonl', count: many.length }]);
    expect((await read(files, groups[0].key)).length).toBe(many.length);
    expect([...files.objects.keys()].filter((k) => k.includes('/parts/email/')).length).toBe(3);
  });

  it('answers no groups for an empty set and refuses a step without a local time', async () => {
    const { deps, ready } = setup({}, []);
    await ready;
    expect(await groupByTime(deps, payload)).toEqual({ groups: [] });
    const plain = campaign();
    await expect(groupByTime({ ...deps, campaigns: registry(plain) }, payload)).rejects.toThrow('campaign "news" has no deliver step "email" with a local time');
  });
});
