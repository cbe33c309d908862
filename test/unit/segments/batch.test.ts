import { estimateSegment, failJob, finishJob, runScanAction, scanPage, startSnapshot, type ScanPageDeps, type ScanPageInput } from '../../../lambdas/core/segments/batch';
import { NotFoundError } from '../../../lambdas/core/runtime/errors';
import type { AudienceJob } from '../../../lambdas/core/segments/ports';
import { FakeClock, runtime } from '../runtime/fakes';
import { catalogOf, FakeAudienceJobs, FakeMembershipStore, FakeProfileScanner, FakeSegmentStore, FakeSnapshotStore, fixedCatalog, profile, record, segment } from './audience-fakes';

const gold = segment('gold', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' });
const recent = segment('recent', { kind: 'withinLast', field: { kind: 'attribute', name: 'signedUpAt' }, duration: '7d' });
const goldAndVip = segment('gold-vip', { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'equals', field: { kind: 'attribute', name: 'vip' }, value: true }] });

const snapshotJob: AudienceJob = { kind: 'snapshot', jobId: 'snap-1', snapshotId: 'snap-1', segmentId: 'gold' };

function setup(profiles = Array.from({ length: 25 }, (_, i) => profile(`p${String(i).padStart(2, '0')}`, { tier: i % 5 === 0 ? 'gold' : 'silver' })), definitions = [gold, recent, goldAndVip]) {
  const clock = new FakeClock('2026-06-10T12:00:00.000Z');
  const rt = runtime([], clock);
  const segmentStore = new FakeSegmentStore(definitions.map((d) => record(d)));
  const snapshots = new FakeSnapshotStore();
  const memberships = new FakeMembershipStore();
  const profileScanner = new FakeProfileScanner(profiles);
  const deps: ScanPageDeps & { segmentStore: FakeSegmentStore } = { ...rt, segmentStore, snapshots, memberships, profileScanner, segments: catalogOf(segmentStore), pageSize: 4 };
  return { deps, rt, clock, segmentStore, snapshots, memberships, profileScanner, profiles };
}

async function scanWhole(deps: ScanPageDeps, job: AudienceJob, segmentNo: number, totalSegments: number) {
  let input: ScanPageInput = { job, segment: segmentNo, totalSegments };
  const pages = [];
  for (;;) {
    const result = await scanPage(deps, input);
    pages.push(result);
    if (result.cursor === undefined) return { last: result, pages };
    input = result;
  }
}

