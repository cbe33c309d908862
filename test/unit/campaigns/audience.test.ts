import { audiencePage, composeSet, inControlGroup, segmentQuota, type AudienceDeps } from '../../../lambdas/core/campaigns/audience';
import type { AudiencePageResult, AudienceRow } from '../../../lambdas/core/campaigns/contract';
import { memoryAudienceFiles, memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import type { Campaign } from '../../../lambdas/core/campaigns/schema';
import type { LedgerEntry, Profile } from '../../../lambdas/core/runtime/ports';
import { MemoryLedger } from '../../../lambdas/local/memory/runtime';
import { MemoryProfileRuns } from '../../../lambdas/local/memory/runs';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { FakeMembershipStore, FakeProfileScanner, FakeSegmentStore, profile, record, segment } from '../segments/audience-fakes';
import { campaign, registry, runContext } from './fakes';
import { MemoryCampaignConversionStore } from '../../../lambdas/local/memory/campaign-conversions';

const NOW = '2026-12-03T09:00:00.000Z';
const gold = segment('gold', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' });
const staff = segment('staff', { kind: 'equals', field: { kind: 'attribute', name: 'staff' }, value: true });

function setup(c: Campaign, profiles: Profile[], over: Partial<AudienceDeps> = {}) {
  const runtime = new MemoryTable('runtime', { profileIndex: true });
  const files = memoryAudienceFiles();
  const runs = memoryCampaignRuns();
  const memberships = new FakeMembershipStore();
  const deps: AudienceDeps = {
    campaigns: registry(c),
    profileScanner: new FakeProfileScanner(profiles),
    segmentStore: new FakeSegmentStore([record(gold), record(staff)]),
    memberships,
    profileRuns: new MemoryProfileRuns(runtime),
    files,
    runs,
    clock: { now: () => new Date(NOW) },
    ...over,
  };
  return { deps, files, runs, memberships, ledger: new MemoryLedger(runtime) };
}

/** Every page of every scan segment, as the audience Map runs them; the results of each segment's last page. */
async function scanAll(deps: AudienceDeps, totalSegments: number): Promise<AudiencePageResult[]> {
  const last: AudiencePageResult[] = [];
  for (let segment = 0; segment < totalSegments; segment++) {
    let result = await audiencePage(deps, { action: 'audience-page', run: runContext(), segment, totalSegments });
    while (result.cursor !== undefined) result = await audiencePage(deps, { action: 'audience-page', ...result });
    last.push(result);
  }
  return last;
}

async function rowsOf(files: ReturnType<typeof memoryAudienceFiles>, key: string): Promise<AudienceRow[]> {
  const rows: AudienceRow[] = [];
  for await (const row of files.readRows(key)) rows.push(row);
  return rows;
}

const golds = (n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => profile(`p-${String(i).padStart(3, '0')}`, { tier: 'gold', ...extra }));

describe('audiencePage', () => {
  it("writes the segment's members with their valid time zones, page by page, and composes them into the audience", async () => {
    const profiles = [...golds(7), profile('berlin', { tier: 'gold', timezone: 'Europe/Berlin' }), profile('nowhere', { tier: 'gold', timezone: 'Mars/Base' }), profile('s', { tier: 'silver' })];
    const { deps, files, runs } = setup(campaign(), profiles, { pageSize: 2 });
    const results = await scanAll(deps, 3);
    expect(results.reduce((n, r) => n + r.counts.members, 0)).toBe(9);
    expect(results.reduce((n, r) => n + r.counts.scanned, 0)).toBe(10);
    const keys = [...files.objects.keys()];
    expect(keys.length).toBeGreaterThanOrEqual(5);
    for (const key of keys) expect(key).toMatch(/^runs\/news\/r-1\/parts\/audience\/000[0-2]-00000[0-4]\.jsonl$/);
    const set = await composeSet({ files }, { action: 'compose', run: runContext(), parts: 'parts/audience/', key: 'audience.jsonl' });
    expect(set).toEqual({ key: 'runs/news/r-1/audience.jsonl', count: 9 });
    const rows = await rowsOf(files, set.key);
    expect(rows.find((r) => r.profileId === 'berlin')).toEqual({ profileId: 'berlin', timeZone: 'Europe/Berlin' });
    expect(rows.find((r) => r.profileId === 'nowhere')).toEqual({ profileId: 'nowhere' });
    expect(await runs.counts('news', 'r-1')).toEqual([{ step: '', name: 'audience', dim: '', value: 9 }]);
  });

  it('evaluates an inline rule', async () => {
    const c = campaign({ audience: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'silver' } } });
    const { deps, files } = setup(c, [...golds(3), profile('s-1', { tier: 'silver' })]);
    await scanAll(deps, 1);
    expect((await rowsOf(files, 'runs/news/r-1/parts/audience/0000-000000.jsonl')).map((r) => r.profileId)).toEqual(['s-1']);
  });

  it('excludes members of excluded segments, recent recipients of a journey or campaign, and the control group, each counted by reason', async () => {
    const c = campaign({
      audience: { segment: 'gold', exclude: { segments: ['staff'], messaged: [{ journey: 'welcome', withinDays: 7 }, { campaign: 'promo', withinDays: 3 }] } },
    });
    const profiles = golds(200);
    const { deps, files, runs, memberships, ledger } = setup(c, profiles, { controlGroupPercent: 10 });
    memberships.set('p-000', { gold: NOW, staff: NOW });
    const sent = (over: Partial<LedgerEntry>): LedgerEntry => ({ executionId: '', nodeId: 'send', status: 'sent', journeyId: '', profileId: '', channel: 'email', preparedAt: '2026-12-01T00:00:00.000Z', ...over });
    await ledger.prepare(sent({ executionId: 'arn:aws:states:eu-west-1:1:execution:waymark-dev-welcome:welcome--1', journeyId: 'welcome', profileId: 'p-001' }));
    await ledger.prepare(sent({ executionId: 'campaign:promo:r9:p-002', journeyId: 'campaign:promo', profileId: 'p-002' }));
    // Older than the exclusion's window: still in the audience unless the control group takes it.
    await ledger.prepare(sent({ executionId: 'campaign:promo:r8:p-003', journeyId: 'campaign:promo', profileId: 'p-003', preparedAt: '2026-11-29T00:00:00.000Z' }));
    await scanAll(deps, 2);
    const control = profiles.filter((p) => !['p-000', 'p-001', 'p-002'].includes(p.id) && inControlGroup(p.id, 10)).length;
    expect(control).toBeGreaterThan(5);
    const counts = await runs.counts('news', 'r-1');
    expect(counts).toEqual(
      expect.arrayContaining([
        { step: '', name: 'excluded', dim: 'excluded-segment', value: 1 },
        { step: '', name: 'excluded', dim: 'recently-messaged', value: 2 },
        { step: '', name: 'excluded', dim: 'control-group', value: control },
        { step: '', name: 'audience', dim: '', value: 197 - control },
      ]),
    );
    const set = await composeSet({ files }, { action: 'compose', run: runContext(), parts: 'runs/news/r-1/parts/audience/', key: 'runs/news/r-1/audience.jsonl' });
    const ids = (await rowsOf(files, set.key)).map((r) => r.profileId);
    expect(ids.filter((id) => ['p-000', 'p-001', 'p-002'].includes(id) || inControlGroup(id, 10))).toEqual([]);
    expect(ids.includes('p-003')).toBe(!inControlGroup('p-003', 10));
  });

  it('keeps the control group in a campaign that opts out of it', async () => {
    const { deps, runs } = setup(campaign({ audience: { segment: 'gold', controlGroup: false } }), golds(50), { controlGroupPercent: 50 });
    await scanAll(deps, 1);
    expect(await runs.counts('news', 'r-1')).toEqual([{ step: '', name: 'audience', dim: '', value: 50 }]);
  });

  it('caps the audience at maxMembers over all scan segments and counts the rest as capped', async () => {
    const { deps, runs, files } = setup(campaign({ audience: { segment: 'gold', maxMembers: 10 } }), golds(60), { pageSize: 3 });
    await scanAll(deps, 4);
    const set = await composeSet({ files }, { action: 'compose', run: runContext(), parts: 'parts/audience/', key: 'audience.jsonl' });
    expect(set.count).toBe(10);
    expect(await runs.counts('news', 'r-1')).toEqual(
      expect.arrayContaining([
        { step: '', name: 'audience', dim: '', value: 10 },
        { step: '', name: 'excluded', dim: 'audience-capped', value: 50 },
      ]),
    );
    expect([0, 1, 2, 3].map((s) => segmentQuota(10, s, 4))).toEqual([3, 3, 2, 2]);
  });

  it('counts a retried page once and rewrites the same part', async () => {
    const { deps, runs, files } = setup(campaign(), golds(5));
    const payload = { action: 'audience-page' as const, run: runContext(), segment: 0, totalSegments: 1 };
    const first = await audiencePage(deps, payload);
    const again = await audiencePage(deps, payload);
    expect(again).toEqual(first);
    expect([...files.objects.keys()]).toEqual(['runs/news/r-1/parts/audience/0000-000000.jsonl']);
    expect(await runs.counts('news', 'r-1')).toEqual([{ step: '', name: 'audience', dim: '', value: 5 }]);
  });

  it('fails clearly when the campaign or its segment is unknown, or the scan segment is out of range', async () => {
    const { deps } = setup(campaign({ audience: { segment: 'ghost' } }), []);
    const payload = { action: 'audience-page' as const, run: runContext(), segment: 0, totalSegments: 1 };
    await expect(audiencePage(deps, payload)).rejects.toThrow('campaign "news": its audience segment "ghost" does not exist');
    await expect(audiencePage(deps, { ...payload, run: runContext({ campaignId: 'other' }) })).rejects.toThrow('campaign "other" is not registered');
    await expect(audiencePage(deps, { ...payload, segment: 1 })).rejects.toThrow(/segment 1 of 1 is not a scan segment/);
  });
});

