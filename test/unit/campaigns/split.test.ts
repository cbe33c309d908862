import type { AudienceRow, CampaignRunRecord } from '../../../lambdas/core/campaigns/contract';
import { memoryAudienceFiles, memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import type { CampaignInput } from '../../../lambdas/core/campaigns/schema';
import { batchHash, percentBranch, splitBatch, type SplitDeps } from '../../../lambdas/core/campaigns/split';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import { MemoryLedger } from '../../../lambdas/local/memory/runtime';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { FakeMembershipStore, profile } from '../segments/audience-fakes';
import { campaign, registry, runContext } from './fakes';
import { runWindows } from '../../../lambdas/core/campaigns/conversions';
import { MemoryCampaignConversionStore } from '../../../lambdas/local/memory/campaign-conversions';

const NOW = '2026-12-06T09:00:00.000Z';
const email = { kind: 'deliver' as const, channel: 'email' as const, template: { subject: 'Hi', text: 'Hello' }, next: 'split' };
const sms = { kind: 'deliver' as const, channel: 'sms' as const, template: { body: 'Hi' } };

async function setup(splitStep: Record<string, unknown>, profiles: Profile[], over: Partial<CampaignInput> = {}, status: CampaignRunRecord['status'] = 'running') {
  const c = campaign({
    start: 'email',
    steps: { email, split: splitStep as never, a: sms, b: sms, c: sms },
    goal: { event: 'order.placed', within: '3d' },
    ...over,
  });
  const runs = memoryCampaignRuns();
  await runs.create({ campaignId: 'news', runId: 'r-1', status, trigger: 'api', createdAt: NOW, version: 1 });
  const files = memoryAudienceFiles();
  const table = new MemoryTable('runtime', { profileIndex: true });
  const byId = new Map(profiles.map((p) => [p.id, p]));
  const deps: SplitDeps = {
    campaigns: registry(c),
    runs,
    files,
    profiles: { get: async (id) => byId.get(id) && structuredClone(byId.get(id)) },
    memberships: new FakeMembershipStore(),
    ledger: new MemoryLedger(table),
    clock: { now: () => new Date(NOW) },
  };
  return { deps, runs, files, table };
}

const rows = (ids: string[]): AudienceRow[] => ids.map((profileId) => ({ profileId }));
const payload = (items: AudienceRow[]) => ({ action: 'split' as const, run: runContext(), step: 'split', items });

async function branchRows(files: ReturnType<typeof memoryAudienceFiles>, branch: string, items: AudienceRow[]): Promise<string[]> {
  const key = `runs/news/r-1/parts/split/${branch}/${batchHash(items)}.jsonl`;
  if (!files.objects.has(key)) return [];
  const ids: string[] = [];
  for await (const row of files.readRows(key)) ids.push(row.profileId);
  return ids;
}

describe('splitBatch', () => {
  it('assigns members to variants and the holdout by stable weights, writes a part per branch and counts each once', async () => {
    const split = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 45, next: 'a' }, { id: 'b', weight: 45, next: 'b' }], holdout: { weight: 10 } };
    const { deps, runs, files } = await setup(split, []);
    const items = rows(Array.from({ length: 2000 }, (_, i) => `p-${i}`));
    const result = await splitBatch(deps, payload(items));
    expect(result).toEqual({ status: 'done', paceSeconds: 0, run: runContext(), step: 'split', items });
    const [a, b, holdout] = await Promise.all(['a', 'b', 'holdout'].map((branch) => branchRows(files, branch, items)));
    expect(a.length + b.length + holdout.length).toBe(2000);
    expect(holdout.length).toBeGreaterThan(140);
    expect(holdout.length).toBeLessThan(260);
    const step = (campaign({ start: 'email', steps: { email, split: split as never, a: sms, b: sms } }).steps.split);
    if (step.kind !== 'split' || step.by !== 'percent') throw new Error('percent split expected');
    expect(a.every((id) => percentBranch('news', 'split', step, id) === 'a')).toBe(true);
    await splitBatch(deps, payload(items));
    expect((await runs.counts('news', 'r-1')).sort((x, y) => x.dim.localeCompare(y.dim))).toEqual([
      { step: 'split', name: 'assigned', dim: 'a', value: a.length },
      { step: 'split', name: 'assigned', dim: 'b', value: b.length },
      { step: 'split', name: 'assigned', dim: 'holdout', value: holdout.length },
    ]);
  });

  it("records each member's percent-split branch on its conversion window (the campaign has a goal)", async () => {
    const split = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 50, next: 'a' }], holdout: { weight: 50 } };
    const { deps, files, table } = await setup(split, []);
    const store = new MemoryCampaignConversionStore(table);
    const goal = { event: 'order.placed', within: '3d' };
    const c = campaign({ start: 'email', steps: { email, split: split as never, a: sms }, goal });
    const items = rows(Array.from({ length: 40 }, (_, i) => `p-${i}`));
    await store.open(runWindows(c, runContext(), items.map((r) => r.profileId), 'audience'));
    await splitBatch({ ...deps, campaignConversions: store }, payload(items));
    const holdout = await branchRows(files, 'holdout', items);
    const recorded = new Map(table.partitionKeys().flatMap((pk) => table.query(pk)).filter((i) => i.branches).map((i) => [i.profileId, i.branches]));
    expect(recorded.size).toBe(40);
    for (const [id, branches] of recorded) expect(branches).toEqual({ split: holdout.includes(id as string) ? 'holdout' : 'a' });
  });

  it('sends each member down the first branch whose rule holds, else otherwise; an erased profile goes nowhere', async () => {
    const rule = (tier: string) => ({ kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: tier });
    const split = { kind: 'split', by: 'rule', branches: [{ id: 'gold', rule: rule('gold'), next: 'a' }, { id: 'gold-too', rule: rule('gold'), next: 'b' }], otherwise: 'c' };
    const profiles = [profile('p-1', { tier: 'gold' }), profile('p-2', { tier: 'silver' }), profile('p-3', {})];
    const { deps, files } = await setup(split, profiles);
    const items = rows(['p-1', 'p-2', 'p-3', 'gone']);
    await splitBatch(deps, payload(items));
    expect(await branchRows(files, 'gold', items)).toEqual(['p-1']);
    expect(await branchRows(files, 'gold-too', items)).toEqual([]);
    expect(await branchRows(files, 'otherwise', items)).toEqual(['p-2', 'p-3']);
  });

  it.each([
    ['opened', ['opened', 'clicked'], ['sent', 'none', 'suppressed']],
    ['clicked', ['clicked'], ['opened', 'sent', 'none', 'suppressed']],
    ['not-opened', ['sent', 'none', 'suppressed'], ['opened', 'clicked']],
  ])('splits by engagement %s with the earlier delivery of this run', async (engagement, yes, no) => {
    const split = { kind: 'split', by: 'engagement', step: 'email', engagement, yes: 'a', no: 'b' };
    const { deps, files, table } = await setup(split, []);
    const at = '2026-12-03T09:00:00.000Z';
    const entry = (id: string, extra: Record<string, unknown>) =>
      table.put({ pk: `LEDGER#campaign:news:r-1:${id}`, sk: 'email', executionId: `campaign:news:r-1:${id}`, nodeId: 'email', status: 'sent', journeyId: 'campaign:news', profileId: id, channel: 'email', preparedAt: at, ...extra });
    entry('opened', { openedAt: at });
    entry('clicked', { clickedAt: at });
    entry('sent', {});
    entry('suppressed', { status: 'suppressed' });
    // Another run's engagement does not count for this one.
    table.put({ pk: 'LEDGER#campaign:news:r-0:none', sk: 'email', status: 'sent', profileId: 'none', openedAt: at, clickedAt: at });
    const items = rows(['clicked', 'none', 'opened', 'sent', 'suppressed']);
    await splitBatch(deps, payload(items));
    expect((await branchRows(files, 'yes', items)).sort()).toEqual([...yes].sort());
    expect((await branchRows(files, 'no', items)).sort()).toEqual([...no].sort());
  });

  it('reads a forEach delivery as one: opened when any item was opened', async () => {
    const split = { kind: 'split', by: 'engagement', step: 'email', engagement: 'opened', yes: 'a', no: 'b' };
    const forEach = { ...email, forEach: { path: 'row.bookings', max: 3 } };
    const { deps, files, table } = await setup(split, [], { steps: { email: forEach, split: split as never, a: sms, b: sms } });
    const at = '2026-12-03T09:00:00.000Z';
    const put = (id: string, index: number, extra: Record<string, unknown> = {}) =>
      table.put({ pk: `LEDGER#campaign:news:r-1:${id}`, sk: `email#${index}`, status: 'sent', profileId: id, preparedAt: at, ...extra });
    put('second', 0);
    put('second', 1, { openedAt: at });
    put('none', 0);
    put('none', 1);
    // Items are indexed from 0: an entry after a gap is not read.
    put('gap', 1, { openedAt: at });
    const items = rows(['gap', 'none', 'second']);
    await splitBatch(deps, payload(items));
    expect(await branchRows(files, 'yes', items)).toEqual(['second']);
    expect(await branchRows(files, 'no', items)).toEqual(['gap', 'none']);
  });

  it('splits by conversion: the goal event after the delivery and within the goal window', async () => {
    const split = { kind: 'split', by: 'engagement', step: 'email', engagement: 'converted', yes: 'a', no: 'b' };
    const event = (type: string, time: string) => ({ id: `${type}-${time}`, type, time, source: 'shop', properties: {}, receivedAt: time });
    const profiles = [
      profile('bought', {}, { recentEvents: [event('order.placed', '2026-12-04T10:00:00.000Z')] }),
      profile('before', {}, { recentEvents: [event('order.placed', '2026-12-02T10:00:00.000Z')] }),
      profile('late', {}, { recentEvents: [event('order.placed', '2026-12-06T10:00:00.000Z')] }),
      profile('browsed', {}, { recentEvents: [event('page.viewed', '2026-12-04T10:00:00.000Z')] }),
    ];
    const { deps, files, table } = await setup(split, profiles);
    for (const p of profiles) {
      table.put({ pk: `LEDGER#campaign:news:r-1:${p.id}`, sk: 'email', status: 'sent', profileId: p.id, preparedAt: '2026-12-03T09:00:00.000Z' });
    }
    const items = rows(['bought', 'before', 'late', 'browsed']);
    await splitBatch(deps, payload(items));
    expect(await branchRows(files, 'yes', items)).toEqual(['bought']);
    expect(await branchRows(files, 'no', items)).toEqual(['before', 'late', 'browsed']);
  });

  it('answers paused with cursor 0 on a paused run and cancelled on a cancelled one, writing nothing', async () => {
    const split = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 100, next: 'a' }] };
    const paused = await setup(split, [], {}, 'paused');
    const items = rows(['p-1']);
    expect(await splitBatch(paused.deps, payload(items))).toEqual({ status: 'paused', cursor: 0, paceSeconds: 0, run: runContext(), step: 'split', items });
    expect(paused.files.objects.size).toBe(0);
    const cancelled = await setup(split, [], {}, 'cancelling');
    expect((await splitBatch(cancelled.deps, payload(items))).status).toBe('cancelled');
    expect(await cancelled.runs.counts('news', 'r-1')).toEqual([]);
  });

  it('fails clearly when the step is not a split', async () => {
    const split = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 100, next: 'a' }] };
    const { deps } = await setup(split, []);
    await expect(splitBatch(deps, { ...payload(rows(['p-1'])), step: 'email' })).rejects.toThrow('campaign "news" has no split step "email"');
    await expect(splitBatch(deps, { ...payload(rows(['p-1'])), step: 'constructor' })).rejects.toThrow('has no split step "constructor"');
  });
});