describe('scanPage: snapshot jobs', () => {
  it('adds the members of each page to the snapshot and continues by cursor until the scan segment is done', async () => {
    const { deps, snapshots, profileScanner } = setup();
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    const inSegment = profileScanner.inSegment(1, 2);
    const { last, pages } = await scanWhole(deps, snapshotJob, 1, 2);
    expect(pages.length).toBe(Math.ceil(inSegment.length / 4));
    expect(pages.slice(0, -1).every((p) => p.cursor !== undefined)).toBe(true);
    expect(last).not.toHaveProperty('cursor');
    expect(last).toMatchObject({ job: snapshotJob, segment: 1, totalSegments: 2, scanned: inSegment.length });
    const expected = inSegment.filter((p) => p.attributes.tier === 'gold').map((p) => p.id).sort();
    expect(last.matched).toBe(expected.length);
    expect(snapshots.stored('snap-1')).toEqual(expected);
  });

  it('reads the memberships a segment reference needs from the scanned profile, or from the store when the scan has none', async () => {
    const people = [profile('a', { vip: true }, { segments: { gold: '2026-01-01T00:00:00.000Z' } }), profile('b', { vip: true }, { segments: {} }), profile('c', { vip: true })];
    const { deps, snapshots, memberships } = setup(people);
    memberships.set('c', { gold: '2026-02-01T00:00:00.000Z' });
    memberships.set('b', { gold: '2026-02-01T00:00:00.000Z' });
    const job: AudienceJob = { kind: 'snapshot', jobId: 's', snapshotId: 's', segmentId: 'gold-vip' };
    await snapshots.create({ id: 's', segmentId: 'gold-vip', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    await scanWhole(deps, job, 0, 1);
    // b's scanned memberships (none) win over the store; only c, scanned without memberships, is looked up.
    expect(snapshots.stored('s')).toEqual(['a', 'c']);
    expect(memberships.gets).toBe(1);
  });

  it('evaluates a segment stored a moment ago that the cached catalog does not have yet', async () => {
    const { deps, snapshots, segmentStore } = setup();
    const fresh = segment('silver', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'silver' });
    const stale = { ...deps, segments: fixedCatalog([gold]) };
    await segmentStore.put(record(fresh), {});
    const job: AudienceJob = { kind: 'snapshot', jobId: 's2', snapshotId: 's2', segmentId: 'silver' };
    await snapshots.create({ id: 's2', segmentId: 'silver', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    await scanWhole(stale, job, 0, 1);
    expect(snapshots.stored('s2').length).toBe(20);
  });

  it('fails the page with NotFoundError when the segment was deleted', async () => {
    const { deps } = setup();
    await expect(scanPage(deps, { job: { ...snapshotJob, segmentId: 'gone' }, segment: 0, totalSegments: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('scanPage: re-check jobs', () => {
  it('re-evaluates time-based segments of each profile, entering and leaving them with events caused by the job', async () => {
    const people = [
      profile('new', { signedUpAt: '2026-06-08T00:00:00.000Z' }),
      profile('old', { signedUpAt: '2026-05-01T00:00:00.000Z' }),
      profile('was-new', { signedUpAt: '2026-06-01T00:00:00.000Z' }),
    ];
    const { deps, rt, memberships } = setup(people);
    memberships.set('was-new', { recent: '2026-06-01T00:00:00.000Z' });
    const job: AudienceJob = { kind: 'recheck', jobId: 'hourly-1' };
    const { last } = await scanWhole(deps, job, 0, 1);
    expect(last).toMatchObject({ scanned: 3, matched: 2 });
    expect(Object.keys((await memberships.get('new')).segments)).toEqual(['recent']);
    expect((await memberships.get('was-new')).segments).toEqual({});
    expect((await memberships.get('old')).segments).toEqual({});
    const announced = rt.publisher.published.map((e) => [e.type, (e.properties as { profileId: string }).profileId, (e.properties as { causedBy: { id: string; type: string } }).causedBy]);
    expect(announced).toEqual(
      expect.arrayContaining([
        ['SegmentEntered', 'new', { id: 'hourly-1', type: 'SegmentRecheck' }],
        ['SegmentExited', 'was-new', { id: 'hourly-1', type: 'SegmentRecheck' }],
      ]),
    );
    expect(rt.publisher.published).toHaveLength(2);
  });

  it('scans nothing when no segment depends on time', async () => {
    const { deps, profileScanner } = setup(undefined, [gold]);
    const result = await scanPage(deps, { job: { kind: 'recheck', jobId: 'r' }, segment: 0, totalSegments: 4 });
    expect(result).toEqual({ job: { kind: 'recheck', jobId: 'r' }, segment: 0, totalSegments: 4, scanned: 0, matched: 0 });
    expect(profileScanner.calls).toEqual([]);
  });
});

describe('finishJob and failJob', () => {
  it('completes a snapshot with the stored member count (retried pages count once) and the profiles scanned', async () => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    await snapshots.addMembers('snap-1', ['p00', 'p05']);
    await snapshots.addMembers('snap-1', ['p05', 'p10']);
    const outcome = await finishJob(deps, snapshotJob, [{ scanned: 10 }, { scanned: 15 }]);
    expect(outcome).toMatchObject({ status: 'complete', count: 3, scanned: 25 });
    expect(await snapshots.get('snap-1')).toMatchObject({ status: 'complete', count: 3, scanned: 25, completedAt: '2026-06-10T12:00:00.000Z' });
  });

  it('marks a snapshot failed with the Lambda error message from the caught Step Functions error', async () => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    await failJob(deps, snapshotJob, { Error: 'NotFoundError', Cause: JSON.stringify({ errorType: 'NotFoundError', errorMessage: 'segment "gold" does not exist' }) });
    expect(await snapshots.get('snap-1')).toMatchObject({ status: 'failed', error: 'NotFoundError: segment "gold" does not exist' });
  });

  it('dispatches the state machine payloads', async () => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    const page = await runScanAction(deps, { action: 'page', input: { job: snapshotJob, segment: 0, totalSegments: 1 } });
    expect(page).toMatchObject({ segment: 0, scanned: 4, cursor: '4' });
    await expect(runScanAction(deps, { action: 'finish', job: snapshotJob, results: [page] })).resolves.toMatchObject({ status: 'complete', scanned: 4 });
    await expect(runScanAction(deps, { action: 'page', input: { job: snapshotJob } })).rejects.toThrow(/input.segment/);
  });
});

describe('estimateSegment', () => {
  const population = (n: number) => Array.from({ length: n }, (_, i) => profile(`p${i}`, { tier: i % 4 === 0 ? 'gold' : 'silver' }));

  it('counts exactly when the sample covers every scan segment (a small table)', async () => {
    const { deps } = setup(population(120));
    const estimate = await estimateSegment({ ...deps, random: () => 0.5 }, 'gold', 1000);
    expect(estimate).toEqual({ segmentId: 'gold', sampleSize: 120, matched: 30, estimatedCount: 30, exact: true, totalSegments: 16, segmentsRead: 16 });
  });

  it('extrapolates from the share of scan segments read, sized by the approximate profile count', async () => {
    const { deps, profileScanner } = setup(population(10_000));
    const estimate = await estimateSegment({ ...deps, pageSize: 500, random: () => 0, approximateProfileCount: async () => 10_000 }, 'gold', 1000);
    expect(estimate.totalSegments).toBe(10);
    expect(estimate.exact).toBe(false);
    expect(estimate.sampleSize).toBeGreaterThanOrEqual(1000);
    expect(estimate.segmentsRead).toBeLessThan(10);
    expect(estimate.estimatedCount).toBe(Math.round((estimate.matched * 10) / estimate.segmentsRead));
    expect(Math.abs(estimate.estimatedCount - 2500)).toBeLessThan(250);
    // Only whole segments are read: every segment touched was read to its end.
    const touched = new Set(profileScanner.calls.map((c) => c.segment));
    expect(touched.size).toBe(estimate.segmentsRead);
    expect(profileScanner.calls.filter((c) => c.cursor === undefined).length).toBe(estimate.segmentsRead);
  });

  it('reads the scan segments in random order', async () => {
    const { deps, profileScanner } = setup(population(2000));
    await estimateSegment({ ...deps, pageSize: 500, random: () => 0.99, approximateProfileCount: async () => 2000 }, 'gold', 1000);
    expect(profileScanner.calls[0]).toMatchObject({ segment: 1, totalSegments: 2 });
  });

  it('throws NotFoundError for an unknown segment', async () => {
    const { deps } = setup();
    await expect(estimateSegment(deps, 'nope', 100)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('startSnapshot', () => {
  function startDeps() {
    const { segmentStore, snapshots, clock } = setup();
    const audienceJobs = new FakeAudienceJobs();
    return { segmentStore, snapshots, clock, audienceJobs, newId: () => 'snap-42' };
  }

  it('writes a running header and starts a job over 8 scan segments by default', async () => {
    const deps = startDeps();
    const header = await startSnapshot(deps, 'gold');
    expect(header).toEqual({ id: 'snap-42', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    expect(await deps.snapshots.get('snap-42')).toEqual(header);
    expect(deps.audienceJobs.started).toEqual([{ job: { kind: 'snapshot', jobId: 'snap-42', snapshotId: 'snap-42', segmentId: 'gold' }, totalSegments: 8, parts: [0, 1, 2, 3, 4, 5, 6, 7] }]);
    await startSnapshot({ ...deps, scanSegments: 3 }, 'gold');
    expect(deps.audienceJobs.started[1].parts).toEqual([0, 1, 2]);
  });

  it('refuses an unknown segment without writing anything', async () => {
    const deps = startDeps();
    await expect(startSnapshot(deps, 'nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(deps.snapshots.headers.size).toBe(0);
    expect(deps.audienceJobs.started).toEqual([]);
  });

  it('marks the header failed when the job cannot start', async () => {
    const deps = startDeps();
    deps.audienceJobs.failWith = new Error('throttled');
    await expect(startSnapshot(deps, 'gold')).rejects.toThrow('throttled');
    expect(await deps.snapshots.get('snap-42')).toMatchObject({ status: 'failed', error: expect.stringContaining('throttled') });
  });
});
