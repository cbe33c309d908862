import { z } from 'zod';
import { parseOffer } from '../../../lambdas/core/decisions/model';
import { formatIssues } from '../../../lambdas/core/events/business-event';
import { ownRecord } from '../../../lambdas/core/shared/own-record';
import { dict, own } from '../../../lambdas/core/shared/records';

describe('records keyed by outside names', () => {
  it('reads only own keys: prototype members are absent', () => {
    const record = dict([['a', 1]]);
    for (const name of Object.getOwnPropertyNames(Object.prototype)) {
      expect(own(record, name)).toBeUndefined();
      expect(own({ a: 1 } as Record<string, number>, name)).toBeUndefined();
    }
    expect(own(record, 'a')).toBe(1);
    expect(own(dict([['__proto__', 2]]), '__proto__')).toBe(2);
  });

  it('parses into a null-prototype record that keeps __proto__ and constructor (JSON makes them own keys)', () => {
    const parsed = ownRecord(z.string(), z.number()).parse(JSON.parse('{"__proto__":1,"constructor":2,"toString":3}'));
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(JSON.stringify(parsed)).toBe('{"__proto__":1,"constructor":2,"toString":3}');
  });

  it('names the key and the nested path of each issue, like z.record', () => {
    const schema = z.object({ attributes: ownRecord(z.string().regex(/^[a-z]+$/, 'lower-case names'), z.object({ n: z.number() })) });
    const parsed = schema.safeParse({ attributes: { Bad: { n: 1 }, good: { n: 'x' } } });
    expect(parsed.success).toBe(false);
    expect(formatIssues(parsed.error!.issues)).toEqual([
      { field: 'attributes.Bad', message: 'lower-case names' },
      { field: 'attributes.good.n', message: expect.stringContaining('expected number') },
    ]);
    expect(ownRecord(z.string(), z.number()).safeParse([1]).success).toBe(false);
    expect(ownRecord(z.string(), z.number()).safeParse(null).success).toBe(false);
  });

  it('keeps an offer attribute and a content field named __proto__', () => {
    const offer = JSON.parse(
      '{"schemaVersion":1,"id":"o","name":"O","placements":{"push":{"title":"t","__proto__":"x"}},"attributes":{"__proto__":1,"constructor":2}}',
    );
    const parsed = parseOffer(offer);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(JSON.stringify(parsed.value.placements)).toBe('{"push":{"title":"t","__proto__":"x"}}');
    expect(JSON.stringify(parsed.value.attributes)).toBe('{"__proto__":1,"constructor":2}');
  });
});
