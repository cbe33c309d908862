import type { CampaignRunRecord, RunContext } from '../../../lambdas/core/campaigns/contract';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { campaignRunId, finishRun, MAX_CAMPAIGN_SCAN_SEGMENTS, startRun } from '../../../lambdas/core/campaigns/run';

const clock = { now: () => new Date('2026-12-03T09:00:05.000Z') };
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:waymark-dev-campaign-news:r-1';
const OTHER = 'arn:aws:states:eu-west-1:123456789012:execution:waymark-dev-campaign-news:other';

function apiRun(over: Partial<CampaignRunRecord> = {}): CampaignRunRecord {
  return { campaignId: 'news', runId: 'r-1', status: 'starting', trigger: 'api', createdAt: '2026-12-03T08:59:00.000Z', version: 1, ...over };
}
const apiStart = (dryRun?: boolean) => ({
  action: 'start' as const,
  input: { campaignId: 'news', runId: 'r-1', trigger: 'api' as const, ...(dryRun === undefined ? {} : { dryRun }) },
  executionArn: ARN,
  startedAt: '2026-12-03T09:00:00.000Z',
});
const scheduled = (executionArn: string, occurrence = '2026-12-03T09:00:00Z') => ({
  action: 'start' as const,
  input: { campaignId: 'news', trigger: 'schedule' as const, occurrence },
  executionArn,
  startedAt: '2026-12-03T09:00:01.000Z',
});
const context = (over: Partial<RunContext> = {}): RunContext => ({
  campaignId: 'news',
  runId: 'r-1',
  prefix: 'runs/news/r-1/',
  startedAt: '2026-12-03T09:00:00.000Z',
  dryRun: false,
  ...over,
});

describe('campaignRunId', () => {
  it('names an occurrence by its UTC minute, the same for every delivery and in time order', () => {
    expect(campaignRunId('2026-12-03T09:00:00Z')).toBe('s-20261203T0900Z');
    expect(campaignRunId('2026-12-03T10:00:00+01:00')).toBe('s-20261203T0900Z');
    const ids = ['2026-12-31T23:59:00Z', '2027-01-01T00:00:00Z', '2026-02-01T09:00:00Z'].map(campaignRunId);
    expect([...ids].sort()).toEqual([ids[2], ids[0], ids[1]]);
  });

  it('refuses an occurrence that is not an ISO time with a zone', () => {
    for (const bad of ['', 'yesterday', '2026-12-03T09:00:00', '2026-13-03T09:00:00Z']) {
      expect(() => campaignRunId(bad)).toThrow(/occurrence must be an ISO-8601 time/);
    }
  });
});

