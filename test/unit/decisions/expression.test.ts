import fc from 'fast-check';
import {
  compileExpression,
  EXPRESSION_FUNCTIONS,
  EXPRESSION_LIMITS,
  type Expr,
  type ExpressionScope,
  expressionPaths,
  type FunctionName,
  parseExpression,
  printExpression,
  referenceEvaluate,
  scoreOf,
} from '../../../lambdas/core/decisions/expression';

const NOW = Date.UTC(2025, 5, 15, 12);
const DAY = 86_400_000;

const SCOPE: ExpressionScope = {
  profile: {
    attributes: { spend: 250, tier: 'gold', vip: true, tags: ['shoes', 'bags'], affinity: { shoes: 0.8 }, nothing: null, signedUpAt: '2025-06-05T12:00:00Z' },
    computed: { 'order.placed': { count: 3, lastSeen: NOW - 2 * DAY } },
  },
  context: { cartTotal: 120, channel: 'web' },
  offer: { priority: 5, attributes: { margin: 0.25, brand: 'acme' } },
  now: NOW,
};

function parse(source: string): Expr {
  const result = parseExpression(source);
  if (!result.ok) throw new Error(`${source}: ${result.errors.join('; ')}`);
  return result.value;
}

/** Evaluates with both the compiled closure and the reference interpreter, and checks they agree. */
function run(source: string, scope: ExpressionScope = SCOPE) {
  const expr = parse(source);
  const compiled = compileExpression(expr)(scope);
  expect(referenceEvaluate(expr, scope)).toBe(compiled);
  return compiled;
}

function errorsOf(source: string): string[] {
  const result = parseExpression(source);
  if (result.ok) throw new Error(`${source} parsed`);
  return result.errors;
}

