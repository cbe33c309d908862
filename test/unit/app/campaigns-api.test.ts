import './quiet-powertools';
import type { Context } from 'aws-lambda';
import {
  createControlCampaignRunHandler,
  createGetCampaignHandler,
  createGetCampaignRunHandler,
  createListCampaignRunsHandler,
  createListCampaignsHandler,
  createStartCampaignRunHandler,
  type CampaignApiDeps,
} from '../../../lambdas/app/campaigns';
import type { CampaignExecutionInput, CampaignRegistry, CampaignRunRecord, RegisteredCampaign } from '../../../lambdas/core/campaigns/contract';
import { keyedRunId, type CampaignExecutions } from '../../../lambdas/core/campaigns/control';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { Campaign, type CampaignInput } from '../../../lambdas/core/campaigns/schema';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';

const context = { functionName: 'campaigns', awsRequestId: 'req' } as unknown as Context;
const NOW = new Date('2026-12-03T09:00:00.000Z');

const campaign = (id: string, more: Partial<CampaignInput> = {}) =>
  Campaign.parse({
    schemaVersion: 1,
    id,
    name: `Campaign ${id}`,
    audience: { segment: 'vip' },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
    ...more,
  });
const registered = (id: string, more: Partial<CampaignInput> = {}): RegisteredCampaign => ({
  campaign: campaign(id, more),
  stateMachineArn: `arn:aws:states:eu-west-1:111122223333:stateMachine:waymark-dev-campaign-${id}`,
  version: 'v1',
});

class FakeExecutions implements CampaignExecutions {
  readonly started: { arn: string; name: string; input: CampaignExecutionInput }[] = [];
  readonly stopped: string[] = [];
  failStart?: Error;
  failStop?: Error;
  onStart?: (name: string) => Promise<void>;
  running = true;
  async start(arn: string, name: string, input: CampaignExecutionInput) {
    if (this.failStart) throw this.failStart;
    // As Step Functions: an execution name runs once; a repeated start of it starts nothing.
    if (this.started.some((e) => e.arn === arn && e.name === name)) return { executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`, started: false };
    this.started.push({ arn, name, input });
    await this.onStart?.(name);
    return { executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${name}`, started: true };
  }
  async stop(executionArn: string, _cause?: string) {
    if (this.failStop) throw this.failStop;
    this.stopped.push(executionArn);
    return this.running;
  }
}

function setup(campaigns: RegisteredCampaign[] = [registered('win-back', { schedule: { type: 'once', at: '2026-12-24T09:00', timeZone: 'Europe/Paris' } })]) {
  const registry: CampaignRegistry = {
    list: async () => [...campaigns],
    get: async (id) => campaigns.find((c) => c.campaign.id === id),
  };
  const runs = memoryCampaignRuns();
  const executions = new FakeExecutions();
  let hex = 0;
  const deps: CampaignApiDeps = { registry, runs, executions, clock: { now: () => NOW }, randomHex: () => (++hex).toString(16).padStart(8, '0'), waitForRun: async () => {} };
  const call = async (
    factory: (d: CampaignApiDeps) => (e: ApiEvent, c: Context) => Promise<unknown>,
    params: Record<string, string>,
    body?: string,
    query?: Record<string, string>,
    headers: Record<string, string | undefined> = {},
  ) => {
    const event: ApiEvent = { body: body ?? null, headers, pathParameters: params, queryStringParameters: query ?? null, requestContext: { requestId: 'r' } };
    const result = (await factory(deps)(event, context)) as ApiResult;
    return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ? JSON.parse(result.body) : undefined };
  };
  const seed = async (runId: string, status: CampaignRunRecord['status'], createdAt = '2026-12-02T09:00:00.000Z') => {
    const record: CampaignRunRecord = { campaignId: 'win-back', runId, status, trigger: 'api', createdAt, version: 1, executionArn: `arn:exec:${runId}` };
    await runs.create(record);
    return record;
  };
  return { deps, runs, executions, call, seed };
}

