import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call, problemFields } from './http';
import { openVirtualStack } from './local-stack';

const email = (n: number) => `decider${n}@example.com`;
const profileOf = (n: number) => newProfileId('email', email(n));

describe('decisioning API (local stack, dynalite)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
    await ctx.put('cart.updated', { id: 'c-1', identities: { email: email(1) }, properties: { action: 'item-removed', total: 150 } });
  });
  afterAll(() => ctx.stack.stop());

  const decide = (body: unknown) => call(ctx.stack, 'POST', '/decisions', body);

  it('chooses per placement with an explanation of every offer considered, then caps, then the fallback', async () => {
    const first = await decide({ identity: `email:${email(1)}`, placements: ['push', 'web-banner'], context: { cartTotal: 150 } });
    expect(first.status).toBe(200);
    expect(first.body.profileId).toBe(profileOf(1));
    const push = first.body.placements.push;
    // A cart over 100: 60 + 30.
    expect(push.offers).toEqual([expect.objectContaining({ offerId: 'cart-discount', score: 90, content: expect.objectContaining({ code: 'CART10' }), fallback: false })]);
    const lines = Object.fromEntries(push.explanation.map((l: { offerId: string }) => [l.offerId, l]));
    expect(lines['free-shipping']).toMatchObject({ eligible: true, score: 40, chosen: false });
    expect(lines['accessory-bundle']).toMatchObject({ eligible: false, chosen: false });
    // free-shipping is the only web-banner offer this profile qualifies for.
    expect(first.body.placements['web-banner'].offers.map((o: { offerId: string }) => o.offerId)).toEqual(['free-shipping']);

    // cart-discount: at most once in 30 days per profile; free-shipping: twice in 7 days (one used on the banner).
    // A minute apart: the log lists decisions newest first (ones of one millisecond in no set order).
    await ctx.clock.advance('1m');
    const second = await decide({ profileId: profileOf(1), placements: ['push'], context: { cartTotal: 150 } });
    const secondLines = Object.fromEntries(second.body.placements.push.explanation.map((l: { offerId: string }) => [l.offerId, l]));
    expect(secondLines['cart-discount']).toMatchObject({ eligible: true, capped: 'perProfile', chosen: false });
    expect(second.body.placements.push.offers.map((o: { offerId: string }) => o.offerId)).toEqual(['free-shipping']);

    await ctx.clock.advance('1m');
    const third = await decide({ profileId: profileOf(1), placements: ['push'] });
    expect(third.body.placements.push).toMatchObject({ fallback: true, offers: [expect.objectContaining({ offerId: 'newsletter', fallback: true })] });

    const log = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}/decisions?limit=2`);
    expect(log.status).toBe(200);
    expect(log.body.decisions.map((d: { id: string }) => d.id)).toEqual([third.body.decisionId, second.body.decisionId]);
    const rest = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}/decisions?limit=2&cursor=${encodeURIComponent(log.body.cursor)}`);
    expect(rest.body.decisions.map((d: { id: string }) => d.id)).toEqual([first.body.decisionId]);
  });

  it('answers a retried request with the same idempotency key with the first decision', async () => {
    await ctx.put('cart.updated', { id: 'c-9', identities: { email: email(9) }, properties: { action: 'item-removed' } });
    const body = { identity: `email:${email(9)}`, placements: ['push'], idempotencyKey: 'retry-me' };
    const first = await decide(body);
    const again = await decide(body);
    expect(again.body).toEqual(first.body);
    // cart-discount (1 per profile in 30 days) was reserved once: a new request still sees it capped, not spent twice.
    const log = await call(ctx.stack, 'GET', `/profiles/${profileOf(9)}/decisions`);
    expect(log.body.decisions).toHaveLength(1);
    expect(problemFields(await decide({ ...body, idempotencyKey: '' }))).toEqual(['idempotencyKey']);
  });

  it('answers five concurrent requests with one key with one decision, reserving the cap once; another profile’s key is its own', async () => {
    for (const n of [10, 11]) await ctx.put('cart.updated', { id: `c-${n}`, identities: { email: email(n) }, properties: { action: 'item-removed' } });
    const body = { profileId: profileOf(10), placements: ['push'], context: { cartTotal: 150 }, idempotencyKey: 'race-10' };
    const answers = await Promise.all(Array.from({ length: 5 }, () => decide(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((a) => a.body.decisionId)).size).toBe(1);
    expect((await call(ctx.stack, 'GET', `/profiles/${profileOf(10)}/decisions`)).body.decisions).toHaveLength(1);
    // cart-discount (once per profile in 30 days) was reserved once: a new decision finds it capped.
    const next = await decide({ profileId: profileOf(10), placements: ['push'], context: { cartTotal: 150 } });
    expect(next.body.placements.push.explanation).toContainEqual(expect.objectContaining({ offerId: 'cart-discount', capped: 'perProfile' }));
    const other = await decide({ ...body, profileId: profileOf(11) });
    expect(other.body.profileId).toBe(profileOf(11));
    expect(other.body.decisionId).not.toBe(answers[0].body.decisionId);
    const changed = await decide({ ...body, context: { cartTotal: 20 } });
    expect([changed.status, problemFields(changed)]).toEqual([409, ['idempotencyKey']]);
  });

  it('answers bad input with problem+json naming the field, and writes no decision', async () => {
    const unknownPlacement = await decide({ profileId: profileOf(1), placements: ['push', 'billboard'] });
    expect(unknownPlacement.status).toBe(400);
    expect(unknownPlacement.contentType).toContain('application/problem+json');
    expect(problemFields(unknownPlacement)).toEqual(['placements[1]']);
    expect(problemFields(await decide({ profileId: profileOf(1), placements: ['push'], count: 0 }))).toEqual(['count']);
    expect((await decide({ placements: ['push'] })).status).toBe(400);
    expect((await decide({ profileId: 'p-nobody', placements: ['push'] })).status).toBe(404);
    expect((await call(ctx.stack, 'POST', '/decisions', '{"placements":')).status).toBe(400);
    const log = await call(ctx.stack, 'GET', `/profiles/${profileOf(1)}/decisions`);
    expect(log.body.decisions).toHaveLength(3);
  });

  it('manages offers through the API: checked against the placements, used by the next decision, removable', async () => {
    const offer = {
      schemaVersion: 1,
      id: 'flash-sale',
      name: 'Flash sale',
      placements: { push: { title: 'Flash sale', body: 'Everything 20% off today.' } },
      priority: 500,
      caps: { total: 1 },
    };
    const missingContent = await call(ctx.stack, 'POST', '/offers', { ...offer, placements: { 'web-banner': { title: 'Flash sale' } } });
    expect(missingContent.status).toBe(400);
    expect(JSON.stringify(missingContent.body)).toContain('imageUrl');
    const badFormula = await call(ctx.stack, 'POST', '/offers', { ...offer, score: 'offer.priority +' });
    expect(badFormula.status).toBe(400);
    expect(problemFields(badFormula).join(' ')).toContain('score');

    expect((await call(ctx.stack, 'POST', '/offers', offer)).status).toBe(201);
    await ctx.put('cart.updated', { id: 'c-2', identities: { email: email(2) }, properties: { action: 'item-removed' } });
    const taken = await decide({ identity: `email:${email(2)}`, placements: ['push'] });
    expect(taken.body.placements.push.offers[0].offerId).toBe('flash-sale');
    // Its total cap of 1 is used up: the next profile gets the next best.
    await ctx.put('cart.updated', { id: 'c-3', identities: { email: email(3) }, properties: { action: 'item-removed' } });
    const next = await decide({ identity: `email:${email(3)}`, placements: ['push'] });
    expect(next.body.placements.push.offers[0].offerId).not.toBe('flash-sale');
    expect(next.body.placements.push.explanation.find((l: { offerId: string }) => l.offerId === 'flash-sale')).toMatchObject({ capped: 'total' });

    expect((await call(ctx.stack, 'DELETE', '/offers/flash-sale')).status).toBe(204);
    expect((await call(ctx.stack, 'GET', '/offers/flash-sale')).status).toBe(404);
    expect((await call(ctx.stack, 'DELETE', '/offers/free-shipping')).status).toBe(409);
    expect((await call(ctx.stack, 'DELETE', '/placements/push')).status).toBe(409);
  });
});
