import { StateMachine } from 'aws-local-stepfunctions';
import fc from 'fast-check';
import { Condition, evaluateCondition, toChoiceRule } from '../../../lambdas/core/journey';

const choiceMachine = (conditions: Condition[]) => ({
  StartAt: 'c',
  States: {
    c: { Type: 'Choice', Choices: conditions.map((c) => ({ ...toChoiceRule(c), Next: 'yes' })), Default: 'no' },
    // String results: the runner treats `Result: false` as no Result and passes the input through.
    yes: { Type: 'Pass', Result: 'yes', End: true },
    no: { Type: 'Pass', Result: 'no', End: true },
  },
});

/**
 * Runs a condition as the compiled Choice rule in the local Step Functions runner: the reference for what runs on AWS.
 * Schema validation costs ~50 ms per machine, so the property test skips it per run and validates all its rules at once.
 */
async function runChoice(condition: Condition, data: unknown, validate = true): Promise<boolean> {
  const machine = new StateMachine(choiceMachine([condition]) as never, { validationOptions: validate ? { checkPaths: false } : { noValidate: true } });
  const result = await machine.run(data as never).result;
  if (result !== 'yes' && result !== 'no') throw new Error(`unexpected result ${JSON.stringify(result)}`);
  return result === 'yes';
}

// Small pools so that random paths often hit random data; the odd names probe own-property reading.
const ROOTS = ['event', 'profile', 'context', 'steps'] as const;
const KEYS = ['a', 'b', 'total', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'] as const;
type Scalar = string | number | boolean;
const strings = fc.constantFrom('', 'a', 'b', 'B', 'ab', 'gold', '10', 'é');
const numbers = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -1.5, 10, 1e21));
const scalar: fc.Arbitrary<Scalar> = fc.oneof(strings, numbers, fc.boolean());
const randomPath = fc.tuple(fc.constantFrom(...ROOTS), fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 2 })).map(([root, keys]) => [root, ...keys].join('.'));

type Json = null | Scalar | Json[] | { [key: string]: Json };
// Objects over the same small key pool, so that many generated paths lead somewhere (and inherited names often do not).
const objectOf = (v: fc.Arbitrary<Json>) => fc.dictionary(fc.constantFrom(...KEYS), v, { maxKeys: 3 });
const value: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'value' },
    { arbitrary: scalar, weight: 4 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: fc.array(tie('v'), { maxLength: 2 }), weight: 1 },
    { arbitrary: objectOf(tie('v')), weight: 3 },
  ),
})).v;
const document = fc.record({ event: objectOf(value), profile: objectOf(value), context: objectOf(value), steps: value }, { requiredKeys: [] });

/** The paths (root plus one or two keys) a document holds, with the scalar found there if any. */
function contents(doc: Record<string, Json>): { paths: string[]; targets: [string, Scalar][] } {
  const paths: string[] = [];
  const targets: [string, Scalar][] = [];
  const walk = (v: Json, at: string[]) => {
    if (at.length < 2 || at.length > 3) return;
    paths.push(at.join('.'));
    if (v !== null && typeof v !== 'object') targets.push([at.join('.'), v]);
    else if (v !== null && !Array.isArray(v)) for (const [k, child] of Object.entries(v)) walk(child, [...at, k]);
  };
  for (const [root, v] of Object.entries(doc)) if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, child] of Object.entries(v)) walk(child, [root, k]);
  return { paths, targets };
}

/** A value of the same type near `v`, or `v` itself, so that comparisons go either way. */
const near = (v: Scalar): fc.Arbitrary<Scalar> =>
  typeof v === 'number' ? fc.constantFrom(v, v - 1, v + 1, v + 0.5) : typeof v === 'string' ? fc.oneof(fc.constant(v), strings) : fc.boolean();

function conditionOver(path: fc.Arbitrary<string>, targets: [string, Scalar][]): fc.Arbitrary<Condition> {
  const ordered = fc.oneof(strings, numbers);
  const leaves: fc.Arbitrary<Condition>[] = [
    fc.record({ path, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
    fc.record({ path, op: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const), value: ordered }),
    fc.record({ path, op: fc.constant('in' as const), values: fc.array(ordered, { minLength: 1, maxLength: 3 }) }),
    fc.record({ path, op: fc.constantFrom('exists' as const, 'missing' as const) }),
  ];
  if (targets.length > 0) {
    // Comparisons aimed at a value the document holds, so that they hold about as often as not.
    const target = fc.constantFrom(...targets);
    const ops = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'] as const;
    leaves.push(
      fc.tuple(target, fc.constantFrom(...ops)).chain(([[p, v], op]): fc.Arbitrary<Condition> => {
        if (op === 'in') return fc.array(near(v), { minLength: 1, maxLength: 3 }).map((values) => ({ path: p, op, values: values.filter((x) => typeof x !== 'boolean') as (string | number)[] }));
        if (op === 'eq' || op === 'ne' || typeof v !== 'boolean') return near(v).map((value) => ({ path: p, op, value }));
        return fc.constant({ path: p, op: 'eq', value: v });
      }),
    );
  }
  const leaf = fc.oneof(...leaves);
  return fc.letrec<{ c: Condition }>((tie) => ({
    c: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'condition' },
      leaf,
      fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
      fc.record({ not: tie('c') }),
    ),
  })).c;
}

