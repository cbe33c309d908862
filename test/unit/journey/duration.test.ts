import fc from 'fast-check';
import { DurationError, MAX_WAIT_SECONDS, parseDuration } from '../../../lambdas/core/shared/duration';

const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;
type Unit = keyof typeof UNITS;
const group = fc.record({ amount: fc.nat({ max: 100_000 }), unit: fc.constantFrom(...(Object.keys(UNITS) as Unit[])) });

describe('parseDuration', () => {
  it('reads back the sum of any groups written one after another', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 6 }), (groups) => {
        const text = groups.map((g) => `${g.amount}${g.unit}`).join('');
        expect(parseDuration(text)).toBe(groups.reduce((sum, g) => sum + g.amount * UNITS[g.unit], 0));
      }),
    );
  });

  it('gives the same seconds for a duration written in any order of its groups', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 6 }), (groups) => {
        const forward = groups.map((g) => `${g.amount}${g.unit}`).join('');
        const backward = [...groups].reverse().map((g) => `${g.amount}${g.unit}`).join('');
        expect(parseDuration(backward)).toBe(parseDuration(forward));
      }),
    );
  });

  it('rejects any valid duration with a stray character inserted', () => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 4 }), fc.constantFrom(' ', '-', '.', 'x', 'H', '+'), fc.nat(), (groups, stray, at) => {
        const text = groups.map((g) => `${g.amount}${g.unit}`).join('');
        const position = at % (text.length + 1);
        expect(() => parseDuration(text.slice(0, position) + stray + text.slice(position))).toThrow(DurationError);
      }),
    );
  });

  it.each([
    ['90m', 5400],
    ['1d12h', 129600],
    ['2w', 1209600],
    ['1h1h', 7200],
    ['0s', 0],
    ['90d', MAX_WAIT_SECONDS],
  ])('reads %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '1', 'h', '1.5h', '-1h', '1H', ' 1h', '1h ', '1y', '1 h'])('rejects %p naming the text', (text) => {
    expect(() => parseDuration(text)).toThrow(new DurationError(`"${text}" is not a duration: expected groups of <integer><s|m|h|d|w>, e.g. "90m" or "1d12h"`));
  });
});