describe('GET /campaigns and /campaigns/{id}', () => {
  it('lists the deployed campaigns by id with their schedules', async () => {
    const { call } = setup([registered('weekly'), registered('alpha')]);
    const reply = await call(createListCampaignsHandler, {});
    expect(reply.status).toBe(200);
    expect(reply.body.campaigns.map((c: { id: string }) => c.id)).toEqual(['alpha', 'weekly']);
    expect(reply.body.campaigns[0]).toEqual({ id: 'alpha', name: 'Campaign alpha', schedule: { type: 'on-demand' }, messageClass: 'marketing', version: 'v1' });
  });

  it('answers a campaign with its definition, its next occurrence in its zone and its last runs newest first', async () => {
    const { call, seed } = setup();
    for (let i = 0; i < 7; i++) await seed(`r${i}`, 'succeeded', `2026-12-0${i + 1}T00:00:00.000Z`);
    const reply = await call(createGetCampaignHandler, { id: 'win-back' });
    expect(reply.status).toBe(200);
    expect(reply.body.schedule).toEqual({ type: 'once', at: '2026-12-24T09:00', timeZone: 'Europe/Paris', next: ['2026-12-24T08:00:00.000Z'] });
    expect(reply.body.definition.steps.email.kind).toBe('deliver');
    expect(reply.body.lastRuns.map((r: { runId: string }) => r.runId)).toEqual(['r6', 'r5', 'r4', 'r3', 'r2']);
  });

  it('answers 404 for an unknown campaign and 400 naming id for one that cannot be a campaign id', async () => {
    const { call } = setup();
    expect((await call(createGetCampaignHandler, { id: 'nope' })).status).toBe(404);
    const bad = await call(createGetCampaignHandler, { id: '__proto__' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('id');
  });
});

describe('campaign versions (the live alias)', () => {
  const machine = registered('win-back').stateMachineArn;
  const versioned = (publishedAt?: string): RegisteredCampaign => ({
    ...registered('win-back'),
    aliasArn: `${machine}:live`,
    live: { number: '3', arn: `${machine}:3`, ...(publishedAt === undefined ? {} : { publishedAt }) },
  });

  it('shows the live version, its alias and when it was published (from the registry item)', async () => {
    const { call } = setup([versioned('2026-12-01T10:00:00.000Z')]);
    const reply = await call(createGetCampaignHandler, { id: 'win-back' });
    expect(reply.body.live).toEqual({ alias: 'live', aliasArn: `${machine}:live`, version: 3, versionArn: `${machine}:3`, publishedAt: '2026-12-01T10:00:00.000Z' });
  });

  it('asks Step Functions when the live version was published when the registry item does not say (AWS)', async () => {
    const { call, deps } = setup([versioned()]);
    const asked: string[] = [];
    deps.versions = { publishedAt: async (arn) => (asked.push(arn), '2026-11-30T08:00:00.000Z') };
    const reply = await call(createGetCampaignHandler, { id: 'win-back' });
    expect(asked).toEqual([`${machine}:3`]);
    expect(reply.body.live).toMatchObject({ version: 3, publishedAt: '2026-11-30T08:00:00.000Z' });
  });

  it('answers live null for a campaign registered before versions, and starts its runs on the state machine', async () => {
    const { call, executions } = setup();
    expect((await call(createGetCampaignHandler, { id: 'win-back' })).body.live).toBeNull();
    await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}');
    expect(executions.started[0].arn).toBe(machine);
  });

  it('starts runs on the live alias, the execution named under the state machine', async () => {
    const { call, executions } = setup([versioned()]);
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}');
    expect(executions.started[0].arn).toBe(`${machine}:live`);
    expect(reply.body.executionArn).toBe(`arn:aws:states:eu-west-1:111122223333:execution:waymark-dev-campaign-win-back:${reply.body.runId}`);
  });
});

