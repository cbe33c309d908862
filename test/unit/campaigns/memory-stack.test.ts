import { audiencePage, composeSet, type AudienceDeps } from '../../../lambdas/core/campaigns/audience';
import type { AudiencePageResult, AudienceRow, RunContext } from '../../../lambdas/core/campaigns/contract';
import { groupByTime } from '../../../lambdas/core/campaigns/local-time';
import { memoryAudienceFiles, memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { finishRun, startRun } from '../../../lambdas/core/campaigns/run';
import { campaignLedgerId, splitBatch } from '../../../lambdas/core/campaigns/split';
import { memoryPorts } from '../../../lambdas/local/memory-ports';
import { VirtualClock } from '../../../lambdas/local/virtual-clock';
import { segment } from '../segments/audience-fakes';
import { campaign, registry } from './fakes';

/** The step actions over the memory ports the local stack's domain code runs on (identity graph, runtime table). */
describe('campaign step actions on the memory ports', () => {
  it('runs a scheduled occurrence: audience with exclusions, a rule split, local-time groups, and a duplicate that ends at once', async () => {
    const clock = new VirtualClock('2026-12-03T07:00:00Z');
    const ports = memoryPorts(clock);
    const c = campaign({
      audience: { segment: 'gold', exclude: { messaged: [{ campaign: 'promo', withinDays: 7 }] } },
      schedule: { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/Berlin' },
      start: 'by-country',
      steps: {
        'by-country': {
          kind: 'split',
          by: 'rule',
          branches: [{ id: 'de', rule: { kind: 'equals', field: { kind: 'attribute', name: 'country' }, value: 'DE' }, next: 'email' }],
          otherwise: 'done',
        },
        email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, at: '09:00' },
        done: { kind: 'exit' },
      },
    });
    await ports.segmentStore.put(
      { id: 'gold', definition: segment('gold', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' }), origin: 'api', version: 1, updatedAt: '2026-12-01T00:00:00.000Z' } as never,
      { force: true },
    );
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const attributes = { tier: i % 4 === 0 ? 'silver' : 'gold', country: i % 2 === 0 ? 'DE' : 'FR', timezone: i % 3 === 0 ? 'America/New_York' : 'Europe/Berlin' };
      const { profile } = await ports.profiles.ingest({ id: `e-${i}`, type: 'member.updated', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { email: `m${i}@example.com` }, attributes, properties: {} } as never);
      ids.push(profile.id);
    }
    // A promo message two days ago to one gold member (i = 1): excluded as recently messaged.
    await ports.ledger.prepare({ executionId: `campaign:promo:r-0:${ids[1]}`, nodeId: 'email', status: 'sent', journeyId: 'campaign:promo', profileId: ids[1], channel: 'email', preparedAt: '2026-12-01T09:00:00.000Z' });

    const runs = memoryCampaignRuns();
    const files = memoryAudienceFiles();
    const start = { action: 'start' as const, input: { campaignId: 'news', trigger: 'schedule' as const, occurrence: '2026-12-03T07:00:00Z' }, startedAt: '2026-12-03T07:00:01.000Z' };
    const started = await startRun({ runs, clock, scanSegments: 2 }, { ...start, executionArn: 'arn:exec:1' });
    const run = started.run as RunContext;
    const deps: AudienceDeps = { ...ports, campaigns: registry(c), files, runs, pageSize: 7 };
    for (const seg of started.parts ?? []) {
      let page: AudiencePageResult = await audiencePage(deps, { action: 'audience-page', run, segment: seg, totalSegments: 2 });
      while (page.cursor !== undefined) page = await audiencePage(deps, { action: 'audience-page', ...page });
    }
    const audience = await composeSet({ files }, { action: 'compose', run, parts: 'parts/audience/', key: 'audience.jsonl' });
    expect(audience.count).toBe(29);
    const rows: AudienceRow[] = [];
    for await (const row of files.readRows(audience.key)) rows.push(row);
    expect(rows.map((r) => r.profileId)).not.toContain(ids[1]);
    expect(rows.every((r) => r.timeZone === 'America/New_York' || r.timeZone === 'Europe/Berlin')).toBe(true);

    const split = await splitBatch({ ...ports, campaigns: registry(c), files, runs }, { action: 'split', run, step: 'by-country', items: rows });
    expect(split.status).toBe('done');
    const de = await composeSet({ files }, { action: 'compose', run, parts: 'parts/by-country/de/', key: 'sets/by-country/de.jsonl' });
    expect(de.count).toBe(rows.filter((r) => Number(ids.indexOf(r.profileId)) % 2 === 0).length);

    const { groups } = await groupByTime({ campaigns: registry(c), files, clock, stageTimeZone: 'Europe/Berlin' }, { action: 'group-by-time', run, step: 'email', set: de.key });
    expect(groups.map((g) => g.sendAt)).toEqual(['2026-12-03T08:00:00.000Z', '2026-12-03T14:00:00.000Z']);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(de.count);

    expect(await runs.counts('news', run.runId)).toEqual(
      expect.arrayContaining([
        { step: '', name: 'audience', dim: '', value: 29 },
        { step: '', name: 'excluded', dim: 'recently-messaged', value: 1 },
        { step: 'by-country', name: 'assigned', dim: 'de', value: de.count },
        { step: 'by-country', name: 'assigned', dim: 'otherwise', value: 29 - de.count },
      ]),
    );
    // The schedule delivers the same occurrence again: the second execution sends nothing.
    expect(await startRun({ runs, clock }, { ...start, executionArn: 'arn:exec:2' })).toEqual({ duplicate: true });
    expect((await finishRun({ runs, clock }, { action: 'finish', run, status: 'succeeded' })).status).toBe('succeeded');
    expect(campaignLedgerId(run, 'p')).toBe('campaign:news:s-20261203T0700Z:p');
  });
});
