import { assertNever } from '../shared/assert-never';
import { DAY_MS, parseTimestamp } from '../segments/time';

/**
 * A small, safe expression language for ranking offers (EXPRESSIONS.md is the reference).
 *
 * `parseExpression` is a hand-written tokenizer and precedence-climbing parser: nothing is ever handed to `eval` or
 * `Function`, names are checked against fixed lists (roots `profile`, `context`, `offer`; the functions in
 * `EXPRESSION_FUNCTIONS`), and the size of a formula is bounded (`EXPRESSION_LIMITS`).
 * `compileExpression` turns the tree into nested closures once; `referenceEvaluate` is a plain tree-walking
 * interpreter with the same semantics, and property tests hold the two equal.
 *
 * Semantics in one line: missing is `null`, there is no coercion, anything ill-typed is `null`, only `true` is true.
 */

export const EXPRESSION_LIMITS = { maxLength: 2000, maxNodes: 200, maxDepth: 32 } as const;

export const EXPRESSION_ROOTS = ['profile', 'context', 'offer'] as const;
export type ExpressionRoot = (typeof EXPRESSION_ROOTS)[number];

export type UnaryOperator = '!' | '-';
export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

/** Every function with its arity (`maxArgs` Infinity: variadic). */
export const EXPRESSION_FUNCTIONS = {
  min: { minArgs: 2, maxArgs: Infinity },
  max: { minArgs: 2, maxArgs: Infinity },
  abs: { minArgs: 1, maxArgs: 1 },
  round: { minArgs: 1, maxArgs: 1 },
  floor: { minArgs: 1, maxArgs: 1 },
  ceil: { minArgs: 1, maxArgs: 1 },
  sqrt: { minArgs: 1, maxArgs: 1 },
  log: { minArgs: 1, maxArgs: 1 },
  coalesce: { minArgs: 2, maxArgs: Infinity },
  daysSince: { minArgs: 1, maxArgs: 1 },
  contains: { minArgs: 2, maxArgs: 2 },
} as const satisfies Record<string, { minArgs: number; maxArgs: number }>;
export type FunctionName = keyof typeof EXPRESSION_FUNCTIONS;

export type Expr =
  | { readonly kind: 'literal'; readonly value: number | string | boolean | null }
  | { readonly kind: 'path'; readonly root: ExpressionRoot; readonly keys: readonly string[] }
  | { readonly kind: 'unary'; readonly op: UnaryOperator; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly Expr[] };

/** What a formula evaluates to. Lists and objects read from a path are usable inside (`contains`), never returned. */
export type ExpressionValue = number | string | boolean | null;

export interface ExpressionScope {
  readonly profile: unknown;
  readonly context: unknown;
  readonly offer: unknown;
  /** Epoch milliseconds; `daysSince` counts to it. */
  readonly now: number;
}

export type CompiledExpression = (scope: ExpressionScope) => ExpressionValue;

export type ParseResult = { ok: true; value: Expr } | { ok: false; errors: string[] };

