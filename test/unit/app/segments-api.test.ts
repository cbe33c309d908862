import './quiet-powertools';
import type { Context } from 'aws-lambda';
import {
  createCreateSegmentHandler,
  createDeleteSegmentHandler,
  createEstimateSegmentHandler,
  createEvaluateSegmentHandler,
  createGetSegmentHandler,
  createGetSnapshotHandler,
  createListSegmentsHandler,
  createPutSegmentHandler,
  type SegmentApiDeps,
} from '../../../lambdas/app/segments';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';
import { FakeClock, journeyRecord, MemoryJourneyRegistry } from '../runtime/fakes';
import { catalogOf, FakeAudienceJobs, FakeMembershipStore, FakeProfileScanner, FakeSegmentStore, FakeSnapshotStore, profile, record, segment } from '../segments/audience-fakes';

const gold = segment('gold', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' });
const loyal = segment('loyal', { kind: 'exists', field: { kind: 'attribute', name: 'memberSince' } });
const goldVip = segment('gold-vip', { kind: 'all', rules: [{ kind: 'segment', id: 'gold' }, { kind: 'equals', field: { kind: 'attribute', name: 'vip' }, value: true }] });

const context = { functionName: 'segments-api', awsRequestId: 'req' } as unknown as Context;

function request(options: { body?: unknown; path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string> } = {}): ApiEvent {
  return {
    body: options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    headers: options.headers ?? {},
    pathParameters: options.path ?? null,
    queryStringParameters: options.query ?? null,
    requestContext: { requestId: 'req-1' },
  };
}

function setup() {
  const clock = new FakeClock('2026-06-10T12:00:00.000Z');
  const segmentStore = new FakeSegmentStore([record(gold), record(loyal, { origin: 'file' }), record(goldVip)]);
  const snapshots = new FakeSnapshotStore();
  const audienceJobs = new FakeAudienceJobs();
  const people = Array.from({ length: 30 }, (_, i) => profile(`p${String(i).padStart(2, '0')}`, { tier: i % 3 === 0 ? 'gold' : 'silver' }));
  const journeys = new MemoryJourneyRegistry([journeyRecord({ id: 'welcome-loyal', entry: { kind: 'segment', segment: 'gold-vip' } })]);
  let ids = 0;
  const deps: SegmentApiDeps = {
    segmentStore,
    snapshots,
    profileScanner: new FakeProfileScanner(people),
    memberships: new FakeMembershipStore(),
    audienceJobs,
    segments: catalogOf(segmentStore),
    journeys,
    clock,
    newId: () => `snap-${++ids}`,
  };
  return { deps, segmentStore, snapshots, audienceJobs, journeys };
}

type Reply = { status: number; headers: Record<string, unknown>; body: any };
async function call(handler: (event: ApiEvent, context: Context) => Promise<ApiResult>, event: ApiEvent): Promise<Reply> {
  const result = await handler(event, context);
  return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? JSON.parse(result.body) : undefined };
}
const fields = (reply: Reply): string[] => (reply.body.errors ?? []).map((e: { field: string }) => e.field);

describe('POST /segments', () => {
  it('creates an API segment at version 1: 201 with the record, its Location and ETag', async () => {
    const { deps, segmentStore } = setup();
    const silver = segment('silver', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'silver' });
    const reply = await call(createCreateSegmentHandler(deps), request({ body: silver }));
    expect(reply).toMatchObject({ status: 201, headers: { location: '/segments/silver', etag: '"1"' }, body: { definition: silver, origin: 'api', version: 1, updatedAt: '2026-06-10T12:00:00.000Z' } });
    expect(await segmentStore.get('silver')).toEqual(reply.body);
  });

  it.each([
    ['a rule with a wrong value type', { ...gold, id: 'bad', rule: { kind: 'greater', field: { kind: 'attribute', name: 'age' }, value: true } }, 'rule.value'],
    ['a nested problem', { ...gold, id: 'bad', rule: { kind: 'all', rules: [gold.rule, { kind: 'event', type: 'x', within: 'soon' }] } }, 'rule.rules[1].within'],
    ['an id that is not kebab-case', { ...gold, id: 'Bad_Id' }, 'id'],
    ['an unknown field', { ...gold, id: 'bad', colour: 'red' }, ''],
    ['no body', undefined, '(body)'],
    ['a body that is not JSON', '{"id": ', '(body)'],
    ['an unknown segment reference', { ...gold, id: 'bad', rule: { kind: 'any', rules: [gold.rule, { kind: 'segment', id: 'no-such' }] } }, 'rule.rules[1].id'],
    ['a reference to itself', { ...gold, id: 'bad', rule: { kind: 'not', rule: { kind: 'segment', id: 'bad' } } }, 'rule.rule.id'],
  ])('answers 400 naming the field for %s, and writes nothing', async (_name, body, field) => {
    const { deps, segmentStore } = setup();
    const reply = await call(createCreateSegmentHandler(deps), request({ body }));
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    if (field === '') expect(reply.body.detail + JSON.stringify(reply.body.errors)).toContain('colour');
    else expect(fields(reply)).toContain(field);
    expect(segmentStore.writes).toEqual([]);
  });

  it('names the unknown segment in the message', async () => {
    const { deps } = setup();
    const reply = await call(createCreateSegmentHandler(deps), request({ body: { ...gold, id: 'bad', rule: { kind: 'segment', id: 'no-such' } } }));
    expect(reply.body.errors).toEqual([{ field: 'rule.id', message: 'references unknown segment "no-such"' }]);
  });

  it.each([
    ['an API segment', 'gold'],
    ['a file segment', 'loyal'],
  ])('answers 409 when %s has the id', async (_name, id) => {
    const { deps, segmentStore } = setup();
    const reply = await call(createCreateSegmentHandler(deps), request({ body: { ...gold, id } }));
    expect(reply.status).toBe(409);
    expect(segmentStore.writes).toEqual([]);
  });
});