describe('POST /campaigns/{id}/runs', () => {
  it('creates the run starting and starts the execution named by the run id: 202 with its Location', async () => {
    const { call, executions, runs } = setup();
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}');
    expect(reply.status).toBe(202);
    const runId = reply.body.runId;
    expect(runId).toBe('api-20261203T090000000Z-00000001');
    expect(reply.headers.location).toBe(`/campaigns/win-back/runs/${runId}`);
    expect(reply.body).toMatchObject({ status: 'starting', trigger: 'api', createdAt: NOW.toISOString(), version: 1 });
    expect(reply.body.executionArn).toBe(`arn:aws:states:eu-west-1:111122223333:execution:waymark-dev-campaign-win-back:${runId}`);
    expect(executions.started).toEqual([{ arn: registered('win-back').stateMachineArn, name: runId, input: { campaignId: 'win-back', runId, trigger: 'api' } }]);
    expect((await runs.get('win-back', runId))?.status).toBe('starting');
  });

  it('answers a dry run that ends in time with 200 and its counts per step', async () => {
    const { call, executions, runs } = setup();
    executions.onStart = async (runId) => {
      // What the run's own steps do: counts, then finish.
      await runs.add('win-back', runId, [{ step: '', name: 'audience', dim: '' }, { step: '', name: 'excluded', dim: 'control-group' }]);
      await runs.add('win-back', runId, [{ step: 'email', name: 'sent', dim: '', value: 4 }]);
      const run = (await runs.get('win-back', runId))!;
      await runs.update({ ...run, status: 'succeeded', version: run.version + 1 }, run.version);
    };
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{"dryRun":true}');
    expect(reply.status).toBe(200);
    expect(executions.started[0].input.dryRun).toBe(true);
    expect(reply.body).toMatchObject({ status: 'succeeded', dryRun: true });
    expect(reply.body.counts).toEqual({
      run: { audience: { total: 1 }, excluded: { total: 1, by: { 'control-group': 1 } } },
      steps: { email: { sent: { total: 4 } } },
    });
  });

  it('answers 202 for a dry run still running after its looks', async () => {
    const { call, deps } = setup();
    let looks = 0;
    deps.waitForRun = async () => void looks++;
    deps.dryRunLooks = 3;
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{"dryRun":true}');
    expect(reply.status).toBe(202);
    expect(looks).toBe(3);
    expect(reply.headers.location).toMatch(/^\/campaigns\/win-back\/runs\/api-/);
  });

  it('stops the execution at once when the run was cancelled while it was being started', async () => {
    const { call, executions, runs } = setup();
    executions.onStart = async (runId) => {
      const run = (await runs.get('win-back', runId))!;
      await runs.update({ ...run, status: 'cancelled', version: run.version + 1 }, run.version);
    };
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}');
    expect([reply.status, reply.body.status]).toEqual([202, 'cancelled']);
    expect(executions.stopped).toEqual([reply.body.executionArn]);
  });

  it('marks the run failed when its execution cannot start, and answers no success', async () => {
    const { call, executions, runs } = setup();
    executions.failStart = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '');
    expect(reply.status).toBe(500);
    const { runs: listed } = await runs.list('win-back', { limit: 5 });
    expect(listed).toEqual([expect.objectContaining({ status: 'failed', error: 'the execution did not start: ThrottlingException', version: 2 })]);
  });

  it.each([
    ['{"dryRun":"yes"}', 'dryRun'],
    ['{"dryRun":true,"audience":1}', 'audience'],
    ['[1]', '(body)'],
    ['not json', '(body)'],
  ])('refuses the body %s naming %s, and starts nothing', async (body, field) => {
    const { call, executions, runs } = setup();
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, body);
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].field).toBe(field);
    expect(executions.started).toEqual([]);
    expect((await runs.list('win-back', { limit: 5 })).runs).toEqual([]);
  });

  it('refuses a body over 1 KB with 413 and a run of an unknown campaign with 404', async () => {
    const { call, executions } = setup();
    expect((await call(createStartCampaignRunHandler, { id: 'win-back' }, `{"dryRun":false,"x":"${'a'.repeat(1100)}"}`)).status).toBe(413);
    expect((await call(createStartCampaignRunHandler, { id: 'other' }, '{}')).status).toBe(404);
    expect(executions.started).toEqual([]);
  });
});