/** One path a formula reads: `text` is how it is written (`profile.computed["order.placed"].count`). */
export interface ExpressionPath {
  readonly root: ExpressionRoot;
  readonly keys: readonly string[];
  readonly text: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer

type Token =
  | { kind: 'number'; at: number; end: number; value: number }
  | { kind: 'string'; at: number; end: number; value: string }
  | { kind: 'name'; at: number; end: number; value: string }
  | { kind: 'punct'; at: number; end: number; value: string }
  | { kind: 'end'; at: number; end: number };

class SyntaxFailure {
  constructor(readonly message: string) {}
}

const fail = (at: number, message: string): never => {
  throw new SyntaxFailure(`at ${at}: ${message}`);
};

const TWO_CHAR = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHAR = new Set(['(', ')', '[', ']', ',', '.', '?', ':', '+', '-', '*', '/', '%', '!', '<', '>']);
const HINTS: ReadonlyMap<string, string> = new Map([
  ['=', '"=="'],
  ['&', '"&&"'],
  ['|', '"||"'],
]);
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\\', '\\'],
  ["'", "'"],
  ['"', '"'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

const isDigit = (c: number) => c >= 48 && c <= 57;
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNamePart = (c: number) => isNameStart(c) || isDigit(c);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  const digits = (from: number, what: string): number => {
    let j = from;
    while (j < n && isDigit(source.charCodeAt(j))) j++;
    if (j === from) fail(from, `expected a digit ${what} but found ${from < n ? JSON.stringify(source[from]) : 'end of formula'}`);
    return j;
  };
  while (i < n) {
    const c = source.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (isDigit(c)) {
      let j = digits(i, '');
      if (source[j] === '.') j = digits(j + 1, 'after "."');
      if (source[j] === 'e' || source[j] === 'E') {
        j++;
        if (source[j] === '+' || source[j] === '-') j++;
        j = digits(j, 'in the exponent');
      }
      const value = Number(source.slice(i, j));
      if (!Number.isFinite(value)) fail(i, `number ${source.slice(i, j)} is out of range`);
      tokens.push({ kind: 'number', at: i, end: j, value });
      i = j;
    } else if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNamePart(source.charCodeAt(j))) j++;
      tokens.push({ kind: 'name', at: i, end: j, value: source.slice(i, j) });
      i = j;
    } else if (c === 34 || c === 39) {
      const quote = source[i];
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= n) fail(i, `unterminated string; expected ${quote} but found end of formula`);
        const ch = source[j];
        if (ch === quote) break;
        if (ch !== '\\') {
          value += ch;
          j++;
          continue;
        }
        const e = source[j + 1];
        if (e === 'u') {
          for (let k = j + 2; k < j + 6; k++) if (k >= n || !isHex(source.charCodeAt(k))) fail(j, 'expected four hex digits after "\\u"');
          value += String.fromCharCode(Number.parseInt(source.slice(j + 2, j + 6), 16));
          j += 6;
          continue;
        }
        const escaped = e === undefined ? undefined : ESCAPES.get(e);
        if (escaped === undefined) fail(j, `unknown escape ${e === undefined ? '"\\" at end of formula' : JSON.stringify(`\\${e}`)}; expected one of \\\\ \\' \\" \\/ \\b \\f \\n \\r \\t \\uXXXX`);
        value += escaped;
        j += 2;
      }
      tokens.push({ kind: 'string', at: i, end: j + 1, value });
      i = j + 1;
    } else {
      const two = source.slice(i, i + 2);
      if (TWO_CHAR.has(two)) {
        tokens.push({ kind: 'punct', at: i, end: i + 2, value: two });
        i += 2;
      } else if (ONE_CHAR.has(source[i])) {
        tokens.push({ kind: 'punct', at: i, end: i + 1, value: source[i] });
        i++;
      } else {
        const hint = HINTS.get(source[i]);
        fail(i, `unexpected character ${JSON.stringify(String.fromCodePoint(source.codePointAt(i) ?? c))}${hint === undefined ? '' : `; did you mean ${hint}?`}`);
      }
    }
  }
  tokens.push({ kind: 'end', at: n, end: n });
  return tokens;
}

