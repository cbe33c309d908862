import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call, problemFields } from './http';
import { openVirtualStack, parkedStates } from './local-stack';

/** Every item of every table, as text: what an auditor would search after an erasure. */
async function everything(endpoint: string, tables: readonly string[]): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const items: unknown[] = [];
  for (const TableName of tables) {
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey as never;
    } while (ExclusiveStartKey);
  }
  client.destroy();
  return JSON.stringify(items);
}

describe('privacy: erase and export a profile', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  const ann = { email: 'ann.erase@example.com' };
  const annId = newProfileId('email', ann.email);
  const deviceId = newProfileId('deviceId', 'device-erase-1');

  it('erases a merged profile everywhere: journeys stopped, no trace left in any table', async () => {
    // Two profiles, then an event that links them (a merge into the older one), journeys in flight, a message sent.
    // Each event is sent a minute after the last, dated when sent: Ann's profile is the older one.
    const now = () => ctx.clock.now().toISOString();
    await ctx.put('member.signed-up', { id: 'erase-signup', time: now(), identities: ann, attributes: { firstName: 'Ann', pushToken: 'tok-erase' } });
    await ctx.clock.advance('1m');
    await ctx.put('app.opened', { id: 'erase-device', time: now(), identities: { deviceId: 'device-erase-1' }, attributes: { favouriteColour: 'green' } });
    await ctx.clock.advance('1m');
    await ctx.put('cart.updated', {
      id: 'erase-cart',
      time: now(),
      identities: { ...ann, deviceId: 'device-erase-1' },
      properties: { action: 'item-added', cartId: 'cart-erase', productIds: ['sku-erase'], cartUrl: 'https://shop.example/cart/erase' },
    });
    expect(await parkedStates(ctx.stack, 'welcome', annId)).toEqual(['wait-for-login']);
    expect(await parkedStates(ctx.stack, 'cart-abandonment', annId)).toEqual(['wait-for-order']);
    expect(ctx.stack.outbox.list({ profileId: annId }).map((m) => m.nodeId)).toContain('welcome-email');

    // A decision leaves a decision-log entry and a per-profile cap item (cart-discount is capped per profile).
    const decided = await call(ctx.stack, 'POST', '/decisions', { profileId: annId, placements: ['push'] });
    expect(decided.body.placements.push.offers[0].offerId).toBe('cart-discount');

    const exported = await call(ctx.stack, 'GET', `/profiles/${deviceId}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.profile.id).toBe(annId);
    expect(exported.body.mergedProfileIds).toEqual([deviceId]);
    expect(exported.body.profile.attributes).toMatchObject({ firstName: 'Ann', favouriteColour: 'green' });
    expect(exported.body.events.map((e: { id: string }) => e.id).sort()).toEqual(['erase-cart', 'erase-device', 'erase-signup']);
    expect(exported.body.journeys.messages.map((m: { nodeId: string }) => m.nodeId)).toContain('welcome-email');
    expect(exported.body.journeys.waiting.length).toBeGreaterThan(0);
    expect(JSON.stringify(exported.body)).not.toContain('"token"');
    expect(exported.body.decisions).toEqual([expect.objectContaining({ id: decided.body.decisionId, profileId: annId })]);
    expect(exported.body.offerProposals).toEqual([expect.objectContaining({ profileId: annId })]);
    expect(exported.body.segments).toEqual(expect.any(Object));

    const before = await everything(ctx.stack.dynamoEndpoint, Object.values(ctx.stack.tables));
    expect(before).toContain(ann.email);

    const erased = await call(ctx.stack, 'DELETE', `/profiles/${annId}`);
    expect(erased.status).toBe(200);
    expect(erased.body.profileIds.sort()).toEqual([annId, deviceId].sort());
    expect(erased.body.stoppedExecutions).toHaveLength(2);
    expect(ctx.stack.executions.list({ profileId: annId }).map((e) => e.status)).toEqual(['ABORTED', 'ABORTED']);

    const after = await everything(ctx.stack.dynamoEndpoint, Object.values(ctx.stack.tables));
    for (const trace of [ann.email, 'device-erase-1', annId, deviceId, 'tok-erase', 'cart-erase', 'favouriteColour']) expect(after).not.toContain(trace);

    expect((await call(ctx.stack, 'GET', `/profiles/${annId}`)).status).toBe(404);
    expect((await call(ctx.stack, 'GET', `/profiles/${deviceId}`)).status).toBe(404);
    expect((await call(ctx.stack, 'GET', `/profiles?identity=email:${ann.email}`)).status).toBe(404);
    expect((await call(ctx.stack, 'DELETE', `/profiles/${annId}`)).status).toBe(404);
  });

  it('leaves other profiles untouched by an erasure', async () => {
    await ctx.put('app.opened', { id: 'keep-1', identities: { email: 'bob.keep@example.com' }, attributes: { firstName: 'Bob' } });
    await ctx.put('app.opened', { id: 'gone-1', identities: { email: 'cleo.gone@example.com' } });
    expect((await call(ctx.stack, 'DELETE', `/profiles/${newProfileId('email', 'cleo.gone@example.com')}`)).status).toBe(200);
    const bob = await call(ctx.stack, 'GET', '/profiles?identity=email:bob.keep@example.com');
    expect(bob.status).toBe(200);
    expect(bob.body.attributes.firstName).toBe('Bob');
  });
});

describe('privacy: what an erasure reaches beyond the profile', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('erases the rejected events that mention the profile\'s identities, and keeps the others', async () => {
    const gil = 'Gil.Rejected@Example.com';
    await ctx.put('app.opened', { id: 'rej-ok', identities: { email: gil, crmId: 'CRM-GIL' } });
    // Rejected: a bad time; one names Gil by email (in another case), one by CRM id only, one by an email in a property.
    await ctx.put('cart.updated', { id: 'rej-1', time: 'last tuesday', identities: { email: gil.toLowerCase() }, properties: {} });
    await ctx.put('cart.updated', { id: 'rej-2', time: 'yesterday', identities: { crmId: 'CRM-GIL' }, properties: {} });
    await ctx.put('cart.updated', { id: 'rej-3', time: 'soon', identities: {}, properties: { note: `ask ${gil.toLowerCase()}` } });
    await ctx.put('cart.updated', { id: 'rej-other', time: 'never', identities: { email: 'hal.other@example.com' }, properties: {} });
    const before = await call(ctx.stack, 'GET', '/events/rejected');
    for (const id of ['rej-1', 'rej-2', 'rej-3', 'rej-other']) expect(JSON.stringify(before.body)).toContain(`"${id}"`);

    const gilId = (await call(ctx.stack, 'GET', `/profiles?identity=crmId:CRM-GIL`)).body.id;
    expect((await call(ctx.stack, 'DELETE', `/profiles/${gilId}`)).status).toBe(200);

    const rejected = JSON.stringify((await call(ctx.stack, 'GET', '/events/rejected')).body);
    for (const id of ['rej-1', 'rej-2', 'rej-3']) expect(rejected).not.toContain(`"${id}"`);
    expect(rejected).toContain('"rej-other"');
    const after = await everything(ctx.stack.dynamoEndpoint, Object.values(ctx.stack.tables));
    expect(after.toLowerCase()).not.toContain(gil.toLowerCase());
    expect(after).not.toContain('CRM-GIL');
  });
});

describe('profile API', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  it('reads a profile by id and by any identity, with computed attributes', async () => {
    await ctx.put('order.placed', { id: 'api-o1', identities: { email: 'dan@example.com', crmId: 'C-9' }, properties: { total: 30 } });
    await ctx.put('order.placed', { id: 'api-o2', identities: { crmId: 'C-9' }, properties: { total: 12.5 } });
    const id = newProfileId('crmId', 'C-9');
    const byId = await call(ctx.stack, 'GET', `/profiles/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.computed['order.placed']).toMatchObject({ count: 2, sums: { total: 42.5 } });
    const byEmail = await call(ctx.stack, 'GET', '/profiles?identity=email:dan@example.com');
    expect(byEmail.body.id).toBe(id);
  });

  it('updates attributes, latest write wins', async () => {
    await ctx.put('app.opened', { id: 'api-a1', identities: { email: 'eve@example.com' }, attributes: { tier: 'silver' } });
    const id = newProfileId('email', 'eve@example.com');
    // The update comes a second after the event (at the same instant, the tie-break on the value would decide).
    await ctx.clock.advance('1s');
    const updated = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, { attributes: { tier: 'gold', vip: true } });
    expect(updated.status).toBe(200);
    expect(updated.body.attributes).toMatchObject({ tier: 'gold', vip: true });
    expect((await call(ctx.stack, 'GET', `/profiles/${id}`)).body.attributes.tier).toBe('gold');
  });

  it('answers 409 naming each attribute a later-dated value keeps, and says what it applied', async () => {
    // An event dated two minutes ahead (within the accepted skew) sets the tier: an update now is older than it.
    const ahead = new Date(ctx.clock.now().getTime() + 120_000).toISOString();
    await ctx.put('app.opened', { id: 'api-ahead', time: ahead, identities: { email: 'gus@example.com' }, attributes: { tier: 'silver' } });
    const id = newProfileId('email', 'gus@example.com');
    await ctx.clock.advance('1s');
    const reply = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, { attributes: { tier: 'gold', vip: true } });
    expect(reply.status).toBe(409);
    expect(reply.contentType).toContain('application/problem+json');
    expect(problemFields(reply)).toEqual(['attributes.tier']);
    expect(reply.body.attributes).toMatchObject({ tier: 'silver', vip: true });
    expect((await call(ctx.stack, 'GET', `/profiles/${id}`)).body.attributes).toMatchObject({ tier: 'silver', vip: true });
  });

  it.each([
    ['/profiles', 'identity'],
    ['/profiles?identity=nocolon', 'identity'],
    ['/profiles?identity=9bad:x', 'identity'],
  ])('answers 400 naming the field for GET %s', async (path, field) => {
    const reply = await call(ctx.stack, 'GET', path);
    expect(reply.status).toBe(400);
    expect(reply.contentType).toContain('application/problem+json');
    expect(problemFields(reply)).toContain(field);
  });

  it('answers 400 naming the attribute for a bad update, and changes nothing', async () => {
    await ctx.put('app.opened', { id: 'api-b1', identities: { email: 'fay@example.com' }, attributes: { tier: 'bronze' } });
    const id = newProfileId('email', 'fay@example.com');
    const reply = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, { attributes: { tier: 'gold', 'bad name': 1 } });
    expect(reply.status).toBe(400);
    expect(problemFields(reply)).toContain('attributes.bad name');
    expect((await call(ctx.stack, 'GET', `/profiles/${id}`)).body.attributes.tier).toBe('bronze');
  });

  it('answers 400 naming the attribute a full profile cannot take, and changes nothing', async () => {
    const full = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, i]));
    await ctx.put('app.opened', { id: 'api-full', identities: { email: 'full@example.com' }, attributes: full });
    const id = newProfileId('email', 'full@example.com');
    const reply = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, { attributes: { a0: 'updated', extra: 1 } });
    expect(reply.status).toBe(400);
    expect(problemFields(reply)).toEqual(['attributes.extra']);
    expect((await call(ctx.stack, 'GET', `/profiles/${id}`)).body.attributes.a0).toBe(0);
    await ctx.clock.advance('1s');
    const held = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, { attributes: { a0: 'updated' } });
    expect(held.status).toBe(200);
    expect(held.body.attributes.a0).toBe('updated');
  });

  it('answers 404 for unknown profiles', async () => {
    for (const [method, path] of [
      ['GET', '/profiles/p-unknown'],
      ['GET', '/profiles/p-unknown/export'],
      ['DELETE', '/profiles/p-unknown'],
      ['GET', '/profiles?identity=email:nobody@example.com'],
    ] as const) {
      const reply = await call(ctx.stack, method, path);
      expect({ path, status: reply.status }).toEqual({ path, status: 404 });
    }
    expect((await call(ctx.stack, 'PUT', '/profiles/p-unknown/attributes', { attributes: { a: 1 } })).status).toBe(404);
  });
});