describe('inControlGroup', () => {
  it('holds about the configured share of profiles, and none at 0', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `profile-${i}`);
    const share = ids.filter((id) => inControlGroup(id, 5)).length / ids.length;
    expect(share).toBeGreaterThan(0.04);
    expect(share).toBeLessThan(0.06);
    expect(ids.some((id) => inControlGroup(id, 0))).toBe(false);
  });

  describe('conversion windows of a campaign with a goal', () => {
    const goal = { event: 'order.placed', within: '2d' };
    const windows = async (c: Campaign, dryRun = false) => {
      const table = new MemoryTable('runtime', { profileIndex: true });
      const { deps } = setup(c, [...golds(40), profile('s', { tier: 'silver' })], {
        controlGroupPercent: 25,
        campaignConversions: new MemoryCampaignConversionStore(table),
      });
      await audiencePage(deps, { action: 'audience-page', run: runContext({ dryRun }), segment: 0, totalSegments: 1 });
      const groups = new Map<string, string>();
      for (const pk of table.partitionKeys().filter((k) => k.startsWith('CAMPAIGN_GOAL#'))) {
        for (const item of table.query(pk)) groups.set(item.profileId as string, item.group as string);
      }
      return groups;
    };

    it("opens one per member and per control-group member, recording each one's group", async () => {
      const groups = await windows(campaign({ goal }));
      const control = golds(40).map((p) => p.id).filter((id) => inControlGroup(id, 25));
      expect(control.length).toBeGreaterThan(0);
      expect(groups.size).toBe(40);
      for (const [id, group] of groups) expect(group).toBe(control.includes(id) ? 'control-group' : 'audience');
    });

    it('opens none without a goal or for a dry run', async () => {
      expect((await windows(campaign())).size).toBe(0);
      expect((await windows(campaign({ goal }), true)).size).toBe(0);
    });
  });
});