describe('POST /campaigns/{id}/runs with an Idempotency-Key', () => {
  const keyed = (key: string, name = 'Idempotency-Key') => ({ [name]: key });

  it('answers a repeated key with the run it started, 200 with its Location, and starts one execution', async () => {
    const { call, executions, runs } = setup();
    const first = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('order-42'));
    expect(first.status).toBe(202);
    expect(first.body.runId).toBe(keyedRunId('win-back', 'order-42'));
    expect(first.body.runId).toMatch(/^key-[0-9a-f]{32}$/);
    const again = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{"dryRun":false}', undefined, keyed('order-42', 'idempotency-key'));
    expect(again.status).toBe(200);
    expect(again.headers).toMatchObject({ location: `/campaigns/win-back/runs/${first.body.runId}`, 'idempotent-replayed': 'true' });
    expect(again.body).toMatchObject({ runId: first.body.runId, createdAt: first.body.createdAt, counts: { run: {}, steps: {} } });
    expect(executions.started).toHaveLength(1);
    expect((await runs.list('win-back', { limit: 5 })).runs).toHaveLength(1);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
  });

  it('starts one run for concurrent requests with one key', async () => {
    const { call, executions, runs } = setup();
    const replies = await Promise.all(Array.from({ length: 5 }, () => call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('burst'))));
    expect(new Set(replies.map((r) => r.body.runId))).toEqual(new Set([keyedRunId('win-back', 'burst')]));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 202]);
    expect(executions.started).toHaveLength(1);
    expect((await runs.list('win-back', { limit: 5 })).runs).toHaveLength(1);
  });

  it('answers 409 naming the header for the key sent with another body, and starts nothing more', async () => {
    const { call, executions } = setup();
    await call(createStartCampaignRunHandler, { id: 'win-back' }, '{"dryRun":true}', undefined, keyed('k-1'));
    const other = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('k-1'));
    expect(other.status).toBe(409);
    expect(other.body.errors).toEqual([{ field: 'Idempotency-Key', message: expect.stringContaining('already used for a dry run') }]);
    expect(executions.started).toHaveLength(1);
  });

  it('starts the execution of a keyed run whose first request died before starting it, once', async () => {
    const { call, executions, runs } = setup();
    const runId = keyedRunId('win-back', 'crashed');
    const arn = `arn:aws:states:eu-west-1:111122223333:execution:waymark-dev-campaign-win-back:${runId}`;
    await runs.create({ campaignId: 'win-back', runId, status: 'starting', trigger: 'api', executionArn: arn, createdAt: NOW.toISOString(), version: 1 });
    const retried = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('crashed'));
    await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('crashed'));
    expect([retried.status, retried.body.runId]).toEqual([200, runId]);
    expect(executions.started).toEqual([{ arn: registered('win-back').stateMachineArn, name: runId, input: { campaignId: 'win-back', runId, trigger: 'api' } }]);
  });

  it('answers 409 "in progress" naming the header while another request of the key is still writing the run', async () => {
    const { call, deps, executions } = setup();
    // The run id is taken, but its record is not written yet: what a request between the two puts sees.
    deps.runs = { ...deps.runs, create: async () => false, get: async () => undefined };
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('slow'));
    expect([reply.status, reply.body.errors]).toEqual([409, [{ field: 'Idempotency-Key', message: expect.stringContaining('in progress') }]]);
    expect(executions.started).toEqual([]);
  });

  it('scopes a key to its campaign, and reads the quoted form of the IETF draft as the key', async () => {
    const { call, executions } = setup([registered('win-back'), registered('weekly')]);
    const a = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('same'));
    const b = await call(createStartCampaignRunHandler, { id: 'weekly' }, '{}', undefined, keyed('same'));
    expect(a.body.runId).not.toBe(b.body.runId);
    const quoted = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, keyed('"same"'));
    expect([quoted.status, quoted.body.runId]).toEqual([200, a.body.runId]);
    expect(executions.started).toHaveLength(2);
  });

  it.each([
    ['an empty key', { 'Idempotency-Key': '' }],
    ['a key with a space', { 'Idempotency-Key': 'a b' }],
    ['a key of 129 characters', { 'Idempotency-Key': 'k'.repeat(129) }],
    ['a key outside ASCII', { 'Idempotency-Key': 'clé' }],
    ['two keys joined by a comma', { 'Idempotency-Key': 'k1, k2' }],
    ['the header under two names', { 'Idempotency-Key': 'k1', 'idempotency-key': 'k1' }],
    ['a prototype name inside quotes', { 'Idempotency-Key': '"__proto__' }],
  ])('refuses %s with 400 naming Idempotency-Key, and starts nothing', async (_name, headers) => {
    const { call, executions, runs } = setup();
    const reply = await call(createStartCampaignRunHandler, { id: 'win-back' }, '{}', undefined, headers);
    expect([reply.status, reply.body.errors]).toEqual([400, [{ field: 'Idempotency-Key', message: expect.stringContaining('1 to 128') }]]);
    expect(executions.started).toEqual([]);
    expect((await runs.list('win-back', { limit: 5 })).runs).toEqual([]);
  });
});