describe('parseExpression', () => {
  it('builds the tree for literals, paths and calls', () => {
    expect(parse('1.5')).toEqual({ kind: 'literal', value: 1.5 });
    expect(parse(`'it\\'s' `)).toEqual({ kind: 'literal', value: "it's" });
    expect(parse('"a\\\\b\\"c\\n\\u0041"')).toEqual({ kind: 'literal', value: 'a\\b"c\nA' });
    expect(parse('null')).toEqual({ kind: 'literal', value: null });
    expect(parse('profile.computed["order.placed"].count')).toEqual({ kind: 'path', root: 'profile', keys: ['computed', 'order.placed', 'count'] });
    expect(parse("profile.attributes['gift-card'] ")).toEqual({ kind: 'path', root: 'profile', keys: ['attributes', 'gift-card'] });
    expect(parse('profile.attributes.tags[0]')).toEqual({ kind: 'path', root: 'profile', keys: ['attributes', 'tags', '0'] });
    expect(parse('offer.null')).toEqual({ kind: 'path', root: 'offer', keys: ['null'] });
    expect(parse('max(1, offer.priority)')).toEqual({
      kind: 'call',
      fn: 'max',
      args: [
        { kind: 'literal', value: 1 },
        { kind: 'path', root: 'offer', keys: ['priority'] },
      ],
    });
  });

  it('applies precedence and associativity', () => {
    const shape = (source: string) => printTree(parse(source));
    expect(shape('1 + 2 * 3')).toBe('(1 + (2 * 3))');
    expect(shape('1 - 2 - 3')).toBe('((1 - 2) - 3)');
    expect(shape('8 / 4 / 2')).toBe('((8 / 4) / 2)');
    expect(shape('-2 * 3')).toBe('((-2) * 3)');
    expect(shape('!true || false && true')).toBe('((!true) || (false && true))');
    expect(shape('1 < 2 == true')).toBe('((1 < 2) == true)');
    expect(shape('1 + 1 < 3 && 2 >= 2')).toBe('(((1 + 1) < 3) && (2 >= 2))');
    expect(shape('true ? 1 : false ? 2 : 3')).toBe('(true ? 1 : (false ? 2 : 3))');
    expect(shape('true ? false ? 1 : 2 : 3')).toBe('(true ? (false ? 1 : 2) : 3)');
    expect(shape('true || false ? 1 : 2')).toBe('((true || false) ? 1 : 2)');
    expect(shape('(1 + 2) * 3')).toBe('((1 + 2) * 3)');
    expect(shape('2 * 3 % 4')).toBe('((2 * 3) % 4)');
  });

  it('names the position and what was expected', () => {
    expect(errorsOf('min(1, 2')).toEqual(['at 8: expected ")" or "," in the arguments of min but found end of formula']);
    expect(errorsOf('(1 + 2')).toEqual(['at 6: expected ")" to close the "(" at 0 but found end of formula']);
    expect(errorsOf('')).toEqual(['at 0: expected a value but found end of formula']);
    expect(errorsOf('1 +')).toEqual(['at 3: expected a value but found end of formula']);
    expect(errorsOf('1 2')).toEqual(['at 2: expected an operator or end of formula but found number 2']);
    expect(errorsOf('offer.')).toEqual(['at 6: expected a property name after "." but found end of formula']);
    expect(errorsOf('offer[priority]')).toEqual(['at 6: expected a quoted property name or a list index after "[" but found name "priority"']);
    expect(errorsOf('offer["a"')).toEqual(['at 9: expected "]" after the property name but found end of formula']);
    expect(errorsOf('true ? 1')).toEqual(['at 8: expected ":" after the "then" branch of "?" but found end of formula']);
    expect(errorsOf('1 = 1')).toEqual(['at 2: unexpected character "="; did you mean "=="?']);
    expect(errorsOf('1 & 1')).toEqual(['at 2: unexpected character "&"; did you mean "&&"?']);
    expect(errorsOf('a;')[0]).toBe('at 1: unexpected character ";"');
    expect(errorsOf("'abc")).toEqual(["at 0: unterminated string; expected ' but found end of formula"]);
    expect(errorsOf('"\\x"')).toEqual(['at 1: unknown escape "\\\\x"; expected one of \\\\ \\\' \\" \\/ \\b \\f \\n \\r \\t \\uXXXX']);
    expect(errorsOf('"\\u00g0"')).toEqual(['at 1: expected four hex digits after "\\u"']);
    expect(errorsOf('1.')).toEqual(['at 2: expected a digit after "." but found end of formula']);
    expect(errorsOf('.5')).toEqual(['at 0: expected a value but found "."']);
    expect(errorsOf('9'.repeat(400))).toEqual([`at 0: number ${'9'.repeat(400)} is out of range`]);
    expect(errorsOf('min')).toEqual(['at 3: expected "(" after the function min but found end of formula']);
    expect(errorsOf('profile(1)')).toEqual(['at 7: expected an operator or end of formula but found "("']);
  });

  it('rejects unknown names, unknown functions and wrong arity, listing them all', () => {
    expect(errorsOf('user.age + 1')).toEqual(['at 0: unknown name "user"; a formula reads from profile, context, offer (e.g. profile.attributes.tier)']);
    expect(errorsOf('pow(2, 3) + abs(1, 2) + now + min(1)')).toEqual([
      'at 0: unknown function "pow"; expected one of min, max, abs, round, floor, ceil, sqrt, log, coalesce, daysSince, contains',
      'at 12: abs expects 1 argument but got 2',
      'at 24: unknown name "now"; a formula reads from profile, context, offer (e.g. profile.attributes.tier)',
      'at 30: min expects at least 2 arguments but got 1',
    ]);
    expect(errorsOf('contains(offer.tags)')).toEqual(['at 0: contains expects 2 arguments but got 1']);
    expect(errorsOf('coalesce()')).toEqual(['at 0: coalesce expects at least 2 arguments but got 0']);
    // A syntax error after a name error still reports both.
    expect(errorsOf('foo + (')).toEqual([expect.stringContaining('at 0: unknown name "foo"'), 'at 7: expected a value but found end of formula']);
  });

  it('cannot reach code: no eval, no constructors, no prototype', () => {
    expect(errorsOf('constructor.constructor("return 1")()')[0]).toBe('at 0: unknown name "constructor"; a formula reads from profile, context, offer (e.g. profile.attributes.tier)');
    expect(parseExpression('profile.constructor.constructor("return process")()').ok).toBe(false);
    expect(parseExpression('this').ok).toBe(false);
    expect(parseExpression('globalThis.process').ok).toBe(false);
    expect(parseExpression('eval("1")').ok).toBe(false);
    expect(parseExpression('Function("return 1")()').ok).toBe(false);
    expect(parseExpression('`1`').ok).toBe(false);
    expect(parseExpression('offer.priority; 1').ok).toBe(false);
    expect(parseExpression('x => 1').ok).toBe(false);
  });

  it('enforces the limits', () => {
    expect(parseExpression(`1${' '.repeat(EXPRESSION_LIMITS.maxLength - 1)}`).ok).toBe(true);
    expect(errorsOf(`1${' '.repeat(EXPRESSION_LIMITS.maxLength)}`)).toEqual(['formula is 2001 characters long; at most 2000 are allowed']);

    const sum = (terms: number) => Array.from({ length: terms }, () => '1').join('+');
    expect(parseExpression(sum(100)).ok).toBe(true); // 199 nodes
    expect(errorsOf(sum(101))[0]).toMatch(/^at \d+: formula is too large; at most 200 values, operators and calls are allowed$/);

    const nested = (levels: number) => `${'('.repeat(levels)}1${')'.repeat(levels)}`;
    expect(parseExpression(nested(32)).ok).toBe(true);
    expect(errorsOf(nested(33))).toEqual([expect.stringMatching(/^at 32: formula nests too deeply; at most 32 levels/)]);
    expect(errorsOf(nested(999))).toEqual([expect.stringMatching(/^at 32: formula nests too deeply/)]);
    expect(errorsOf(`${'!'.repeat(1999)}1`)).toEqual([expect.stringMatching(/^at 32: formula nests too deeply/)]);
    expect(errorsOf(`${'abs('.repeat(40)}1${')'.repeat(40)}`)[0]).toMatch(/^at 131: formula nests too deeply/);
    // Long flat chains are fine: they do not nest.
    expect(parseExpression(Array.from({ length: 60 }, () => 'true').join(' && ')).ok).toBe(true);
  });

  it('never throws on arbitrary input', () => {
    const alphabet = fc.constantFrom(...'profile.attributes offer context min( max( coalesce( ) [ ] , ? : + - * / % ! == != < <= > >= && || " \' \\ 1 2.5 x true null _'.split(' '), ' ', '(', '"a"', '\'b\'');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }).map((parts) => parts.join('')), (source) => {
        const result = parseExpression(source);
        if (result.ok) {
          expect(() => compileExpression(result.value)(SCOPE)).not.toThrow();
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) expect(e).toMatch(/^at \d+: /);
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (source) => void parseExpression(source)), { numRuns: 2000 });
  });
});

