import type { CampaignRunRecord } from '../../lambdas/core/campaigns/contract';
import type { AslDefinition } from '../../lambdas/core/journey/asl';
import { startLocalStack } from '../../lambdas/local/stack';
import { VirtualClock } from '../../lambdas/local/virtual-clock';
import { Campaign, type CampaignInput } from '../../lambdas/core/campaigns/schema';
import { call, problemFields } from './http';
import { openVirtualStack } from './local-stack';

const campaign = (input: Partial<CampaignInput> & { id: string }) =>
  Campaign.parse({
    schemaVersion: 1,
    name: `Campaign ${input.id}`,
    audience: { segment: 'vip' },
    schedule: { type: 'on-demand' },
    start: 'email',
    steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello {{ profile.attributes.firstName }}' } } },
    ...input,
  });

const WIN_BACK = campaign({ id: 'win-back', schedule: { type: 'once', at: '2026-12-24T09:00', timeZone: 'Europe/Paris' } });
const WEEKLY = campaign({ id: 'weekly', schedule: { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/London' }, tags: ['newsletter'] });

describe('campaigns API (local stack, dynalite, virtual clock)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack({ campaigns: [WIN_BACK, WEEKLY], start: '2026-12-01T09:00:00.000Z' });
  });
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  /** A run record as a campaign's start step leaves it, created at the stack clock's time. */
  async function seedRun(runId: string, status: CampaignRunRecord['status'], campaignId = 'win-back'): Promise<CampaignRunRecord> {
    const record: CampaignRunRecord = {
      campaignId,
      runId,
      status,
      trigger: 'schedule',
      createdAt: ctx.clock.now().toISOString(),
      executionArn: `arn:aws:states:local:000000000000:execution:waymark-local-campaign-${campaignId}:${runId}`,
      version: 1,
    };
    expect(await ctx.stack.campaignRuns.create(record)).toBe(true);
    return record;
  }

  it('lists the campaign files registered in the registry, by id', async () => {
    const reply = await call(ctx.stack, 'GET', '/campaigns');
    expect(reply.status).toBe(200);
    expect(reply.body.campaigns.map((c: { id: string }) => c.id)).toEqual(['weekly', 'win-back']);
    expect(reply.body.campaigns[0]).toMatchObject({ id: 'weekly', name: 'Campaign weekly', tags: ['newsletter'], schedule: WEEKLY.schedule });
  });

  it('answers a campaign with its definition and its next occurrence, which passes with the clock', async () => {
    const before = await call(ctx.stack, 'GET', '/campaigns/win-back');
    expect(before.status).toBe(200);
    expect(before.body.definition).toEqual(JSON.parse(JSON.stringify(WIN_BACK)));
    expect(before.body.schedule.next).toEqual(['2026-12-24T08:00:00.000Z']);
    const weekly = await call(ctx.stack, 'GET', '/campaigns/weekly');
    expect(weekly.body.schedule).toEqual({ ...WEEKLY.schedule, next: ['2026-12-07T09:00:00.000Z', '2026-12-14T09:00:00.000Z', '2026-12-21T09:00:00.000Z'] });
    await ctx.clock.advanceTo('2026-12-24T08:00:00.001Z');
    expect((await call(ctx.stack, 'GET', '/campaigns/win-back')).body.schedule.next).toEqual([]);
  });

  it('answers 404 for an unknown campaign or run, and 400 naming the path parameter that cannot be one', async () => {
    expect((await call(ctx.stack, 'GET', '/campaigns/nope')).status).toBe(404);
    expect((await call(ctx.stack, 'GET', '/campaigns/nope/runs')).status).toBe(404);
    expect((await call(ctx.stack, 'GET', '/campaigns/win-back/runs/no-such-run')).status).toBe(404);
    expect((await call(ctx.stack, 'POST', '/campaigns/nope/runs', {})).status).toBe(404);
    expect((await call(ctx.stack, 'POST', '/campaigns/win-back/runs/no-such-run/pause')).status).toBe(404);
    for (const [path, field] of [
      ['/campaigns/Win_Back', 'id'],
      [`/campaigns/${'a'.repeat(300)}`, 'id'],
      ['/campaigns/__proto__/runs', 'id'],
      [`/campaigns/win-back/runs/${'r'.repeat(81)}`, 'runId'],
      ['/campaigns/win-back/runs/a.b', 'runId'],
    ] as const) {
      const reply = await call(ctx.stack, 'GET', path);
      expect([path.slice(0, 40), reply.status, problemFields(reply)]).toEqual([path.slice(0, 40), 400, [field]]);
    }
  });

  it('refuses a run request past its bounds naming the field, and creates no run', async () => {
    for (const [body, status, field] of [
      ['{"dryRun":1}', 400, 'dryRun'],
      ['{"dryRun":true,"audience":{"segment":"all"}}', 400, 'audience'],
      ['"dryRun"', 400, '(body)'],
      [`{"dryRun":true,"note":"${'x'.repeat(1024)}"}`, 413, '(body)'],
    ] as const) {
      const reply = await call(ctx.stack, 'POST', '/campaigns/weekly/runs', body);
      expect([body.slice(0, 30), reply.status, reply.contentType, problemFields(reply)]).toEqual([body.slice(0, 30), status, 'application/problem+json', [field]]);
    }
    expect((await call(ctx.stack, 'GET', '/campaigns/weekly/runs')).body).toEqual({ runs: [] });
  });

  it('pages a campaign’s runs newest first, and refuses a limit or cursor it did not give', async () => {
    for (const id of ['p1', 'p2', 'p3']) {
      await seedRun(id, 'succeeded', 'weekly');
      await ctx.clock.advance('1h');
    }
    const first = await call(ctx.stack, 'GET', '/campaigns/weekly/runs?limit=2');
    expect(first.body.runs.map((r: { runId: string }) => r.runId)).toEqual(['p3', 'p2']);
    const second = await call(ctx.stack, 'GET', `/campaigns/weekly/runs?limit=2&cursor=${first.body.cursor}`);
    expect(second.body).toEqual({ runs: [expect.objectContaining({ runId: 'p1', status: 'succeeded' })] });
    expect((await call(ctx.stack, 'GET', '/campaigns/weekly')).body.lastRuns.map((r: { runId: string }) => r.runId)).toEqual(['p3', 'p2', 'p1']);
    for (const [query, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=1.5', 'limit'], ['cursor=bm90IGEga2V5', 'cursor']] as const) {
      const reply = await call(ctx.stack, 'GET', `/campaigns/weekly/runs?${query}`);
      expect([query, reply.status, problemFields(reply)]).toEqual([query, 400, [field]]);
    }
  });

  it('answers a run with its counts per step and run-level counts by reason', async () => {
    await seedRun('counted', 'running');
    await ctx.stack.campaignRuns.add('win-back', 'counted', [
      { step: '', name: 'audience', dim: '', value: 1000 },
      { step: '', name: 'excluded', dim: 'control-group', value: 50 },
      { step: '', name: 'excluded', dim: 'recently-messaged', value: 25 },
      { step: 'email', name: 'sent', dim: '', value: 920 },
      { step: 'email', name: 'suppressed', dim: 'consent', value: 5 },
    ]);
    const reply = await call(ctx.stack, 'GET', '/campaigns/win-back/runs/counted');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ runId: 'counted', status: 'running', version: 1 });
    expect(reply.body.counts).toEqual({
      run: { audience: { total: 1000 }, excluded: { total: 75, by: { 'control-group': 50, 'recently-messaged': 25 } } },
      steps: { email: { sent: { total: 920 }, suppressed: { total: 5, by: { consent: 5 } } } },
    });
  });

  it('pauses a running run, resumes it, and cancels it; each change is stored and answered as it happened', async () => {
    await seedRun('r-control', 'running');
    const paused = await call(ctx.stack, 'POST', '/campaigns/win-back/runs/r-control/pause');
    expect([paused.status, paused.body.status, paused.body.version]).toEqual([200, 'paused', 2]);
    expect((await call(ctx.stack, 'GET', '/campaigns/win-back/runs/r-control')).body.status).toBe('paused');
    const resumed = await call(ctx.stack, 'POST', '/campaigns/win-back/runs/r-control/resume');
    expect([resumed.status, resumed.body.status]).toEqual([200, 'running']);
    await ctx.clock.advance('10m');
    const cancelled = await call(ctx.stack, 'POST', '/campaigns/win-back/runs/r-control/cancel');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', endedAt: ctx.clock.now().toISOString(), version: 5 });
    expect(await ctx.stack.campaignRuns.get('win-back', 'r-control')).toEqual(cancelled.body);
  });

  it('answers 409 naming the status for a change that does not apply, and changes nothing', async () => {
    await seedRun('r-starting', 'starting');
    await seedRun('r-done', 'succeeded');
    await seedRun('r-paused', 'paused');
    for (const [runId, action, status] of [
      ['r-starting', 'pause', 'starting'],
      ['r-starting', 'resume', 'starting'],
      ['r-done', 'pause', 'succeeded'],
      ['r-done', 'cancel', 'succeeded'],
      ['r-paused', 'pause', 'paused'],
    ] as const) {
      const before = await ctx.stack.campaignRuns.get('win-back', runId);
      const reply = await call(ctx.stack, 'POST', `/campaigns/win-back/runs/${runId}/${action}`);
      expect([runId, action, reply.status, reply.body.errors]).toEqual([runId, action, 409, [{ field: 'status', message: `the run is ${status}` }]]);
      expect(await ctx.stack.campaignRuns.get('win-back', runId)).toEqual(before);
    }
    const cancelled = await call(ctx.stack, 'POST', '/campaigns/win-back/runs/r-paused/cancel');
    expect(cancelled.body.status).toBe('cancelled');
    const again = await call(ctx.stack, 'POST', '/campaigns/win-back/runs/r-paused/cancel');
    expect([again.status, problemFields(again)]).toEqual([409, ['status']]);
  });

  it('refuses an action it does not know, naming it', async () => {
    await seedRun('r-action', 'running');
    for (const action of ['stop', '__proto__', 'PAUSE']) {
      const reply = await call(ctx.stack, 'POST', `/campaigns/win-back/runs/r-action/${action}`);
      expect([action, reply.status, problemFields(reply)]).toEqual([action, 400, ['action']]);
    }
    expect((await ctx.stack.campaignRuns.get('win-back', 'r-action'))?.status).toBe('running');
  });
});

