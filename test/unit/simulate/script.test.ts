import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_START,
  formatProblem,
  parseProfiles,
  parseScript,
  parseStart,
  parseUntil,
  readProfiles,
  readScript,
  SCRIPT_LIMITS,
  ScriptError,
} from '../../../lambdas/simulate/script';

const ROOT = join(__dirname, '..', '..', '..');
const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'simulate', name), 'utf8');

/** The messages a script's text fails with, as the CLI prints them. */
function problems(text: string, start?: Date): string[] {
  try {
    parseScript(text, { file: 'events.json', ...(start ? { start } : {}) });
  } catch (error) {
    if (!(error instanceof ScriptError)) throw error;
    return error.problems.map((p) => formatProblem(error.file, p));
  }
  throw new Error('the script was accepted');
}

/** A script of one entry per line, after the opening bracket: entry n is on line n + 1. */
const lines = (...entries: unknown[]) => `[\n${entries.map((e) => JSON.stringify(e)).join(',\n')}\n]`;
const ann = { email: 'ann@example.com' };
const added = { at: '+0s', type: 'cart.updated', identities: ann, properties: { action: 'item-added' } };

describe('parseScript: the shipped example', () => {
  it('reads the cart-abandonment script: times resolved from its first absolute time, each entry with its line', () => {
    const script = parseScript(fixture('cart-abandonment.events.json'), { file: 'events.json' });
    expect(script.start.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(script.entries.map((e) => [e.kind, e.at, e.line])).toEqual([
      ['event', '2026-12-01T10:00:00.000Z', 2],
      ['event', '2026-12-01T10:05:00.000Z', 7],
      ['event', '2026-12-01T10:10:00.000Z', 11],
      ['event', '2026-12-01T10:35:00.000Z', 15],
      ['event', '2026-12-02T10:00:00.000Z', 17],
    ]);
    const [first, , , , drop] = script.entries;
    expect(first).toMatchObject({ event: { id: 'event-1', type: 'cart.updated', source: 'shop', time: '2026-12-01T10:00:00.000Z' } });
    expect(drop).toMatchObject({ event: { catalog: true, properties: { productId: 'sku-2' } } });
  });

  it('reads the starting profiles with their lines', () => {
    const [cem] = parseProfiles(fixture('cart-abandonment.profiles.json'), { file: 'profiles.json' });
    expect({ ...cem, identities: { ...cem.identities }, consent: { ...cem.consent } }).toMatchObject({
      line: 2,
      identities: { email: 'cem@example.com' },
      consent: { email: 'opted-out' },
    });
  });
});

describe('parseScript: times', () => {
  it.each([
    ['+0s', '2026-01-01T00:00:00.000Z'],
    ['+90m', '2026-01-01T01:30:00.000Z'],
    ['+2h', '2026-01-01T02:00:00.000Z'],
    ['+3d', '2026-01-04T00:00:00.000Z'],
    ['+1d12h', '2026-01-02T12:00:00.000Z'],
    ['2026-03-01T08:00:00Z', '2026-03-01T08:00:00.000Z'],
  ])('resolves at %s', (at, expected) => {
    const script = parseScript(lines({ ...added, at }), { file: 'e.json', start: new Date(DEFAULT_START) });
    expect(script.entries[0].at).toBe(expected);
  });

  it('starts at the given start, else the first absolute time, else the fixed default', () => {
    expect(parseScript(lines(added), { file: 'e.json' }).start.toISOString()).toBe(DEFAULT_START);
    const mixed = lines(added, { ...added, at: '2026-05-01T00:00:00Z' }, { ...added, at: '+1h' });
    const script = parseScript(mixed, { file: 'e.json' });
    expect([script.start.toISOString(), ...script.entries.map((e) => e.at)]).toEqual([
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
      '2026-05-01T01:00:00.000Z',
    ]);
    expect(parseScript(lines(added), { file: 'e.json', start: new Date('2026-07-01T00:00:00Z') }).entries[0].at).toBe('2026-07-01T00:00:00.000Z');
  });

  it('keeps entries at the same time in file order', () => {
    const script = parseScript(lines({ ...added, id: 'a' }, { ...added, id: 'b', at: '+0m' }), { file: 'e.json' });
    expect(script.entries.map((e) => e.kind === 'event' && e.event.id)).toEqual(['a', 'b']);
  });

  it('refuses an entry that goes back in time, naming both entries', () => {
    expect(problems(lines({ ...added, at: '+2h' }, { ...added, at: '+1h' }))).toEqual([
      'events.json:3: entry 2, at: 2026-01-01T01:00:00.000Z is before entry 1 (2026-01-01T02:00:00.000Z): entries never go back in time',
    ]);
  });

  it.each([
    ['1h', 'at is "+<duration>"'],
    ['+1x', 'got "+1x"'],
    ['2026-03-01T08:00:00+01:00', 'ISO-8601 UTC time'],
    ['2026-02-30T08:00:00Z', 'ISO-8601 UTC time'],
    [5, 'at is "+<duration>"'],
    ['+367d', 'spans at most 366 days'],
  ])('refuses at %j with the line and the reason', (at, message) => {
    const [problem, ...rest] = problems(lines(added, { ...added, at }));
    expect(rest).toEqual([]);
    expect(problem.startsWith('events.json:3: entry 2, at: ')).toBe(true);
    expect(problem).toContain(message);
  });

  it('refuses an absolute time before the given start', () => {
    expect(problems(lines({ ...added, at: '2025-12-31T23:59:59Z' }), new Date(DEFAULT_START))).toEqual([
      'events.json:2: entry 1, at: 2025-12-31T23:59:59.000Z is before the simulation\'s start, 2026-01-01T00:00:00.000Z',
    ]);
  });

  it('checks an event time given apart from at as the router does on receipt', () => {
    expect(problems(lines({ ...added, at: '+1h', time: '2026-01-01T01:06:00Z' }))[0]).toMatch(/^events\.json:2: entry 1, time: .* more than 5 minutes after its receipt/);
    const late = parseScript(lines({ ...added, at: '+1h', time: '2025-06-01T00:00:00Z' }), { file: 'e.json' }).entries[0];
    expect(late).toMatchObject({ at: '2026-01-01T01:00:00.000Z', event: { time: '2025-06-01T00:00:00Z' } });
  });

  it('resolves --until from the start, within the span', () => {
    const start = new Date('2026-12-01T10:00:00Z');
    expect(parseUntil('+3d', start).toISOString()).toBe('2026-12-04T10:00:00.000Z');
    expect(parseUntil('2026-12-24T00:00:00Z', start).toISOString()).toBe('2026-12-24T00:00:00.000Z');
    expect(() => parseUntil('2026-11-30T00:00:00Z', start)).toThrow('until: until is "+<duration>" after the start');
    expect(() => parseUntil('+400d', start)).toThrow(ScriptError);
    expect(() => parseUntil('soon', start)).toThrow('got "soon"');
  });

  it('parses --start as an ISO-8601 UTC time from 2000 on', () => {
    expect(parseStart('2026-12-01T10:00:00Z').toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(() => parseStart('1999-12-31T00:00:00Z')).toThrow(ScriptError);
    expect(() => parseStart('tomorrow')).toThrow('the start is an ISO-8601 UTC time');
  });
});

describe('parseScript: entries and their fields, with the line where each problem is', () => {
  it('reads each kind of entry as its API reads it', () => {
    const script = parseScript(
      lines(
        { at: '+0s', type: 'price.dropped', catalog: true, properties: { productId: 'sku-1' } },
        { at: '+1m', profile: 'email:ann@example.com', setAttributes: { loyaltyTier: 'gold' } },
        { at: '+2m', identities: ann, setAttributes: { tier: 1 }, source: 'crm' },
        { at: '+3m', profile: 'crmId:C-42', setConsent: { email: 'opted-out', 'list:news': 'opted-in' } },
        { at: '+4m', trigger: 'manual-outreach', identities: ann, context: { subject: 'Hi' }, idempotencyKey: 'k-1' },
        { at: '+5m', trigger: 'manual-outreach', profile: 'email:ann@example.com' },
      ),
      { file: 'e.json' },
    );
    const plain = JSON.parse(JSON.stringify(script.entries));
    expect(plain).toEqual([
      { kind: 'event', at: '2026-01-01T00:00:00.000Z', index: 0, line: 2, event: { id: 'event-1', type: 'price.dropped', source: 'simulation', time: '2026-01-01T00:00:00.000Z', catalog: true, identities: {}, properties: { productId: 'sku-1' } } },
      { kind: 'attributes', at: '2026-01-01T00:01:00.000Z', index: 1, line: 3, identities: ann, attributes: { loyaltyTier: 'gold' }, source: 'api' },
      { kind: 'attributes', at: '2026-01-01T00:02:00.000Z', index: 2, line: 4, identities: ann, attributes: { tier: 1 }, source: 'crm' },
      { kind: 'consent', at: '2026-01-01T00:03:00.000Z', index: 3, line: 5, identities: { crmId: 'C-42' }, consent: { email: 'opted-out', 'list:news': 'opted-in' } },
      { kind: 'trigger', at: '2026-01-01T00:04:00.000Z', index: 4, line: 6, journeyId: 'manual-outreach', identities: ann, context: { subject: 'Hi' }, idempotencyKey: 'k-1' },
      { kind: 'trigger', at: '2026-01-01T00:05:00.000Z', index: 5, line: 7, journeyId: 'manual-outreach', identities: ann, context: {} },
    ]);
  });

  it('names the line of the field that is wrong, not only of its entry', () => {
    const text = [
      '[',
      '  { "at": "+0s", "type": "cart.updated",',
      '    "identities": { "email": "ann@example.com" },',
      '    "properties": {',
      '      "total": 1e300',
      '    }',
      '  }',
      ']',
    ].join('\n');
    expect(problems(text)).toEqual(['events.json:5: entry 1, properties.total: numbers are 0 or between 1e-130 and 1e+21 in magnitude']);
  });

  it.each<[string, unknown, string]>([
    ['no kind', { at: '+0s', identities: ann }, 'events.json:2: entry 1: an entry is one of: an event ("type"), an attribute change ("setAttributes"), a consent change ("setConsent"), a journey trigger ("trigger")'],
    ['two kinds', { ...added, setConsent: { email: 'opted-out' } }, 'this one has "type" and "setConsent"'],
    ['not an object', ['+0s'], 'events.json:2: entry 1: an entry is a JSON object'],
    ['an unknown field', { ...added, propertes: {} }, 'events.json:2: entry 1, propertes: unknown field "propertes"'],
    ['no identities', { at: '+0s', type: 'cart.updated' }, 'entry 1, identities: at least one identity is required'],
    ['a catalog event with identities', { ...added, catalog: true }, 'entry 1, identities: a catalog event belongs to no customer'],
    ['a bad event type', { ...added, type: '9lives' }, 'entry 1, type: event type must start with a letter'],
    ['a reserved source', { ...added, source: 'waymark.segments' }, 'entry 1, source: sources starting with "waymark." are reserved'],
    ['an AWS source', { ...added, source: 'aws.ses' }, 'entry 1, source: sources starting with "aws." are reserved'],
    ['too many attributes', { ...added, attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`a${i}`, i])) }, 'entry 1, attributes: at most 50 attributes'],
    ['a bad consent key', { ...added, consent: { fax: 'opted-out' } }, 'entry 1, consent.fax: '],
    ['no customer for an attribute change', { at: '+0s', setAttributes: { a: 1 } }, 'entry 1: name the customer with exactly one of "identities"'],
    ['both ways to name the customer', { at: '+0s', setAttributes: { a: 1 }, identities: ann, profile: 'email:ann@example.com' }, 'name the customer with exactly one'],
    ['a profile that is not an identity', { at: '+0s', setAttributes: { a: 1 }, profile: 'ann@example.com' }, 'entry 1, profile: a profile is named by one identity'],
    ['empty attributes', { at: '+0s', setAttributes: {}, identities: ann }, 'entry 1, setAttributes: at least one attribute'],
    ['a bad attribute name', { at: '+0s', setAttributes: { 'first name': 'Ann' }, identities: ann }, 'entry 1, setAttributes.first name: attribute names are identifiers'],
    ['a bad consent status', { at: '+0s', setConsent: { email: 'maybe' }, identities: ann }, 'entry 1, setConsent.email: '],
    ['no consent change', { at: '+0s', setConsent: {}, identities: ann }, 'entry 1, setConsent: name at least one channel'],
    ['a bad journey id', { at: '+0s', trigger: 'Manual Outreach', identities: ann }, 'entry 1, trigger: journey ids are kebab-case'],
    ['a trigger context too large', { at: '+0s', trigger: 'manual-outreach', identities: ann, context: { text: 'x'.repeat(65 * 1024) } }, 'entry 1, context: context is at most 64 KB of JSON'],
    ['a key past the bound', { ...added, properties: { ['k'.repeat(257)]: 1 } }, 'entry 1: properties: keys are at most 256 characters'],
  ])('refuses %s', (_, entry, message) => {
    const found = problems(lines(entry));
    expect(found).toEqual([expect.stringContaining(message)]);
  });

  it('lists every problem of the file at once, in file order', () => {
    const found = problems(lines(added, { at: '+1h', type: 'x' }, { at: 'soon', setConsent: { email: 'maybe' }, identities: ann }));
    expect(found).toEqual([
      expect.stringMatching(/^events\.json:3: entry 2, identities: /),
      expect.stringMatching(/^events\.json:4: entry 3, at: at is "\+<duration>"/),
      expect.stringMatching(/^events\.json:4: entry 3, setConsent\.email: /),
    ]);
  });

  it('refuses a file that is not JSON, with the line', () => {
    expect(problems('[\n  { "at": "+0s" }\n  { "at": "+1h" }\n]')).toEqual(['events.json:3: not valid JSON: expected "," or "]", found "{" (column 3)']);
  });

  it('refuses a file that is not an array, and more entries than the bound', () => {
    expect(problems('{"at": "+0s"}')).toEqual(['events.json:1: expected a JSON array of entries']);
    expect(problems(`[${Array.from({ length: SCRIPT_LIMITS.entries + 1 }, () => '{}').join(',')}]`)).toEqual([
      'events.json:1: at most 10,000 entries (got 10,001)',
    ]);
  });

  it('refuses a file larger than the bound before reading it', () => {
    const text = `[${' '.repeat(SCRIPT_LIMITS.fileBytes)}]`;
    expect(problems(text)).toEqual(['events.json:1: the file is larger than 5 MB']);
  });

  it('refuses an entry nested deeper than the API takes', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(problems(lines({ ...added, properties: deep }))[0]).toMatch(/^events\.json:\d+: not valid JSON: nested deeper than 33 levels/);
  });

  it('keeps names such as __proto__ and constructor as data', () => {
    const text = '[{"at":"+0s","type":"t","identities":{"constructor":"c-1"},"properties":{"__proto__":{"x":1}},"attributes":{"toString":"a"}}]';
    const [entry] = parseScript(text, { file: 'e.json' }).entries;
    if (entry.kind !== 'event') throw new Error('not an event');
    expect(Object.hasOwn(entry.event.identities, 'constructor')).toBe(true);
    expect(Object.hasOwn(entry.event.properties, '__proto__')).toBe(true);
    expect(entry.event.attributes?.toString).toBe('a');
  });
});