function describe(token: Token, source: string): string {
  if (token.kind === 'end') return 'end of formula';
  const text = source.slice(token.at, token.end);
  const shown = text.length > 24 ? `${text.slice(0, 21)}...` : text;
  switch (token.kind) {
    case 'number':
      return `number ${shown}`;
    case 'string':
      return `string ${shown}`;
    case 'name':
      return `name "${shown}"`;
    case 'punct':
      return `"${shown}"`;
    default:
      return assertNever(token, 'token');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

const PRECEDENCE: ReadonlyMap<string, number> = new Map<BinaryOperator, number>([
  ['||', 2],
  ['&&', 3],
  ['==', 4],
  ['!=', 4],
  ['<', 5],
  ['<=', 5],
  ['>', 5],
  ['>=', 5],
  ['+', 6],
  ['-', 6],
  ['*', 7],
  ['/', 7],
  ['%', 7],
]);
const UNARY_PRECEDENCE = 8;
const PRIMARY_PRECEDENCE = 9;

const ROOTS: ReadonlySet<string> = new Set(EXPRESSION_ROOTS);
const FUNCTION_NAMES: ReadonlySet<string> = new Set(Object.keys(EXPRESSION_FUNCTIONS));
const KEYWORDS: ReadonlyMap<string, boolean | null> = new Map([
  ['true', true],
  ['false', false],
  ['null', null],
]);

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function arityText(fn: FunctionName): string {
  const { minArgs, maxArgs } = EXPRESSION_FUNCTIONS[fn];
  if (minArgs === maxArgs) return plural(minArgs, 'argument');
  return `at least ${plural(minArgs, 'argument')}`;
}

/**
 * Parses a formula. Syntax errors stop at the first one; unknown names, unknown functions and wrong arity are
 * collected so one message lists them all. Every error starts `at <offset>:` (0-based, in UTF-16 code units).
 */
export function parseExpression(source: string): ParseResult {
  if (typeof source !== 'string') return { ok: false, errors: ['a formula must be a string'] };
  if (source.length > EXPRESSION_LIMITS.maxLength) {
    return { ok: false, errors: [`formula is ${source.length} characters long; at most ${EXPRESSION_LIMITS.maxLength} are allowed`] };
  }
  const errors: string[] = [];
  try {
    const tokens = tokenize(source);
    let index = 0;
    let nodes = 0;
    let depth = 0;
    const peek = () => tokens[index];
    const next = () => tokens[index++];
    const isPunct = (value: string) => {
      const t = tokens[index];
      return t.kind === 'punct' && t.value === value;
    };
    const expect = (value: string, after: string) => {
      const t = tokens[index];
      if (t.kind !== 'punct' || t.value !== value) fail(t.at, `expected "${value}"${after} but found ${describe(t, source)}`);
      index++;
    };
    const node = <T extends Expr>(at: number, e: T): T => {
      if (++nodes > EXPRESSION_LIMITS.maxNodes) fail(at, `formula is too large; at most ${EXPRESSION_LIMITS.maxNodes} values, operators and calls are allowed`);
      return e;
    };
    const enter = (at: number) => {
      if (++depth > EXPRESSION_LIMITS.maxDepth) fail(at, `formula nests too deeply; at most ${EXPRESSION_LIMITS.maxDepth} levels of parentheses, calls, operators "!"/"-" and "?:" are allowed`);
    };
    const leave = () => {
      depth--;
    };

    const conditional = (): Expr => {
      const test = binary(PRECEDENCE.get('||') ?? 0);
      if (!isPunct('?')) return test;
      const at = next().at;
      enter(at);
      const then = conditional();
      expect(':', ' after the "then" branch of "?"');
      const otherwise = conditional();
      leave();
      return node(at, { kind: 'conditional', test, then, otherwise });
    };

    const binary = (minPrecedence: number): Expr => {
      let left = unary();
      for (;;) {
        const t = peek();
        if (t.kind !== 'punct') return left;
        const precedence = PRECEDENCE.get(t.value);
        if (precedence === undefined || precedence < minPrecedence) return left;
        next();
        const right = binary(precedence + 1);
        left = node(t.at, { kind: 'binary', op: t.value as BinaryOperator, left, right });
      }
    };

    const unary = (): Expr => {
      const t = peek();
      if (t.kind === 'punct' && (t.value === '!' || t.value === '-')) {
        next();
        enter(t.at);
        const operand = unary();
        leave();
        return node(t.at, { kind: 'unary', op: t.value, operand });
      }
      return primary();
    };

    const pathKeys = (): string[] => {
      const keys: string[] = [];
      for (;;) {
        if (isPunct('.')) {
          next();
          const t = next();
          if (t.kind !== 'name') fail(t.at, `expected a property name after "." but found ${describe(t, source)}`);
          keys.push((t as { value: string }).value);
        } else if (isPunct('[')) {
          next();
          const t = next();
          if (t.kind === 'string') keys.push(t.value);
          else if (t.kind === 'number' && Number.isSafeInteger(t.value) && t.value >= 0) keys.push(String(t.value));
          else fail(t.at, `expected a quoted property name or a list index after "[" but found ${describe(t, source)}`);
          expect(']', ' after the property name');
        } else {
          return keys;
        }
      }
    };

    const primary = (): Expr => {
      const t = next();
      switch (t.kind) {
        case 'number':
        case 'string':
          return node(t.at, { kind: 'literal', value: t.value });
        case 'punct': {
          if (t.value !== '(') break;
          enter(t.at);
          const inner = conditional();
          expect(')', ` to close the "(" at ${t.at}`);
          leave();
          return inner;
        }
        case 'name': {
          const name = t.value;
          const keyword = KEYWORDS.get(name);
          if (keyword !== undefined) return node(t.at, { kind: 'literal', value: keyword });
          if (ROOTS.has(name)) return node(t.at, { kind: 'path', root: name as ExpressionRoot, keys: pathKeys() });
          if (isPunct('(')) return call(t.at, name);
          if (FUNCTION_NAMES.has(name)) fail(peek().at, `expected "(" after the function ${name} but found ${describe(peek(), source)}`);
          errors.push(`at ${t.at}: unknown name "${name}"; a formula reads from ${EXPRESSION_ROOTS.join(', ')} (e.g. profile.attributes.tier)`);
          pathKeys();
          return node(t.at, { kind: 'literal', value: null });
        }
        case 'end':
          break;
        default:
          return assertNever(t, 'token');
      }
      return fail(t.at, `expected a value but found ${describe(t, source)}`);
    };

    const call = (at: number, name: string): Expr => {
      const open = next();
      enter(open.at);
      const args: Expr[] = [];
      if (!isPunct(')')) {
        for (;;) {
          args.push(conditional());
          if (!isPunct(',')) break;
          next();
        }
      }
      expect(')', ` or "," in the arguments of ${name}`);
      leave();
      if (!FUNCTION_NAMES.has(name)) {
        errors.push(`at ${at}: unknown function "${name}"; expected one of ${[...FUNCTION_NAMES].join(', ')}`);
        return node(at, { kind: 'literal', value: null });
      }
      const fn = name as FunctionName;
      const { minArgs, maxArgs } = EXPRESSION_FUNCTIONS[fn];
      if (args.length < minArgs || args.length > maxArgs) errors.push(`at ${at}: ${fn} expects ${arityText(fn)} but got ${args.length}`);
      return node(at, { kind: 'call', fn, args });
    };

    const value = conditional();
    const last = peek();
    if (last.kind !== 'end') fail(last.at, `expected an operator or end of formula but found ${describe(last, source)}`);
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, value };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, errors: [...errors, error.message] };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared semantics

/** A value inside evaluation: a scalar, or a list/object read from a path (only `contains` and paths look inside). */
type Value = ExpressionValue | object;

const MAX_TIME = 8.64e15;

/** A value read from the scope: undefined, non-finite numbers, functions, symbols and bigints are `null`. */
function normalize(value: unknown): Value {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      return value;
    default:
      return null;
  }
}

/** `record[key]` when it is an own property of an object or list; never the prototype chain. */
function own(record: unknown, key: string): unknown {
  return typeof record === 'object' && record !== null && Object.hasOwn(record, key) ? (record as Record<string, unknown>)[key] : undefined;
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
const toResult = (v: Value): ExpressionValue => (typeof v === 'object' && v !== null ? null : v);
const isScalar = (v: Value): v is ExpressionValue => v === null || typeof v !== 'object';

/** Epoch milliseconds of an ISO timestamp or epoch-milliseconds number; null for anything else. */
function toTime(value: Value): number | null {
  if (typeof value === 'string') {
    const t = parseTimestamp(value);
    return t === t ? t : null;
  }
  if (typeof value === 'number' && value <= MAX_TIME && value >= -MAX_TIME) return value;
  return null;
}

function daysSince(value: Value, now: number): number | null {
  const time = toTime(value);
  if (time === null || typeof now !== 'number') return null;
  return finite((now - time) / DAY_MS);
}

function contains(haystack: Value, needle: Value): boolean | null {
  if (needle === null || typeof needle === 'object') return null;
  if (typeof haystack === 'string') return typeof needle === 'string' ? haystack.includes(needle) : null;
  if (Array.isArray(haystack)) {
    for (let i = 0; i < haystack.length; i++) if (haystack[i] === needle) return true;
    return false;
  }
  return null;
}

function equals(a: Value, b: Value): boolean | null {
  return isScalar(a) && isScalar(b) ? a === b : null;
}

function arithmetic(op: '-' | '*' | '/' | '%', a: number, b: number): number | null {
  switch (op) {
    case '-':
      return finite(a - b);
    case '*':
      return finite(a * b);
    case '/':
      return b === 0 ? null : finite(a / b);
    case '%':
      return b === 0 ? null : finite(a % b);
    default:
      return assertNever(op, 'operator');
  }
}

type MathFunction = 'abs' | 'round' | 'floor' | 'ceil' | 'sqrt' | 'log';
const MATH: Readonly<Record<MathFunction, (x: number) => number>> = {
  abs: Math.abs,
  round: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
  sqrt: Math.sqrt,
  log: Math.log,
};

// ---------------------------------------------------------------------------------------------------------------
// Compiler

type Run = (scope: ExpressionScope) => Value;

function compileRoot(root: ExpressionRoot): (scope: ExpressionScope) => unknown {
  switch (root) {
    case 'profile':
      return (s) => s.profile;
    case 'context':
      return (s) => s.context;
    case 'offer':
      return (s) => s.offer;
    default:
      return assertNever(root, 'root');
  }
}

function compilePath(root: ExpressionRoot, keys: readonly string[]): Run {
  const base = compileRoot(root);
  const path = [...keys];
  switch (path.length) {
    case 0:
      return (s) => normalize(base(s));
    case 1: {
      const [a] = path;
      return (s) => normalize(own(base(s), a));
    }
    case 2: {
      const [a, b] = path;
      return (s) => normalize(own(own(base(s), a), b));
    }
    case 3: {
      const [a, b, c] = path;
      return (s) => normalize(own(own(own(base(s), a), b), c));
    }
    default:
      return (s) => {
        let v = base(s);
        for (let i = 0; i < path.length; i++) v = own(v, path[i]);
        return normalize(v);
      };
  }
}

function compileBinary(op: BinaryOperator, l: Run, r: Run): Run {
  switch (op) {
    case '||':
      return (s) => l(s) === true || r(s) === true;
    case '&&':
      return (s) => l(s) === true && r(s) === true;
    case '==':
      return (s) => equals(l(s), r(s));
    case '!=':
      return (s) => {
        const e = equals(l(s), r(s));
        return e === null ? null : !e;
      };
    case '<':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? a < b : null;
      };
    case '<=':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? a <= b : null;
      };
    case '>':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? a > b : null;
      };
    case '>=':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? a >= b : null;
      };
    case '+':
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (typeof a === 'number' && typeof b === 'number') return finite(a + b);
        if (typeof a === 'string' && typeof b === 'string') return a + b;
        return null;
      };
    case '-':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' ? finite(a - b) : null;
      };
    case '*':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' ? finite(a * b) : null;
      };
    case '/':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' && b !== 0 ? finite(a / b) : null;
      };
    case '%':
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'number' && typeof b === 'number' && b !== 0 ? finite(a % b) : null;
      };
    default:
      return assertNever(op, 'operator');
  }
}

