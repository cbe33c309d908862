import { campaignEntryId, enterJourneyBatch, type EnterJourneyDeps } from '../../../lambdas/core/campaigns/enter';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import type { AudienceRow, RunContext } from '../../../lambdas/core/campaigns/contract';
import { executionName } from '../../../lambdas/core/runtime/enter';
import { FakeClock, journeyRecord, runtime } from '../runtime/fakes';

const RUN: RunContext = { campaignId: 'win-back', runId: 'r1', prefix: 'runs/win-back/r1/', startedAt: '2026-12-03T09:00:00.000Z', dryRun: false };

const campaign = Campaign.parse({
  schemaVersion: 1,
  id: 'win-back',
  name: 'Win back',
  audience: { segment: 'lapsed' },
  schedule: { type: 'on-demand' },
  start: 'enter',
  steps: { enter: { kind: 'enter-journey', journey: 'welcome-back' } },
});

function setup(journey: Record<string, unknown> = {}) {
  const clock = new FakeClock('2026-12-03T12:00:00.000Z');
  const record = journeyRecord({ id: 'welcome-back', entry: { kind: 'api' }, ...journey });
  const rt = runtime([record], clock);
  for (let i = 0; i < 4; i++) rt.profiles.add({ id: `p-${i}`, identities: { email: `p${i}@example.com` } });
  const runs = memoryCampaignRuns();
  runs.records.set('win-back\u0000r1', { campaignId: 'win-back', runId: 'r1', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
  const deps: EnterJourneyDeps = {
    campaigns: { get: async (id) => (id === 'win-back' ? { campaign, stateMachineArn: 'arn:sm', version: 'v1' } : undefined) },
    runs,
    profiles: rt.profiles,
    journeys: rt.journeys,
    enrollments: rt.enrollments,
    executions: rt.executions,
    clock,
  };
  const counts = async () => Object.fromEntries((await runs.counts('win-back', 'r1')).map((c) => [`${c.name}/${c.dim}`, c.value]));
  const setStatus = (status: 'paused' | 'cancelled') => {
    const r = runs.records.get('win-back\u0000r1')!;
    runs.records.set('win-back\u0000r1', { ...r, status, version: r.version + 1 });
  };
  return { deps, rt, runs, counts, setStatus };
}

const rows = (n: number): AudienceRow[] => Array.from({ length: n }, (_, i) => ({ profileId: `p-${i}`, data: { n: i } }));
const batch = (items: AudienceRow[], extra: Partial<RunContext> = {}) => ({ run: { ...RUN, ...extra }, step: 'enter', items });

describe('enterJourneyBatch', () => {
  it('starts the journey once per member through its API entry, with the campaign and the row in the context', async () => {
    const { deps, rt, counts } = setup();
    expect(await enterJourneyBatch(deps, batch(rows(3)))).toMatchObject({ status: 'done' });
    expect(rt.executions.executions.size).toBe(3);
    const name = executionName('welcome-back', 'p-1', campaignEntryId('win-back', 'r1'));
    const started = [...rt.executions.executions.values()].find((e) => e.name === name)!;
    expect(started.input).toMatchObject({ profileId: 'p-1', context: { campaign: { campaignId: 'win-back', runId: 'r1', step: 'enter' }, row: { n: 1 } } });
    expect(await counts()).toEqual({ 'entered/': 3 });
  });

  it('starts no run twice and counts no entry twice when the batch is retried', async () => {
    const { deps, rt, counts } = setup();
    await enterJourneyBatch(deps, batch(rows(3)));
    await enterJourneyBatch(deps, batch(rows(3)));
    expect(rt.executions.executions.size).toBe(3);
    expect(await counts()).toEqual({ 'entered/': 3 });
  });

  it('counts not-entered and would-enter members once when the batch is retried', async () => {
    const { deps, runs, counts } = setup({ settings: { reentry: 'never' } });
    await runs.create({ campaignId: 'win-back', runId: 'r2', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
    await runs.create({ campaignId: 'win-back', runId: 'r3', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
    const items = [...rows(2), { profileId: 'gone' }];
    await enterJourneyBatch(deps, batch(items));
    await enterJourneyBatch(deps, batch(items, { runId: 'r2' }));
    await enterJourneyBatch(deps, batch(items, { runId: 'r2' }));
    await enterJourneyBatch(deps, batch(items, { runId: 'r3', dryRun: true }));
    await enterJourneyBatch(deps, batch(items, { runId: 'r3', dryRun: true }));
    expect(await counts()).toEqual({ 'entered/': 2, 'not-entered/profile-erased': 1 });
    const of = async (runId: string) => Object.fromEntries((await runs.counts('win-back', runId)).map((c) => [`${c.name}/${c.dim}`, c.value]));
    expect(await of('r2')).toEqual({ 'not-entered/reentry-never': 2, 'not-entered/profile-erased': 1 });
    expect(await of('r3')).toEqual({ 'would-enter/': 2, 'not-entered/profile-erased': 1 });
  });

  it('respects the journey re-entry rule: a member whose run is still active is not entered again', async () => {
    const { deps, runs, counts } = setup({ settings: { reentry: 'never' } });
    await runs.create({ campaignId: 'win-back', runId: 'r2', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
    await enterJourneyBatch(deps, batch(rows(2)));
    await enterJourneyBatch(deps, batch(rows(2), { runId: 'r2' }));
    expect(await counts()).toEqual({ 'entered/': 2 });
    const second = Object.fromEntries((await runs.counts('win-back', 'r2')).map((c) => [`${c.name}/${c.dim}`, c.value]));
    expect(second).toEqual({ 'not-entered/reentry-never': 2 });
  });

  it('counts an erased profile as not entered, and a dry run as would-enter without starting anything', async () => {
    const { deps, rt, counts } = setup();
    await enterJourneyBatch(deps, batch([...rows(2), { profileId: 'gone' }], { dryRun: true }));
    expect(rt.executions.executions.size).toBe(0);
    expect(await counts()).toEqual({ 'would-enter/': 2, 'not-entered/profile-erased': 1 });
  });

  it('stops at once when the run is paused or cancelled', async () => {
    const a = setup();
    a.setStatus('paused');
    expect(await enterJourneyBatch(a.deps, batch(rows(2)))).toMatchObject({ status: 'paused', cursor: 0 });
    const b = setup();
    b.setStatus('cancelled');
    expect(await enterJourneyBatch(b.deps, batch(rows(2)))).toMatchObject({ status: 'cancelled' });
    expect(a.rt.executions.executions.size + b.rt.executions.executions.size).toBe(0);
  });

  it('paces entries like messages', async () => {
    const { deps } = setup();
    expect(await enterJourneyBatch(deps, { ...batch(rows(4)), rate: 2, concurrency: 1 })).toMatchObject({ paceSeconds: 2 });
  });

  it('fails the batch for a journey that is not deployed', async () => {
    const { deps } = setup();
    await expect(enterJourneyBatch({ ...deps, journeys: { get: async () => undefined, list: async () => [] } }, batch(rows(1)))).rejects.toThrow(
      'journey "welcome-back" of step "enter" is not deployed',
    );
  });
});
