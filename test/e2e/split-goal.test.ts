import { DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { inJourneyHoldout, splitVariant } from '../../lambdas/core/measure/assignment';
import { COUNTER } from '../../lambdas/core/measure/counters';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { Journey } from '../../lambdas/core/journey/schema';
import { call } from './http';
import { openVirtualStack } from './local-stack';
import { recordingJourneyCounters } from '../../lambdas/local/memory-ports';

const email = (id: string) => ({ kind: 'send', channel: 'email', template: { subject: `offer ${id}`, text: 'hello' }, next: 'done' });
const definition = {
  schemaVersion: 1,
  id: 'split-test',
  name: 'Split test',
  entry: { kind: 'event', event: 'signed.up' },
  settings: { holdout: { percent: 20 } },
  goal: { event: 'order.placed', within: '7d', value: 'properties.total' },
  start: 'offer-test',
  nodes: [
    { id: 'offer-test', kind: 'split', variants: [{ id: 'a', weight: 45, next: 'send-a' }, { id: 'b', weight: 45, next: 'send-b' }], holdout: { weight: 10 } },
    { id: 'send-a', ...email('a') },
    { id: 'send-b', ...email('b') },
    { id: 'done', kind: 'exit' },
  ],
};
/** Entry and goal are the same event: an order converts the entries before it, never the one it starts. */
const repeatBuyer = {
  schemaVersion: 1,
  id: 'repeat-buyer',
  name: 'Repeat buyer',
  entry: { kind: 'event', event: 'box.ordered' },
  settings: { reentry: 'always' },
  goal: { event: 'box.ordered', within: '30d' },
  start: 'done',
  nodes: [{ id: 'done', kind: 'exit' }],
};
const { journeys, problems } = buildCatalog([
  { path: 'split-test.json', text: JSON.stringify(definition) },
  { path: 'repeat-buyer.json', text: JSON.stringify(repeatBuyer) },
]);
const journey = journeys[0]?.journey as Journey;
const split = journey?.nodes[0] as Extract<Journey['nodes'][number], { kind: 'split' }>;

/** The first generated address whose profile lands where the test needs it (assignment is a stable hash). */
function addressWhere(wanted: { holdout: boolean; variant?: string }, taken: Set<string>): string {
  for (let i = 0; ; i++) {
    const address = `p${i}@example.com`;
    const id = newProfileId('email', address);
    if (taken.has(address) || inJourneyHoldout(journey, id) !== wanted.holdout) continue;
    if (wanted.variant !== undefined && splitVariant(journey.id, split, id) !== wanted.variant) continue;
    taken.add(address);
    return address;
  }
}

describe('split node, journey holdout and goal conversions on the local stack (virtual clock)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  const taken = new Set<string>();
  const ann = addressWhere({ holdout: false, variant: 'a' }, taken);
  const bob = addressWhere({ holdout: false, variant: 'b' }, taken);
  const cai = addressWhere({ holdout: false, variant: 'holdout' }, taken);
  const dee = addressWhere({ holdout: true, variant: 'a' }, taken);
  const eve = addressWhere({ holdout: false, variant: 'a' }, taken);
  const idOf = (address: string) => newProfileId('email', address);
  const runOf = (address: string) => ctx.stack.executions.list({ journeyId: 'split-test', profileId: idOf(address) });
  const counted = () => (ctx.stack.counters as unknown as { increments: { name: string; dims?: object; by?: number; day: string }[] }).increments;
  const totals = async () =>
    Object.fromEntries(
      (await ctx.stack.counters.read('split-test', '2026-12-01', '2026-12-31')).map((t) => [`${t.name} ${JSON.stringify(t.dims)}`, t.value]),
    );
  const order = (address: string, id: string, total: unknown) => ctx.put('order.placed', { id, identities: { email: address }, properties: { total } });

  beforeAll(async () => {
    expect(problems).toEqual([]);
    ctx = await openVirtualStack({ journeys, start: '2026-12-01T09:00:00.000Z', counters: recordingJourneyCounters() });
    for (const address of [ann, bob, cai, dee, eve]) await ctx.put('signed.up', { id: `signup-${address}`, identities: { email: address } });
  });
  afterAll(() => ctx.stack.stop());

  it('sends each variant its message, ends the split holdout at the split, and records the variant in the run', () => {
    expect(runOf(ann)[0].path).toEqual(['offer-test', 'offer-test.branch', 'send-a', 'send-a.route', 'send-a.deliver', 'send-a.record', 'send-a.tally', 'send-a.count', 'done']);
    expect(runOf(bob)[0].path).toContain('send-b');
    expect(runOf(cai)[0]).toMatchObject({ status: 'SUCCEEDED', path: ['offer-test', 'offer-test.branch', 'offer-test.holdout'] });
    expect(runOf(ann)[0].input.variants).toEqual({ offer_test: 'a' });
    expect((runOf(ann)[0].output as { variant: string }).variant).toBe('a');
    const sent = ctx.stack.outbox.list({ journeyId: 'split-test' });
    expect(sent.map((m) => [m.recipient, m.subject]).sort()).toEqual([[ann, 'offer a'], [bob, 'offer b'], [eve, 'offer a']].sort());
  });

  it('runs a journey-holdout profile through the journey with every send suppressed as holdout', async () => {
    const [run] = runOf(dee);
    expect(run.input.holdout).toBe(true);
    expect(run.path).toContain('send-a');
    expect(ctx.stack.outbox.list({ profileId: idOf(dee) })).toEqual([]);
    const exported = await call(ctx.stack, 'GET', `/profiles/${idOf(dee)}/export`);
    const { messages, conversions } = (exported.body as { journeys: { messages: { status: string; reason: string }[]; conversions: object[] } }).journeys;
    expect(messages.map((m) => [m.status, m.reason])).toEqual([['suppressed', 'holdout']]);
    expect(conversions).toEqual([expect.objectContaining({ kind: 'conversion', journeyId: 'split-test', holdout: true, until: '2026-12-08T09:00:00.000Z' })]);
  });

  it('counts entries (holdout apart) and split assignments of the treated entries', async () => {
    const t = await totals();
    expect(t[`${COUNTER.entered} {}`]).toBe(4);
    expect(t[`${COUNTER.entered} {"variant":"holdout"}`]).toBe(1);
    expect(t[`${COUNTER.assigned} {"node":"offer-test","variant":"a"}`]).toBe(2);
    expect(t[`${COUNTER.assigned} {"node":"offer-test","variant":"b"}`]).toBe(1);
    expect(t[`${COUNTER.assigned} {"node":"offer-test","variant":"holdout"}`]).toBe(1);
  });

  it('converts an entry once, after its run ended, with its revenue, clicks and time to convert', async () => {
    // A click on Ann's message, as the engagement events record it on the ledger entry.
    const db = new DynamoDBClient({ endpoint: ctx.stack.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await ctx.clock.advance('1h');
    await db.send(
      new UpdateItemCommand({
        TableName: ctx.stack.tables.runtime,
        Key: { pk: { S: `LEDGER#${runOf(ann)[0].executionArn}` }, sk: { S: 'send-a' } },
        UpdateExpression: 'SET clickedAt = :at',
        ExpressionAttributeValues: { ':at': { S: ctx.clock.now().toISOString() } },
      }),
    );
    await ctx.clock.advance('1d');
    expect(runOf(ann)[0].status).toBe('SUCCEEDED');
    const before = counted().length;
    await order(ann, 'order-1', 80);
    await order(ann, 'order-1', 80); // the same event delivered twice
    await order(ann, 'order-2', 25); // another order in the window: the entry has converted already
    const t = await totals();
    expect(t[`${COUNTER.converted} {}`]).toBe(1);
    expect(t[`${COUNTER.revenue} {}`]).toBe(80);
    expect(t[`${COUNTER.convertedAfterClick} {}`]).toBe(1);
    expect(t[`${COUNTER.secondsToConvert} {}`]).toBe(25 * 3600);
    expect(t[`${COUNTER.converted} {"node":"offer-test","variant":"a"}`]).toBe(1);
    expect(t[`${COUNTER.revenue} {"node":"offer-test","variant":"a"}`]).toBe(80);
    expect(counted().slice(before).every((i) => i.day === '2026-12-01')).toBe(true);
  });

  it('measures the holdouts: conversions under variant holdout, counted without a click', async () => {
    await order(dee, 'order-dee', 40);
    await order(cai, 'order-cai', 'a lot'); // not a number: a conversion without revenue
    const t = await totals();
    expect(t[`${COUNTER.converted} {"variant":"holdout"}`]).toBe(1);
    expect(t[`${COUNTER.revenue} {"variant":"holdout"}`]).toBe(40);
    expect(t[`${COUNTER.converted} {"node":"offer-test","variant":"holdout"}`]).toBe(1);
    expect(t[`${COUNTER.revenue} {"node":"offer-test","variant":"holdout"}`]).toBeUndefined();
    expect(t[`${COUNTER.converted} {}`]).toBe(2);
    expect(t[`${COUNTER.convertedAfterClick} {}`]).toBe(1);
  });

  it('does not count a goal event after the window', async () => {
    await ctx.clock.advanceTo(Date.parse('2026-12-08T09:00:01.000Z'));
    await order(eve, 'order-eve-late', 99);
    await order(bob, 'order-bob-late', 99);
    const t = await totals();
    expect(t[`${COUNTER.converted} {"node":"offer-test","variant":"b"}`]).toBeUndefined();
    expect(t[`${COUNTER.converted} {}`]).toBe(2);
  });

  it('assigns a profile that enters again the same variant and holdout', async () => {
    await ctx.put('signed.up', { id: 'signup-again-ann', identities: { email: ann } });
    await ctx.put('signed.up', { id: 'signup-again-dee', identities: { email: dee } });
    expect(runOf(ann).map((r) => r.input.variants)).toEqual([{ offer_test: 'a' }, { offer_test: 'a' }]);
    expect(runOf(dee).map((r) => r.input.holdout)).toEqual([true, true]);
    expect(ctx.stack.outbox.list({ profileId: idOf(dee) })).toEqual([]);
  });

  it('erases a profile\'s conversion windows with the profile', async () => {
    const db = new DynamoDBClient({ endpoint: ctx.stack.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const windows = async () =>
      (await db.send(new QueryCommand({ TableName: ctx.stack.tables.runtime, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `GOAL#${idOf(cai)}` } } }))).Items ?? [];
    expect(await windows()).toHaveLength(1);
    expect((await call(ctx.stack, 'DELETE', `/profiles/${idOf(cai)}`)).status).toBe(200);
    expect(await windows()).toEqual([]);
  });

  it('converts the entries before a goal event that also enters, never the entry it starts', async () => {
    const buyer = 'repeat@example.com';
    const converted = async () =>
      (await ctx.stack.counters.read('repeat-buyer', '2026-01-01', '2027-12-31')).filter((t) => t.name === COUNTER.converted).reduce((n, t) => n + t.value, 0);
    const box = (id: string) => ctx.put('box.ordered', { id, identities: { email: buyer }, properties: {} });
    await box('repeat-1');
    expect(await converted()).toBe(0);
    await box('repeat-2');
    expect(await converted()).toBe(1);
    expect(ctx.stack.executions.list({ journeyId: 'repeat-buyer', profileId: idOf(buyer) })).toHaveLength(2);
  });
});
