import { InMemoryMembershipStore, InMemorySegmentStore } from '../../../lambdas/core/segments/memory-stores';
import type { SegmentRecord } from '../../../lambdas/core/segments/ports';

function record(id: string, version: number, value = 'gold'): SegmentRecord {
  return { definition: { schemaVersion: 1, id, name: id, rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value } }, origin: 'api', version, updatedAt: '2026-01-01T00:00:00.000Z' };
}

describe('InMemorySegmentStore', () => {
  it('creates only when no segment has the id (no expected version)', async () => {
    const store = new InMemorySegmentStore();
    expect(await store.put(record('vip', 1), {})).toBe(true);
    expect(await store.put(record('vip', 1, 'silver'), {})).toBe(false);
    expect((await store.get('vip'))?.definition.rule).toMatchObject({ value: 'gold' });
  });

  it('replaces only at the expected version', async () => {
    const store = new InMemorySegmentStore([record('vip', 3)]);
    expect(await store.put(record('vip', 4, 'silver'), { expectedVersion: 2 })).toBe(false);
    expect(await store.put(record('other', 1), { expectedVersion: 0 })).toBe(false);
    expect(await store.put(record('vip', 4, 'silver'), { expectedVersion: 3 })).toBe(true);
    expect(await store.get('vip')).toEqual(record('vip', 4, 'silver'));
  });

  it('writes unconditionally with force', async () => {
    const store = new InMemorySegmentStore([record('vip', 3)]);
    expect(await store.put(record('vip', 1, 'silver'), { force: true, expectedVersion: 99 })).toBe(true);
    expect((await store.get('vip'))?.version).toBe(1);
  });

  it('lists by id, deletes once, and hands out copies', async () => {
    const store = new InMemorySegmentStore([record('b', 1), record('a', 1)]);
    expect((await store.list()).map((r) => r.definition.id)).toEqual(['a', 'b']);
    const copy = (await store.get('a'))!;
    copy.version = 42;
    expect((await store.get('a'))?.version).toBe(1);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.get('a')).toBeUndefined();
  });
});

describe('InMemoryMembershipStore', () => {
  it('reads version 0 and no segments for a profile never written', async () => {
    expect(await new InMemoryMembershipStore().get('p-1')).toEqual({ segments: {}, version: 0 });
  });

  it('writes only at the expected version, increasing it, and writes nothing otherwise', async () => {
    const store = new InMemoryMembershipStore();
    expect(await store.put('p-1', { vip: 't1' }, 1)).toBe(false);
    expect(await store.put('p-1', { vip: 't1' }, 0)).toBe(true);
    expect(await store.put('p-1', { gold: 't2' }, 0)).toBe(false);
    expect(await store.get('p-1')).toEqual({ segments: { vip: 't1' }, version: 1 });
    expect(await store.put('p-1', {}, 1)).toBe(true);
    expect(await store.get('p-1')).toEqual({ segments: {}, version: 2 });
    expect(store.writes).toBe(2);
  });

  it('keeps profiles apart and hands out copies', async () => {
    const store = new InMemoryMembershipStore();
    const segments = { vip: 't1' };
    await store.put('p-1', segments, 0);
    segments.vip = 'changed';
    const read = await store.get('p-1');
    read.segments.vip = 'changed too';
    expect(await store.get('p-1')).toEqual({ segments: { vip: 't1' }, version: 1 });
    expect(await store.get('p-2')).toEqual({ segments: {}, version: 0 });
  });
});

describe('InMemoryMembershipStore pending transitions', () => {
  const pending = { entered: ['vip'], exited: [], cause: { id: 'evt-1', type: 'order.placed' }, at: 't1' };

  it('stores pending transitions with the memberships and clears them on a write without', async () => {
    const store = new InMemoryMembershipStore();
    expect(await store.put('p-1', { vip: 't1' }, 0, pending)).toBe(true);
    expect(await store.get('p-1')).toEqual({ segments: { vip: 't1' }, version: 1, pending });
    expect(await store.put('p-1', { vip: 't1' }, 1)).toBe(true);
    expect(await store.get('p-1')).toEqual({ segments: { vip: 't1' }, version: 2 });
  });

  it('keeps pending transitions when a conditional write fails', async () => {
    const store = new InMemoryMembershipStore();
    await store.put('p-1', { vip: 't1' }, 0, pending);
    expect(await store.put('p-1', {}, 0)).toBe(false);
    expect((await store.get('p-1')).pending).toEqual(pending);
  });
});
