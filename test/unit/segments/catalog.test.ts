import { buildEngine } from '../../../lambdas/core/segments/cached-catalog';
import { membershipKey, orderSegments } from '../../../lambdas/core/segments/catalog';
import { SegmentCatalogError, SegmentEngine } from '../../../lambdas/core/segments/engine';
import type { Rule, SegmentDefinition } from '../../../lambdas/core/segments/rule';

const gold: Rule = { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' };

function segment(id: string, rule: Rule = gold): SegmentDefinition {
  return { schemaVersion: 1, id, name: id, rule };
}

/** A segment whose rule references each of `refs` (and reads `tier`). */
function referencing(id: string, ...refs: string[]): SegmentDefinition {
  return segment(id, { kind: 'all', rules: [gold, ...refs.map((ref): Rule => ({ kind: 'segment', id: ref }))] });
}

function ids(result: ReturnType<typeof orderSegments>): string[] {
  if (!result.ok) throw new Error(`expected an ordered catalog, got ${result.errors.join('; ')}`);
  return result.order.map((s) => s.id);
}

describe('orderSegments', () => {
  it('puts every segment after the segments it references, ties by id', () => {
    const result = orderSegments([referencing('alpha', 'zulu'), segment('mike'), referencing('zulu', 'yankee'), segment('yankee'), referencing('bravo', 'alpha', 'mike')]);
    expect(ids(result)).toEqual(['yankee', 'zulu', 'alpha', 'mike', 'bravo']);
  });

  it('orders independent segments by id whatever the input order', () => {
    expect(ids(orderSegments([segment('c'), segment('a'), segment('b')]))).toEqual(['a', 'b', 'c']);
  });

  it('orders an empty catalog', () => {
    expect(ids(orderSegments([]))).toEqual([]);
  });

  it('names the segment and the unknown segment it references, and marks only the referencing segment invalid', () => {
    const result = orderSegments([segment('known'), referencing('broken', 'known', 'ghost')]);
    expect(result).toEqual({ ok: false, errors: ['segment "broken": rule references unknown segment "ghost"'], invalid: ['broken'] });
  });

  it('finds an unknown reference nested under not/any', () => {
    const nested = segment('nested', { kind: 'not', rule: { kind: 'any', rules: [gold, { kind: 'segment', id: 'missing' }] } });
    expect(orderSegments([nested])).toEqual({ ok: false, errors: ['segment "nested": rule references unknown segment "missing"'], invalid: ['nested'] });
  });

  it('reports a segment that references itself as a cycle of one', () => {
    const result = orderSegments([referencing('loop', 'loop'), segment('fine')]);
    expect(result).toEqual({ ok: false, errors: ['segment "loop": references form a cycle: loop → loop'], invalid: ['loop'] });
  });

  it('names a longer cycle with its path and marks every segment on it invalid (not the segments outside it)', () => {
    const result = orderSegments([referencing('a', 'b'), referencing('b', 'c'), referencing('c', 'a'), referencing('d', 'a'), segment('e')]);
    expect(result).toEqual({ ok: false, errors: ['segment "a": references form a cycle: a → b → c → a'], invalid: ['a', 'b', 'c'] });
  });

  it('names only the cycle when the path into it starts outside it', () => {
    // Visiting starts at "entry" (first by id), which is not on the cycle.
    const result = orderSegments([referencing('entry', 'x'), referencing('x', 'y'), referencing('y', 'x')]);
    expect(result).toEqual({ ok: false, errors: ['segment "x": references form a cycle: x → y → x'], invalid: ['x', 'y'] });
  });

  it('reports every problem at once', () => {
    const result = orderSegments([referencing('self', 'self'), referencing('lost', 'nowhere'), segment('dup'), segment('dup')]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(expect.arrayContaining(['segment "dup": defined twice', 'segment "lost": rule references unknown segment "nowhere"', 'segment "self": references form a cycle: self → self']));
    expect(result.errors).toHaveLength(3);
    expect(result.invalid).toEqual(['dup', 'lost', 'self']);
  });
});

describe('SegmentEngine.create', () => {
  it('throws SegmentCatalogError naming each problem', () => {
    const create = () => SegmentEngine.create([referencing('a', 'b'), referencing('b', 'a')]);
    expect(create).toThrow(SegmentCatalogError);
    expect(create).toThrow('invalid segment catalog: segment "a": references form a cycle: a → b → a');
  });
});

describe('buildEngine', () => {
  it('keeps a valid catalog whole', () => {
    const { engine, dropped } = buildEngine([segment('gold'), referencing('vip', 'gold')]);
    expect(dropped).toEqual([]);
    expect(engine.definitions().map((d) => d.id)).toEqual(['gold', 'vip']);
  });

  it('drops segments with unknown references or in cycles, and the segments that reference them, keeping the rest', () => {
    const { engine, dropped } = buildEngine([
      segment('gold'),
      referencing('vip', 'gold'),
      referencing('lost', 'ghost'),
      referencing('needs-lost', 'lost'),
      referencing('needs-needs-lost', 'needs-lost'),
      referencing('a', 'b'),
      referencing('b', 'a'),
      referencing('on-cycle', 'a', 'gold'),
    ]);
    expect(dropped).toEqual(['a', 'b', 'lost', 'needs-lost', 'needs-needs-lost', 'on-cycle']);
    expect(engine.definitions().map((d) => d.id)).toEqual(['gold', 'vip']);
    expect(engine.has('on-cycle')).toBe(false);
    // What is left evaluates.
    const result = engine.evaluate({ attributes: { tier: 'gold' } }, {}, 'all', 0, '2026-01-01T00:00:00.000Z');
    expect(result.entered).toEqual(['gold', 'vip']);
  });

  it('drops both copies of a segment defined twice', () => {
    const { engine, dropped } = buildEngine([segment('twin'), segment('twin'), segment('single')]);
    expect(dropped).toEqual(['twin']);
    expect(engine.definitions().map((d) => d.id)).toEqual(['single']);
  });
});

describe('membershipKey', () => {
  it('replaces dashes so the key is a JSONPath identifier', () => {
    expect(membershipKey('cart-abandoners-eu')).toBe('cart_abandoners_eu');
  });
});