/** A document and a condition that mostly reads paths and values found in it. */
const conditionAndDocument = document.chain((doc) => {
  const { paths, targets } = contents(doc as Record<string, Json>);
  const path = paths.length > 0 ? fc.oneof(randomPath, fc.constantFrom(...paths)) : randomPath;
  return fc.tuple(conditionOver(path, targets), fc.constant(doc));
});

describe('evaluateCondition', () => {
  it('agrees with the compiled Choice rule run by the local Step Functions runner', async () => {
    const tried: Condition[] = [];
    await fc.assert(
      fc.asyncProperty(
        conditionAndDocument.filter(([c]) => Condition.safeParse(c).success),
        async ([c, data]) => {
          tried.push(c);
          expect(evaluateCondition(c, data)).toBe(await runChoice(c, data, false));
        },
      ),
      { numRuns: 300 },
    );
    // Every rule the property ran is valid ASL.
    expect(() => new StateMachine(choiceMachine(tried) as never, { validationOptions: { checkPaths: false } })).not.toThrow();
  });

  it.each<[string, Condition, unknown]>([
    ['an inherited property is missing', { path: 'event.constructor', op: 'exists' }, { event: {} }],
    ['an inherited method is missing', { path: 'event.toString', op: 'missing' }, { event: {} }],
    ['a list has no fields', { path: 'event.a.b', op: 'exists' }, { event: { a: [{ b: 1 }] } }],
    ['a list is not its element', { path: 'event.a', op: 'eq', value: 1 }, { event: { a: [1] } }],
    ['null is not present for exists', { path: 'event.a', op: 'exists' }, { event: { a: null } }],
    ['ne holds when the value is absent', { path: 'profile.tier', op: 'ne', value: 'gold' }, {}],
    ['ne holds when the type differs', { path: 'profile.tier', op: 'ne', value: 1 }, { profile: { tier: '1' } }],
    ['comparisons are typed: "10" is not greater than 5', { path: 'event.total', op: 'gt', value: 5 }, { event: { total: '10' } }],
    ['strings compare by code unit', { path: 'event.name', op: 'lt', value: 'b' }, { event: { name: 'B' } }],
  ])('agrees with the Choice rule when %s', async (_name, c, data) => {
    expect(Condition.safeParse(c).success).toBe(true);
    expect(evaluateCondition(c, data)).toBe(await runChoice(c, data));
  });

  it.each<[string, Condition, unknown, boolean]>([
    ['eq on a number', { path: 'event.total', op: 'eq', value: 3 }, { event: { total: 3 } }, true],
    ['gte on a number', { path: 'event.total', op: 'gte', value: 50 }, { event: { total: 49.99 } }, false],
    ['in on a string', { path: 'profile.attributes.tier', op: 'in', values: ['gold', 'silver'] }, { profile: { attributes: { tier: 'silver' } } }, true],
    ['missing on an absent path', { path: 'steps.wait_for_order.event', op: 'missing' }, { steps: {} }, true],
    ['all with one false', { all: [{ path: 'event.a', op: 'exists' }, { path: 'event.b', op: 'exists' }] }, { event: { a: 1 } }, false],
    ['any with one true', { any: [{ path: 'event.a', op: 'exists' }, { path: 'event.b', op: 'exists' }] }, { event: { a: 1 } }, true],
    ['not', { not: { path: 'event.a', op: 'exists' } }, { event: { a: 1 } }, false],
  ])('evaluates %s', (_name, c, data, expected) => {
    expect(evaluateCondition(c, data)).toBe(expected);
  });
});

describe('Condition', () => {
  it.each<[string, unknown]>([
    ['an ordering comparison of booleans (no such ASL operator)', { path: 'event.a', op: 'lt', value: false }],
    ['a path through .length (the runtimes disagree on lists and strings)', { path: 'event.items.length', op: 'gt', value: 0 }],
    ['a path with an unknown root', { path: 'order.total', op: 'gt', value: 0 }],
    ['an empty all', { all: [] }],
    ['an unknown operator', { path: 'event.a', op: 'like', value: 'x' }],
  ])('rejects %s', (_name, c) => {
    expect(Condition.safeParse(c).success).toBe(false);
  });
});
