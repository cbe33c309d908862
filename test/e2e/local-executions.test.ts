import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call, problemFields } from './http';
import { openVirtualStack } from './local-stack';

const member = (n: number) => ({ email: `listed${n}@example.com` });
const profileOf = (n: number) => newProfileId('email', `listed${n}@example.com`);

describe('local stack: re-checks do not overlap, execution listings are bounded and filterable', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
    for (let n = 1; n <= 3; n++) await ctx.put('member.signed-up', { id: `listed-signup-${n}`, identities: member(n), attributes: { firstName: `L${n}` } });
    // The welcome series' waits time out (3 + 4 days): every run ends.
    await ctx.clock.runUntilIdle();
    expect(ctx.stack.executions.list({ journeyId: 'welcome', status: 'RUNNING' })).toEqual([]);
  });
  afterAll(() => ctx.stack.stop());

  it('starts no second re-check while one runs: the request answers the running one', async () => {
    const [first, second] = await Promise.all([ctx.stack.recheckSegments(), ctx.stack.recheckSegments()]);
    expect(second.executionArn).toBe(first.executionArn);
    expect(second.started).toBe(false);
    await ctx.stack.settle();
    expect(ctx.stack.executions.get(first.executionArn)?.status).toBe('SUCCEEDED');
    const reply = await call(ctx.stack, 'GET', '/local/executions?journeyId=audience-scan');
    expect(reply.body.executions.map((e: { executionArn: string }) => e.executionArn)).toEqual([first.executionArn]);
  });

  it('lists journey runs only by default (internal audience scans are asked for by journeyId)', async () => {
    const reply = await call(ctx.stack, 'GET', '/local/executions');
    expect(reply.status).toBe(200);
    expect(reply.body.executions.map((e: { journeyId: string }) => e.journeyId)).not.toContain('audience-scan');
    expect(reply.body.executions.map((e: { profileId: string }) => e.profileId)).toEqual(expect.arrayContaining([1, 2, 3].map(profileOf)));
  });

  it('pages with limit and cursor, and filters by journey, profile and status', async () => {
    const first = await call(ctx.stack, 'GET', '/local/executions?journeyId=welcome&limit=2');
    expect(first.body.executions).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await call(ctx.stack, 'GET', `/local/executions?journeyId=welcome&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(rest.body.executions).toHaveLength(1);
    expect(rest.body.nextCursor).toBeUndefined();
    const all = [...first.body.executions, ...rest.body.executions].map((e: { profileId: string }) => e.profileId);
    expect(all.sort()).toEqual([1, 2, 3].map(profileOf).sort());

    const one = await call(ctx.stack, 'GET', `/local/executions?profileId=${profileOf(2)}&status=SUCCEEDED`);
    expect(one.body.executions.map((e: { profileId: string; status: string }) => [e.profileId, e.status])).toEqual([[profileOf(2), 'SUCCEEDED']]);
  });

  it.each([
    ['status=DONE', 'status'],
    ['limit=0', 'limit'],
    ['limit=100000', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    const reply = await call(ctx.stack, 'GET', `/local/executions?${query}`);
    expect(reply.status).toBe(400);
    expect(problemFields(reply)).toEqual([field]);
  });
});