describe('evaluation', () => {
  it('reads paths, own properties only', () => {
    expect(run('profile.attributes.spend')).toBe(250);
    expect(run('profile.computed["order.placed"].count')).toBe(3);
    expect(run('context.cartTotal')).toBe(120);
    expect(run('offer.attributes.margin')).toBe(0.25);
    expect(run('profile.attributes.tags[1]')).toBe('bags');
    expect(run('profile.attributes.tags.length')).toBe(2);
    expect(run('profile.attributes.missing.deeper.still')).toBeNull();
    expect(run('profile.attributes.tier.length')).toBeNull(); // strings have no readable properties
    expect(run('profile.attributes')).toBeNull(); // objects and lists are never results
    expect(run('profile.attributes.tags')).toBeNull();
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(run(`profile.attributes.${key}`)).toBeNull();
      expect(run(`profile.attributes["${key}"]`)).toBeNull();
      expect(run(`profile.attributes.tags.${key}`)).toBeNull();
    }
    expect(run('profile.attributes.tags.map')).toBeNull();
    expect(run('profile.attributes.constructor.name')).toBeNull();
    expect(run('profile.attributes.__proto__.constructor')).toBeNull();
    const own = { profile: { attributes: JSON.parse('{"__proto__": 7, "constructor": "c"}') }, context: null, offer: undefined, now: NOW };
    expect(run('profile.attributes.__proto__ + 1', own)).toBe(8);
    expect(run('profile.attributes.constructor', own)).toBe('c');
    expect(run('offer.priority', own)).toBeNull();
    expect(run('context.x', own)).toBeNull();
    const odd = { profile: { nan: NaN, inf: -Infinity, fn: () => 1, big: BigInt(1), sym: Symbol('s'), undef: undefined }, context: {}, offer: {}, now: NOW };
    for (const key of ['nan', 'inf', 'fn', 'big', 'sym', 'undef']) expect(run(`profile.${key}`, odd)).toBeNull();
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(run('profile.a + 1', { ...SCOPE, profile: bare })).toBe(2);
  });

  it('does arithmetic on numbers only, never leaking NaN or Infinity', () => {
    expect(run('1 + 2 * 3')).toBe(7);
    expect(run('(1 + 2) * 3')).toBe(9);
    expect(run('10 - 4 - 3')).toBe(3);
    expect(run('7 % 3')).toBe(1);
    expect(run('-7 % 3')).toBe(-1);
    expect(run('1 / 4')).toBe(0.25);
    expect(run('-offer.priority')).toBe(-5);
    expect(run('- -2')).toBe(2);
    expect(run('1 / 0')).toBeNull();
    expect(run('1 % 0')).toBeNull();
    expect(run('0 / 0')).toBeNull();
    expect(run(`${'9'.repeat(300)} * ${'9'.repeat(300)}`)).toBeNull();
    expect(run(`${'9'.repeat(308)} + ${'9'.repeat(308)}`)).toBeNull();
    expect(run('1 + null')).toBeNull();
    expect(run('1 + "1"')).toBeNull();
    expect(run('"a" + "b" + profile.attributes.tier')).toBe('abgold');
    expect(run('"a" - "b"')).toBeNull();
    expect(run('true + 1')).toBeNull();
    expect(run('-"a"')).toBeNull();
    expect(run('-null')).toBeNull();
    expect(run('profile.attributes.tags * 2')).toBeNull();
  });

  it('compares numbers with numbers and strings with strings; == on any scalars', () => {
    expect(run('2 < 3')).toBe(true);
    expect(run('3 <= 3')).toBe(true);
    expect(run('2 > 3')).toBe(false);
    expect(run('2 >= 3')).toBe(false);
    expect(run('"apple" < "banana"')).toBe(true);
    expect(run('"B" < "a"')).toBe(true); // code unit order
    expect(run('1 < "2"')).toBeNull();
    expect(run('null < 1')).toBeNull();
    expect(run('true > false')).toBeNull();
    expect(run('1 == 1')).toBe(true);
    expect(run('1 == "1"')).toBe(false);
    expect(run('"gold" == profile.attributes.tier')).toBe(true);
    expect(run('profile.attributes.missing == null')).toBe(true);
    expect(run('profile.attributes.nothing == null')).toBe(true);
    expect(run('profile.attributes.spend != null')).toBe(true);
    expect(run('true != false')).toBe(true);
    expect(run('profile.attributes.tags == profile.attributes.tags')).toBeNull();
    expect(run('profile.attributes.tags != 1')).toBeNull();
  });

  it('treats only true as true in &&, ||, ! and ?:', () => {
    expect(run('true && true')).toBe(true);
    expect(run('true && 1')).toBe(false);
    expect(run('false || true')).toBe(true);
    expect(run('null || "yes"')).toBe(false);
    expect(run('!true')).toBe(false);
    expect(run('!null')).toBe(true);
    expect(run('!1')).toBe(true);
    expect(run('1 ? 2 : 3')).toBe(3);
    expect(run('true ? 2 : 3')).toBe(2);
    expect(run('null ? 2 : 3')).toBe(3);
    expect(run('profile.attributes.vip ? offer.priority : 0')).toBe(5);
    expect(run('false ? 1 : true ? 2 : 3')).toBe(2);
    // Short-circuits; the untaken side may be anything (there are no side effects to observe, but it is not evaluated).
    expect(run('false && 1 / 0 == 1')).toBe(false);
  });

  it('implements every function', () => {
    expect(run('min(3, 1, 2)')).toBe(1);
    expect(run('max(3, 1, offer.priority)')).toBe(5);
    expect(run('min(1, null)')).toBeNull();
    expect(run('max(1, "2")')).toBeNull();
    expect(run('abs(-2.5)')).toBe(2.5);
    expect(run('round(2.5)')).toBe(3);
    expect(run('round(-2.5)')).toBe(-2);
    expect(run('floor(-1.5)')).toBe(-2);
    expect(run('ceil(1.2)')).toBe(2);
    expect(run('sqrt(16)')).toBe(4);
    expect(run('sqrt(-1)')).toBeNull();
    expect(run('log(1)')).toBe(0);
    expect(run('log(0)')).toBeNull();
    expect(run('abs("1")')).toBeNull();
    expect(run('coalesce(profile.attributes.missing, profile.attributes.nothing, 0, 1)')).toBe(0);
    expect(run('coalesce(null, null)')).toBeNull();
    expect(run('coalesce(profile.attributes.affinity.shoes, 0)')).toBe(0.8);
    expect(run('coalesce(profile.attributes.affinity, 1)')).toBeNull(); // an object is found first, and is never a result
    expect(run('daysSince(profile.attributes.signedUpAt)')).toBe(10);
    expect(run('daysSince(profile.computed["order.placed"].lastSeen)')).toBe(2);
    expect(run('daysSince("2025-06-14")')).toBe(1.5);
    expect(run('daysSince("2025-06-16T12:00:00+00:00")')).toBe(-1);
    expect(run('daysSince("yesterday")')).toBeNull();
    expect(run('daysSince("2025-02-30")')).toBeNull();
    expect(run('daysSince(true)')).toBeNull();
    expect(run('daysSince(1e16)')).toBeNull();
    expect(run('daysSince(0)', { ...SCOPE, now: NaN })).toBeNull();
    expect(run('contains(profile.attributes.tags, "shoes")')).toBe(true);
    expect(run('contains(profile.attributes.tags, "hats")')).toBe(false);
    expect(run('contains(profile.attributes.tier, "ol")')).toBe(true);
    expect(run('contains(profile.attributes.tier, 1)')).toBeNull();
    expect(run('contains(profile.attributes.missing, "x")')).toBeNull();
    expect(run('contains(profile.attributes.tags, null)')).toBeNull();
    expect(run('contains(profile.attributes.affinity, "shoes")')).toBeNull(); // objects are not lists
    expect(run('contains(profile.attributes.tags, profile.attributes.tags)')).toBeNull();
  });

  it('evaluates the documented examples', () => {
    expect(run('offer.priority + 10 * coalesce(profile.attributes.affinity.shoes, 0)')).toBe(13);
    expect(run('context.cartTotal > 100 ? offer.attributes.margin * 2 : offer.attributes.margin')).toBe(0.5);
    expect(run('offer.priority - min(daysSince(profile.attributes.signedUpAt), 30) / 10')).toBe(4);
    expect(run('contains(profile.attributes.tags, "shoes") && offer.attributes.brand == "acme" ? 100 : offer.priority')).toBe(100);
  });
});

