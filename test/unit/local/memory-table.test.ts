import fc from 'fast-check';
import { compareKeys, MemoryTable } from '../../../lambdas/local/memory/table';

describe('memory table', () => {
  it('orders keys as DynamoDB does: by their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
    // U+FF5E sorts before U+1F600 in UTF-8, after its UTF-16 surrogates.
    expect(compareKeys('\uff5e', '\u{1f600}')).toBeLessThan(0);
  });

  it('queries a partition by prefix, in either direction, after an exclusive start, up to a limit', () => {
    const table = new MemoryTable('t');
    for (const sk of ['a#3', 'a#1', 'b#1', 'a#2']) table.put({ pk: 'P', sk });
    const sks = (items: Record<string, unknown>[]) => items.map((i) => i.sk);
    expect(sks(table.query('P', { prefix: 'a#' }))).toEqual(['a#1', 'a#2', 'a#3']);
    expect(sks(table.query('P', { prefix: 'a#', descending: true, limit: 2 }))).toEqual(['a#3', 'a#2']);
    expect(sks(table.query('P', { exclusiveStart: 'a#2' }))).toEqual(['a#3', 'b#1']);
    expect(sks(table.query('P', { exclusiveStart: 'a#2', descending: true }))).toEqual(['a#1']);
    expect(sks(table.query('P', { exclusiveStart: 'a#25', descending: true }))).toEqual(['a#2', 'a#1']);
    expect(table.query('other')).toEqual([]);
  });

  it('keeps the profile index in step with overwrites and deletes', () => {
    const table = new MemoryTable('runtime', { profileIndex: true });
    table.put({ pk: 'LEDGER#x', sk: 'n', profileId: 'p-1' });
    table.put({ pk: 'ENROLL#j#p-1', sk: 'ENROLL', profileId: 'p-1' });
    expect(table.profileKeys('p-1')).toEqual([{ pk: 'ENROLL#j#p-1', sk: 'ENROLL' }, { pk: 'LEDGER#x', sk: 'n' }]);
    table.put({ pk: 'LEDGER#x', sk: 'n', profileId: 'p-2' });
    table.delete({ pk: 'ENROLL#j#p-1', sk: 'ENROLL' });
    expect(table.profileKeys('p-1')).toEqual([]);
    expect(table.profileKeys('p-2', 'LEDGER#')).toEqual([{ pk: 'LEDGER#x', sk: 'n' }]);
    expect(() => new MemoryTable('profiles').profileKeys('p-1')).toThrow('no byProfile index');
  });

  it('stores a frozen copy without undefined attributes, so no writer or reader changes it afterwards', () => {
    const table = new MemoryTable('t');
    const item = { pk: 'P', sk: 'S', gone: undefined, list: [1, undefined, 2], map: new Map([['__proto__', 1]]), nested: { a: 1 } };
    table.put(item);
    item.nested.a = 2;
    const read = table.get({ pk: 'P', sk: 'S' })!;
    expect(read).toEqual({ pk: 'P', sk: 'S', list: [1, 2], map: { ['__proto__']: 1 }, nested: { a: 1 } });
    expect(Object.hasOwn(read.map as object, '__proto__')).toBe(true);
    expect(() => ((read.nested as { a: number }).a = 3)).toThrow(TypeError);
  });

  it('refuses the keys DynamoDB refuses: empty, or longer than 2048 (partition) or 1024 (sort) bytes', () => {
    const table = new MemoryTable('t');
    expect(() => table.put({ pk: '', sk: 'S' })).toThrow(expect.objectContaining({ name: 'ValidationException' }));
    expect(() => table.put({ pk: 'é'.repeat(1025), sk: 'S' })).toThrow('2048');
    expect(() => table.put({ pk: 'P', sk: 'x'.repeat(1025) })).toThrow('1024');
    table.put({ pk: 'x'.repeat(2048), sk: 'y'.repeat(1024) });
  });

  it('deletes what has expired on a sweep, as TTL does eventually', () => {
    const table = new MemoryTable('t');
    table.put({ pk: 'P', sk: '1', expiresAt: 100 });
    table.put({ pk: 'P', sk: '2', expiresAt: 101 });
    table.put({ pk: 'P', sk: '3' });
    expect(table.sweepExpired(100)).toBe(1);
    expect(table.query('P').map((i) => i.sk)).toEqual(['2', '3']);
  });
});
