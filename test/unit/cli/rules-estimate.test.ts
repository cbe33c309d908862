import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Io } from '../../../bin/waymark';
import type { SimulationEngine, SimulationInput } from '../../../lambdas/simulate/engine';
import { cartAbandonmentReport } from '../../support/simulation-report';

const ROOT = join(__dirname, '..', '..', '..');
const CART = 'statemachines/cart-abandonment.json';
const WELCOME = 'statemachines/welcome.json';
const EVENTS = 'test/fixtures/simulate/cart-abandonment.events.json';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const daily = JSON.stringify({ id: 'one-a-day', kind: 'frequency-cap', channel: 'any', limit: 1, period: { calendar: 'day' } });

/** `waymark rules --estimate` on an in-memory file system, with an engine answering the cart-abandonment report. */
async function cli(argv: string[], files: Record<string, string> = {}) {
  const all: Record<string, string> = { [CART]: read(CART), [WELCOME]: read(WELCOME), [EVENTS]: read(EVENTS), 'daily.json': daily, ...files };
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: async (path) => {
      if (!Object.hasOwn(all, path)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return all[path];
    },
  };
  const calls: SimulationInput[] = [];
  const engine: SimulationEngine = { run: async (input) => (calls.push(input), cartAbandonmentReport()) };
  const code = await run(argv, io, { engine: async () => engine, root: ROOT });
  return { code, stdout, stderr, calls };
}

describe('waymark rules --estimate', () => {
  it('simulates each journey once and counts only its own runs: the cart playbook\'s two messages, one capped', async () => {
    const result = await cli(['rules', '--estimate', '--journey', CART, '--journey', WELCOME, '--script', EVENTS, '--json', 'daily.json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.calls.map((c) => c.journey.id)).toEqual(['cart-abandonment', 'welcome']);
    // The simulations run without rules (once the send step applies them, they would otherwise count twice).
    expect(result.calls.map((c) => c.rules)).toEqual([[], []]);
    // The fake engine answers cart-abandonment runs to both: the welcome simulation contributes none of them.
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ messages: 2, simulatedJourneys: ['cart-abandonment', 'welcome'] });
    expect(report.outcomes.map((o: { message: { channel: string; journeyId: string } }) => `${o.message.journeyId} ${o.message.channel}`)).toEqual(['cart-abandonment email', 'cart-abandonment push']);
  });

  it('prints a text summary per rule, marked as an estimate', async () => {
    const result = await cli(['rules', '--estimate', '--journey', CART, '--script', EVENTS, 'daily.json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^estimate: 2 messages without rules; with them \d+ sent/);
    expect(result.stdout).toContain('  one-a-day (frequency-cap): ');
    expect(result.stdout).toContain('An estimate');
  });

  it('reads rules/*.json and statemachines/*.json of the repository by default', async () => {
    const result = await cli(['rules', '--estimate', '--script', EVENTS], Object.fromEntries(
      ['rules', 'statemachines'].flatMap((folder) =>
        readdirSync(join(ROOT, folder)).filter((n: string) => n.endsWith('.json')).map((n: string) => [join(ROOT, folder, n), read(join(folder, n))]),
      ),
    ));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('sms-daily (frequency-cap)');
    expect(result.calls.length).toBeGreaterThan(1);
  });

  it('exits 1 naming file and field for an invalid rule, before simulating anything', async () => {
    const result = await cli(['rules', '--estimate', '--journey', CART, '--script', EVENTS, 'bad.json'], { 'bad.json': JSON.stringify({ id: 'bad', kind: 'frequency-cap', channel: 'sms', limit: 0, period: { calendar: 'day' } }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^bad\.json: limit: /);
    expect(result.calls).toEqual([]);
  });

  it.each([
    [['--journey', CART, 'daily.json'], 'needs --script'],
    [['--script', EVENTS, '--journey', CART, '--timezone', 'Mars/Olympus', 'daily.json'], '--timezone is an IANA time zone'],
    [['--script', EVENTS, '--script', EVENTS, 'daily.json'], '--script is given twice'],
    [['--script', EVENTS, '--journey', CART, '--wat', 'daily.json'], 'unknown option --wat'],
    [['--script', 'missing.json', '--journey', CART, 'daily.json'], 'cannot read missing.json'],
  ])('exits 2 for a usage error: %j', async (args, message) => {
    const result = await cli(['rules', '--estimate', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