describe('readScript and readProfiles (the helper\'s entries, without lines)', () => {
  it('names the entry by its index in the array', () => {
    expect(() => readScript([added, { at: '+0s', type: 'x' }])).toThrow('events[1].identities: at least one identity is required');
  });

  it('refuses two starting profiles that share an identity, and fields no profile has', () => {
    const text = '[\n{"identities":{"email":"a@x.io"}},\n{"identities":{"crmId":"1",\n"email":"a@x.io"}, "segments": {}}\n]';
    try {
      parseProfiles(text, { file: 'profiles.json' });
      throw new Error('accepted');
    } catch (error) {
      expect((error as ScriptError).problems.map((p) => formatProblem('profiles.json', p))).toEqual([
        'profiles.json:4: entry 2, segments: unknown field "segments" (expected identities, attributes, consent)',
        'profiles.json:4: entry 2, identities.email: email:a@x.io is already profile 1\'s',
      ]);
    }
  });

  it('refuses a starting profile without identities or with bad consent', () => {
    expect(() => readProfiles([{ attributes: { a: 1 } }], { file: 'profiles' })).toThrow('profiles[0].identities: ');
    expect(() => readProfiles([{ identities: ann, consent: { email: 'no' } }], { file: 'profiles' })).toThrow('profiles[0].consent.email: ');
  });
});