function compileCall(fn: FunctionName, args: Run[]): Run {
  switch (fn) {
    case 'min':
    case 'max': {
      const pick = fn === 'min' ? Math.min : Math.max;
      return (s) => {
        let best = fn === 'min' ? Infinity : -Infinity;
        for (let i = 0; i < args.length; i++) {
          const v = args[i](s);
          if (typeof v !== 'number') return null;
          best = pick(best, v);
        }
        return best;
      };
    }
    case 'abs':
    case 'round':
    case 'floor':
    case 'ceil':
    case 'sqrt':
    case 'log': {
      const f = MATH[fn];
      const [x] = args;
      return (s) => {
        const v = x(s);
        return typeof v === 'number' ? finite(f(v)) : null;
      };
    }
    case 'coalesce':
      return (s) => {
        for (let i = 0; i < args.length; i++) {
          const v = args[i](s);
          if (v !== null) return v;
        }
        return null;
      };
    case 'daysSince': {
      const [t] = args;
      return (s) => daysSince(t(s), s.now);
    }
    case 'contains': {
      const [haystack, needle] = args;
      return (s) => contains(haystack(s), needle(s));
    }
    default:
      return assertNever(fn, 'function');
  }
}

function compileNode(e: Expr): Run {
  switch (e.kind) {
    case 'literal': {
      const value = e.value;
      return () => value;
    }
    case 'path':
      return compilePath(e.root, e.keys);
    case 'unary': {
      const operand = compileNode(e.operand);
      if (e.op === '!') return (s) => operand(s) !== true;
      return (s) => {
        const v = operand(s);
        return typeof v === 'number' ? -v : null;
      };
    }
    case 'binary':
      return compileBinary(e.op, compileNode(e.left), compileNode(e.right));
    case 'conditional': {
      const test = compileNode(e.test);
      const then = compileNode(e.then);
      const otherwise = compileNode(e.otherwise);
      return (s) => (test(s) === true ? then(s) : otherwise(s));
    }
    case 'call':
      return compileCall(e.fn, e.args.map(compileNode));
    default:
      return assertNever(e, 'expression');
  }
}

