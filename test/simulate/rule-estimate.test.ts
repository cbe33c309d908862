import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type Io } from '../../bin/waymark';

const ROOT = join(__dirname, '..', '..');
const EVENTS = join(ROOT, 'test/fixtures/simulate/cart-abandonment.events.json');
// Cem has opted out of email: the playbook sends to Ann only.
const PROFILES = join(ROOT, 'test/fixtures/simulate/cart-abandonment.profiles.json');

/** `waymark rules --estimate` with the real simulation engine and files. */
async function estimate(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readFile: (path) => readFile(path, 'utf8') };
  const code = await run(['rules', '--estimate', ...args], io, { root: ROOT });
  return { code, stdout, stderr };
}

describe('waymark rules --estimate (the simulation engine, the cart-abandonment playbook)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-estimate-'));
    // Ann lives in Los Angeles: the playbook's push (10:00 UTC) reaches her at 02:00, in the push quiet hours.
    const events = JSON.parse(readFileSync(EVENTS, 'utf8')) as { identities?: { email?: string }; attributes?: Record<string, unknown> }[];
    const first = events.find((e) => e.identities?.email === 'ann@example.com')!;
    first.attributes = { ...first.attributes, timezone: 'America/Los_Angeles' };
    writeFileSync(join(dir, 'events.json'), JSON.stringify(events));
    writeFileSync(join(dir, 'one-a-week.json'), JSON.stringify({ id: 'one-a-week', kind: 'frequency-cap', channel: 'any', limit: 1, period: { rolling: '7d' } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defers the night push to 08:00 in the profile time zone, where a full cap then suppresses it', async () => {
    const result = await estimate([
      '--json', '--journey', join(ROOT, 'statemachines/cart-abandonment.json'), '--script', join(dir, 'events.json'), '--profiles', PROFILES,
      join(ROOT, 'rules/quiet-hours-push.json'), join(dir, 'one-a-week.json'),
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ messages: 2, sent: 1, suppressed: 1, deferred: 1, simulatedJourneys: ['cart-abandonment'] });
    expect(report.rules).toEqual([
      { ruleId: 'quiet-hours-push', kind: 'quiet-hours', suppressed: 0, deferred: 1 },
      { ruleId: 'one-a-week', kind: 'frequency-cap', suppressed: 1, deferred: 0 },
    ]);
    const push = report.outcomes.find((o: { message: { channel: string } }) => o.message.channel === 'push');
    // 10:00 UTC is 02:00 in Los Angeles (PST, UTC−8): held until 08:00 local, 16:00 UTC.
    expect(push).toMatchObject({ status: 'suppressed', reason: 'frequency-cap:one-a-week', at: '2026-12-02T16:00:00.000Z', deferredBy: ['quiet-hours-push'], message: { timeZone: 'America/Los_Angeles', at: '2026-12-02T10:00:00.000Z' } });
  });

  it('reads a profile without a time zone in the default one (--timezone)', async () => {
    const result = await estimate(['--json', '--timezone', 'Asia/Tokyo', '--journey', join(ROOT, 'statemachines/cart-abandonment.json'), '--script', EVENTS, '--profiles', PROFILES, join(ROOT, 'rules/quiet-hours-push.json')]);
    const report = JSON.parse(result.stdout);
    // 10:00 UTC is 19:00 in Tokyo: outside 21:00–08:00.
    expect(report).toMatchObject({ messages: 2, sent: 2, suppressed: 0, deferred: 0 });
    expect(report.outcomes.every((o: { message: { timeZone: string } }) => o.message.timeZone === 'Asia/Tokyo')).toBe(true);
  });
});
