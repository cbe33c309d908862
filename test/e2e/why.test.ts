import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { run } from '../../bin/waymark';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { call } from './http';
import { openVirtualStack } from './local-stack';

const START = '2026-12-01T09:00:00.000Z';
const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.parse(START) + ms).toISOString();

const cartAdded = (name: string, extra: Record<string, unknown> = {}) => ({
  id: `why-cart-${name}`,
  identities: { email: `${name}@why.example` },
  attributes: { firstName: name, pushToken: `device-${name}` },
  properties: { action: 'item-added', cartId: `why-cart-${name}`, productIds: [`why-sku-${name}`], cartUrl: `https://shop.example/cart/${name}`, itemCount: 2 },
  ...extra,
});

/** Every runtime-table item, unmarshalled (what erasure must leave nothing of). */
async function runtimeItems(endpoint: string, table: string): Promise<Record<string, unknown>[]> {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    ExclusiveStartKey = page.LastEvaluatedKey as never;
  } while (ExclusiveStartKey);
  client.destroy();
  return items;
}

describe('why: a profile\'s journey runs, explained (local stack, virtual clock)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ start: START });
  });
  afterAll(() => ctx.stack.stop());

  const ann = newProfileId('email', 'ann@why.example');
  const bob = newProfileId('email', 'bob@why.example');

  it('explains a cart-abandonment run: nodes with times, messages sent, the offer decision with its reasons, completed', async () => {
    await ctx.put('cart.updated', cartAdded('ann'));
    await ctx.clock.advance('1h'); // no order within the hour: the reminder goes out
    await ctx.clock.advance('2h');
    await ctx.put('price.dropped', { id: 'why-drop-ann', catalog: true, properties: { productId: 'why-sku-ann', productName: 'Socks', price: '9.99' } });

    const list = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      profileId: ann,
      truncated: false,
      runs: [{ journeyId: 'cart-abandonment', executionArn: expect.stringContaining(':cart-abandonment--'), status: 'SUCCEEDED', startedAt: at(0), end: { reason: 'completed', at: at(3 * HOUR) } }],
    });

    const why = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/cart-abandonment`);
    expect(why.status).toBe(200);
    const [run] = why.body.runs;
    expect(run.nodes.map((n: { node: string; kind: string; enteredAt: string; exitedAt?: string }) => [n.node, n.kind, n.enteredAt, n.exitedAt])).toEqual([
      ['wait-for-order', 'wait-for-event', at(0), at(HOUR)],
      ['reminder-email', 'send', at(HOUR), at(HOUR)],
      ['wait-for-offer-signal', 'wait-for-event', at(HOUR), at(3 * HOUR)],
      ['pick-offer', 'decide', at(3 * HOUR), at(3 * HOUR)],
      ['offer-push', 'send', at(3 * HOUR), at(3 * HOUR)],
      ['done', 'exit', at(3 * HOUR), at(3 * HOUR)],
    ]);
    // The send nodes went through their compiled states: prepare, route, deliver, record, tally (its journey counter), count.
    expect(run.nodes[1].states).toEqual(['reminder-email', 'reminder-email.route', 'reminder-email.deliver', 'reminder-email.record', 'reminder-email.tally', 'reminder-email.count']);
    expect(run.messages).toEqual([
      expect.objectContaining({ node: 'reminder-email', channel: 'email', outcome: 'sent', status: 'sent', preparedAt: at(HOUR), messageId: expect.any(String) }),
      expect.objectContaining({ node: 'offer-push', channel: 'push', outcome: 'sent', status: 'sent', preparedAt: at(3 * HOUR) }),
    ]);
    expect(run.decisions).toHaveLength(1);
    const [decision] = run.decisions;
    expect(decision).toMatchObject({ node: 'pick-offer', at: at(3 * HOUR) });
    const push = decision.placements.push;
    expect(push.offers[0]).toMatchObject({ offerId: 'cart-discount' });
    // Every offer considered, with why it was or was not chosen.
    expect(push.explanation).toContainEqual(expect.objectContaining({ offerId: 'cart-discount', eligible: true, chosen: true }));
    expect(push.explanation.length).toBeGreaterThan(1);
    expect(run.variants).toEqual([]);
    expect(run.end).toEqual({ reason: 'completed', at: at(3 * HOUR) });
    expect(run.historyTruncated).toBe(false);
  });

  it('says a message was suppressed and why, and that a run still waiting has not ended', async () => {
    await ctx.put('cart.updated', cartAdded('bob', { consent: { email: 'opted-out' } }));
    await ctx.clock.advance('1h');
    const why = await call(ctx.stack, 'GET', `/profiles/${bob}/journeys/cart-abandonment`);
    const [run] = why.body.runs;
    expect(run.status).toBe('RUNNING');
    expect(run.end).toBeNull();
    expect(run.messages).toEqual([expect.objectContaining({ node: 'reminder-email', outcome: 'suppressed', status: 'suppressed', reason: 'consent:email' })]);
    const last = run.nodes.at(-1);
    expect(last).toMatchObject({ node: 'wait-for-offer-signal', enteredAt: at(4 * HOUR) });
    expect(last.exitedAt).toBeUndefined();
  });

  it("finds the runs of a profile merged into another under the survivor's id", async () => {
    // Carl's email profile first, then an anonymous device that fills a cart, then an event linking both: the device
    // profile is absorbed, and its run (which carries the device profile's id) is Carl's.
    await ctx.put('app.opened', { id: 'why-carl-email', identities: { email: 'carl@why.example' } });
    await ctx.clock.advance('1m');
    await ctx.put('cart.updated', { ...cartAdded('carl'), identities: { deviceId: 'why-device-carl' } });
    await ctx.clock.advance('1m');
    await ctx.put('app.opened', { id: 'why-carl-link', identities: { email: 'carl@why.example', deviceId: 'why-device-carl' } });
    const carl = newProfileId('email', 'carl@why.example');
    const device = newProfileId('deviceId', 'why-device-carl');
    const list = await call(ctx.stack, 'GET', `/profiles/${carl}/journeys`);
    expect(list.body.profileId).toBe(carl);
    expect(list.body.runs).toEqual([expect.objectContaining({ journeyId: 'cart-abandonment', status: 'RUNNING', end: null })]);
    expect(ctx.stack.executions.get(list.body.runs[0].executionArn)?.profileId).toBe(device);
    // The absorbed id answers as the survivor.
    expect((await call(ctx.stack, 'GET', `/profiles/${device}/journeys`)).body.profileId).toBe(carl);
  });

  it('says a run stopped by its exit criteria ended so, in the wait it was in (a wait node, not left)', async () => {
    const dora = newProfileId('email', 'dora@why.example');
    await ctx.put('account.updated', { id: 'why-dora-silver', identities: { email: 'dora@why.example' }, attributes: { loyaltyTier: 'silver' } });
    const entered = ctx.clock.now().toISOString();
    await ctx.clock.advance('1d');
    const dropped = await call(ctx.stack, 'PUT', `/profiles/${dora}/attributes`, { attributes: { loyaltyTier: 'none' } });
    expect(dropped.status).toBe(200);
    await ctx.stack.settle();
    const [run] = (await call(ctx.stack, 'GET', `/profiles/${dora}/journeys/loyalty-tier`)).body.runs;
    expect(run.end).toEqual({ reason: 'exit-criteria', at: ctx.clock.now().toISOString(), error: 'Waymark.Stopped', cause: 'exit criteria: profile left segment "loyalty-members"' });
    expect(run.nodes.map((n: { node: string }) => n.node)).toEqual(['by-tier', 'silver-offer', 'wait-a-week']);
    expect(run.nodes[2]).toMatchObject({ kind: 'wait', enteredAt: entered });
    expect(run.nodes[2].exitedAt).toBeUndefined();
    expect(run.messages).toEqual([expect.objectContaining({ node: 'silver-offer', outcome: 'sent' })]);
  });

  it('lists every run newest first, an older run replaced as the latest found through its messages', async () => {
    const eve = newProfileId('email', 'eve@why.example');
    await ctx.put('cart.updated', cartAdded('eve'));
    const first = ctx.clock.now().toISOString();
    await ctx.clock.advance('1h');
    await ctx.clock.advance('3d'); // no signal: the last-chance email, and the run ends
    await ctx.put('cart.updated', { ...cartAdded('eve'), id: 'why-cart-eve-2' });
    const second = ctx.clock.now().toISOString();
    const list = await call(ctx.stack, 'GET', `/profiles/${eve}/journeys`);
    expect(list.body.runs.map((r: { startedAt: string; status: string }) => [r.startedAt, r.status])).toEqual([
      [second, 'RUNNING'],
      [first, 'SUCCEEDED'],
    ]);
    expect((await call(ctx.stack, 'GET', `/profiles/${eve}/journeys?limit=1`)).body).toMatchObject({ runs: [{ startedAt: second }], truncated: true });
    const why = await call(ctx.stack, 'GET', `/profiles/${eve}/journeys/cart-abandonment`);
    expect(why.body.runs[1].messages.map((m: { node: string; outcome: string }) => `${m.node}:${m.outcome}`)).toEqual(['reminder-email:sent', 'last-chance-email:sent']);
  });

  it('answers 404 problem+json for an unknown profile or journey, and 400 naming limit', async () => {
    const noProfile = await call(ctx.stack, 'GET', `/profiles/${newProfileId('email', 'nobody@why.example')}/journeys`);
    expect(noProfile.status).toBe(404);
    expect(noProfile.contentType).toContain('application/problem+json');
    const noJourney = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/no-such-journey`);
    expect(noJourney.status).toBe(404);
    expect(noJourney.body.detail).toContain('no-such-journey');
    // A deployed journey the profile never entered: no runs, not an error.
    const none = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/welcome`);
    expect(none).toMatchObject({ status: 200, body: { runs: [], truncated: false } });
    const badJourney = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/${encodeURIComponent('Cart#x')}`);
    expect(badJourney.status).toBe(400);
    expect(badJourney.body.errors).toEqual([expect.objectContaining({ field: 'journeyId' })]);
    const badLimit = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys?limit=0`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.errors).toEqual([expect.objectContaining({ field: 'limit' })]);
  });

  it('`waymark why` prints the same through the API, the profile named by its email', async () => {
    let stdout = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stdout += t), readFile: async () => '' };
    expect(await run(['why', 'email:ann@why.example', 'cart-abandonment', '--api', ctx.stack.url], io)).toBe(0);
    expect(stdout).toContain(`profile ${ann} · journey cart-abandonment · 1 run, newest first`);
    expect(stdout).toContain('ended: completed at 2026-12-01 12:00:00Z');
    expect(stdout).toContain('    reminder-email · email · sent · prepared 2026-12-01 10:00:00Z');
    expect(stdout).toContain('      cart-discount: chosen');
    stdout = '';
    expect(await run(['why', ann, 'cart-abandonment', '--api', ctx.stack.url, '--json'], io)).toBe(0);
    expect(JSON.parse(stdout).runs[0].end.reason).toBe('completed');
  });

  it('after erasure answers nothing for the profile, and no run, ledger or decision item of it remains', async () => {
    const before = await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/cart-abandonment`);
    const arn: string = before.body.runs[0].executionArn;
    const held = (item: Record<string, unknown>) => item.profileId === ann || JSON.stringify(item).includes(arn);
    const kinds = (await runtimeItems(ctx.stack.dynamoEndpoint, ctx.stack.tables.runtime)).filter(held).map((i) => String(i.pk).split('#')[0]);
    expect(kinds).toEqual(expect.arrayContaining(['ENROLL', 'LEDGER', 'DECISIONS', 'DECISIONKEY']));
    expect((await call(ctx.stack, 'DELETE', `/profiles/${ann}`)).status).toBe(200);
    expect((await call(ctx.stack, 'GET', `/profiles/${ann}/journeys`)).status).toBe(404);
    expect((await call(ctx.stack, 'GET', `/profiles/${ann}/journeys/cart-abandonment`)).status).toBe(404);
    expect((await runtimeItems(ctx.stack.dynamoEndpoint, ctx.stack.tables.runtime)).filter(held)).toEqual([]);
  });
});
