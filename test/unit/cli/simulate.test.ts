import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, USAGE, type Io } from '../../../bin/waymark';
import { InvalidJourneyError, scriptProblem, type SimulationEngine, type SimulationInput } from '../../../lambdas/simulate/engine';
import { renderJson, renderText, type SimulationReport } from '../../../lambdas/simulate/report';
import { ScriptError } from '../../../lambdas/simulate/script';
import { cartAbandonmentReport } from '../../support/simulation-report';

const ROOT = join(__dirname, '..', '..', '..');
const CART = 'statemachines/cart-abandonment.json';
const EVENTS = 'test/fixtures/simulate/cart-abandonment.events.json';
const PROFILES = 'test/fixtures/simulate/cart-abandonment.profiles.json';
const INVALID = 'test/fixtures/journeys/invalid-graph.json';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const FILES = { [CART]: read(CART), [EVENTS]: read(EVENTS), [PROFILES]: read(PROFILES), [INVALID]: read(INVALID) };

/** Runs `waymark` on an in-memory file system with an engine that records its inputs and answers (or throws) `outcome`. */
async function cli(argv: string[], options: { files?: Record<string, string>; outcome?: SimulationReport | Error } = {}) {
  const files: Record<string, string> = { ...FILES, ...options.files };
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: async (path) => {
      if (!Object.hasOwn(files, path)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return files[path];
    },
  };
  const calls: SimulationInput[] = [];
  const outcome = options.outcome ?? cartAbandonmentReport();
  const engine: SimulationEngine = {
    run: async (input) => {
      calls.push(input);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
  const code = await run(argv, io, { engine: async () => engine, root: ROOT });
  return { code, stdout, stderr, calls };
}

describe('waymark simulate', () => {
  it('runs the journey against the script and the starting profiles, and prints the report as text', async () => {
    const result = await cli(['simulate', CART, '--events', EVENTS, '--profiles', PROFILES]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toBe(renderText(cartAbandonmentReport()));
    const [input] = result.calls;
    expect(input).toMatchObject({ journeyFile: CART, root: ROOT, journey: { id: 'cart-abandonment' } });
    expect(input.start.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(input.script.map((e) => [e.kind, e.line])).toEqual([['event', 2], ['event', 7], ['event', 11], ['event', 15], ['event', 17]]);
    expect(input.profiles).toMatchObject([{ line: 2, identities: { email: 'cem@example.com' }, consent: { email: 'opted-out' } }]);
  });

  it('prints the report as JSON with --json', async () => {
    const result = await cli(['simulate', '--json', CART, `--events=${EVENTS}`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(renderJson(cartAbandonmentReport()));
    expect(result.calls[0].profiles).toEqual([]);
  });

  it('starts the virtual clock at --start', async () => {
    const script = '[{ "at": "+5m", "type": "cart.updated", "identities": { "email": "ann@example.com" } }]';
    const result = await cli(['simulate', CART, '--events', 'e.json', '--start', '2026-11-30T00:00:00Z'], { files: { 'e.json': script } });
    expect(result.calls[0].start.toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(result.calls[0].script[0].at).toBe('2026-11-30T00:05:00.000Z');
  });

  it('lets time run until --until, counted from the start', async () => {
    const result = await cli(['simulate', CART, '--events', EVENTS, '--until=+3d']);
    expect(result.calls[0].until?.toISOString()).toBe('2026-12-04T10:00:00.000Z');
    expect((await cli(['simulate', CART, '--events', EVENTS])).calls[0]).not.toHaveProperty('until');
    const wrong = await cli(['simulate', CART, '--events', EVENTS, '--until', '-1h']);
    expect([wrong.code, wrong.calls]).toEqual([2, []]);
    expect(wrong.stderr).toMatch(/^waymark: until: until is "\+<duration>" after the start/);
  });

  it('exits 1 with the violations of an invalid journey, and runs nothing', async () => {
    const result = await cli(['simulate', INVALID, '--events', EVENTS]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${INVALID}: nodes[1].next (node "second"): node "second" refers to unknown node "nowhere"\n`);
    expect(result.calls).toEqual([]);
  });

  it('exits 1 when the engine finds a definition it depends on invalid', async () => {
    const result = await cli(['simulate', CART, '--events', EVENTS], { outcome: new InvalidJourneyError(['segments/x.json: rule: bad']) });
    expect([result.code, result.stdout]).toEqual([1, 'segments/x.json: rule: bad\n']);
  });

  it('exits 2 naming the line and field of each wrong script entry, and runs nothing', async () => {
    const script = '[\n  { "at": "+0s", "type": "cart.updated", "identities": { "email": "ann@example.com" } },\n  { "at": "+1h",\n    "type": "order.placed" }\n]\n';
    const result = await cli(['simulate', CART, '--events', 'bad.json'], { files: { 'bad.json': script } });
    expect(result).toMatchObject({ code: 2, stdout: '', calls: [] });
    expect(result.stderr).toBe('waymark: bad.json:3: entry 2, identities: at least one identity is required (or "catalog": true for an event of no customer)\n');
  });

  it('exits 2 naming the line of a script that is not JSON', async () => {
    const result = await cli(['simulate', CART, '--events', 'bad.json'], { files: { 'bad.json': '[\n{"at": "+0s",}\n]' } });
    expect([result.code, result.stderr]).toEqual([2, 'waymark: bad.json:2: not valid JSON: expected a field name in double quotes, found "}" (column 14)\n']);
  });

  it('exits 2 naming the line of a wrong starting profile', async () => {
    const profiles = '[\n  { "identities": {} }\n]';
    const result = await cli(['simulate', CART, '--events', EVENTS, '--profiles', 'p.json'], { files: { 'p.json': profiles } });
    expect([result.code, result.stderr]).toEqual([2, 'waymark: p.json:2: entry 1, identities: at least one identity is required\n']);
  });

  it('exits 2 with the script file and line of an entry the engine refuses', async () => {
    const refused = new ScriptError(undefined, [scriptProblem({ index: 4, line: 17 }, 'trigger', 'journey "cart-abandonment" is not API-triggered')]);
    const result = await cli(['simulate', CART, '--events', EVENTS], { outcome: refused });
    expect([result.code, result.stderr]).toEqual([2, `waymark: ${EVENTS}:17: entry 5, trigger: journey "cart-abandonment" is not API-triggered\n`]);
  });

  it('lists at most 50 problems and counts the rest', async () => {
    const script = `[\n${Array.from({ length: 60 }, () => '{"at": "+0s"}').join(',\n')}\n]`;
    const result = await cli(['simulate', CART, '--events', 'bad.json'], { files: { 'bad.json': script } });
    const lines = result.stderr.trim().split('\n');
    expect([result.code, lines.length, lines[50]]).toEqual([2, 51, 'waymark: … and 10 more problems']);
  });

  it('lets an engine failure that is not the input\'s through (the bin answers 70)', async () => {
    await expect(cli(['simulate', CART, '--events', EVENTS], { outcome: new Error('boom') })).rejects.toThrow('boom');
  });

  it.each<[string[], string]>([
    [['simulate'], 'waymark: missing <file>'],
    [['simulate', CART], 'waymark: simulate needs --events <script.json>'],
    [['simulate', CART, CART, '--events', EVENTS], 'waymark: expected one journey file, got 2'],
    [['simulate', CART, '--events'], 'waymark: --events takes a value'],
    [['simulate', CART, '--events', EVENTS, '--events', EVENTS], 'waymark: --events is given twice'],
    [['simulate', CART, '--events', EVENTS, '--speed', '2'], 'waymark: unknown option --speed'],
    [['simulate', CART, '--events', 'nowhere.json'], "waymark: cannot read nowhere.json: ENOENT: no such file or directory, open 'nowhere.json'"],
    [['simulate', CART, '--events', EVENTS, '--profiles', 'nowhere.json'], 'waymark: cannot read nowhere.json'],
  ])('exits 2 with the reason and the usage for %j', async (argv, reason) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(reason)).toBe(true);
    expect(result.stderr.endsWith(USAGE)).toBe(true);
    expect(result.calls).toEqual([]);
  });

  it('exits 2 for a --start that is not an ISO-8601 UTC time', async () => {
    const result = await cli(['simulate', CART, '--events', EVENTS, '--start', 'yesterday']);
    expect([result.code, result.stderr]).toEqual([2, 'waymark: start: the start is an ISO-8601 UTC time from 2000-01-01T00:00:00.000Z on (got "yesterday")\n']);
  });

  it('lists simulate in the usage', () => {
    expect(USAGE).toContain('simulate <file> --events <script.json> [--profiles <profiles.json>] [--start <ISO time>] [--until <time>] [--json]');
  });
});