describe('startRun', () => {
  it('marks an API run running with its execution and answers its context and scan parts', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun());
    const result = await startRun({ runs, clock, scanSegments: 3 }, apiStart(true));
    expect(result).toEqual({ duplicate: false, run: context({ dryRun: true }), parts: [0, 1, 2], totalSegments: 3 });
    expect(await runs.get('news', 'r-1')).toMatchObject({ status: 'running', executionArn: ARN, startedAt: '2026-12-03T09:00:00.000Z', version: 2 });
  });

  it('answers as many parts as segments, up to MAX_CAMPAIGN_SCAN_SEGMENTS (the audience Map runs them all at once)', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun());
    const most = await startRun({ runs, clock, scanSegments: MAX_CAMPAIGN_SCAN_SEGMENTS }, apiStart());
    expect(most).toMatchObject({ totalSegments: 64, parts: Array.from({ length: 64 }, (_, i) => i) });
    await runs.create(apiRun({ runId: 'r-2' }));
    const second = { ...apiStart(), input: { ...apiStart().input, runId: 'r-2' } };
    for (const bad of [0, 65, 2.5]) {
      await expect(startRun({ runs, clock, scanSegments: bad }, second)).rejects.toThrow(
        new RegExp(`scanSegments must be an integer from 1 to 64 \\(got ${bad}\\)`),
      );
    }
    // Refused before the run record changes.
    expect(await runs.get('news', 'r-2')).toMatchObject({ status: 'starting', version: 1 });
  });

  it('goes on when the same execution retries its start, and keeps a paused run paused', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun({ status: 'paused' }));
    await startRun({ runs, clock }, apiStart());
    expect((await startRun({ runs, clock }, apiStart())).run?.dryRun).toBe(false);
    expect(await runs.get('news', 'r-1')).toMatchObject({ status: 'paused', executionArn: ARN, version: 2 });
  });

  it('fails clearly for a run that does not exist, was cancelled, ended or belongs to another execution', async () => {
    const runs = memoryCampaignRuns();
    await expect(startRun({ runs, clock }, apiStart())).rejects.toThrow('campaign "news" has no run "r-1"');
    await runs.create(apiRun({ status: 'cancelled' }));
    await expect(startRun({ runs, clock }, apiStart())).rejects.toMatchObject({ name: 'CampaignRunError', message: expect.stringMatching(/was cancelled/) });
    runs.records.clear();
    await runs.create(apiRun({ status: 'succeeded', executionArn: ARN }));
    await expect(startRun({ runs, clock }, apiStart())).rejects.toThrow(/has already succeeded/);
    runs.records.clear();
    await runs.create(apiRun({ status: 'running', executionArn: OTHER }));
    await expect(startRun({ runs, clock }, apiStart())).rejects.toThrow(/belongs to another execution/);
    await expect(startRun({ runs, clock }, { ...apiStart(), input: { campaignId: 'news', trigger: 'api' } })).rejects.toThrow(/needs its run id/);
  });

  it('retries the status change when the record changed between its read and its write', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun());
    const get = runs.get.bind(runs);
    let raced = false;
    runs.get = async (c, r) => {
      const record = await get(c, r);
      if (!raced && record) {
        raced = true;
        // Another writer (a pause through the API) slips in after this read.
        await runs.update({ ...record, status: 'paused', version: record.version + 1 }, record.version);
      }
      return record;
    };
    await startRun({ runs, clock }, apiStart());
    expect(await get('news', 'r-1')).toMatchObject({ status: 'paused', executionArn: ARN, version: 3 });
  });

  it('creates a scheduled run under its occurrence, and a second execution of that occurrence is a duplicate', async () => {
    const runs = memoryCampaignRuns();
    const first = await startRun({ runs, clock, scanSegments: 2 }, scheduled(ARN));
    expect(first).toEqual({
      duplicate: false,
      run: { campaignId: 'news', runId: 's-20261203T0900Z', prefix: 'runs/news/s-20261203T0900Z/', startedAt: '2026-12-03T09:00:01.000Z', dryRun: false },
      parts: [0, 1],
      totalSegments: 2,
    });
    expect(await runs.get('news', 's-20261203T0900Z')).toMatchObject({ status: 'running', trigger: 'schedule', occurrence: '2026-12-03T09:00:00Z', executionArn: ARN });
    expect((await startRun({ runs, clock }, scheduled(ARN))).duplicate).toBe(false);
    expect(await startRun({ runs, clock }, scheduled(OTHER))).toEqual({ duplicate: true });
    expect((await startRun({ runs, clock }, scheduled(OTHER, '2026-12-10T09:00:00Z'))).run?.runId).toBe('s-20261210T0900Z');
  });
});

describe('finishRun', () => {
  it('ends a run as succeeded or failed with a summary of the error', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun({ status: 'running', executionArn: ARN }));
    await runs.create(apiRun({ runId: 'r-2', status: 'running' }));
    const ok = await finishRun({ runs, clock }, { action: 'finish', run: context(), status: 'succeeded' });
    expect(ok).toMatchObject({ status: 'succeeded', endedAt: '2026-12-03T09:00:05.000Z' });
    const error = { Error: 'States.TaskFailed', Cause: JSON.stringify({ errorMessage: 'the bucket is gone' }) };
    await finishRun({ runs, clock }, { action: 'finish', run: context({ runId: 'r-2' }), status: 'failed', error });
    expect(await runs.get('news', 'r-2')).toMatchObject({ status: 'failed', error: 'States.TaskFailed: the bucket is gone' });
  });

  it('keeps a cancelled run cancelled and leaves an ended run as it is', async () => {
    const runs = memoryCampaignRuns();
    await runs.create(apiRun({ status: 'cancelling' }));
    expect(await finishRun({ runs, clock }, { action: 'finish', run: context(), status: 'succeeded' })).toMatchObject({ status: 'cancelled', endedAt: clock.now().toISOString() });
    const again = await finishRun({ runs, clock }, { action: 'finish', run: context(), status: 'failed', error: 'x' });
    expect(again).toMatchObject({ status: 'cancelled', version: 2 });
    expect(again.error).toBeUndefined();
  });
});