describe('GET /segments and /segments/{id}', () => {
  it('lists every segment and reads one with its version as ETag; 404 for an unknown id', async () => {
    const { deps } = setup();
    const list = await call(createListSegmentsHandler(deps), request());
    expect(list.status).toBe(200);
    expect(list.body.segments.map((r: { definition: { id: string } }) => r.definition.id).sort()).toEqual(['gold', 'gold-vip', 'loyal']);
    const one = await call(createGetSegmentHandler(deps), request({ path: { id: 'loyal' } }));
    expect(one).toMatchObject({ status: 200, headers: { etag: '"1"' }, body: { origin: 'file', definition: loyal } });
    expect((await call(createGetSegmentHandler(deps), request({ path: { id: 'nope' } }))).status).toBe(404);
  });
});

describe('PUT /segments/{id}', () => {
  const changed = { schemaVersion: 1, name: 'Gold tier', rule: { kind: 'in', field: { kind: 'attribute', name: 'tier' }, values: ['gold', 'platinum'] } };

  it('replaces an API segment (the body may omit the id) at the next version', async () => {
    const { deps, segmentStore } = setup();
    const reply = await call(createPutSegmentHandler(deps), request({ path: { id: 'gold' }, body: changed, headers: { 'If-Match': '"1"' } }));
    expect(reply).toMatchObject({ status: 200, headers: { etag: '"2"' }, body: { version: 2, origin: 'api', definition: { ...changed, id: 'gold' } } });
    expect((await segmentStore.get('gold'))?.version).toBe(2);
  });

  it.each([
    ['a body naming another id', { path: { id: 'gold' }, body: { ...changed, id: 'silver' } }, 400, 'id'],
    ['an invalid rule', { path: { id: 'gold' }, body: { ...changed, rule: { kind: 'between', field: { kind: 'attribute', name: 'age' }, min: 5, max: 1 } } }, 400, 'rule.max'],
    ['an If-Match that is not a version', { path: { id: 'gold' }, body: changed, headers: { 'if-match': 'yesterday' } }, 400, 'If-Match'],
    ['a cycle through another segment', { path: { id: 'gold' }, body: { ...changed, rule: { kind: 'segment', id: 'gold-vip' } } }, 400, 'rule.id'],
    ['an unknown segment', { path: { id: 'nope' }, body: changed }, 404, undefined],
    ['a file segment', { path: { id: 'loyal' }, body: changed }, 409, undefined],
    ['a stale If-Match version', { path: { id: 'gold' }, body: changed, headers: { 'If-Match': '"7"' } }, 409, undefined],
  ])('refuses %s and writes nothing', async (_name, options, status, field) => {
    const { deps, segmentStore } = setup();
    const reply = await call(createPutSegmentHandler(deps), request(options));
    expect(reply.status).toBe(status);
    if (field) expect(fields(reply)).toContain(field);
    expect(segmentStore.writes).toEqual([]);
  });

  it('explains the cycle it refuses', async () => {
    const { deps } = setup();
    const reply = await call(createPutSegmentHandler(deps), request({ path: { id: 'gold' }, body: { ...changed, rule: { kind: 'segment', id: 'gold-vip' } } }));
    expect(reply.body.errors[0].message).toContain('gold → gold-vip → gold');
  });

  it('answers 409 when another writer changed the segment between the read and the write', async () => {
    const { deps, segmentStore } = setup();
    const racing = { ...deps, segmentStore: Object.assign(Object.create(segmentStore) as FakeSegmentStore, { put: async () => false }) };
    expect((await call(createPutSegmentHandler(racing), request({ path: { id: 'gold' }, body: changed }))).status).toBe(409);
  });
});

