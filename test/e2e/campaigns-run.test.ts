import { join } from 'node:path';
import { inControlGroup } from '../../lambdas/core/campaigns/audience';
import { Campaign, type CampaignInput } from '../../lambdas/core/campaigns/schema';
import { Placeholder } from '../../lambdas/core/journey/asl';
import { loadJourneyDir } from '../../lambdas/local/stack';
import type { LocalFunction } from '../../lambdas/local/executions';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/**
 * Campaign runs end to end through the local stack: the API starts the execution of the compiled definition, the
 * campaign-step actions build the audience in s3rver, Distributed Map batches send to the outbox (virtual clock).
 */

const gold = { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } as const;
const campaign = (input: Partial<CampaignInput> & { id: string }) =>
  Campaign.parse({
    schemaVersion: 1,
    name: `Campaign ${input.id}`,
    audience: { rule: gold },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: {
      email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi {{ profile.attributes.firstName }}', text: 'Hello' } },
    },
    ...input,
  });

const NEWS = campaign({ id: 'news' });
const AGAIN = campaign({ id: 'again', audience: { rule: gold, exclude: { messaged: [{ campaign: 'news', withinDays: 7 }] } } });
const DRY = campaign({ id: 'dry' });
const RETRIED = campaign({ id: 'retried' });
const PAUSED = campaign({ id: 'paused' });
const CANCELLED = campaign({ id: 'cancelled' });
const ENGAGED = campaign({
  id: 'engaged',
  steps: {
    email: { kind: 'deliver', channel: 'email', template: { subject: 'First', text: 'Hello' }, next: 'wait' },
    wait: { kind: 'wait', duration: '1d', next: 'opened' },
    opened: { kind: 'split', by: 'engagement', step: 'email', engagement: 'opened', yes: 'thanks', no: 'done' },
    thanks: { kind: 'deliver', channel: 'email', template: { subject: 'Thanks for reading', text: 'More' } },
    done: { kind: 'exit' },
  },
});
const ENTER = campaign({ id: 'enter', start: 'enter', steps: { enter: { kind: 'enter-journey', journey: 'manual-outreach' } } });
const LOCAL = campaign({
  id: 'local',
  steps: { email: { kind: 'deliver', channel: 'email', at: '18:00', in: 'member', template: { subject: 'Evening', text: 'Hi' } } },
});
const WEEKLY = campaign({ id: 'weekly', schedule: { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/London' } });
const SEGMENTS = campaign({ id: 'segments' });
const CAMPAIGNS = [NEWS, AGAIN, DRY, RETRIED, PAUSED, CANCELLED, ENGAGED, ENTER, LOCAL, WEEKLY, SEGMENTS];
const CONTROL_PERCENT = 20;
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', undefined, 'Europe/Paris', undefined];

type Ctx = Awaited<ReturnType<typeof openVirtualStack>>;

async function person(ctx: Ctx, n: number, attributes: Record<string, unknown>): Promise<string> {
  const email = `p${n}@shop.example`;
  const event = { type: 'signed.up', id: `signup-${n}`, identities: { email }, attributes: { firstName: `P${n}`, ...attributes } };
  const reply = await call(ctx.stack, 'POST', '/events', event);
  if (reply.status !== 202) throw new Error(`POST /events: ${reply.status} ${JSON.stringify(reply.body)}`);
  return email;
}

async function runToEnd(ctx: Ctx, campaignId: string, body: Record<string, unknown> = {}) {
  const started = await call(ctx.stack, 'POST', `/campaigns/${campaignId}/runs`, body);
  expect([200, 202]).toContain(started.status);
  await ctx.clock.runUntilIdle();
  await ctx.stack.settle();
  const run = await call(ctx.stack, 'GET', `/campaigns/${campaignId}/runs/${started.body.runId}`);
  expect(run.status).toBe(200);
  return { started, run: run.body };
}

/** Each batch of `deliver` first runs `before` (once), and fails after sending when `failAfter` is set (once). */
const hooks: { before?: () => Promise<void>; failAfter?: boolean } = {};
const wrapFunction = (name: Placeholder, fn: LocalFunction): LocalFunction =>
  name !== Placeholder.campaignStepFunction
    ? fn
    : async (payload, context) => {
        if ((payload as { action?: string }).action !== 'deliver') return fn(payload, context);
        const before = hooks.before;
        hooks.before = undefined;
        await before?.();
        const result = await fn(payload, context);
        if (hooks.failAfter) {
          hooks.failAfter = false;
          throw Object.assign(new Error('the function timed out after sending'), { name: 'Lambda.Unknown' });
        }
        return result;
      };

describe('campaign runs through the local stack (s3rver, dynalite, virtual clock)', () => {
  let ctx: Ctx;
  const gold: string[] = [];
  const ids = new Map<string, string>();
  const emailsOf = (campaignId: string, nodeId?: string) =>
    ctx.stack.outbox
      .list({ channel: 'email' })
      .filter((m) => m.journeyId === `campaign:${campaignId}` && (nodeId === undefined || m.nodeId === nodeId))
      .map((m) => m.recipient)
      .sort();
  beforeAll(async () => {
    const journeys = loadJourneyDir(join(__dirname, '..', '..', 'statemachines')).filter((j) => j.journey.id === 'manual-outreach');
    const campaignControlGroupPercent = CONTROL_PERCENT;
    ctx = await openVirtualStack({ s3: true, campaigns: CAMPAIGNS, journeys, rules: [], wrapFunction, campaignControlGroupPercent });
    for (let n = 0; n < 6; n++) {
      const zone = ZONES[n];
      await person(ctx, n, { tier: n < 5 ? 'gold' : 'silver', ...(zone ? { timezone: zone } : {}) });
    }
    await ctx.stack.settle();
    for (let n = 0; n < 6; n++) {
      const found = await call(ctx.stack, 'GET', `/profiles?identity=${encodeURIComponent(`email:p${n}@shop.example`)}`);
      ids.set(found.body.id, `p${n}@shop.example`);
    }
    for (const [id, email] of ids) if (email !== 'p5@shop.example' && !inControlGroup(id, CONTROL_PERCENT)) gold.push(email);
    gold.sort();
  }, 60_000);
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  it('builds the audience from its rule without the control group and emails every member once, counting per step', async () => {
    expect(gold.length).toBeGreaterThan(0);
    expect(gold.length).toBeLessThan(5); // the control group holds someone (profile ids are stable)
    const { run } = await runToEnd(ctx, 'news');
    expect(run.status).toBe('succeeded');
    expect(emailsOf('news')).toEqual(gold);
    expect(run.counts.run.audience.total).toBe(gold.length);
    expect(run.counts.run.excluded?.by?.['control-group'] ?? 0).toBe(5 - gold.length);
    expect(run.counts.steps.email.sent.total).toBe(gold.length);
  }, 60_000);

  it('builds the audience in one child execution per scan segment (a Distributed Map), each paging in its own history', async () => {
    const { started, run } = await runToEnd(ctx, 'segments');
    expect(run.status).toBe('succeeded');
    const parent = ctx.stack.executions.get(started.body.executionArn)!;
    const pageOf = (input: unknown) => input as { run?: { runId?: string }; segment?: number };
    const children = ctx.stack.executions
      .list()
      .filter((e) => e.stateMachineArn === `${parent.stateMachineArn}/Audience` && pageOf(e.input).run?.runId === run.runId);
    // The local stack scans 8 segments (DEFAULT_CAMPAIGN_SCAN_SEGMENTS): one child each, segments 0 to 7.
    expect(children.map((c) => pageOf(c.input).segment).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(children.every((c) => c.status === 'SUCCEEDED')).toBe(true);
    const parentStates = (await ctx.stack.executions.trace(parent.executionArn, { maxEvents: 25_000 }))!.states.map((s) => s.state);
    expect(parentStates).toEqual(expect.arrayContaining(['Audience', 'Audience.compose']));
    // The pages are in the children's histories, not the run's.
    expect(parentStates).not.toContain('Audience.page');
    const childStates = (await ctx.stack.executions.trace(children[0].executionArn, { maxEvents: 100 }))!.states.map((s) => s.state);
    expect(childStates).toEqual(['Audience.page', 'Audience.more', 'Audience.done']);
    expect(emailsOf('segments')).toEqual(gold);
  }, 60_000);

  it('excludes members messaged by another campaign within the window', async () => {
    const { run } = await runToEnd(ctx, 'again');
    expect(run.status).toBe('succeeded');
    expect(emailsOf('again')).toEqual([]);
    expect(run.counts.run.excluded.by['recently-messaged'] ?? run.counts.run.excluded.total).toBeGreaterThan(0);
  }, 60_000);

  it('answers a dry run with its figures and sends nothing', async () => {
    const { started } = await runToEnd(ctx, 'dry', { dryRun: true });
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('succeeded');
    expect(started.body.counts.run.audience.total).toBe(gold.length);
    expect(started.body.counts.steps.email['would-send'].total).toBe(gold.length);
    expect(emailsOf('dry')).toEqual([]);
  }, 60_000);

  it('never sends twice when a batch that already sent is retried', async () => {
    hooks.failAfter = true;
    const { run } = await runToEnd(ctx, 'retried');
    expect(hooks.failAfter).toBe(false);
    expect(run.status).toBe('succeeded');
    expect(emailsOf('retried')).toEqual(gold);
    expect(run.counts.steps.email.sent.total).toBe(gold.length);
  }, 60_000);

  it('pause stops new sends; resume continues without re-sending anyone', async () => {
    let runId = '';
    hooks.before = async () => {
      const reply = await call(ctx.stack, 'POST', `/campaigns/paused/runs/${runId}/pause`);
      expect(reply.status).toBe(200);
    };
    const started = await call(ctx.stack, 'POST', '/campaigns/paused/runs', {});
    runId = started.body.runId;
    await ctx.clock.advance('5m');
    expect((await call(ctx.stack, 'GET', `/campaigns/paused/runs/${runId}`)).body.status).toBe('paused');
    expect(emailsOf('paused')).toEqual([]);
    expect((await call(ctx.stack, 'POST', `/campaigns/paused/runs/${runId}/resume`)).status).toBe(200);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const run = (await call(ctx.stack, 'GET', `/campaigns/paused/runs/${runId}`)).body;
    expect(run.status).toBe('succeeded');
    expect(emailsOf('paused')).toEqual(gold);
  }, 60_000);

  it('cancel ends the run, sending nothing more', async () => {
    let runId = '';
    hooks.before = async () => {
      expect((await call(ctx.stack, 'POST', `/campaigns/cancelled/runs/${runId}/cancel`)).status).toBe(200);
    };
    const started = await call(ctx.stack, 'POST', '/campaigns/cancelled/runs', {});
    runId = started.body.runId;
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect((await call(ctx.stack, 'GET', `/campaigns/cancelled/runs/${runId}`)).body.status).toBe('cancelled');
    expect(emailsOf('cancelled')).toEqual([]);
  }, 60_000);

  it('waits, then sends the follow-up only to the member who opened the first message', async () => {
    const started = await call(ctx.stack, 'POST', '/campaigns/engaged/runs', {});
    await ctx.clock.advance('1h');
    const first = ctx.stack.outbox.list({ channel: 'email' }).filter((m) => m.journeyId === 'campaign:engaged');
    expect(first.map((m) => m.recipient).sort()).toEqual(gold);
    const opened = await call(ctx.stack, 'POST', `/local/outbox/${first[0].messageId}/events`, { type: 'open' });
    expect(opened.status).toBe(202);
    await ctx.stack.settle();
    expect(emailsOf('engaged', 'thanks')).toEqual([]);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const run = (await call(ctx.stack, 'GET', `/campaigns/engaged/runs/${started.body.runId}`)).body;
    expect(run.status).toBe('succeeded');
    expect(emailsOf('engaged', 'thanks')).toEqual([first[0].recipient]);
    expect(run.counts.steps.email.opened.total).toBe(1);
  }, 60_000);

  it('enters each member into an API-entry journey', async () => {
    const { run } = await runToEnd(ctx, 'enter');
    expect(run.status).toBe('succeeded');
    expect(run.counts.steps.enter.entered.total).toBe(gold.length);
    const runs = ctx.stack.executions.list({ journeyId: 'manual-outreach' });
    expect(runs.length).toBe(gold.length);
  }, 60_000);

  it('sends at 18:00 in each member\'s zone, when the clock reaches it', async () => {
    await ctx.clock.advanceTo('2026-12-03T12:00:00Z');
    const started = await call(ctx.stack, 'POST', '/campaigns/local/runs', {});
    // 18:00 in Paris is 17:00Z, without a zone (stage UTC) 18:00Z, New York 23:00Z; Tokyo's (09:00Z) has passed: next day.
    const inZones = (...zones: (string | undefined)[]) => gold.filter((email) => zones.includes(ZONES[Number(email.slice(1, 2))]));
    await ctx.clock.advanceTo('2026-12-03T16:59:00Z');
    expect(emailsOf('local')).toEqual([]);
    await ctx.clock.advanceTo('2026-12-03T17:30:00Z');
    expect(emailsOf('local')).toEqual(inZones('Europe/Paris'));
    await ctx.clock.advanceTo('2026-12-03T18:30:00Z');
    expect(emailsOf('local')).toEqual(inZones('Europe/Paris', undefined));
    await ctx.clock.advanceTo('2026-12-04T08:30:00Z');
    expect(emailsOf('local')).toEqual(inZones('Europe/Paris', undefined, 'America/New_York'));
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    const run = (await call(ctx.stack, 'GET', `/campaigns/local/runs/${started.body.runId}`)).body;
    expect(run.status).toBe('succeeded');
    expect(emailsOf('local')).toEqual(gold);
  }, 60_000);

  it('runs a scheduled occurrence delivered twice once', async () => {
    const record = await ctx.stack.campaignRegistry.get('weekly');
    const input = { campaignId: 'weekly', trigger: 'schedule', occurrence: '2026-12-07T09:00:00Z' };
    await ctx.stack.executions.start(record!.stateMachineArn, 'occurrence-a', input as never);
    await ctx.stack.executions.start(record!.stateMachineArn, 'occurrence-b', input as never);
    await ctx.clock.runUntilIdle();
    await ctx.stack.settle();
    expect(emailsOf('weekly')).toEqual(gold);
  }, 60_000);
});