describe('helpers', () => {
  it('scoreOf keeps finite numbers only', () => {
    expect(scoreOf(1.5)).toBe(1.5);
    expect(scoreOf(0)).toBe(0);
    for (const v of [null, undefined, '1', true, NaN, Infinity, -Infinity, {}, []]) expect(scoreOf(v)).toBeNull();
  });

  it('expressionPaths lists each path once, in order, as written', () => {
    const paths = expressionPaths(parse('coalesce(profile.computed["order.placed"].count, 0) + offer.priority * offer.priority + context["cart-total"] + profile.attributes.tags[0]'));
    expect(paths.map((p) => p.text)).toEqual(['profile.computed["order.placed"].count', 'offer.priority', 'context["cart-total"]', 'profile.attributes.tags["0"]']);
    expect(paths[0]).toEqual({ root: 'profile', keys: ['computed', 'order.placed', 'count'], text: 'profile.computed["order.placed"].count' });
    expect(expressionPaths(parse('1 + 2'))).toEqual([]);
  });

  it('printExpression uses only the parentheses it needs', () => {
    expect(printExpression(parse('(1 + (2 * 3))'))).toBe('1 + 2 * 3');
    expect(printExpression(parse('(1 - 2) - (3 - 4)'))).toBe('1 - 2 - (3 - 4)');
    expect(printExpression(parse('(a ? 1 : 2) ? 3 : 4'.replace('a', 'true')))).toBe('(true ? 1 : 2) ? 3 : 4');
    expect(printExpression(parse('-(1 + 2)'))).toBe('-(1 + 2)');
    expect(printExpression(parse('- -1'))).toBe('- -1');
    expect(printExpression(parse("profile['a b'].c"))).toBe('profile["a b"].c');
    expect(printExpression({ kind: 'literal', value: 'x"\n' })).toBe('"x\\"\\n"');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests

/** Fully parenthesised, to make the tree shape visible in assertions. */
function printTree(e: Expr): string {
  switch (e.kind) {
    case 'literal':
    case 'path':
      return printExpression(e);
    case 'unary':
      return `(${e.op}${printTree(e.operand)})`;
    case 'binary':
      return `(${printTree(e.left)} ${e.op} ${printTree(e.right)})`;
    case 'conditional':
      return `(${printTree(e.test)} ? ${printTree(e.then)} : ${printTree(e.otherwise)})`;
    case 'call':
      return `${e.fn}(${e.args.map(printTree).join(', ')})`;
  }
}

const KEYS = ['spend', 'tier', 'tags', 'affinity', 'shoes', 'margin', 'priority', 'count', 'order.placed', 'constructor', '__proto__', 'toString', 'length', '0', 'at'] as const;
const ROOT_SHAPES: readonly string[][] = [
  ['attributes', 'spend'],
  ['attributes', 'tier'],
  ['attributes', 'tags'],
  ['attributes', 'affinity', 'shoes'],
  ['attributes', 'signedUpAt'],
  ['computed', 'order.placed', 'count'],
  ['computed', 'order.placed', 'lastSeen'],
  ['cartTotal'],
  ['priority'],
  ['attributes', 'margin'],
];

const literalArb: fc.Arbitrary<Expr> = fc
  .oneof(
    fc.constantFrom(0, 1, 2, 3, 0.5, 10, 100, 1e21, 5e-7),
    fc.double({ min: 0, max: 1e6, noNaN: true }),
    fc.constantFrom('gold', 'silver', '', 'a', 'shoes', 'ol', '2025-06-01', '2025-06-14T10:00:00Z', 'quote"\'\\\n'),
    fc.boolean(),
    fc.constant(null),
  )
  .map((value) => ({ kind: 'literal' as const, value }));

const pathArb: fc.Arbitrary<Expr> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('profile' as const, 'context' as const, 'offer' as const), fc.constantFrom(...ROOT_SHAPES)).map(([root, keys]) => ({ kind: 'path' as const, root, keys })) },
  fc.tuple(fc.constantFrom('profile' as const, 'context' as const, 'offer' as const), fc.array(fc.constantFrom(...KEYS, 'attributes', 'computed'), { maxLength: 4 })).map(([root, keys]) => ({
    kind: 'path' as const,
    root,
    keys,
  })),
);

const FUNCTIONS = Object.keys(EXPRESSION_FUNCTIONS) as FunctionName[];

const { expr: exprArb } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literalArb,
    pathArb,
    fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom('!' as const, '-' as const), operand: tie('expr') }),
    fc.record({
      kind: fc.constant('binary' as const),
      op: fc.constantFrom('||' as const, '&&' as const, '==' as const, '!=' as const, '<' as const, '<=' as const, '>' as const, '>=' as const, '+' as const, '-' as const, '*' as const, '/' as const, '%' as const),
      left: tie('expr'),
      right: tie('expr'),
    }),
    fc.record({ kind: fc.constant('conditional' as const), test: tie('expr'), then: tie('expr'), otherwise: tie('expr') }),
    fc.constantFrom(...FUNCTIONS).chain((fn) => {
      const { minArgs, maxArgs } = EXPRESSION_FUNCTIONS[fn];
      return fc.array(tie('expr'), { minLength: minArgs, maxLength: Math.min(maxArgs, minArgs + 2) }).map((args) => ({ kind: 'call' as const, fn, args }));
    }),
  ),
}));

