import { enterJourney } from '../../../lambdas/core/runtime/enter';
import { carryOverMerge } from '../../../lambdas/core/runtime/merge';
import type { Enrollment } from '../../../lambdas/core/runtime/ports';
import { routeBusinessEvent } from '../../../lambdas/core/runtime/route';
import { InMemoryMembershipStore } from '../../../lambdas/core/segments/memory-stores';
import type { CapCarryOver } from '../../../lambdas/core/decisions/ports';
import { businessEvent, FakeClock, journeyRecord, MemoryEnrollmentStore, runtime } from './fakes';

const gold = journeyRecord({ id: 'loyalty-tier', settings: { reentry: { after: '30d' }, messageClass: 'marketing' } });
const never = journeyRecord({ id: 'once', settings: { reentry: 'never' } });
const parallel = journeyRecord({ id: 'parallel', settings: { reentry: 'always' } });

const run = (journeyId: string, profileId: string, name: string, enteredAt: string): Enrollment => ({
  journeyId,
  profileId,
  executionName: name,
  executionArn: `arn:aws:states:eu-west-1:123456789012:execution:waymark-${journeyId}:${name}`,
  enteredAt,
});

class RecordingCaps implements CapCarryOver {
  readonly calls: [string, string][] = [];
  async carryOver(from: string, to: string): Promise<number> {
    this.calls.push([from, to]);
    return 1;
  }
}

describe('carryOverMerge: enrollments', () => {
  it("makes the absorbed profile's latest run the survivor's, so re-entry after 30 days is refused after a merge", async () => {
    const clock = new FakeClock('2026-06-10T00:00:00.000Z');
    const deps = { ...runtime([gold], clock) };
    // The absorbed profile was welcomed to Gold 9 days ago; that run has ended.
    deps.enrollments.put(run('loyalty-tier', 'p-absorbed', 'first', '2026-06-01T00:00:00.000Z'));

    const carried = await carryOverMerge(deps, [gold], 'p-survivor', ['p-absorbed']);
    const entry = await enterJourney(deps, gold, { id: 'p-survivor', attributes: {}, identities: {}, createdAt: '', updatedAt: '' }, { id: 'seg-1', event: {}, context: {} });

    expect(carried.enrollments).toEqual(['loyalty-tier']);
    expect(entry).toEqual({ status: 'skipped', journeyId: 'loyalty-tier', reason: 'reentry-period' });
    expect(deps.executions.executions.size).toBe(0);
  });

  it("keeps the survivor's own run when it is the later one, and carries a `never` journey's run", async () => {
    const enrollments = new MemoryEnrollmentStore();
    enrollments.put(run('loyalty-tier', 'p-absorbed', 'old', '2026-05-01T00:00:00.000Z'));
    enrollments.put(run('loyalty-tier', 'p-survivor', 'mine', '2026-06-01T00:00:00.000Z'));
    enrollments.put(run('once', 'p-absorbed', 'once-run', '2026-05-01T00:00:00.000Z'));

    await carryOverMerge({ enrollments }, [gold, never, parallel], 'p-survivor', ['p-absorbed']);

    expect((await enrollments.get('loyalty-tier', 'p-survivor'))?.executionName).toBe('mine');
    expect(await enrollments.get('once', 'p-survivor')).toMatchObject({ executionName: 'once-run', profileId: 'p-survivor' });
    expect(await enrollments.get('parallel', 'p-survivor')).toBeUndefined();
  });

  it('is idempotent: carrying again (a retry, a merge announced twice) changes nothing', async () => {
    const enrollments = new MemoryEnrollmentStore();
    const memberships = new InMemoryMembershipStore();
    enrollments.put(run('loyalty-tier', 'p-absorbed', 'first', '2026-06-01T00:00:00.000Z'));
    await memberships.put('p-absorbed', { 'loyalty-gold': '2026-06-01T00:00:00.000Z' }, 0);

    const first = await carryOverMerge({ enrollments, memberships }, [gold], 'p-survivor', ['p-absorbed']);
    const snapshot = { enrollment: await enrollments.get('loyalty-tier', 'p-survivor'), memberships: memberships.peek('p-survivor') };
    const again = await carryOverMerge({ enrollments, memberships }, [gold], 'p-survivor', ['p-absorbed']);

    expect(first).toEqual({ enrollments: ['loyalty-tier'], memberships: ['p-absorbed'], caps: 0 });
    expect(again).toEqual({ enrollments: [], memberships: [], caps: 0 });
    expect({ enrollment: await enrollments.get('loyalty-tier', 'p-survivor'), memberships: memberships.peek('p-survivor') }).toEqual(snapshot);
  });

  it('retries when a concurrent entry of the survivor wins the conditional write', async () => {
    const enrollments = new MemoryEnrollmentStore();
    enrollments.put(run('loyalty-tier', 'p-absorbed', 'theirs', '2026-06-01T00:00:00.000Z'));
    // Between the carry-over's reads, the survivor enters on its own (an older run than the absorbed one's).
    let reads = 0;
    const get = enrollments.get.bind(enrollments);
    enrollments.get = async (journeyId, profileId) => {
      const value = await get(journeyId, profileId);
      if (++reads === 2) enrollments.put(run('loyalty-tier', 'p-survivor', 'racing', '2026-05-20T00:00:00.000Z'));
      return value;
    };
    await carryOverMerge({ enrollments }, [gold], 'p-survivor', ['p-absorbed']);
    expect((await get('loyalty-tier', 'p-survivor'))?.executionName).toBe('theirs');
  });
});

