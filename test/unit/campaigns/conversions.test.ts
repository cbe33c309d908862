import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import {
  assignBranches,
  cachedCampaignGoals,
  longestPathSeconds,
  recordCampaignConversions,
  runWindows,
  stepVariant,
  type CampaignConversionDeps,
} from '../../../lambdas/core/campaigns/conversions';
import { campaignRunConversions } from '../../../lambdas/core/campaigns/run-report';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import { MemoryCampaignConversionStore } from '../../../lambdas/local/memory/campaign-conversions';
import { MemoryLedger } from '../../../lambdas/local/memory/runtime';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { campaign, registry, runContext } from './fakes';
import { ROOT } from './fixtures';

const START = '2026-12-03T09:00:00.000Z';
const HOUR = 3_600_000;
const at = (hours: number) => new Date(Date.parse(START) + hours * HOUR).toISOString();

/** email → wait 1d → reminder (email), behind a 90/10 percent split with a holdout; goal: an order within 2 days. */
const CAMPAIGN = campaign({
  goal: { event: 'order.placed', within: '2d', value: 'properties.total' },
  start: 'ab',
  steps: {
    ab: { kind: 'split', by: 'percent', variants: [{ id: 'offer', weight: 90, next: 'email' }], holdout: { weight: 10 } },
    email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, next: 'wait' },
    wait: { kind: 'wait', duration: '1d', next: 'reminder' },
    reminder: { kind: 'deliver', channel: 'email', template: { subject: 'Still there?', text: 'Hello' } },
  },
});

function setup(c: Campaign = CAMPAIGN) {
  const table = new MemoryTable('runtime', { profileIndex: true });
  const store = new MemoryCampaignConversionStore(table);
  const ledger = new MemoryLedger(table);
  const runs = memoryCampaignRuns();
  const deps: CampaignConversionDeps = { goals: cachedCampaignGoals(registry(c), { now: () => new Date(START) }), store, runs };
  const run = runContext({ startedAt: START });
  /** A message of the run to the member: sent (or suppressed) at `hours` after the start. */
  const message = async (profileId: string, nodeId: string, hours: number, status: 'sent' | 'suppressed' = 'sent') => {
    const executionId = `campaign:news:r-1:${profileId}`;
    const entry = { executionId, nodeId, journeyId: 'campaign:news', profileId, channel: 'email', preparedAt: at(hours) };
    if (status === 'suppressed') return void (await ledger.prepare({ ...entry, status: 'suppressed', reason: 'opted-out' }));
    await ledger.prepare({ ...entry, status: 'prepared' });
    await ledger.settle(executionId, nodeId, { status: 'sent', messageId: `m-${profileId}-${nodeId}` });
  };
  const order = (profileId: string, hours: number, total: unknown = 40, id = `order-${profileId}-${hours}`): Promise<unknown> =>
    recordCampaignConversions(deps, event(id, hours, total), [profileId]);
  const counts = () => runs.counts('news', 'r-1');
  const count = async (step: string, name: string, dim: string) =>
    (await counts()).filter((x) => x.step === step && x.name === name && x.dim === dim).reduce((s, x) => s + x.value, 0);
  return { table, store, runs, deps, run, message, order, counts, count };
}

const event = (id: string, hours: number, total: unknown): BusinessEvent => ({
  id,
  type: 'order.placed',
  source: 'shop',
  time: at(hours),
  identities: {},
  properties: { total },
});

describe('campaign run conversion windows', () => {
  it('opens none without a goal or for a dry run', () => {
    expect(runWindows(campaign(), runContext(), ['p1'], 'audience')).toEqual([]);
    expect(runWindows(CAMPAIGN, runContext({ dryRun: true }), ['p1'], 'audience')).toEqual([]);
  });

  it('lasts from the run start through the longest path of waits plus the goal window', () => {
    expect(longestPathSeconds(CAMPAIGN)).toBe(86_400);
    const [window] = runWindows(CAMPAIGN, runContext({ startedAt: START }), ['p1'], 'control-group');
    expect(window).toMatchObject({ openedAt: START, until: at(24 + 48), group: 'control-group', branches: {} });
  });

  it('counts a local-time step as a day: its member may get the message tomorrow', () => {
    const local = campaign({ goal: { event: 'order.placed', within: '1h' }, steps: { email: { kind: 'deliver', channel: 'email', at: '09:00', template: { subject: 'Hi', text: 'x' } } } });
    expect(longestPathSeconds(local)).toBe(86_400);
  });
});

