import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, USAGE, type Io } from '../../../bin/waymark';
import { compileJourney, toMermaid, validateJourney } from '../../../lambdas/core/journey';

const ROOT = join(__dirname, '..', '..', '..');
const CART = 'statemachines/cart-abandonment.json';
const EVERY = 'test/fixtures/journeys/every-node-kind.json';
const INVALID = 'test/fixtures/journeys/invalid-graph.json';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Runs the CLI against an in-memory file system; files not in `files` fail to read with ENOENT. */
async function cli(argv: string[], files: Record<string, string> = { [CART]: read(CART), [EVERY]: read(EVERY), [INVALID]: read(INVALID) }) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile: async (path) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return files[path];
    },
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

const parsed = (path: string) => {
  const result = validateJourney(JSON.parse(read(path)));
  if (!result.ok) throw new Error(`${path} is invalid`);
  return result.journey;
};

describe('waymark validate', () => {
  it('prints one OK line per valid file and exits 0', async () => {
    expect(await cli(['validate', CART, EVERY])).toEqual({
      code: 0,
      stdout: `OK ${CART}: journey "cart-abandonment", 8 nodes, 35 states\nOK ${EVERY}: journey "every-node-kind", 10 nodes, 41 states\n`,
      stderr: '',
    });
  });

  it('prints one line per violation naming file, path, node and message, and exits 1', async () => {
    const result = await cli(['validate', CART, INVALID]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      `OK ${CART}: journey "cart-abandonment", 8 nodes, 35 states`,
      `${INVALID}: nodes[1].next (node "second"): node "second" refers to unknown node "nowhere"`,
      '',
    ]);
  });

  it('reports each schema violation of a file on its own line', async () => {
    const broken = JSON.parse(read(CART));
    broken.nodes[0].timeout = 'soon';
    broken.nodes[1].kind = 'letter';
    const result = await cli(['validate', 'broken.json'], { 'broken.json': JSON.stringify(broken) });
    expect(result.code).toBe(1);
    expect(result.stdout.trim().split('\n')).toEqual([
      'broken.json: nodes[0].timeout (node "wait-for-order"): durations are groups of <integer><s|m|h|d|w>, e.g. "1h" or "1d12h"',
      'broken.json: nodes[1].kind (node "reminder-email"): kind must be one of wait, wait-for-event, condition, send, decide, split, exit (got "letter")',
    ]);
  });

  it('reports a file that is not JSON', async () => {
    const result = await cli(['validate', 'bad.json'], { 'bad.json': '{ "schemaVersion": 1,' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^bad\.json: \(file\): not valid JSON: /);
  });

  it('reports two files that use the same journey id', async () => {
    const result = await cli(['validate', CART, 'copy.json'], { [CART]: read(CART), 'copy.json': read(CART) });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`copy.json: id: journey id "cart-abandonment" is also used by ${CART}`);
  });
});

