/**
 * A JSON reader that remembers where each value starts. `JSON.parse` gives no positions, and a script's author needs
 * the line of the entry or field that is wrong. Values are built as `JSON.parse` builds them (a `__proto__` key is an
 * own property; a repeated key keeps its first place and its last value).
 */

export type JsonPath = readonly (string | number)[];

export interface ScannedJson {
  value: unknown;
  /** The 1-based line where the value at `path` starts (a field: its key); the nearest enclosing value when absent. */
  lineOf(path: JsonPath): number;
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

const key = (path: JsonPath) => JSON.stringify(path);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A string token: no raw control characters, only JSON's escapes.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Reads `text` as one JSON value; `maxDepth` bounds the nesting of arrays and objects (JsonSyntaxError beyond). */
export function scanJson(text: string, maxDepth: number): ScannedJson {
  const lines = new Map<string, number>();
  let pos = 0;
  let line = 1;
  let lineStart = 0;

  const fail = (message: string, at = pos): never => {
    throw new JsonSyntaxError(message, line, at - lineStart + 1);
  };
  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x0a) {
        line++;
        lineStart = ++pos;
      } else if (c === 0x20 || c === 0x09 || c === 0x0d) {
        pos++;
      } else {
        return;
      }
    }
  };
  const describe = () => (pos >= text.length ? 'the end of the file' : JSON.stringify(text[pos]));
  const expect = (char: string, what: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected ${what}, found ${describe()}`);
    pos++;
  };
  const readString = (): string => {
    STRING.lastIndex = pos;
    const match = STRING.exec(text);
    if (!match) fail('invalid string (unterminated, a raw control character or a bad escape)');
    const raw = match![0];
    pos += raw.length;
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };

  const readValue = (path: (string | number)[], depth: number): unknown => {
    skipSpace();
    if (!lines.has(key(path))) lines.set(key(path), line);
    const c = text[pos];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      pos++;
      return c === '{' ? readObject(path, depth + 1) : readArray(path, depth + 1);
    }
    if (c === '"') return readString();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const number = NUMBER.exec(text);
    if (number) {
      pos += number[0].length;
      return Number(number[0]);
    }
    return fail(`expected a value, found ${describe()}`);
  };

  const readArray = (path: (string | number)[], depth: number): unknown[] => {
    const items: unknown[] = [];
    skipSpace();
    if (text[pos] === ']') {
      pos++;
      return items;
    }
    for (;;) {
      items.push(readValue([...path, items.length], depth));
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return items;
      }
      expect(',', '"," or "]"');
    }
  };

  const readObject = (path: (string | number)[], depth: number): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text[pos] !== '"') fail(`expected a field name in double quotes, found ${describe()}`);
      const keyLine = line;
      const name = readString();
      expect(':', '":"');
      // The field's line is its key's; a repeated key is reported where it was last written, as its value is.
      lines.set(key([...path, name]), keyLine);
      const value = readValue([...path, name], depth);
      // As JSON.parse: an own data property, even for `__proto__`.
      Object.defineProperty(object, name, { value, writable: true, enumerable: true, configurable: true });
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return object;
      }
      expect(',', '"," or "}"');
    }
  };

  // A byte-order mark is not JSON, but editors write one.
  if (text.charCodeAt(0) === 0xfeff) pos = lineStart = 1;
  const value = readValue([], 0);
  skipSpace();
  if (pos < text.length) fail(`unexpected ${describe()} after the JSON value`);

  return {
    value,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const found = lines.get(key(path.slice(0, n)));
        if (found !== undefined) return found;
      }
      return 1;
    },
  };
}
