import './quiet-powertools';
import type { Context } from 'aws-lambda';
import { CampaignStepPayloadError, createCampaignStepHandler, dispatchCampaignStep, MAX_BATCH_ITEMS, type CampaignStepActions } from '../../../lambdas/app/campaign-step';
import { campaignStepActions, type CampaignStepDeps } from '../../../lambdas/app/campaign-step-actions';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';

const run = { campaignId: 'win-back', runId: 'r1', prefix: 'runs/win-back/r1/', startedAt: '2026-12-03T09:00:00.000Z', dryRun: false };
const batch = (action: string) => ({ action, run, step: 'email', items: [{ profileId: 'p1' }, { profileId: 'p2', timeZone: 'Europe/Paris' }], rate: 100, concurrency: 10 });

/** Each action's fake answers its name and records the payload it got. */
function fakes() {
  const calls: [string, unknown][] = [];
  const fake = (name: keyof CampaignStepActions) => async (payload: unknown) => (calls.push([name, payload]), { answered: name }) as never;
  const actions: CampaignStepActions = {
    startRun: fake('startRun'),
    audiencePage: fake('audiencePage'),
    composeSet: fake('composeSet'),
    deliverBatch: fake('deliverBatch'),
    splitBatch: fake('splitBatch'),
    enterJourneyBatch: fake('enterJourneyBatch'),
    groupByTime: fake('groupByTime'),
    finishRun: fake('finishRun'),
  };
  return { actions, calls };
}

describe('campaign-step dispatch', () => {
  it.each([
    [{ action: 'start', input: { campaignId: 'win-back', trigger: 'schedule', occurrence: '2026-12-07T08:00:00Z' }, executionArn: 'arn:x', startedAt: '2026-12-07T08:00:01Z' }, 'startRun'],
    [{ action: 'audience-page', run, segment: 0, totalSegments: 4 }, 'audiencePage'],
    [{ action: 'compose', run, parts: 'runs/win-back/r1/parts/audience/', key: 'runs/win-back/r1/audience.jsonl' }, 'composeSet'],
    [batch('deliver'), 'deliverBatch'],
    [batch('split'), 'splitBatch'],
    [batch('enter-journey'), 'enterJourneyBatch'],
    [{ action: 'group-by-time', run, step: 'email', set: 'runs/win-back/r1/audience.jsonl' }, 'groupByTime'],
    [{ action: 'finish', run, status: 'failed', error: { Error: 'States.TaskFailed' } }, 'finishRun'],
  ].map(([payload, name]) => [name, payload] as const))('hands its payload to %s and answers what it returns', async (name, payload) => {
    const { actions, calls } = fakes();
    await expect(dispatchCampaignStep(actions, payload)).resolves.toEqual({ answered: name });
    expect(calls).toEqual([[name, payload]]);
  });

  it('keeps fields the state machine adds (the payload is passed on whole)', async () => {
    const { actions, calls } = fakes();
    await dispatchCampaignStep(actions, { ...batch('deliver'), cursor: 3, extra: { kept: true } });
    expect(calls[0][1]).toMatchObject({ cursor: 3, extra: { kept: true } });
  });

  it.each([
    ['an unknown action', { action: 'send-everything', run }, /action/],
    ['a prototype name as action', { action: '__proto__', run }, /action/],
    ['no payload', null, /payload/],
    ['a batch without its run', { action: 'deliver', step: 'email', items: [] }, /run/],
    ['a batch item without a profile', { ...batch('deliver'), items: [{}] }, /items\.0\.profileId/],
    ['a batch past the bound', { ...batch('deliver'), items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({ profileId: `p${i}` })) }, /items/],
    ['a row past 16 KB', { ...batch('deliver'), items: [{ profileId: 'p', data: { x: 'y'.repeat(20_000) } }] }, /16384 bytes/],
    ['a finish with another status', { action: 'finish', run, status: 'paused' }, /status/],
  ])('refuses %s with a CampaignStepPayloadError naming the field, calling nothing', async (_what, payload, message) => {
    const { actions, calls } = fakes();
    const error = await dispatchCampaignStep(actions, payload).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CampaignStepPayloadError);
    expect((error as Error).name).toBe('CampaignStepPayloadError');
    expect((error as Error).message).toMatch(message);
    expect(calls).toEqual([]);
  });

  it('runs through the Lambda handler with the real actions: a scheduled start records its run; a bad payload does nothing', async () => {
    const runs = memoryCampaignRuns();
    const deps = { runs, registry: { list: async () => [], get: async () => undefined }, clock: { now: () => new Date('2026-12-07T08:00:02Z') } };
    const handler = createCampaignStepHandler(campaignStepActions(deps as unknown as CampaignStepDeps));
    const context = { functionName: 'campaign-step', awsRequestId: 'req' } as unknown as Context;
    await expect(handler({ action: 'nope' }, context)).rejects.toBeInstanceOf(CampaignStepPayloadError);
    expect(runs.records.size).toBe(0);
    const start = { action: 'start', input: { campaignId: 'win-back', trigger: 'schedule', occurrence: '2026-12-07T08:00:00Z' }, executionArn: 'arn:x', startedAt: '2026-12-07T08:00:01Z' };
    const result = (await handler(start, context)) as { run: { runId: string } };
    expect(result.run.runId).toBe('s-20261207T0800Z');
    expect((await runs.get('win-back', 's-20261207T0800Z'))?.status).toBe('running');
  });
});