describe('carryOverMerge: memberships and caps', () => {
  it("folds the absorbed profile's memberships (earliest entry) and pending transitions into the survivor's", async () => {
    const memberships = new InMemoryMembershipStore();
    const pending = { entered: ['loyalty-gold'], exited: [], cause: { id: 'e-9', type: 'order.placed' }, at: '2026-06-02T00:00:00.000Z' };
    await memberships.put('p-absorbed', { 'loyalty-gold': '2026-06-02T00:00:00.000Z', vip: '2026-05-01T00:00:00.000Z' }, 0, pending);
    await memberships.put('p-survivor', { vip: '2026-05-20T00:00:00.000Z' }, 0);
    const caps = new RecordingCaps();

    const carried = await carryOverMerge({ enrollments: new MemoryEnrollmentStore(), memberships, caps }, [], 'p-survivor', ['p-absorbed']);

    expect(memberships.peek('p-survivor')).toEqual({
      segments: { 'loyalty-gold': '2026-06-02T00:00:00.000Z', vip: '2026-05-01T00:00:00.000Z' },
      version: 2,
      pending,
    });
    expect(memberships.peek('p-absorbed')).toMatchObject({ segments: {} });
    expect(memberships.peek('p-absorbed').pending).toBeUndefined();
    expect(caps.calls).toEqual([['p-absorbed', 'p-survivor']]);
    expect(carried).toEqual({ enrollments: [], memberships: ['p-absorbed'], caps: 1 });
  });

  it('retries the survivor write when a concurrent evaluation wrote its memberships in between', async () => {
    const memberships = new InMemoryMembershipStore();
    await memberships.put('p-absorbed', { gold: '2026-06-01T00:00:00.000Z' }, 0);
    let raced = false;
    const get = memberships.get.bind(memberships);
    memberships.get = async (id) => {
      const state = await get(id);
      if (id === 'p-survivor' && !raced) {
        raced = true;
        await memberships.put('p-survivor', { silver: '2026-06-03T00:00:00.000Z' }, state.version);
      }
      return state;
    };
    await carryOverMerge({ enrollments: new MemoryEnrollmentStore(), memberships }, [], 'p-survivor', ['p-absorbed']);
    expect(memberships.peek('p-survivor').segments).toEqual({ gold: '2026-06-01T00:00:00.000Z', silver: '2026-06-03T00:00:00.000Z' });
  });
});

describe('routeBusinessEvent across a merge', () => {
  it('carries over on the merging event, and again on its redelivery (the first attempt may have failed after the merge)', async () => {
    const deps = { ...runtime([gold]), caps: new RecordingCaps() };
    deps.profiles.add({ id: 'p-survivor', identities: { email: 'ada@example.com' }, mergedIds: ['p-absorbed'] });
    deps.enrollments.put(run('loyalty-tier', 'p-absorbed', 'first', '2026-06-01T00:00:00.000Z'));
    deps.profiles.mergeNext = ['p-absorbed'];

    await routeBusinessEvent(deps, businessEvent({ id: 'link' }));
    await routeBusinessEvent(deps, businessEvent({ id: 'link' }));
    await routeBusinessEvent(deps, businessEvent({ id: 'later' }));

    expect(await deps.enrollments.get('loyalty-tier', 'p-survivor')).toMatchObject({ executionName: 'first' });
    // Once for the merge, once for the redelivery; a later, unrelated event carries nothing.
    expect(deps.caps.calls).toEqual([
      ['p-absorbed', 'p-survivor'],
      ['p-absorbed', 'p-survivor'],
    ]);
  });
});