/** Compiles a parsed formula once into nested closures (paths pre-split, operators and functions resolved). */
export function compileExpression(expr: Expr): CompiledExpression {
  const run = compileNode(expr);
  return (scope) => toResult(run(scope));
}

// ---------------------------------------------------------------------------------------------------------------
// Reference interpreter

function evaluate(e: Expr, scope: ExpressionScope): Value {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'path': {
      let v: unknown = scope[e.root];
      for (const key of e.keys) v = own(v, key);
      return normalize(v);
    }
    case 'unary': {
      const v = evaluate(e.operand, scope);
      if (e.op === '!') return v !== true;
      return typeof v === 'number' ? -v : null;
    }
    case 'binary': {
      if (e.op === '&&') return evaluate(e.left, scope) === true && evaluate(e.right, scope) === true;
      if (e.op === '||') return evaluate(e.left, scope) === true || evaluate(e.right, scope) === true;
      const a = evaluate(e.left, scope);
      const b = evaluate(e.right, scope);
      switch (e.op) {
        case '==':
          return equals(a, b);
        case '!=': {
          const eq = equals(a, b);
          return eq === null ? null : !eq;
        }
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
          if (!comparable) return null;
          if (e.op === '<') return a < b;
          if (e.op === '<=') return a <= b;
          if (e.op === '>') return a > b;
          return a >= b;
        }
        case '+':
          if (typeof a === 'string' && typeof b === 'string') return a + b;
          return typeof a === 'number' && typeof b === 'number' ? finite(a + b) : null;
        case '-':
        case '*':
        case '/':
        case '%':
          return typeof a === 'number' && typeof b === 'number' ? arithmetic(e.op, a, b) : null;
        default:
          return assertNever(e.op, 'operator');
      }
    }
    case 'conditional':
      return evaluate(e.test, scope) === true ? evaluate(e.then, scope) : evaluate(e.otherwise, scope);
    case 'call': {
      switch (e.fn) {
        case 'coalesce':
          for (const arg of e.args) {
            const v = evaluate(arg, scope);
            if (v !== null) return v;
          }
          return null;
        case 'min':
        case 'max': {
          const values = e.args.map((arg) => evaluate(arg, scope));
          if (!values.every((v): v is number => typeof v === 'number')) return null;
          return e.fn === 'min' ? Math.min(...values) : Math.max(...values);
        }
        case 'abs':
        case 'round':
        case 'floor':
        case 'ceil':
        case 'sqrt':
        case 'log': {
          const v = evaluate(e.args[0], scope);
          return typeof v === 'number' ? finite(MATH[e.fn](v)) : null;
        }
        case 'daysSince':
          return daysSince(evaluate(e.args[0], scope), scope.now);
        case 'contains':
          return contains(evaluate(e.args[0], scope), evaluate(e.args[1], scope));
        default:
          return assertNever(e.fn, 'function');
      }
    }
    default:
      return assertNever(e, 'expression');
  }
}

