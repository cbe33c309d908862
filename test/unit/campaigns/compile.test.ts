import fc from 'fast-check';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  CAMPAIGN_RUN_FAILED,
  CampaignState as S,
  compileCampaign,
  DEFAULT_BATCH_SIZE,
  mapConcurrency,
  MAX_INPUT_BYTES_PER_BATCH,
  runTimeoutSeconds,
} from '../../../lambdas/core/campaigns/compile';
import type { AudienceRow, BatchResult, CampaignStepPayload, RunContext } from '../../../lambdas/core/campaigns/contract';
import { memoryAudienceFiles } from '../../../lambdas/core/campaigns/memory';
import type { Campaign } from '../../../lambdas/core/campaigns/schema';
import { validateCampaign } from '../../../lambdas/core/campaigns/validate';
import type { AslDefinition, AslState } from '../../../lambdas/core/journey/asl';
import { aslProblems } from '../../../lambdas/core/journey/asl-check';
import { baseCampaign } from './fixtures';
import { runLocally } from './run-locally';

function valid(input: unknown): Campaign {
  const result = validateCampaign(input);
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.campaign;
}

type Scope = { States: Record<string, AslState> };
const branchOf = (asl: AslDefinition): Scope => (asl.States[S.run].Branches as Scope[])[0];