describe('recordCampaignConversions', () => {
  it('converts a member once per run, with the revenue of the first goal event only', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['p1'], 'audience'));
    await s.message('p1', 'email', 0);
    expect(await s.order('p1', 5, 40)).toHaveLength(1);
    expect(await s.order('p1', 6, 99)).toEqual([]);
    // The same event delivered again (a router retry) converts nothing either.
    expect(await s.order('p1', 5, 40, 'order-p1-5')).toEqual([]);
    expect([await s.count('', 'converted', ''), await s.count('', 'revenue', '')]).toEqual([1, 40]);
  });

  it('counts the control group apart, without reading any message', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['c1'], 'control-group'));
    const deliveries = jest.spyOn(s.store, 'deliveries');
    await s.order('c1', 30, 25.5);
    expect([await s.count('', 'converted', 'control-group'), await s.count('', 'revenue', 'control-group')]).toEqual([1, 25.5]);
    expect(await s.count('', 'converted', '')).toBe(0);
    expect(deliveries).not.toHaveBeenCalled();
  });

  it('converts nothing before the run started or after its window', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['p1', 'p2'], 'audience'));
    await s.order('p1', -1);
    await s.order('p2', 24 + 48 + 1);
    expect(await s.counts()).toEqual([]);
    // The window's last instant still converts.
    await s.order('p2', 24 + 48);
    expect(await s.count('', 'converted', '')).toBe(1);
  });

  it('credits each deliver step whose message was sent within the goal window before the event', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['early', 'late', 'suppressed'], 'audience'));
    for (const p of ['early', 'late']) await s.message(p, 'email', 0);
    await s.message('late', 'reminder', 24);
    await s.message('suppressed', 'email', 0, 'suppressed');
    await s.order('early', 10); // before the reminder: the email only
    await s.order('late', 60); // the email was 60 h ago (outside 2 days), the reminder 36 h ago
    await s.order('suppressed', 10); // nothing went out: the run counts it, no step does
    expect(await s.count('email', 'converted', '')).toBe(1);
    expect(await s.count('reminder', 'converted', '')).toBe(1);
    expect(await s.count('', 'converted', '')).toBe(3);
  });

  it("counts a percent split's branches: variant and holdout members alike", async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['v1', 'h1', 'h2'], 'audience'));
    await assignBranches(s.store, CAMPAIGN, s.run, 'ab', [
      { profileId: 'v1', branch: 'offer' },
      { profileId: 'h1', branch: 'holdout' },
      { profileId: 'h2', branch: 'holdout' },
      { profileId: 'no-window', branch: 'holdout' },
    ]);
    for (const p of ['v1', 'h1', 'no-window']) await s.order(p, 3, 10);
    expect([await s.count('ab', 'converted', 'offer'), await s.count('ab', 'converted', 'holdout')]).toEqual([1, 1]);
    expect(await s.count('ab', 'revenue', 'holdout')).toBe(10);
    expect(s.table.query('CAMPAIGN_GOAL#no-window')).toEqual([]);
  });

  it('keeps an existing window when a retried page opens it again (its conversion and branch stay)', async () => {
    const s = setup();
    const windows = runWindows(CAMPAIGN, s.run, ['p1'], 'audience');
    await s.store.open(windows);
    await assignBranches(s.store, CAMPAIGN, s.run, 'ab', [{ profileId: 'p1', branch: 'offer' }]);
    await s.order('p1', 1);
    await s.store.open(windows);
    await s.order('p1', 2);
    expect([await s.count('', 'converted', ''), await s.count('ab', 'converted', 'offer')]).toEqual([1, 1]);
  });

  it('converts each run of the campaign once, and ignores events that are no campaign goal', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['p1'], 'audience'));
    await s.store.open(runWindows(CAMPAIGN, runContext({ runId: 'r-2', startedAt: at(1) }), ['p1'], 'audience'));
    const other = { ...event('visit', 2, 0), type: 'page.viewed' };
    expect(await recordCampaignConversions(s.deps, other, ['p1'])).toEqual([]);
    const converted = await s.order('p1', 2);
    expect((converted as { runId: string }[]).map((c) => c.runId).sort()).toEqual(['r-1', 'r-2']);
  });

  it("converts only on goal events that satisfy the goal's condition", async () => {
    const filtered = campaign({ goal: { ...CAMPAIGN.goal!, condition: { path: 'event.properties.total', op: 'gte', value: 100 } } });
    const s = setup(filtered);
    await s.store.open(runWindows(filtered, s.run, ['p1'], 'audience'));
    await s.order('p1', 1, 20);
    await s.order('p1', 2, 150);
    expect([await s.count('', 'converted', ''), await s.count('', 'revenue', '')]).toEqual([1, 150]);
  });

  it('counts no revenue for a goal value that is not a non-negative number', async () => {
    const s = setup();
    await s.store.open(runWindows(CAMPAIGN, s.run, ['a', 'b'], 'audience'));
    await s.order('a', 1, 'n/a');
    await s.order('b', 1, -5);
    expect([await s.count('', 'converted', ''), await s.count('', 'revenue', '')]).toEqual([2, 0]);
  });
});