/** A plain tree-walking interpreter with the semantics of `compileExpression`, for property tests. */
export function referenceEvaluate(expr: Expr, scope: ExpressionScope): ExpressionValue {
  return toResult(evaluate(expr, scope));
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** The ranking score of a value: a finite number is itself, anything else is null (ranked last). */
export function scoreOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function pathText(root: ExpressionRoot, keys: readonly string[]): string {
  return root + keys.map((k) => (SIMPLE_KEY.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');
}

/** The distinct paths a formula reads, in order of first appearance. */
export function expressionPaths(expr: Expr): ExpressionPath[] {
  const seen = new Map<string, ExpressionPath>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'literal':
        return;
      case 'path': {
        const text = pathText(e.root, e.keys);
        if (!seen.has(text)) seen.set(text, { root: e.root, keys: [...e.keys], text });
        return;
      }
      case 'unary':
        return visit(e.operand);
      case 'binary':
        visit(e.left);
        return visit(e.right);
      case 'conditional':
        visit(e.test);
        visit(e.then);
        return visit(e.otherwise);
      case 'call':
        return e.args.forEach(visit);
      default:
        return assertNever(e, 'expression');
    }
  };
  visit(expr);
  return [...seen.values()];
}

function literalText(value: number | string | boolean | null): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return String(value);
}

