import { call } from './http';
import { openVirtualStack } from './local-stack';

/** The shipped `campaigns/*.json` with the repository's segments, journeys, offers and rules, in the local stack. */
describe('shipped campaign files run in the local stack', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  const members = ['gold', 'silver', 'gold', 'none'];
  beforeAll(async () => {
    ctx = await openVirtualStack({ s3: true, start: '2026-12-07T08:00:00.000Z' });
    for (const [n, tier] of members.entries()) {
      const reply = await call(ctx.stack, 'POST', '/events', {
        type: 'signed.up',
        id: `shipped-${n}`,
        identities: { email: `m${n}@shop.example` },
        attributes: { firstName: `M${n}`, loyaltyTier: tier },
      });
      expect(reply.status).toBe(202);
    }
    await ctx.stack.settle();
  }, 60_000);
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  it('registers and deploys every file', async () => {
    const reply = await call(ctx.stack, 'GET', '/campaigns');
    expect(reply.body.campaigns.map((c: { id: string }) => c.id)).toEqual(['booking-reminders', 'newsletter', 'win-back', 'winter-sale']);
    expect([...ctx.stack.campaignProblems]).toEqual([]);
  });

  it.each(['booking-reminders', 'newsletter', 'win-back', 'winter-sale'])('answers a dry run of %s with its figures', async (id) => {
    const reply = await call(ctx.stack, 'POST', `/campaigns/${id}/runs`, { dryRun: true });
    expect([reply.status, reply.body.status, reply.body.error]).toEqual([200, 'succeeded', undefined]);
  }, 60_000);

  it('runs the newsletter: the issue to loyalty members, then the push reminder step to those who did not open', async () => {
    const started = await call(ctx.stack, 'POST', '/campaigns/newsletter/runs', {});
    expect(started.status).toBe(202);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const run = (await call(ctx.stack, 'GET', `/campaigns/newsletter/runs/${started.body.runId}`)).body;
    expect([run.status, run.error]).toEqual(['succeeded', undefined]);
    const issue = ctx.stack.outbox.list({ channel: 'email' }).filter((m) => m.journeyId === 'campaign:newsletter');
    expect(issue.map((m) => m.recipient).sort()).toEqual(['m0@shop.example', 'm1@shop.example', 'm2@shop.example']);
    expect(run.counts.run.audience.total).toBe(3);
    expect(run.counts.steps.issue.sent.total).toBe(3);
    // No push address: the reminder is counted suppressed, not sent.
    expect(run.counts.steps.reminder.suppressed.total).toBe(3);
  }, 60_000);
});