const scalarArb = fc.oneof(
  fc.constantFrom(0, -0, 1, 2, 0.5, -3, 100, 1e308, 'gold', 'silver', '', 'shoes', 'a', true, false, null, undefined, NaN, Infinity),
  fc.integer({ min: -20, max: 200 }),
  fc.constantFrom('2025-06-01', '2025-06-14T10:00:00Z', '2025-02-30', 'yesterday'),
  fc.integer({ min: -100, max: 100 }).map((d) => NOW + d * DAY),
);
const valueArb = fc.oneof({ weight: 4, arbitrary: scalarArb }, fc.array(scalarArb, { maxLength: 3 }));
const recordArb = (keys: readonly string[]) => fc.dictionary(fc.constantFrom(...keys), valueArb, { maxKeys: 5 });

const profileArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({
    attributes: fc.record(
      { spend: valueArb, tier: valueArb, tags: fc.oneof(fc.array(scalarArb, { maxLength: 4 }), valueArb), affinity: fc.oneof(recordArb(['shoes', 'bags']), valueArb), signedUpAt: valueArb, margin: valueArb, constructor: valueArb },
      { requiredKeys: [] },
    ),
    computed: fc.dictionary(fc.constantFrom('order.placed', 'page.viewed'), fc.record({ count: valueArb, lastSeen: valueArb }, { requiredKeys: [] }), { maxKeys: 2 }),
  }) },
  fc.anything(),
);
const scopeArb: fc.Arbitrary<ExpressionScope> = fc.record({
  profile: profileArb,
  context: fc.oneof(recordArb(['cartTotal', 'channel', 'priority']), fc.anything()),
  offer: fc.oneof(fc.record({ priority: valueArb, attributes: recordArb(['margin', 'brand', 'spend', 'tags']) }, { requiredKeys: [] }), fc.anything()),
  now: fc.oneof({ weight: 9, arbitrary: fc.constant(NOW) }, fc.integer({ min: NOW - 400 * DAY, max: NOW + 400 * DAY }), fc.constant(NaN)),
});