function precedenceOf(e: Expr): number {
  switch (e.kind) {
    case 'literal':
      return typeof e.value === 'number' && (e.value < 0 || Object.is(e.value, -0)) ? UNARY_PRECEDENCE : PRIMARY_PRECEDENCE;
    case 'path':
    case 'call':
      return PRIMARY_PRECEDENCE;
    case 'unary':
      return UNARY_PRECEDENCE;
    case 'binary':
      return PRECEDENCE.get(e.op) ?? 0;
    case 'conditional':
      return 1;
    default:
      return assertNever(e, 'expression');
  }
}

/**
 * Prints a formula with only the parentheses it needs; `parseExpression(printExpression(e))` gives `e` back for
 * every tree the parser produces (negative number literals come back as unary minus).
 */
export function printExpression(expr: Expr): string {
  const print = (e: Expr, min: number): string => {
    const text = printBare(e);
    return precedenceOf(e) < min ? `(${text})` : text;
  };
  const printBare = (e: Expr): string => {
    switch (e.kind) {
      case 'literal':
        return literalText(e.value);
      case 'path':
        return pathText(e.root, e.keys);
      case 'unary': {
        const operand = print(e.operand, UNARY_PRECEDENCE);
        return e.op === '-' && operand.startsWith('-') ? `- ${operand}` : `${e.op}${operand}`;
      }
      case 'binary': {
        const p = PRECEDENCE.get(e.op) ?? 0;
        return `${print(e.left, p)} ${e.op} ${print(e.right, p + 1)}`;
      }
      case 'conditional':
        return `${print(e.test, 2)} ? ${print(e.then, 1)} : ${print(e.otherwise, 1)}`;
      case 'call':
        return `${e.fn}(${e.args.map((a) => print(a, 1)).join(', ')})`;
      default:
        return assertNever(e, 'expression');
    }
  };
  return print(expr, 0);
}