describe('compileCampaign: the layout', () => {
  const asl = compileCampaign(valid(baseCampaign()));

  it('starts the run, ends duplicates at once, builds the audience, runs the steps in one Parallel and finishes', () => {
    expect(asl.StartAt).toBe(S.start);
    expect(asl.States[S.start]).toMatchObject({
      Type: 'Task',
      Parameters: { FunctionName: '${CampaignStepFunctionArn}', Payload: { action: 'start', 'input.$': '$', 'executionArn.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' } },
      OutputPath: '$.Payload',
      Next: S.startCheck,
    });
    expect(asl.States[S.startCheck]).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.duplicate', BooleanEquals: true, Next: S.duplicate }], Default: S.audience });
    expect(asl.States[S.audience]).toMatchObject({ Type: 'Map', ItemsPath: '$.parts', ResultPath: null, Next: S.audienceCompose });
    expect(asl.States[S.audienceCompose]).toMatchObject({ ResultPath: '$.sets.audience', Next: S.run });
    expect(asl.States[S.run]).toMatchObject({ Type: 'Parallel', ResultPath: null, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.finishFailed }], Next: S.finish });
    expect((asl.States[S.run].Branches as unknown[]).length).toBe(1);
    expect(asl.States[S.finish]).toMatchObject({ Parameters: { Payload: { action: 'finish', status: 'succeeded' } }, End: true });
    expect(asl.States[S.finishFailed]).toMatchObject({ Parameters: { Payload: { action: 'finish', status: 'failed', 'error.$': '$.error' } }, Next: S.failed });
    expect(asl.States[S.failed]).toMatchObject({ Type: 'Fail', Error: CAMPAIGN_RUN_FAILED });
  });

  it('builds the audience with a Distributed Map over $.parts: one Standard child per scan segment, paging in its own history', () => {
    const audience = asl.States[S.audience];
    expect(audience).toEqual({
      Type: 'Map',
      ItemsPath: '$.parts',
      ItemSelector: { action: 'audience-page', 'run.$': '$.run', 'segment.$': '$$.Map.Item.Value', 'totalSegments.$': '$.totalSegments' },
      // Every segment at once, and no more: the segment count the start action answers.
      MaxConcurrencyPath: '$.totalSegments',
      ToleratedFailurePercentage: 0,
      ItemProcessor: expect.objectContaining({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: S.audiencePage }),
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.finishFailed }],
      Next: S.audienceCompose,
    });
    // No ItemReader (the items are in the state input), no batcher, no results written.
    const child = (audience.ItemProcessor as Scope).States;
    expect(Object.keys(child)).toEqual([S.audiencePage, S.audienceMore, S.audienceNext, S.audienceDone]);
    expect(child[S.audiencePage]).toMatchObject({ Type: 'Task', Parameters: { FunctionName: '${CampaignStepFunctionArn}', 'Payload.$': '$' }, OutputPath: '$.Payload', Next: S.audienceMore });
    expect(child[S.audienceMore]).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.cursor', IsPresent: true, Next: S.audienceNext }], Default: S.audienceDone });
    expect(child[S.audienceNext]).toEqual({ Type: 'Pass', Result: 'audience-page', ResultPath: '$.action', Next: S.audiencePage });
    expect(child[S.audienceDone]).toEqual({ Type: 'Succeed' });
  });

  it('reads a deliver step\'s audience with a Distributed Map: JSONL reader, batcher with the run and the pace, results to S3', () => {
    expect(branchOf(asl).States[S.step('email')]).toMatchObject({
      Type: 'Map',
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSONL' }, Parameters: { Bucket: '${AudienceBucketName}', 'Key.$': '$.sets.audience.key' } },
      ItemBatcher: {
        MaxItemsPerBatch: DEFAULT_BATCH_SIZE,
        MaxInputBytesPerBatch: MAX_INPUT_BYTES_PER_BATCH,
        BatchInput: { 'run.$': '$.run', step: 'email', rate: 100, concurrency: 10 },
      },
      MaxConcurrency: 10,
      ToleratedFailurePercentage: 0,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: S.batch('email') },
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: '${AudienceBucketName}', Prefix: 'runs/win-back-test/results/email' } },
      ResultPath: null,
      Next: S.step('pause'),
    });
  });

  it('sends each batch from the function, holds while paused, resumes from the cursor and paces before ending', () => {
    const child = (branchOf(asl).States[S.step('email')].ItemProcessor as Scope).States;
    expect(child[S.batch('email')]).toMatchObject({
      Parameters: { Payload: { action: 'deliver', 'run.$': '$.BatchInput.run', step: 'email', rate: 100, concurrency: 10, 'items.$': '$.Items' } },
      OutputPath: '$.Payload',
      Retry: expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.TaskFailed'] })]),
      Next: S.result('email'),
    });
    expect(child[S.result('email')]).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'paused', Next: S.hold('email') },
        { Variable: '$.status', StringEquals: 'cancelled', Next: S.cancelled('email') },
      ],
      Default: S.pace('email'),
    });
    expect(child[S.resume('email')]).toMatchObject({ Parameters: { Payload: { action: 'deliver', 'items.$': '$.items', 'cursor.$': '$.cursor' } }, Next: S.result('email') });
    expect(child[S.pace('email')]).toEqual({ Type: 'Wait', SecondsPath: '$.paceSeconds', End: true });
  });

  it('makes a wait one Wait state for the whole audience, skipped in a dry run', () => {
    const states = branchOf(asl).States;
    expect(states[S.step('pause')]).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.run.dryRun', BooleanEquals: true, Next: 'opened' }], Default: S.wait('pause') });
    expect(states[S.wait('pause')]).toEqual({ Type: 'Wait', Seconds: 3 * 86400, Next: 'opened' });
  });

  it('splits into one set per branch, then runs the branches in parallel, each reading its own set', () => {
    const states = branchOf(asl).States;
    expect(states[S.step('opened')]).toMatchObject({ Type: 'Map', ItemBatcher: { BatchInput: { step: 'opened', concurrency: 100 } }, Next: S.compose('opened', 'yes') });
    // A split sends nothing: its child is the batch alone, neither paused nor paced.
    expect((states[S.step('opened')].ItemProcessor as Scope).States).toEqual({
      [S.batch('opened')]: expect.objectContaining({ Parameters: expect.objectContaining({ Payload: expect.objectContaining({ action: 'split', step: 'opened' }) }), End: true }),
    });
    expect(states[S.compose('opened', 'yes')]).toMatchObject({
      Parameters: { Payload: { action: 'compose', 'parts.$': "States.Format('{}parts/opened/yes/', $.run.prefix)", 'key.$': "States.Format('{}sets/opened/yes.jsonl', $.run.prefix)" } },
      ResultPath: '$.sets.opened__yes',
      Next: S.compose('opened', 'no'),
    });
    const parallel = states[S.branches('opened')];
    expect(parallel).toMatchObject({ Type: 'Parallel', ResultPath: null, End: true });
    const [yes, no] = parallel.Branches as (Scope & { StartAt: string })[];
    expect(yes.StartAt).toBe('welcome-back');
    expect(yes.States['welcome-back']).toMatchObject({ ItemReader: { Parameters: { 'Key.$': '$.sets.opened__yes.key' } }, ItemBatcher: { BatchInput: { step: 'welcome-back' } }, Next: 'done' });
    expect(yes.States.done).toEqual({ Type: 'Succeed' });
    expect(no.States.nudge).toMatchObject({ ItemReader: { Parameters: { 'Key.$': '$.sets.opened__no.key' } }, End: true });
  });

  it('counts a percent split\'s holdout without a set of its own', () => {
    const draft = baseCampaign();
    draft.steps.opened = { kind: 'split', by: 'percent', variants: [{ id: 'a', weight: 45, next: 'welcome-back' }, { id: 'b', weight: 45, next: 'nudge' }], holdout: { weight: 10 } };
    const states = branchOf(compileCampaign(valid(draft))).States;
    expect(Object.keys(states).filter((n) => n.startsWith('opened.'))).toEqual([S.compose('opened', 'a'), S.compose('opened', 'b'), S.branches('opened')]);
  });

  it('groups a local-time delivery by send instant and loops: wait for the instant, then the Distributed Map over that group', () => {
    const draft = baseCampaign();
    Object.assign(draft.steps.email, { at: '09:00', in: 'member', passed: 'next-day' });
    const states = branchOf(compileCampaign(valid(draft))).States;
    expect(states[S.group('email')]).toMatchObject({
      Parameters: { Payload: { action: 'group-by-time', 'run.$': '$.run', step: 'email', 'set.$': '$.sets.audience.key' } },
      ResultSelector: { 'groups.$': '$.Payload.groups', 'count.$': 'States.ArrayLength($.Payload.groups)', pos: { i: 0 } },
      ResultPath: '$.at.email',
      Next: S.moreGroups('email'),
    });
    expect(states[S.moreGroups('email')]).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.at.email.pos.i', NumericLessThanPath: '$.at.email.count', Next: S.groupItem('email') }], Default: 'pause' });
    expect(states[S.groupWait('email')]).toEqual({ Type: 'Wait', TimestampPath: '$.at.email.current.group.sendAt', Next: 'email' });
    expect(states.email).toMatchObject({ Type: 'Map', ItemReader: { Parameters: { 'Key.$': '$.at.email.current.group.key' } }, Next: S.nextGroup('email') });
    expect(states[S.nextGroup('email')]).toMatchObject({ Parameters: { 'i.$': 'States.MathAdd($.at.email.pos.i, 1)' }, ResultPath: '$.at.email.pos', Next: S.moreGroups('email') });
  });

  it('sizes MaxConcurrency from the rate and the batch size, and hands both to every batch', () => {
    expect(mapConcurrency(100, 100)).toBe(10);
    expect(mapConcurrency(1, 100)).toBe(1);
    expect(mapConcurrency(10_000, 100)).toBe(1000);
    expect(mapConcurrency(10_000, 10)).toBe(1000);
    expect(mapConcurrency(250, 500)).toBe(5);
    const draft = baseCampaign();
    draft.steps.email.rate = 2000;
    const email = branchOf(compileCampaign(valid(draft), { batchSize: 50 })).States.email;
    expect(email).toMatchObject({ MaxConcurrency: 400, ItemBatcher: { MaxItemsPerBatch: 50, BatchInput: { rate: 2000, concurrency: 400 } } });
    expect(() => compileCampaign(valid(draft), { batchSize: 0 })).toThrow(/batchSize must be an integer from 1 to 1000 \(got 0\)/);
  });

  it('gives the run the waits of its longest path plus a week', () => {
    expect(asl.TimeoutSeconds).toBe(3 * 86400 + 7 * 86400);
    expect(runTimeoutSeconds(valid(baseCampaign()))).toBe(asl.TimeoutSeconds);
  });

  it('uses JSONPath only and names no resource but the two placeholders', () => {
    const text = JSON.stringify(asl);
    expect(text).not.toContain('QueryLanguage');
    expect(text).not.toMatch(/\{%/);
    expect(new Set(text.match(/\$\{\w+\}/g))).toEqual(new Set(['${CampaignStepFunctionArn}', '${AudienceBucketName}']));
  });
});