describe('GET /campaigns/{id}/runs and /runs/{runId}', () => {
  it('pages the runs newest first, and refuses a bad limit or cursor naming it', async () => {
    const { call, seed } = setup();
    for (let i = 0; i < 3; i++) await seed(`r${i}`, 'succeeded', `2026-12-0${i + 1}T00:00:00.000Z`);
    const first = await call(createListCampaignRunsHandler, { id: 'win-back' }, undefined, { limit: '2' });
    expect(first.body.runs.map((r: { runId: string }) => r.runId)).toEqual(['r2', 'r1']);
    const second = await call(createListCampaignRunsHandler, { id: 'win-back' }, undefined, { limit: '2', cursor: first.body.cursor });
    expect(second.body).toEqual({ runs: [expect.objectContaining({ runId: 'r0' })] });
    for (const [query, field] of [[{ limit: '0' }, 'limit'], [{ limit: '101' }, 'limit'], [{ limit: 'x' }, 'limit'], [{ cursor: 'c'.repeat(2000) }, 'cursor']] as const) {
      const reply = await call(createListCampaignRunsHandler, { id: 'win-back' }, undefined, query);
      expect([reply.status, reply.body.errors[0].field]).toEqual([400, field]);
    }
    expect((await call(createListCampaignRunsHandler, { id: 'nope' })).status).toBe(404);
  });

  it('answers a run with its counts, 404 for an unknown run and 400 naming runId for a malformed one', async () => {
    const { call, seed } = setup();
    await seed('r1', 'running');
    const reply = await call(createGetCampaignRunHandler, { id: 'win-back', runId: 'r1' });
    expect(reply.body).toMatchObject({ runId: 'r1', status: 'running', counts: { run: {}, steps: {} } });
    expect((await call(createGetCampaignRunHandler, { id: 'win-back', runId: 'r2' })).status).toBe(404);
    const bad = await call(createGetCampaignRunHandler, { id: 'win-back', runId: 'a/b' });
    expect([bad.status, bad.body.errors[0].field]).toEqual([400, 'runId']);
  });
});

describe('POST /campaigns/{id}/runs/{runId}/{action}', () => {
  it('pauses a running run and resumes it, each bumping the version', async () => {
    const { call, seed, runs } = setup();
    await seed('r1', 'running');
    const paused = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'pause' });
    expect([paused.status, paused.body.status, paused.body.version]).toEqual([200, 'paused', 2]);
    const resumed = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'resume' });
    expect([resumed.status, resumed.body.status, resumed.body.version]).toEqual([200, 'running', 3]);
    expect((await runs.get('win-back', 'r1'))?.status).toBe('running');
  });

  it.each([
    ['pause', 'paused'],
    ['pause', 'succeeded'],
    ['resume', 'running'],
    ['cancel', 'cancelled'],
    ['cancel', 'failed'],
  ] as const)('refuses to %s a run that is %s with 409 naming its status, changing nothing', async (action, status) => {
    const { call, seed, runs, executions } = setup();
    const before = await seed('r1', status);
    const reply = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action });
    expect(reply.status).toBe(409);
    expect(reply.body.errors).toEqual([{ field: 'status', message: `the run is ${status}` }]);
    expect(await runs.get('win-back', 'r1')).toEqual(before);
    expect(executions.stopped).toEqual([]);
  });

  it('cancels a paused run: stops its execution and ends it cancelled', async () => {
    const { call, seed, runs, executions } = setup();
    await seed('r1', 'paused');
    const reply = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'cancel' });
    expect(reply.body).toMatchObject({ status: 'cancelled', endedAt: NOW.toISOString(), version: 3 });
    expect(executions.stopped).toEqual(['arn:exec:r1']);
    expect((await runs.get('win-back', 'r1'))?.status).toBe('cancelled');
  });

  it('leaves a run cancelling when its execution cannot be stopped, and a repeated cancel ends it', async () => {
    const { call, seed, runs, executions } = setup();
    await seed('r1', 'running');
    executions.failStop = Object.assign(new Error('down'), { name: 'ServiceUnavailable' });
    expect((await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'cancel' })).status).toBe(500);
    expect((await runs.get('win-back', 'r1'))?.status).toBe('cancelling');
    executions.failStop = undefined;
    const again = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'cancel' });
    expect([again.status, again.body.status]).toEqual([200, 'cancelled']);
  });

  it('answers 409 when the run ended by itself while it was being cancelled', async () => {
    const { call, seed, runs, executions, deps } = setup();
    await seed('r1', 'running');
    executions.running = false;
    const stop = executions.stop.bind(executions);
    deps.executions = {
      start: executions.start.bind(executions),
      // The run's finish step wins the race: it ends succeeded as the stop arrives.
      stop: async (arn, cause) => {
        const run = (await runs.get('win-back', 'r1'))!;
        await runs.update({ ...run, status: 'succeeded', version: run.version + 1 }, run.version);
        return stop(arn, cause);
      },
    };
    const reply = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'cancel' });
    expect(reply.status).toBe(409);
    expect((await runs.get('win-back', 'r1'))?.status).toBe('succeeded');
  });

  it('refuses an unknown action naming it', async () => {
    const { call, seed } = setup();
    await seed('r1', 'running');
    const reply = await call(createControlCampaignRunHandler, { id: 'win-back', runId: 'r1', action: 'constructor' });
    expect([reply.status, reply.body.errors[0].field]).toEqual([400, 'action']);
  });
});
