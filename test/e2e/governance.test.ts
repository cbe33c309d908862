import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { localDynamoClient } from '../../lambdas/local/dynalite';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { RuleInput } from '../../lambdas/core/governance/rules';
import { ledgerEntry, request } from './consent-support';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/** A one-email marketing journey entered on `<id>.go`. */
const journey = (id: string, settings: Record<string, unknown> = {}) => ({
  path: `${id}.json`,
  text: JSON.stringify({
    schemaVersion: 1,
    id,
    name: id,
    entry: { kind: 'event', event: `${id}.go` },
    settings: { reentry: 'always', messageClass: 'marketing', ...settings },
    start: 'offer-email',
    nodes: [
      { id: 'offer-email', kind: 'send', channel: 'email', template: { subject: `${id}`, text: 'Hello' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  }),
});
/** Journeys of the exclusive group `onboarding`: a wait of a day, then an email. */
const onboarding = (id: string, priority: number) => ({
  path: `${id}.json`,
  text: JSON.stringify({
    schemaVersion: 1,
    id,
    name: id,
    entry: { kind: 'event', event: `${id}.go` },
    settings: { reentry: 'never', messageClass: 'marketing', exclusive: 'onboarding', priority },
    start: 'pause',
    nodes: [
      { id: 'pause', kind: 'wait', duration: '1d', next: 'hello-email' },
      { id: 'hello-email', kind: 'send', channel: 'email', template: { subject: `${id}`, text: 'Hello' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  }),
});
const { journeys, problems } = buildCatalog([journey('spring-sale'), journey('new-arrivals'), onboarding('getting-started', 40), onboarding('trial-rescue', 80)]);

const rules: RuleInput[] = [
  { id: 'nights', kind: 'quiet-hours', channel: 'any', from: '21:00', to: '08:00', action: 'defer' },
  { id: 'email-daily', kind: 'frequency-cap', channel: 'email', limit: 1, period: { calendar: 'day' } },
];
const person = (name: string, timezone?: string) => ({
  id: `${name}-${Math.random()}`,
  identities: { email: `${name}@example.com` },
  attributes: timezone === undefined ? {} : { timezone },
});
const profileOf = (name: string) => newProfileId('email', `${name}@example.com`);

describe('governance in the journey runtime (virtual clock, dynalite)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    expect(problems).toEqual([]);
    // 21:30 UTC: 22:30 in Berlin, 16:30 in New York (the stage default).
    ctx = await openVirtualStack({ journeys, rules, defaultTimeZone: 'America/New_York', start: '2026-12-03T21:30:00.000Z' });
  });
  afterAll(() => ctx.stack.stop());

  it('defers an email entered at 22:30 local with a real Wait and sends it at 08:00 local', async () => {
    await ctx.put('spring-sale.go', person('berlin', 'Europe/Berlin'));
    const [run] = ctx.stack.executions.list({ journeyId: 'spring-sale', profileId: profileOf('berlin') });
    expect(run.path).toContain('offer-email.defer');
    expect(run.status).toBe('RUNNING');
    await ctx.clock.advanceTo('2026-12-04T06:59:59.000Z');
    expect(ctx.stack.outbox.list({ profileId: profileOf('berlin') })).toEqual([]);
    await ctx.clock.advance('1s');
    const [message] = ctx.stack.outbox.list({ profileId: profileOf('berlin') });
    expect(message).toMatchObject({ nodeId: 'offer-email', time: '2026-12-04T07:00:00.000Z' });
    const [done] = ctx.stack.executions.list({ journeyId: 'spring-sale', profileId: profileOf('berlin') });
    expect(done.status).toBe('SUCCEEDED');
    // The step ran twice: deferred, then checked again when the window opened.
    expect(done.path.filter((s) => s === 'offer-email')).toHaveLength(2);
  });

  it('uses the stage default zone for a profile without one', async () => {
    // 2026-12-04T07:00Z is 02:00 in New York: deferred until 08:00 EST (13:00Z).
    await ctx.put('spring-sale.go', person('nozone'));
    expect(ctx.stack.outbox.list({ profileId: profileOf('nozone') })).toEqual([]);
    await ctx.clock.advanceTo('2026-12-04T13:00:00.000Z');
    expect(ctx.stack.outbox.list({ profileId: profileOf('nozone') })).toMatchObject([{ time: '2026-12-04T13:00:00.000Z' }]);
  });

  it('checks the caps again when the window opens: of two deferred emails under 1 a day, one goes out', async () => {
    // 13:00Z is 02:00 in Tonga (+13): both wait until 08:00 there (19:00Z).
    await ctx.put('spring-sale.go', person('tonga', 'Pacific/Tongatapu'));
    await ctx.put('new-arrivals.go', person('tonga', 'Pacific/Tongatapu'));
    expect(ctx.stack.outbox.list({ profileId: profileOf('tonga') })).toEqual([]);
    await ctx.clock.advanceTo('2026-12-04T19:00:00.000Z');
    const sent = ctx.stack.outbox.list({ profileId: profileOf('tonga') });
    expect(sent).toHaveLength(1);
    expect(sent[0].time).toBe('2026-12-04T19:00:00.000Z');
    const runs = ['spring-sale', 'new-arrivals'].flatMap((id) => ctx.stack.executions.list({ journeyId: id, profileId: profileOf('tonga') }));
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const entries = await Promise.all(runs.map((r) => ledgerEntry(ctx.stack, r.executionArn, 'offer-email')));
    expect(entries.map((e) => e?.status).sort()).toEqual(['sent', 'suppressed']);
    expect(entries.find((e) => e?.status === 'suppressed')).toMatchObject({ reason: 'frequency-cap:email-daily' });
    expect(entries.find((e) => e?.status === 'sent')).toBeDefined();
  });

  it('sends at once outside quiet hours, up to the cap of the local day', async () => {
    // 19:00Z is 14:00 in New York: no quiet hours. The second email of the same local day is suppressed.
    await ctx.put('spring-sale.go', person('daytime'));
    await ctx.put('new-arrivals.go', person('daytime'));
    expect(ctx.stack.outbox.list({ profileId: profileOf('daytime') })).toHaveLength(1);
    const [run] = ctx.stack.executions.list({ journeyId: 'new-arrivals', profileId: profileOf('daytime') });
    expect(await ledgerEntry(ctx.stack, run.executionArn, 'offer-email')).toMatchObject({ status: 'suppressed', reason: 'frequency-cap:email-daily' });
  });

  it('a higher-priority entry of an exclusive group stops the lower run (preempted); a lower entry is refused meanwhile', async () => {
    await ctx.put('getting-started.go', person('group'));
    await ctx.put('trial-rescue.go', person('group'));
    const [lower] = ctx.stack.executions.list({ journeyId: 'getting-started', profileId: profileOf('group') });
    expect(lower).toMatchObject({ status: 'ABORTED', error: 'Waymark.Stopped: preempted' });
    await ctx.put('getting-started.go', { ...person('group'), id: 'again' });
    expect(ctx.stack.executions.list({ journeyId: 'getting-started', profileId: profileOf('group') })).toHaveLength(1);
    await ctx.clock.advance('1d');
    expect(ctx.stack.outbox.list({ profileId: profileOf('group') }).map((m) => m.journeyId)).toEqual(['trial-rescue']);
  });

  it('a delivery the provider refused gives its cap slot back; one whose outcome is unknown keeps it', async () => {
    // Afternoon in New York (the stage default): no quiet hours; 1 email a day.
    ctx.stack.outbox.inject({ channel: 'email', error: 'SesV2.MessageRejectedException' });
    await ctx.put('spring-sale.go', person('refused'));
    const [failed] = ctx.stack.executions.list({ journeyId: 'spring-sale', profileId: profileOf('refused') });
    expect(failed.path).toContain('offer-email.release');
    expect(await ledgerEntry(ctx.stack, failed.executionArn, 'offer-email')).toMatchObject({ status: 'failed' });
    await ctx.put('new-arrivals.go', person('refused'));
    expect(ctx.stack.outbox.list({ profileId: profileOf('refused') }).map((m) => m.journeyId)).toEqual(['new-arrivals']);

    ctx.stack.outbox.inject({ channel: 'email', error: 'States.Timeout', sent: true });
    await ctx.put('spring-sale.go', person('timeout'));
    await ctx.put('new-arrivals.go', person('timeout'));
    const [second] = ctx.stack.executions.list({ journeyId: 'new-arrivals', profileId: profileOf('timeout') });
    expect(await ledgerEntry(ctx.stack, second.executionArn, 'offer-email')).toMatchObject({ status: 'suppressed', reason: 'frequency-cap:email-daily' });
  });

  it('exports the profile’s cap slots and erases them with the profile', async () => {
    const id = profileOf('daytime');
    const exported = await request(ctx.stack, 'GET', `/profiles/${id}/export`);
    expect(exported.body.messageCapSlots).toEqual([expect.objectContaining({ pk: `SENDCAP#${id}`, profileId: id, slots: [expect.any(Object)] })]);
    expect((await request(ctx.stack, 'DELETE', `/profiles/${id}`)).status).toBe(200);
    const db = DynamoDBDocumentClient.from(localDynamoClient(ctx.stack.dynamoEndpoint));
    const { Item } = await db.send(new GetCommand({ TableName: ctx.stack.tables.runtime, Key: { pk: `SENDCAP#${id}`, sk: 'SLOTS' } }));
    db.destroy();
    expect(Item).toBeUndefined();
  });
});

describe('rules written through the API govern the next send (local stack)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    // No file rules: only what the API writes. 12:00 UTC, the stage default zone: no quiet hours.
    ctx = await openVirtualStack({ journeys, rules: [], start: '2026-12-07T12:00:00.000Z' });
  });
  afterAll(() => ctx.stack.stop());

  it('caps the emails after PUT /rules/{id}, and lets them through again after DELETE', async () => {
    const sent = () => ctx.stack.outbox.list({ profileId: profileOf('api-ruled') });
    const go = async (journeyId: string) => {
      await ctx.put(`${journeyId}.go`, person('api-ruled'));
      return ctx.stack.executions.list({ journeyId, profileId: profileOf('api-ruled') }).at(-1)!;
    };
    await go('spring-sale');
    expect(sent()).toHaveLength(1);
    const rule = { kind: 'frequency-cap', channel: 'email', limit: 1, period: { calendar: 'day' } };
    const put = await call(ctx.stack, 'PUT', '/rules/email-daily', rule);
    expect(put.status).toBe(201);
    // No restart: the next send reads the rule. It counts the sends made under it (the one before it was not).
    await go('new-arrivals');
    expect(sent()).toHaveLength(2);
    const capped = await go('spring-sale');
    expect(sent()).toHaveLength(2);
    const entry = await ledgerEntry(ctx.stack, capped.executionArn, 'offer-email');
    expect(entry).toMatchObject({ status: 'suppressed', reason: 'frequency-cap:email-daily' });
    expect((await call(ctx.stack, 'DELETE', '/rules/email-daily')).status).toBe(204);
    await go('new-arrivals');
    expect(sent()).toHaveLength(3);
  });
});