/** Random campaigns: trees of every step kind. */
const campaignArbitrary = fc.array(fc.tuple(fc.nat(), fc.constantFrom('deliver', 'at', 'wait', 'percent', 'rule', 'engagement', 'enter')), { minLength: 0, maxLength: 12 }).map((choices) => {
  const draft = baseCampaign();
  const steps: Record<string, Record<string, unknown>> = { s0: { kind: 'exit' } };
  const leaves = ['s0'];
  const delivers = new Map<string, string[]>([['s0', []]]); // leaf → deliver steps on its path
  choices.forEach(([n, kind], i) => {
    const leaf = leaves.splice(n % leaves.length, 1)[0];
    const before = delivers.get(leaf)!;
    const a = `s${i + 1}-a`;
    const b = `s${i + 1}-b`;
    const one = (step: Record<string, unknown>, isDeliver = false) => {
      steps[leaf] = { ...step, next: a };
      steps[a] = { kind: 'exit' };
      leaves.push(a);
      delivers.set(a, isDeliver ? [...before, leaf] : before);
    };
    const two = (step: Record<string, unknown>) => {
      steps[leaf] = step;
      steps[a] = { kind: 'exit' };
      steps[b] = { kind: 'exit' };
      leaves.push(a, b);
      delivers.set(a, before);
      delivers.set(b, before);
    };
    if (kind === 'deliver') one({ kind: 'deliver', channel: 'sms', template: { body: 'hi' } }, true);
    else if (kind === 'at') one({ kind: 'deliver', channel: 'push', template: { title: 't', body: 'b' }, at: '09:00', in: 'member' }, true);
    else if (kind === 'wait') one({ kind: 'wait', duration: '1d' });
    else if (kind === 'enter') one({ kind: 'enter-journey', journey: 'manual-outreach', rate: 50 });
    else if (kind === 'percent') two({ kind: 'split', by: 'percent', variants: [{ id: 'x', weight: 40, next: a }, { id: 'y', weight: 40, next: b }], holdout: { weight: 20 } });
    else if (kind === 'rule') two({ kind: 'split', by: 'rule', branches: [{ id: 'gold', rule: { kind: 'segment', id: 'loyalty-gold' }, next: a }], otherwise: b });
    else if (before.length > 0) two({ kind: 'split', by: 'engagement', step: before[n % before.length], engagement: 'clicked', yes: a, no: b });
    else one({ kind: 'wait', duration: '1h' });
  });
  return { ...draft, start: 's0', steps };
});