describe('waymark compile', () => {
  it('prints the compiled definition as pretty JSON', async () => {
    const result = await cli(['compile', CART]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${JSON.stringify(compileJourney(parsed(CART)), null, 2)}\n`);
  });

  it('prints violations instead of a definition for an invalid journey', async () => {
    const result = await cli(['compile', INVALID]);
    expect(result).toMatchObject({ code: 1, stdout: expect.stringContaining('unknown node "nowhere"') });
    expect(result.stdout).not.toContain('StartAt');
  });
});

describe('waymark diagram', () => {
  it('prints the Mermaid flowchart', async () => {
    expect(await cli(['diagram', EVERY])).toEqual({ code: 0, stdout: toMermaid(parsed(EVERY)), stderr: '' });
  });
});

describe('waymark cost', () => {
  it('prints the transitions on the longest path and the cost per million entries', async () => {
    const result = await cli(['cost', CART]);
    expect(result.code).toBe(0);
    // wait-for-order → reminder-email (7 states: its failed path releases the cap slot, then its outcome is tallied) →
    // wait-for-offer-signal → pick-offer → offer-push (7 states and the 4 of its Parallel branch) → done
    expect(result.stdout).toContain('journey "cart-abandonment": at most 22 state transitions per entry');
    expect(result.stdout).toContain('longest path: wait-for-order -> reminder-email -> reminder-email.route');
    expect(result.stdout).toContain('$550.00 per million entries');
    expect(result.stdout).toContain('for 1,000,000 entries: at most $550.00');
  });

  it.each([
    [['--entries', '4000'], 'for 4,000 entries: at most $2.20'],
    [['--entries=10'], 'for 10 entries: at most $0.005500'],
  ])('prices the number of entries given with %j', async (flags, line) => {
    const result = await cli(['cost', CART, ...flags]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(line);
  });

  it.each([[['--entries']], [['--entries', '0']], [['--entries', '-5']], [['--entries', '1.5']], [['--entries', 'many']], [['--per-day', '3']]])(
    'refuses %j with exit 2 and the usage',
    async (flags) => {
      const result = await cli(['cost', CART, ...flags]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(USAGE);
    },
  );
});

describe('waymark usage', () => {
  it.each([['help'], ['--help'], ['-h']])('prints the usage for %s and exits 0', async (command) => {
    expect(await cli([command])).toEqual({ code: 0, stdout: USAGE, stderr: '' });
  });

  it.each<[string[], string]>([
    [[], 'waymark: missing command'],
    [['frobnicate', CART], 'waymark: unknown command "frobnicate"'],
    [['validate'], 'waymark: missing <file>'],
    [['compile'], 'waymark: missing <file>'],
    [['diagram', CART, EVERY], 'waymark: expected one file, got 2'],
    [['cost'], 'waymark: missing <file>'],
    [['validate', CART, 'nowhere.json'], "waymark: cannot read nowhere.json: ENOENT: no such file or directory, open 'nowhere.json'"],
    [['compile', 'nowhere.json'], 'waymark: cannot read nowhere.json'],
  ])('exits 2 with the reason and the usage for %j', async (argv, reason) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(reason)).toBe(true);
    expect(result.stderr.endsWith(USAGE)).toBe(true);
  });
});

describe('waymark segments', () => {
  const segment = (id: string, rule: unknown) => JSON.stringify({ schemaVersion: 1, id, name: id, rule });
  const tier = { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' };

  it('checks the shipped segment files as a set and lists them in evaluation order', async () => {
    const names = ['loyalty-members', 'loyalty-gold', 'loyalty-silver'].map((n) => `segments/${n}.json`);
    const result = await cli(['segments', ...names], Object.fromEntries(names.map((n) => [n, read(n)])));
    expect(result).toEqual({ code: 0, stdout: 'OK segment "loyalty-gold"\nOK segment "loyalty-silver"\nOK segment "loyalty-members"\n', stderr: '' });
  });

  it('names the file and the rule path of each problem, unknown references and cycles, and exits 1', async () => {
    const files = {
      'a.json': segment('a', { kind: 'segment', id: 'b' }),
      'b.json': segment('b', { kind: 'not', rule: { kind: 'segment', id: 'a' } }),
      'c.json': segment('c', { kind: 'greater', field: { kind: 'attribute', name: 'age' }, value: true }),
      'd.json': segment('d', { kind: 'segment', id: 'nowhere' }),
      'e.json': segment('a', tier),
    };
    const result = await cli(['segments', ...Object.keys(files)], files);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^c\.json: rule\.value: /),
      'e.json: id: segment id "a" is also used by a.json',
      'd.json: segment "d": rule references unknown segment "nowhere"',
      'a.json: segment "a": references form a cycle: a → b → a',
    ]);
  });
});

describe('waymark rules', () => {
  const rule = (over: Record<string, unknown> = {}) => JSON.stringify({ id: 'sms-daily', kind: 'frequency-cap', channel: 'sms', limit: 1, period: { calendar: 'day' }, ...over });

  it('prints one OK line per rule and exits 0 for the shipped rules', async () => {
    const paths = readdirSync(join(ROOT, 'rules')).filter((n) => n.endsWith('.json')).map((n) => `rules/${n}`);
    const result = await cli(['rules', ...paths], Object.fromEntries(paths.map((p) => [p, read(p)])));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toHaveLength(paths.length);
    expect(result.stdout).toContain('OK rule "sms-daily" (frequency-cap, sms)\n');
  });

  it('prints each problem naming file and field, checks ids across files, and exits 1', async () => {
    const result = await cli(['rules', 'a.json', 'b.json', 'c.json'], { 'a.json': rule(), 'b.json': rule({ limit: 0 }), 'c.json': rule() });
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^b\.json: limit: /),
      'c.json: id: rule id "sms-daily" is also used by a.json',
      'OK rule "sms-daily" (frequency-cap, sms)',
      '',
    ]);
  });

  it('exits 2 for a missing file, no file, or an unknown option', async () => {
    expect(await cli(['rules', 'missing.json'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read missing.json') });
    expect(await cli(['rules'], {})).toMatchObject({ code: 2, stderr: expect.stringContaining('missing <file>') });
    expect(await cli(['rules', '--what', 'a.json'], { 'a.json': rule() })).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --what') });
  });
});