describe('properties', () => {
  it('the compiled closure agrees with the reference interpreter', () => {
    let numbers = 0;
    let total = 0;
    fc.assert(
      fc.property(exprArb, fc.array(scopeArb, { minLength: 1, maxLength: 4 }), (expr, scopes) => {
        const compiled = compileExpression(expr);
        for (const scope of scopes) {
          const value = compiled(scope);
          expect(value).toBe(referenceEvaluate(expr, scope));
          // Results are scalars, and never NaN or an infinity.
          expect(value === null || ['number', 'string', 'boolean'].includes(typeof value)).toBe(true);
          if (typeof value === 'number') {
            expect(Number.isFinite(value)).toBe(true);
            numbers++;
          }
          total++;
        }
      }),
      { numRuns: 3000 },
    );
    // Guards the generators: comparing nothing but nulls proves little.
    expect(numbers / total).toBeGreaterThan(0.1);
  });

  it('printing and parsing round-trip', () => {
    fc.assert(
      fc.property(exprArb, (expr) => {
        const source = printExpression(expr);
        const parsed = parseExpression(source);
        if (!parsed.ok) throw new Error(`${source}: ${parsed.errors.join('; ')}`);
        expect(parsed.value).toEqual(expr);
        expect(printExpression(parsed.value)).toBe(source);
      }),
      { numRuns: 3000 },
    );
  });

  it('expressionPaths lists exactly the paths in the tree', () => {
    fc.assert(
      fc.property(exprArb, (expr) => {
        const texts = expressionPaths(expr).map((p) => p.text);
        expect(new Set(texts).size).toBe(texts.length);
        for (const path of expressionPaths(expr)) expect(parse(path.text)).toEqual({ kind: 'path', root: path.root, keys: path.keys });
      }),
      { numRuns: 500 },
    );
  });
});
