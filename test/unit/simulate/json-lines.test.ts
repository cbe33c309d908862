import fc from 'fast-check';
import { JsonSyntaxError, scanJson } from '../../../lambdas/simulate/json-lines';

describe('scanJson', () => {
  it('reads any JSON value as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(scanJson(text, 10).value).toEqual(JSON.parse(text));
      }),
    );
  });

  it('accepts exactly the texts JSON.parse accepts', () => {
    const pieces = ['{', '}', '[', ']', ',', ':', '"a"', '"\\u00e9"', '"\\x"', '1', '-0.5e3', '01', '.5', 'true', 'nul', ' ', '\n', '"\t"'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        let parsed = true;
        try {
          JSON.parse(text);
        } catch {
          parsed = false;
        }
        let scanned = true;
        try {
          scanJson(text, 10);
        } catch (error) {
          expect(error).toBeInstanceOf(JsonSyntaxError);
          scanned = false;
        }
        expect(scanned).toBe(parsed);
      }),
    );
  });

  it('gives the line of each array element and of each field (its key)', () => {
    const text = '[\n  { "a": 1,\n    "b": {\n      "c": [true,\n        null] } },\n\n  "x"\n]';
    const { lineOf } = scanJson(text, 10);
    expect([lineOf([]), lineOf([0]), lineOf([0, 'a']), lineOf([0, 'b']), lineOf([0, 'b', 'c', 1]), lineOf([1])]).toEqual([1, 2, 2, 3, 5, 7]);
  });

  it('answers the nearest enclosing value for a path that is absent', () => {
    const { lineOf } = scanJson('[\n{},\n{\n"a": {}\n}]', 10);
    expect([lineOf([1, 'missing']), lineOf([1, 'a', 'deeper', 3]), lineOf([9])]).toEqual([3, 4, 1]);
  });

  it('keeps a __proto__ key as an own property and a repeated key with its last value and line', () => {
    const { value, lineOf } = scanJson('{"__proto__": {"polluted": true},\n"k": 1,\n"k": 2}', 10);
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect([(value as { k: number }).k, lineOf(['k'])]).toEqual([2, 3]);
  });

  it.each([
    ['[1,\n2,\n]', 3, 1, 'expected a value, found "]"'],
    ['{"a": 1\n "b": 2}', 2, 2, 'expected "," or "}", found "\\""'],
    ['[\n"tab\there"]', 2, 1, 'invalid string'],
    ['[1] [2]', 1, 5, 'unexpected "[" after the JSON value'],
    ['\n\n', 3, 1, 'expected a value, found the end of the file'],
  ])('names the line and column of a syntax error in %j', (text, line, column, message) => {
    try {
      scanJson(text, 10);
      throw new Error('no error');
    } catch (error) {
      expect(error).toBeInstanceOf(JsonSyntaxError);
      expect({ line: (error as JsonSyntaxError).line, column: (error as JsonSyntaxError).column }).toEqual({ line, column });
      expect((error as Error).message).toContain(message);
    }
  });

  it('refuses nesting deeper than its bound, without recursing further', () => {
    expect(() => scanJson('[[[1]]]', 3)).not.toThrow();
    expect(() => scanJson('[[[[1]]]]', 3)).toThrow('nested deeper than 3 levels');
    expect(() => scanJson('['.repeat(100_000), 40)).toThrow('nested deeper than 40 levels');
  });

  it('skips a byte-order mark', () => {
    expect(scanJson('\ufeff[1]', 2).value).toEqual([1]);
  });
});
