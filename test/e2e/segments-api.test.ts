import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call, problemFields } from './http';
import { openVirtualStack } from './local-stack';

const email = (n: number) => `shopper${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));

const bigSpenders = {
  schemaVersion: 1,
  id: 'big-spenders',
  name: 'Big spenders',
  rule: { kind: 'greater', field: { kind: 'computed', event: 'order.placed', stat: 'sum', property: 'total' }, value: 100 },
};

describe('segments API and batch audiences (local stack, dynalite)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(async () => {
    // Runs end on their own before the stack stops: a run stopped while on a Wait state leaves a 60 s real timer of the
    // state machine runner behind (reported), which keeps Jest from exiting.
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  it('lists the file segments, and refuses to change them through the API', async () => {
    const list = await call(ctx.stack, 'GET', '/segments');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).toContain('loyalty-gold');
    const put = await call(ctx.stack, 'PUT', '/segments/loyalty-gold', { ...bigSpenders, id: 'loyalty-gold' });
    expect(put.status).toBe(409);
    const del = await call(ctx.stack, 'DELETE', '/segments/loyalty-gold');
    expect(del.status).toBe(409);
  });

  it('rejects an invalid rule naming the path in the rule, an unknown reference, and writes nothing', async () => {
    const bad = await call(ctx.stack, 'POST', '/segments', { ...bigSpenders, id: 'bad-one', rule: { kind: 'greater', field: { kind: 'attribute', name: 'age' }, value: true } });
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    expect(problemFields(bad).join(' ')).toContain('rule.value');
    const unknown = await call(ctx.stack, 'POST', '/segments', { ...bigSpenders, id: 'bad-two', rule: { kind: 'segment', id: 'no-such-segment' } });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('no-such-segment');
    expect((await call(ctx.stack, 'GET', '/segments/bad-one')).status).toBe(404);
    expect((await call(ctx.stack, 'GET', '/segments/bad-two')).status).toBe(404);
  });

  it('a segment created through the API is evaluated on the next event and stored on the profile', async () => {
    const created = await call(ctx.stack, 'POST', '/segments', bigSpenders);
    expect(created.status).toBe(201);
    expect((await call(ctx.stack, 'POST', '/segments', bigSpenders)).status).toBe(409);

    await ctx.put('order.placed', { id: 'o-1', identities: { email: email(1) }, properties: { total: 150 } });
    await ctx.put('order.placed', { id: 'o-2', identities: { email: email(2) }, properties: { total: 20 } });
    const one = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}`);
    const two = await call(ctx.stack, 'GET', `/profiles/${profileOf(2)}`);
    expect(Object.keys(one.body.segments)).toContain('big-spenders');
    expect(Object.keys(two.body.segments)).not.toContain('big-spenders');
  });

  it('evaluates a segment over every profile into a paged snapshot, and estimates its size from a sample', async () => {
    for (let n = 10; n < 40; n++) await ctx.put('order.placed', { id: `o-${n}`, identities: { email: email(n) }, properties: { total: n % 3 === 0 ? 500 : 5 } });
    // Members: profile 1 and n in 10..39 divisible by 3 (10 of them).
    const started = await call(ctx.stack, 'POST', '/segments/big-spenders/evaluate');
    expect(started.status).toBe(202);
    const snapshotId = started.body.id;
    // The audience scan runs as a state machine: once the stack has settled, it has ended.
    await ctx.stack.settle();
    const done = await call(ctx.stack, 'GET', `/segments/big-spenders/snapshots/${snapshotId}?limit=4`);
    expect(done.body.status).toBe('complete');
    expect(done.body.count).toBe(11);
    const members: string[] = [...done.body.members];
    let cursor = done.body.cursor;
    while (cursor) {
      const page = await call(ctx.stack, 'GET', `/segments/big-spenders/snapshots/${snapshotId}?limit=4&cursor=${encodeURIComponent(cursor)}`);
      members.push(...page.body.members);
      cursor = page.body.cursor;
    }
    const expected = [1, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39].map(profileOf).sort();
    expect(members.sort()).toEqual(expected);

    const estimate = await call(ctx.stack, 'GET', '/segments/big-spenders/estimate?sample=1000');
    expect(estimate.status).toBe(200);
    expect(estimate.body).toMatchObject({ segmentId: 'big-spenders', exact: true, estimatedCount: 11 });
    expect(estimate.body.sampleSize).toBeGreaterThanOrEqual(32);
    expect((await call(ctx.stack, 'GET', '/segments/big-spenders/estimate?sample=0')).status).toBe(400);
    expect((await call(ctx.stack, 'POST', '/segments/nope/evaluate')).status).toBe(404);
  });

  it('refuses to delete a segment another references, then deletes it once unreferenced', async () => {
    const wrapper = { schemaVersion: 1, id: 'big-or-gold', name: 'Big or gold', rule: { kind: 'any', rules: [{ kind: 'segment', id: 'big-spenders' }, { kind: 'segment', id: 'loyalty-gold' }] } };
    expect((await call(ctx.stack, 'POST', '/segments', wrapper)).status).toBe(201);
    expect((await call(ctx.stack, 'DELETE', '/segments/big-spenders')).status).toBe(409);
    // A cycle is refused.
    const cyclic = await call(ctx.stack, 'PUT', '/segments/big-spenders', { ...bigSpenders, rule: { kind: 'segment', id: 'big-or-gold' } });
    expect(cyclic.status).toBe(400);
    expect((await call(ctx.stack, 'DELETE', '/segments/big-or-gold')).status).toBe(204);
    expect((await call(ctx.stack, 'DELETE', '/segments/big-spenders')).status).toBe(204);
    expect((await call(ctx.stack, 'GET', '/segments/big-spenders')).status).toBe(404);
  });
});