describe('compileCampaign: every definition is valid ASL', () => {
  it('compiles every tree of steps into a definition with every transition resolved and every state reachable', () => {
    fc.assert(
      fc.property(campaignArbitrary, fc.integer({ min: 1, max: 1000 }), (draft, batchSize) => {
        const campaign = valid(draft);
        const asl = compileCampaign(campaign, { batchSize });
        expect(aslProblems(asl)).toEqual([]);
        const names = JSON.stringify(asl);
        for (const id of Object.keys(campaign.steps)) expect(names).toContain(`"${id}":{`);
      }),
      { numRuns: 150 },
    );
  });

  it('passes the States Language validator of aws-local-stepfunctions, paths included', () => {
    fc.assert(
      fc.property(campaignArbitrary, (draft) => {
        new StateMachine(compileCampaign(valid(draft)) as never, { validationOptions: { checkArn: false, checkPaths: true } });
      }),
      { numRuns: 6 },
    );
  });
});

/** A campaign-step function for the local runs: deterministic, in memory, recording what each action did. */
function fakeFunction(members: number, options: { pauseOnce?: string; failStep?: string; failSegment?: number; duplicate?: boolean } = {}) {
  const files = memoryAudienceFiles();
  const profiles = Array.from({ length: members }, (_, i) => `p${String(i).padStart(3, '0')}`);
  const sent = new Map<string, string[]>();
  const calls: string[] = [];
  const finished: { status: string; error?: unknown }[] = [];
  let paused = false;
  const record = (step: string, rows: AudienceRow[]) => sent.set(step, [...(sent.get(step) ?? []), ...rows.map((r) => r.profileId)]);
  const fn = async (p: CampaignStepPayload): Promise<unknown> => {
    calls.push(p.action);
    switch (p.action) {
      case 'start': {
        if (options.duplicate) return { duplicate: true };
        const run: RunContext = { campaignId: p.input.campaignId, runId: 'run-1', prefix: `runs/${p.input.campaignId}/run-1/`, startedAt: p.startedAt, dryRun: p.input.dryRun ?? false };
        return { duplicate: false, run, parts: [0, 1], totalSegments: 2 };
      }
      case 'audience-page': {
        if (p.segment === options.failSegment) throw Object.assign(new Error('scan throttled'), { name: 'ProvisionedThroughputExceededException' });
        const page = p.page ?? 0;
        const mine = profiles.filter((_, i) => i % 2 === p.segment);
        const half = Math.ceil(mine.length / 2);
        const rows = mine.slice(page * half, (page + 1) * half).map((profileId) => ({ profileId }));
        await files.writeRows(`${p.run.prefix}parts/audience/${p.segment}-${page}.jsonl`, rows);
        return { run: p.run, segment: p.segment, totalSegments: p.totalSegments, page: page + 1, counts: { scanned: 0, matched: 0, members: rows.length, excluded: {} }, ...(page === 0 ? { cursor: 'more' } : {}) };
      }
      case 'compose':
        return { key: p.key, count: await files.compose(await files.list(p.parts), p.key) };
      case 'split': {
        // Even-numbered profiles opened the email.
        const yes = p.items.filter((r) => Number(r.profileId.slice(1)) % 2 === 0);
        const no = p.items.filter((r) => Number(r.profileId.slice(1)) % 2 === 1);
        await files.writeRows(`${p.run.prefix}parts/${p.step}/yes/${p.items[0].profileId}.jsonl`, yes);
        await files.writeRows(`${p.run.prefix}parts/${p.step}/no/${p.items[0].profileId}.jsonl`, no);
        return { status: 'done', paceSeconds: 0, run: p.run, step: p.step, items: p.items } satisfies BatchResult;
      }
      case 'deliver':
      case 'enter-journey': {
        if (p.step === options.failStep) throw Object.assign(new Error('provider down'), { name: 'ProviderError' });
        const from = p.cursor ?? 0;
        if (p.step === options.pauseOnce && !paused && p.items.length > 1) {
          // Paused after the first member of the first batch.
          paused = true;
          record(p.step, p.items.slice(0, 1));
          return { status: 'paused', cursor: 1, paceSeconds: 0, run: p.run, step: p.step, items: p.items } satisfies BatchResult;
        }
        if (!p.run.dryRun) record(p.step, p.items.slice(from));
        return { status: 'done', paceSeconds: 3, run: p.run, step: p.step, items: p.items } satisfies BatchResult;
      }
      case 'group-by-time': {
        const rows: AudienceRow[] = [];
        for await (const row of files.readRows(p.set)) rows.push(row);
        const early = rows.filter((_, i) => i % 3 === 0);
        const late = rows.filter((_, i) => i % 3 !== 0);
        await files.writeRows(`${p.run.prefix}parts/${p.step}/time/0.jsonl`, early);
        await files.writeRows(`${p.run.prefix}parts/${p.step}/time/1.jsonl`, late);
        return {
          groups: [
            { sendAt: '2027-01-04T08:00:00Z', key: `${p.run.prefix}parts/${p.step}/time/0.jsonl`, count: early.length },
            { sendAt: '2027-01-04T09:00:00Z', key: `${p.run.prefix}parts/${p.step}/time/1.jsonl`, count: late.length },
          ],
        };
      }
      case 'finish':
        finished.push({ status: p.status, ...(p.error === undefined ? {} : { error: p.error }) });
        return { ok: true };
    }
  };
  return { fn, files, profiles, sent, calls, finished };
}