describe('campaign state machines in the local stack', () => {
  it('deploys a compiled definition with the campaign-step function and audience bucket bound, and starts runs on it', async () => {
    // A one-state definition whose Task calls the campaign-step function with an action it does not know: the run
    // reaches the real dispatcher through ${CampaignStepFunctionArn}, whatever the actions plugged in.
    const definition: AslDefinition = {
      Comment: 'test',
      StartAt: 'Start',
      TimeoutSeconds: 300,
      States: {
        Start: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: '${CampaignStepFunctionArn}', Payload: { action: 'probe', bucket: '${AudienceBucketName}', 'input.$': '$' } },
          End: true,
        },
      },
    };
    const clock = new VirtualClock('2026-12-01T09:00:00.000Z');
    const stack = await startLocalStack({ listen: false, storage: 'memory', clock, campaigns: [WEEKLY], compileCampaign: () => definition });
    try {
      expect([...stack.campaignProblems]).toEqual([]);
      const reply = await stack.request({ method: 'POST', path: '/campaigns/weekly/runs', body: '{}' });
      expect(reply.statusCode).toBe(202);
      const run = JSON.parse(reply.body);
      await stack.settle();
      const execution = stack.executions.get(run.executionArn);
      expect(execution).toMatchObject({ name: run.runId, status: 'FAILED' });
      expect(execution?.input).toEqual({ campaignId: 'weekly', runId: run.runId, trigger: 'api' });
      expect(execution?.error).toMatch(/invalid campaign-step payload: action/);
      // Started on the live alias (version 1, published at the stack's start), named under the state machine.
      const machine = 'arn:aws:states:local:000000000000:stateMachine:waymark-local-campaign-weekly';
      expect(execution).toMatchObject({ stateMachineArn: machine, stateMachineAliasArn: `${machine}:live`, stateMachineVersionArn: `${machine}:1` });
      const shown = JSON.parse((await stack.request({ method: 'GET', path: '/campaigns/weekly' })).body);
      expect(shown.live).toEqual({ alias: 'live', aliasArn: `${machine}:live`, version: 1, versionArn: `${machine}:1`, publishedAt: '2026-12-01T09:00:00.000Z' });
    } finally {
      await stack.stop();
    }
  });
});
