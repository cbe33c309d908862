import { buildCatalog } from '../../lambdas/core/journey/catalog';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import type { RuleInput } from '../../lambdas/core/governance/rules';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/** A one-email marketing journey entered on `<id>.go`. */
const journey = (id: string) => ({
  path: `${id}.json`,
  text: JSON.stringify({
    schemaVersion: 1,
    id,
    name: id,
    entry: { kind: 'event', event: `${id}.go` },
    settings: { reentry: 'always', messageClass: 'marketing' },
    start: 'offer-email',
    nodes: [
      { id: 'offer-email', kind: 'send', channel: 'email', template: { subject: id, text: 'Hello' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  }),
});
const { journeys, problems } = buildCatalog([journey('spring-sale'), journey('new-arrivals')]);
const rules: RuleInput[] = [{ id: 'email-daily', kind: 'frequency-cap', channel: 'email', limit: 1, period: { calendar: 'day' } }];
const person = (name: string) => ({ id: `${name}-${Math.random()}`, identities: { email: `${name}@example.com` } });

describe.each(['dynalite', 'memory'] as const)('the outbox lists what was not sent, and why (%s)', (storage) => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    expect(problems).toEqual([]);
    ctx = await openVirtualStack({ journeys, rules, start: '2026-12-03T14:00:00.000Z', ...(storage === 'memory' ? { storage } : {}) });
  });
  afterAll(() => ctx.stack.stop());

  it('answers the email over the daily cap with its reason, newest first, filtered like the outbox', async () => {
    const ann = newProfileId('email', 'ann@example.com');
    await ctx.put('spring-sale.go', person('ann'));
    await ctx.clock.advance('1m');
    await ctx.put('new-arrivals.go', person('ann'));
    await ctx.clock.advance('1m');
    await ctx.put('spring-sale.go', person('ann'));
    expect(ctx.stack.outbox.list({ profileId: ann })).toHaveLength(1);

    const reply = await call(ctx.stack, 'GET', `/local/outbox/suppressed?profileId=${encodeURIComponent(ann)}`);
    expect(reply.status).toBe(200);
    const [run] = ctx.stack.executions.list({ journeyId: 'new-arrivals', profileId: ann });
    expect(reply.body.messages).toEqual([
      expect.objectContaining({ journeyId: 'spring-sale', preparedAt: '2026-12-03T14:02:00.000Z' }),
      {
        journeyId: 'new-arrivals',
        nodeId: 'offer-email',
        channel: 'email',
        profileId: ann,
        executionId: expect.any(String),
        reason: 'frequency-cap:email-daily',
        preparedAt: '2026-12-03T14:01:00.000Z',
      },
    ]);
    expect(run.executionArn).toContain(reply.body.messages[1].executionId);
    const byJourney = await call(ctx.stack, 'GET', '/local/outbox/suppressed?journeyId=new-arrivals&channel=email');
    expect(byJourney.body.messages.map((m: { journeyId: string }) => m.journeyId)).toEqual(['new-arrivals']);
    expect((await call(ctx.stack, 'GET', '/local/outbox/suppressed?channel=sms')).body.messages).toEqual([]);
  });
});
