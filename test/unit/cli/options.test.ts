import { OptionError, parseOptions } from '../../../bin/options';

describe('parseOptions', () => {
  const spec = { values: ['api', 'from'], lists: ['journey'], flags: ['json'], aliases: { '-j': 'journey' } };

  it('reads values given either way, repeated lists in order, flags and positional arguments', () => {
    const args = ['a', '--api', 'http://x', '--from=2026-01-01', '-j', 'j1', '--journey=j2', '--json', 'b'];
    const parsed = parseOptions(args, spec);
    expect(parsed.positional).toEqual(['a', 'b']);
    expect({ ...parsed.values }).toEqual({ api: 'http://x', from: '2026-01-01' });
    expect(parsed.lists.journey).toEqual(['j1', 'j2']);
    expect(parsed.flags.json).toBe(true);
  });

  it.each([
    [['--api'], '--api takes a value'],
    [['--api='], '--api takes a value'],
    [['--api', 'x', '--api=y'], '--api is given twice'],
    [['--json=yes'], 'unknown option --json=yes'],
    [['--verbose'], 'unknown option --verbose'],
    [['--__proto__', 'x'], 'unknown option --__proto__'],
    [['--constructor'], 'unknown option --constructor'],
  ])('rejects %j: %s', (args, message) => {
    expect(() => parseOptions(args, spec)).toThrow(new OptionError(message));
  });

  it('keeps the records free of Object.prototype members', () => {
    const { values, lists, flags } = parseOptions([], spec);
    for (const record of [values, lists, flags]) expect(Object.getPrototypeOf(record)).toBeNull();
  });

  it('names what a value is, refuses a dash for dashless options, and runs checks after the twice test', () => {
    const refuse = () => {
      throw new Error('checked');
    };
    const custom = { values: ['stage'], dashless: ['stage'], takes: { stage: 'a stage' }, check: { stage: refuse } };
    expect(() => parseOptions(['--stage', '--json'], custom)).toThrow('--stage takes a stage');
    expect(() => parseOptions(['--stage', 'dev'], custom)).toThrow('checked');
  });
});