describe('DELETE /segments/{id}', () => {
  it('deletes an unreferenced API segment: 204, then 404', async () => {
    const { deps, segmentStore, journeys } = setup();
    journeys.records.length = 0;
    const handler = createDeleteSegmentHandler(deps);
    const reply = await handler(request({ path: { id: 'gold-vip' } }), context);
    expect(reply.statusCode).toBe(204);
    expect(reply.body).toBe('');
    expect(await segmentStore.get('gold-vip')).toBeUndefined();
    expect((await call(handler, request({ path: { id: 'gold-vip' } }))).status).toBe(404);
  });

  it.each([
    ['another segment references it', 'gold', 'gold-vip'],
    ['a journey enters on it', 'gold-vip', 'welcome-loyal'],
    ['it is deployed from a file', 'loyal', 'file'],
  ])('answers 409 when %s', async (_name, id, named) => {
    const { deps, segmentStore } = setup();
    const reply = await call(createDeleteSegmentHandler(deps), request({ path: { id } }));
    expect(reply.status).toBe(409);
    expect(reply.body.detail).toContain(named);
    expect(segmentStore.writes).toEqual([]);
  });
});

describe('POST /segments/{id}/evaluate and GET /segments/{id}/snapshots/{snapshotId}', () => {
  it('starts a snapshot: 202 with the running header and where to read it', async () => {
    const { deps, audienceJobs } = setup();
    const reply = await call(createEvaluateSegmentHandler(deps), request({ path: { id: 'gold' } }));
    expect(reply).toMatchObject({ status: 202, headers: { location: '/segments/gold/snapshots/snap-1' }, body: { id: 'snap-1', segmentId: 'gold', status: 'running', segmentVersion: 1 } });
    expect(audienceJobs.started[0]).toMatchObject({ job: { kind: 'snapshot', snapshotId: 'snap-1', segmentId: 'gold' }, totalSegments: 8 });
  });

  it('answers 404 for an unknown segment and starts nothing', async () => {
    const { deps, audienceJobs, snapshots } = setup();
    expect((await call(createEvaluateSegmentHandler(deps), request({ path: { id: 'nope' } }))).status).toBe(404);
    expect(audienceJobs.started).toEqual([]);
    expect(snapshots.headers.size).toBe(0);
  });

  it('pages through the members of a snapshot', async () => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 's1', segmentId: 'gold', segmentVersion: 1, status: 'complete', createdAt: '2026-06-10T12:00:00.000Z', count: 3, scanned: 30 });
    await snapshots.addMembers('s1', ['p03', 'p00', 'p06']);
    const handler = createGetSnapshotHandler(deps);
    const first = await call(handler, request({ path: { id: 'gold', snapshotId: 's1' }, query: { limit: '2' } }));
    expect(first).toMatchObject({ status: 200, body: { id: 's1', status: 'complete', count: 3, members: ['p00', 'p03'], cursor: 'p03' } });
    const second = await call(handler, request({ path: { id: 'gold', snapshotId: 's1' }, query: { limit: '2', cursor: first.body.cursor } }));
    expect(second.body.members).toEqual(['p06']);
    expect(second.body).not.toHaveProperty('cursor');
    const all = await call(handler, request({ path: { id: 'gold', snapshotId: 's1' } }));
    expect(all.body.members).toHaveLength(3);
  });

  it.each([['0'], ['1001'], ['ten'], ['2.5']])('answers 400 naming limit for limit=%s', async (limit) => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 's1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    const reply = await call(createGetSnapshotHandler(deps), request({ path: { id: 'gold', snapshotId: 's1' }, query: { limit } }));
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['limit']);
  });

  it('answers 404 for an unknown snapshot, or one of another segment', async () => {
    const { deps, snapshots } = setup();
    await snapshots.create({ id: 's1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    const handler = createGetSnapshotHandler(deps);
    expect((await call(handler, request({ path: { id: 'gold', snapshotId: 'nope' } }))).status).toBe(404);
    expect((await call(handler, request({ path: { id: 'gold-vip', snapshotId: 's1' } }))).status).toBe(404);
  });
});

describe('GET /segments/{id}/estimate', () => {
  it('estimates from a sample (exact on a small table)', async () => {
    const { deps } = setup();
    const reply = await call(createEstimateSegmentHandler(deps), request({ path: { id: 'gold' } }));
    expect(reply).toMatchObject({ status: 200, body: { segmentId: 'gold', sampleSize: 30, matched: 10, estimatedCount: 10, exact: true } });
  });

  it.each([['0'], ['99'], ['100001'], ['many']])('answers 400 naming sample for sample=%s', async (sample) => {
    const { deps } = setup();
    const reply = await call(createEstimateSegmentHandler(deps), request({ path: { id: 'gold' }, query: { sample } }));
    expect(reply.status).toBe(400);
    expect(fields(reply)).toEqual(['sample']);
  });

  it('answers 404 for an unknown segment', async () => {
    const { deps } = setup();
    expect((await call(createEstimateSegmentHandler(deps), request({ path: { id: 'nope' } }))).status).toBe(404);
  });
});