describe('campaignRunConversions', () => {
  const counts = (entries: [string, string, string, number][]) => entries.map(([step, name, dim, value]) => ({ step, name, dim, value }) as never);

  it('compares the audience with the control group and a split with its holdout, with the journey statistics', () => {
    const report = campaignRunConversions(CAMPAIGN, {}, counts([
      ['', 'audience', '', 1000],
      ['', 'excluded', 'control-group', 200],
      ['', 'converted', '', 150],
      ['', 'revenue', '', 3000],
      ['', 'converted', 'control-group', 10],
      ['ab', 'assigned', 'offer', 900],
      ['ab', 'assigned', 'holdout', 100],
      ['ab', 'converted', 'offer', 145],
      ['ab', 'converted', 'holdout', 5],
      ['email', 'sent', '', 880],
      ['email', 'converted', '', 120],
    ]));
    if (!report.available) throw new Error(report.reason);
    expect(report).toMatchObject({ members: 1000, converted: 150, conversionRate: { value: 0.15 }, revenue: 3000, averageOrderValue: { value: 20 } });
    expect(report.controlGroup).toMatchObject({ members: 200, converted: 10, conversionRate: { value: 0.05 } });
    expect(report.steps.email).toMatchObject({ sent: 880, converted: 120 });
    const [control, split] = report.experiments;
    expect(control).toMatchObject({ kind: 'campaign-control-group', control: 'control-group', sampleRatio: { available: false } });
    expect(control.comparisons[0]).toMatchObject({ variant: 'audience', against: 'control-group', sequential: { available: true } });
    const seq = control.comparisons[0].sequential;
    if (!seq.available) throw new Error(seq.reason);
    expect(seq.difference).toBeCloseTo(0.1, 10);
    expect(seq.interval.lower).toBeGreaterThan(0); // 15 % against 5 % on 1,000 and 200 members: significant
    expect(split).toMatchObject({ kind: 'campaign-split', node: 'ab', control: 'holdout', sampleRatio: { available: true, mismatch: false } });
    expect(split.comparisons[0]).toMatchObject({ variant: 'offer', against: 'holdout' });
  });

  it('says why there is nothing to measure: no goal, a dry run', () => {
    expect(campaignRunConversions(campaign(), {}, [])).toEqual({ available: false, reason: 'the campaign declares no goal' });
    expect(campaignRunConversions(CAMPAIGN, { dryRun: true }, [])).toMatchObject({ available: false });
  });

  it('leaves out the control-group comparison when the stage has no control group', () => {
    const report = campaignRunConversions(CAMPAIGN, {}, counts([['', 'audience', '', 10]]));
    expect(report.available && report.experiments.map((e) => e.kind)).toEqual(['campaign-split']);
  });
});

describe('stepVariant (the variant tag of campaign messages)', () => {
  const winBack = Campaign.parse(JSON.parse(readFileSync(join(ROOT, 'campaigns', 'win-back.json'), 'utf8')));

  it('is the branch of the nearest split above the step', () => {
    expect(stepVariant(winBack, 'offer-email')).toBe('contacted');
    expect(stepVariant(winBack, 'nudge-sms')).toBe('yes');
    expect(stepVariant(winBack, 'welcome-back')).toBe('yes');
  });

  it('is undefined when no split leads to the step', () => {
    expect(stepVariant(campaign(), 'email')).toBeUndefined();
  });
});
