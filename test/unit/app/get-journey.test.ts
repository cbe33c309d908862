import './quiet-powertools';
import type { Context } from 'aws-lambda';
import { createGetJourneyHandler } from '../../../lambdas/app/get-journey';
import type { StateMachineVersions } from '../../../lambdas/core/runtime/ports';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';
import { journeyRecord, MemoryJourneyRegistry } from '../runtime/fakes';

const context = { functionName: 'get-journey', awsRequestId: 'req' } as unknown as Context;
const request = (id: string): ApiEvent => ({ body: null, headers: {}, pathParameters: { id }, queryStringParameters: null, requestContext: { requestId: 'req-1' } });

/** Step Functions as the handler sees it: the versions it was asked about, and their publication times. */
class FakeVersions implements StateMachineVersions {
  readonly asked: string[] = [];
  constructor(private readonly published: Record<string, string>) {}
  async publishedAt(versionArn: string): Promise<string | undefined> {
    this.asked.push(versionArn);
    return Object.hasOwn(this.published, versionArn) ? this.published[versionArn] : undefined;
  }
}

async function get(records: ReturnType<typeof journeyRecord>[], versions: FakeVersions, id: string) {
  const handler = createGetJourneyHandler({ journeys: new MemoryJourneyRegistry(records), versions });
  const result = (await handler(request(id), context)) as ApiResult;
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

describe('GET /journeys/{id}', () => {
  it('asks Step Functions when the live version was published when the registry item does not say (items CDK writes)', async () => {
    const welcome = journeyRecord({ id: 'welcome' });
    const versions = new FakeVersions({ [welcome.live!.arn]: '2026-11-30T08:00:00.000Z' });
    const reply = await get([welcome], versions, 'welcome');
    expect(reply.status).toBe(200);
    expect(reply.body.live).toEqual({ alias: 'live', aliasArn: welcome.aliasArn, version: 1, versionArn: welcome.live!.arn, publishedAt: '2026-11-30T08:00:00.000Z' });
    expect(versions.asked).toEqual([welcome.live!.arn]);
  });

  it('answers the publication time the registry holds without asking Step Functions', async () => {
    const welcome = journeyRecord({ id: 'welcome' });
    welcome.live = { ...welcome.live!, publishedAt: '2026-12-01T09:00:00.000Z' };
    const versions = new FakeVersions({});
    expect((await get([welcome], versions, 'welcome')).body.live.publishedAt).toBe('2026-12-01T09:00:00.000Z');
    expect(versions.asked).toEqual([]);
  });

  it('answers a null publication time when the version is gone (replaced, item not yet re-put)', async () => {
    const welcome = journeyRecord({ id: 'welcome' });
    expect((await get([welcome], new FakeVersions({}), 'welcome')).body.live.publishedAt).toBeNull();
  });

  it('answers live: null for a journey registered before versions (no alias in its item)', async () => {
    const { aliasArn: _alias, live: _live, ...legacy } = journeyRecord({ id: 'welcome' });
    const reply = await get([legacy], new FakeVersions({}), 'welcome');
    expect(reply.body).toMatchObject({ id: 'welcome', version: 'v1', stateMachineArn: legacy.stateMachineArn, live: null });
  });

  it.each(['nope', 'constructor', 'hasOwnProperty'])('answers 404 problem+json for the unknown journey %s', async (id) => {
    const reply = await get([journeyRecord({ id: 'welcome' })], new FakeVersions({}), id);
    expect(reply.status).toBe(404);
  });
});