describe('a compiled campaign run by aws-local-stepfunctions (Distributed Maps by an in-test runner)', () => {
  const input = { campaignId: 'win-back-test', runId: 'run-1', trigger: 'api' };

  it('builds the audience page by page, emails everyone, waits once, and routes the openers to the journey, the others to SMS', async () => {
    const fake = fakeFunction(250);
    const run = runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files);
    await run.result;
    expect([...(fake.sent.get('email') ?? [])].sort()).toEqual(fake.profiles);
    const even = fake.profiles.filter((_, i) => i % 2 === 0);
    const odd = fake.profiles.filter((_, i) => i % 2 === 1);
    expect([...(fake.sent.get('welcome-back') ?? [])].sort()).toEqual(even);
    expect([...(fake.sent.get('nudge') ?? [])].sort()).toEqual(odd);
    expect(fake.finished).toEqual([{ status: 'succeeded' }]);
    expect(fake.calls.filter((c) => c === 'audience-page')).toHaveLength(4);
    // 250 members in batches of 100: three email batches, each paced before it ends; one Wait for everyone.
    expect(run.entered.filter((s) => s === S.batch('email'))).toHaveLength(3);
    expect(run.entered.filter((s) => s === S.pace('email'))).toHaveLength(3);
    expect(run.entered.filter((s) => s === S.wait('pause'))).toHaveLength(1);
    expect(await fake.files.readRows('runs/win-back-test/run-1/sets/opened/yes.jsonl')[Symbol.asyncIterator]().next()).toMatchObject({ value: { profileId: 'p000' } });
  });

  it('keeps the run\'s state small: the sets are references, never members', async () => {
    const fake = fakeFunction(120);
    const output = (await runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files).result) as Record<string, unknown>;
    expect(JSON.stringify(output).length).toBeLessThan(1500);
    expect(output.sets).toEqual({ audience: { key: 'runs/win-back-test/run-1/audience.jsonl', count: 120 } });
  });

  it('skips the wait in a dry run and sends nothing', async () => {
    const fake = fakeFunction(40);
    const run = runLocally(compileCampaign(valid(baseCampaign())), { ...input, dryRun: true }, fake.fn, fake.files);
    await run.result;
    expect(run.entered).not.toContain(S.wait('pause'));
    expect(fake.sent.size).toBe(0);
    expect(fake.finished).toEqual([{ status: 'succeeded' }]);
  });

  it('holds a paused batch and resumes it from its cursor, so no member is sent twice', async () => {
    const fake = fakeFunction(30, { pauseOnce: 'email' });
    const run = runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files);
    await run.result;
    const email = fake.sent.get('email') ?? [];
    expect(new Set(email).size).toBe(email.length);
    expect([...email].sort()).toEqual(fake.profiles);
    expect(run.entered).toContain(S.hold('email'));
    expect(run.entered).toContain(S.resume('email'));
  });

  it('marks the run failed and fails the execution with CampaignRunFailed when a step keeps failing', async () => {
    const fake = fakeFunction(20, { failStep: 'nudge' });
    const error = await runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files).result.then(
      () => undefined,
      (e: unknown) => e as { cause?: { name?: string } },
    );
    expect(error?.cause?.name).toBe(CAMPAIGN_RUN_FAILED);
    // The error the Distributed Map failed with reaches the run record (its name depends on the executor).
    expect(fake.finished).toEqual([{ status: 'failed', error: expect.objectContaining({ Error: expect.any(String), Cause: expect.any(String) }) }]);
    expect(fake.sent.get('nudge')).toBeUndefined();
  });

  it('fails the run, sending nothing, when one segment of the audience keeps failing', async () => {
    const fake = fakeFunction(20, { failSegment: 1 });
    const error = await runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files).result.then(
      () => undefined,
      (e: unknown) => e as { cause?: { name?: string } },
    );
    expect(error?.cause?.name).toBe(CAMPAIGN_RUN_FAILED);
    expect(fake.finished).toEqual([{ status: 'failed', error: expect.objectContaining({ Error: expect.any(String) }) }]);
    expect(fake.calls).not.toContain('compose');
    expect(fake.sent.size).toBe(0);
  });

  it('ends a duplicate occurrence at once', async () => {
    const fake = fakeFunction(10, { duplicate: true });
    const run = runLocally(compileCampaign(valid(baseCampaign())), input, fake.fn, fake.files);
    await run.result;
    expect(fake.calls).toEqual(['start']);
    expect(run.entered).toContain(S.duplicate);
  });

  it('sends a local-time delivery group by group, each after waiting for its instant', async () => {
    const draft = baseCampaign();
    Object.assign(draft.steps.email, { at: '09:00', in: 'member' });
    const fake = fakeFunction(60);
    const run = runLocally(compileCampaign(valid(draft)), input, fake.fn, fake.files);
    await run.result;
    const email = fake.sent.get('email') ?? [];
    expect([...email].sort()).toEqual(fake.profiles);
    expect(run.entered.filter((s) => s === S.groupWait('email'))).toHaveLength(2);
    // The first group is sent before the second.
    const early: string[] = [];
    for await (const row of fake.files.readRows('runs/win-back-test/run-1/parts/email/time/0.jsonl')) early.push(row.profileId);
    expect(early.length).toBe(20);
    expect(new Set(email.slice(0, early.length))).toEqual(new Set(early));
    expect(run.entered.filter((s) => s === S.step('email'))).toHaveLength(2);
  });
});
