import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { CampaignState, compileCampaign } from '../../lambdas/core/campaigns/compile';
import { Campaign } from '../../lambdas/core/campaigns/schema';
import { Placeholder, Resource, ref, type AslDefinition, type AslState, type ExecutionInput } from '../../lambdas/core/journey/asl';
import { DISTRIBUTED_MAP_RESOURCE, rewriteDistributedMaps } from '../../lambdas/local/distributed-map';
import { LocalExecutions, type LocalFunction } from '../../lambdas/local/executions';
import { LocalMetrics, Outbox } from '../../lambdas/local/outbox';
import { startS3rver, type LocalS3 } from '../../lambdas/local/s3';
import { VirtualClock } from '../../lambdas/local/virtual-clock';

const BUCKET = 'dmap-test-audience';
const T0 = '2026-12-01T09:00:00.000Z';

/** One batch call as the bound function saw it: its items, its BatchInput, the virtual time, the children running. */
interface Call {
  profileIds: string[];
  batchInput?: unknown;
  at: string;
  running: number;
}

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
});
afterAll(() => s3?.stop());

async function putText(key: string, body: string): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
}
async function getJson(key: string): Promise<unknown> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}
const jsonl = (ids: string[]) => ids.map((profileId) => `${JSON.stringify({ profileId })}\n`).join('');
const ids = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/**
 * An executor on a virtual clock with S3 and one bound function (the campaign step's placeholder): the batch function
 * records each call and fails a batch holding a profile whose id starts with `fail`.
 */
function executor(bound?: (payload: unknown, now: () => string) => Promise<unknown>) {
  const clock = new VirtualClock(T0);
  const calls: Call[] = [];
  let executions: LocalExecutions;
  const step: LocalFunction = async (payload: unknown, _context: Context) => {
    if (bound) return bound(payload, () => clock.now().toISOString());
    const p = payload as { Items?: { profileId?: string; Key?: string }[]; BatchInput?: unknown; id?: string };
    const running = executions.list({ status: 'RUNNING' }).filter((e) => e.executionArn.includes('/')).length;
    const profileIds = p.Items ? p.Items.map((i) => String(i.profileId ?? i.Key)) : [String(p.id)];
    calls.push({ profileIds, ...(p.BatchInput === undefined ? {} : { batchInput: p.BatchInput }), at: clock.now().toISOString(), running });
    if (profileIds.some((id) => id.startsWith('fail'))) throw Object.assign(new Error('batch refused'), { name: 'BatchFailed' });
    return { done: profileIds.length, first: profileIds[0] };
  };
  executions = new LocalExecutions({
    functions: { [Placeholder.campaignStepFunction]: step },
    values: { [Placeholder.audienceBucket]: BUCKET },
    outbox: new Outbox(() => clock.now()),
    metrics: new LocalMetrics(),
    timeScale: 1,
    clock,
    s3: s3.client,
  });
  // What the stack's quiesce does for runs: time moves once every run is parked or ended.
  clock.onQuiesce(async () => {
    for (;;) {
      await executions.whenQuiet();
      await new Promise((resolve) => setImmediate(resolve));
      if (executions.quiet()) return;
    }
  });
  const run = async (name: string, definition: AslDefinition, input: Record<string, unknown>) => {
    const arn = executions.deploy(name, definition);
    const { executionArn } = await executions.start(arn, 'run-1', input as unknown as ExecutionInput);
    await clock.runUntilIdle();
    return executions.get(executionArn)!;
  };
  return { clock, calls, executions, run };
}

/** The child of the campaign layout: a batch Task (the bound function) and a Wait (the pace). */
const batchChild = (waitSeconds: number) => ({
  ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
  StartAt: 'Batch',
  States: {
    Batch: {
      Type: 'Task',
      Resource: Resource.lambdaInvoke,
      Parameters: { FunctionName: ref(Placeholder.campaignStepFunction), 'Payload.$': '$' },
      OutputPath: '$.Payload',
      Next: 'Pace',
    },
    Pace: { Type: 'Wait', Seconds: waitSeconds, End: true },
  },
});

function deliverDefinition(map: Partial<AslState> = {}): AslDefinition {
  return {
    Comment: 'a hand-written Distributed Map over a JSON Lines set',
    StartAt: 'Deliver',
    TimeoutSeconds: 86_400,
    States: {
      Deliver: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL' },
          Parameters: { Bucket: ref(Placeholder.audienceBucket), 'Key.$': '$.set' },
        },
        ItemBatcher: { MaxItemsPerBatch: 3, MaxInputBytesPerBatch: 200_000, BatchInput: { 'run.$': '$.run', step: 'deliver' } },
        MaxConcurrency: 2,
        ToleratedFailurePercentage: 0,
        ItemProcessor: batchChild(60),
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: ref(Placeholder.audienceBucket), Prefix: 'results/deliver' } },
        ResultPath: '$.deliver',
        Next: 'Done',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
        ...map,
      } as AslState,
      Done: { Type: 'Succeed' },
      Caught: { Type: 'Pass', End: true },
    },
  };
}

describe('local Distributed Map: the state runs from its own definition', () => {
  it('reads a JSON Lines set in batches with their BatchInput, at most MaxConcurrency children at a time, waits on the virtual clock', async () => {
    await putText('runs/c/r1/audience.jsonl', jsonl(ids(10)));
    const { calls, run } = executor();
    const e = await run('dmap-batches', deliverDefinition(), { set: 'runs/c/r1/audience.jsonl', run: { runId: 'r1' } });
    expect(e.status).toBe('SUCCEEDED');
    // 10 items in batches of 3, in order; each child gets {Items, BatchInput} with the paths resolved.
    expect(calls.map((c) => c.profileIds)).toEqual([ids(10).slice(0, 3), ids(10).slice(3, 6), ids(10).slice(6, 9), ids(10).slice(9)]);
    expect(calls.every((c) => JSON.stringify(c.batchInput) === JSON.stringify({ run: { runId: 'r1' }, step: 'deliver' }))).toBe(true);
    // Two children at a time, each pacing 60 virtual seconds: two start at once, the next two a minute later.
    expect(Math.max(...calls.map((c) => c.running))).toBe(2);
    expect(calls.map((c) => c.at)).toEqual([T0, T0, '2026-12-01T09:01:00.000Z', '2026-12-01T09:01:00.000Z']);
    expect(e.stopDate).toBe('2026-12-01T09:02:00.000Z');
  });

  it('writes the results as Step Functions does: a manifest and a SUCCEEDED file, the output naming the manifest', async () => {
    await putText('runs/c/r2/audience.jsonl', jsonl(ids(7)));
    const { run } = executor();
    const e = await run('dmap-results', deliverDefinition(), { set: 'runs/c/r2/audience.jsonl', run: { runId: 'r2' } });
    expect(e.status).toBe('SUCCEEDED');
    const out = (e.output as { deliver: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } } }).deliver;
    expect(out.MapRunArn).toMatch(/^arn:aws:states:local:000000000000:mapRun:waymark-local-dmap-results\/Deliver:[0-9a-f-]{36}$/);
    expect(out.ResultWriterDetails.Bucket).toBe(BUCKET);
    expect(out.ResultWriterDetails.Key).toMatch(/^results\/deliver\/[0-9a-f-]{36}\/manifest\.json$/);
    const manifest = (await getJson(out.ResultWriterDetails.Key)) as {
      DestinationBucket: string;
      MapRunArn: string;
      ResultFiles: Record<string, { Key: string; Size: number }[]>;
    };
    expect(manifest.DestinationBucket).toBe(BUCKET);
    expect(manifest.MapRunArn).toBe(out.MapRunArn);
    expect(manifest.ResultFiles.FAILED).toEqual([]);
    expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
    const succeeded = (await getJson(manifest.ResultFiles.SUCCEEDED[0].Key)) as Record<string, unknown>[];
    expect(succeeded).toHaveLength(3);
    expect(succeeded[0]).toMatchObject({ Status: 'SUCCEEDED', InputDetails: { Included: true }, OutputDetails: { Included: true } });
    expect(String(succeeded[0].ExecutionArn)).toMatch(/:execution:waymark-local-dmap-results\/Deliver:/);
    expect(JSON.parse(String(succeeded[0].Input)).Items).toEqual([{ profileId: 'p-0' }, { profileId: 'p-1' }, { profileId: 'p-2' }]);
    // The child's output: the batch function's result (OutputPath $.Payload), through the Wait.
    expect(succeeded.map((s) => JSON.parse(String(s.Output)))).toEqual([
      { done: 3, first: 'p-0' },
      { done: 3, first: 'p-3' },
      { done: 1, first: 'p-6' },
    ]);
  });

  it('tolerates failed items up to ToleratedFailureCount, and reports them in a FAILED file', async () => {
    await putText('runs/c/r3/audience.jsonl', jsonl([...ids(3), 'fail-1', ...ids(2, 'q')]));
    const { run } = executor();
    const e = await run('dmap-tolerated', deliverDefinition({ ToleratedFailurePercentage: undefined, ToleratedFailureCount: 3 }), {
      set: 'runs/c/r3/audience.jsonl',
      run: {},
    });
    expect(e.status).toBe('SUCCEEDED');
    const details = (e.output as { deliver: { ResultWriterDetails: { Key: string } } }).deliver.ResultWriterDetails;
    const manifest = (await getJson(details.Key)) as { ResultFiles: Record<string, { Key: string }[]> };
    const failed = (await getJson(manifest.ResultFiles.FAILED[0].Key)) as Record<string, unknown>[];
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'BatchFailed', Cause: 'batch refused' });
    expect(JSON.parse(String(failed[0].Input)).Items.map((i: { profileId: string }) => i.profileId)).toEqual(['fail-1', 'q-0', 'q-1']);
  });

  it('fails with States.ExceedToleratedFailureThreshold past the threshold, which the Map Catch catches', async () => {
    await putText('runs/c/r4/audience.jsonl', jsonl([...ids(3), 'fail-1', ...ids(2, 'q')]));
    const { run } = executor();
    const e = await run('dmap-exceeded', deliverDefinition({ ToleratedFailurePercentage: undefined, ToleratedFailureCount: 2 }), {
      set: 'runs/c/r4/audience.jsonl',
      run: {},
    });
    expect(e.status).toBe('SUCCEEDED');
    expect(e.path).toEqual(['Deliver', 'Caught']);
    expect((e.output as { error: { Error: string } }).error.Error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('fails the execution at the first failed child with the default threshold (0 %)', async () => {
    await putText('runs/c/r5/audience.jsonl', jsonl(['fail-0', ...ids(5)]));
    const { run } = executor();
    const definition = deliverDefinition({ Catch: undefined });
    delete definition.States.Caught;
    const e = await run('dmap-default', definition, { set: 'runs/c/r5/audience.jsonl', run: {} });
    expect(e.status).toBe('FAILED');
    expect(e.error).toMatch(/States\.ExceedToleratedFailureThreshold|tolerated/);
  });

  it('fails with States.ItemReaderFailed when the set does not exist', async () => {
    const { run } = executor();
    const e = await run('dmap-missing', deliverDefinition(), { set: 'runs/none.jsonl', run: {} });
    expect(e.path).toEqual(['Deliver', 'Caught']);
    expect((e.output as { error: { Error: string } }).error.Error).toBe('States.ItemReaderFailed');
  });

  it('runs a Distributed Map nested in a Parallel branch over ItemsPath with an ItemSelector, outputs in item order', async () => {
    const definition: AslDefinition = {
      Comment: 'a Distributed Map in a Parallel branch',
      StartAt: 'Run',
      TimeoutSeconds: 3600,
      States: {
        Run: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Each',
              States: {
                Each: {
                  Type: 'Map',
                  ItemsPath: '$.members',
                  ItemSelector: { 'id.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'tag.$': '$.tag' },
                  MaxConcurrency: 1,
                  ItemProcessor: batchChild(5),
                  End: true,
                },
              },
            },
          ],
          ResultPath: '$.results',
          End: true,
        },
      },
    };
    const { calls, run } = executor();
    const e = await run('dmap-parallel', definition, { members: ['a', 'b', 'c'], tag: 'x' });
    expect(e.status).toBe('SUCCEEDED');
    expect((e.output as { results: unknown[] }).results).toEqual([
      [
        { done: 1, first: 'a' },
        { done: 1, first: 'b' },
        { done: 1, first: 'c' },
      ],
    ]);
    // MaxConcurrency 1: one child after the other, each after the previous one's 5-second wait.
    expect(calls.map((c) => c.at)).toEqual([T0, '2026-12-01T09:00:05.000Z', '2026-12-01T09:00:10.000Z']);
  });

  it('closes a batch before it would exceed MaxInputBytesPerBatch, counting the whole child input', async () => {
    // Each item `{"profileId":"b-N","pad":"xxxx…"}` is 60 bytes; {"Items":[]} is 12: 200 bytes hold three items.
    const members = ids(7, 'b').map((profileId) => ({ profileId, pad: 'x'.repeat(60 - JSON.stringify({ profileId, pad: '' }).length) }));
    expect(JSON.stringify(members[0]).length).toBe(60);
    const { calls, run } = executor();
    const e = await run(
      'dmap-bytes',
      deliverDefinition({ ItemReader: undefined, ItemsPath: '$.members', ItemBatcher: { MaxInputBytesPerBatch: 200 }, ResultWriter: undefined }),
      { members },
    );
    expect(e.path).toEqual(['Deliver', 'Done']);
    expect(calls.map((c) => c.profileIds.length)).toEqual([3, 3, 1]);
    expect(calls.every((c) => c.batchInput === undefined)).toBe(true);
  });

  it('reads a JSON array object (InputType JSON) and the objects under a prefix (listObjectsV2)', async () => {
    await putText('runs/c/r6/members.json', JSON.stringify([{ profileId: 'j-0' }, { profileId: 'j-1' }]));
    await putText('runs/c/r6/parts/a.jsonl', '');
    await putText('runs/c/r6/parts/b.jsonl', '');
    const { calls, run } = executor();
    const reader = (resource: string, parameters: Record<string, unknown>, config?: unknown) =>
      deliverDefinition({ ItemReader: { Resource: resource, Parameters: { Bucket: BUCKET, ...parameters }, ...(config ? { ReaderConfig: config } : {}) }, ResultWriter: undefined });
    const json = await run('dmap-json', reader('arn:aws:states:::s3:getObject', { Key: 'runs/c/r6/members.json' }, { InputType: 'JSON' }), { run: {} });
    expect(json.path).toEqual(['Deliver', 'Done']);
    expect(calls.map((c) => c.profileIds)).toEqual([['j-0', 'j-1']]);
    const { run: runList, calls: listCalls } = executor();
    const listed = await runList('dmap-list', reader('arn:aws:states:::s3:listObjectsV2', { Prefix: 'runs/c/r6/parts/' }), { run: {} });
    expect(listed.status).toBe('SUCCEEDED');
    expect(listCalls).toHaveLength(1);
    // The lister's items are the objects (Key, Size, …): the bound function read their keys.
    expect(listCalls.map((c) => c.profileIds)).toEqual([['runs/c/r6/parts/a.jsonl', 'runs/c/r6/parts/b.jsonl']]);
    expect((listed.output as { deliver: unknown[] }).deliver).toHaveLength(1);
  });
});

describe('local Distributed Map: the campaign layout (lambdas/core/campaigns/contract.ts)', () => {
  it('runs a batch child that pauses, resumes, is retried and paces, inside the Run Parallel, with ResultPath null', async () => {
    await putText('runs/c/r8/audience.jsonl', jsonl(ids(4)));
    const seen: { action: string; at: string; items: string[]; cursor?: number }[] = [];
    let transient = 1;
    const { run } = executor(async (payload, now) => {
      const p = payload as { action: string; run: unknown; step: string; items: { profileId: string }[]; cursor?: number };
      seen.push({ action: p.action, at: now(), items: p.items.map((i) => i.profileId), ...(p.cursor === undefined ? {} : { cursor: p.cursor }) });
      // The first batch: paused at its first call, a Lambda error once when resumed, then done.
      const first = p.items[0].profileId === 'p-0';
      if (first && p.cursor === undefined) return { status: 'paused', cursor: 1, paceSeconds: 0, run: p.run, step: p.step, items: p.items };
      if (first && transient-- > 0) throw Object.assign(new Error('throttled'), { name: 'Lambda.TooManyRequestsException' });
      return { status: 'done', paceSeconds: 30, run: p.run, step: p.step, items: p.items };
    });
    const call = (items: string) => ({
      Type: 'Task',
      Resource: Resource.lambdaInvoke,
      Parameters: {
        FunctionName: ref(Placeholder.campaignStepFunction),
        Payload: { action: 'deliver', 'run.$': '$.BatchInput.run', step: 'd1', 'items.$': items },
      },
      OutputPath: '$.Payload',
      Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException', 'States.TaskFailed'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Next: 'd1.result',
    });
    const resume = call('$.items') as AslState;
    resume.Parameters = {
      FunctionName: ref(Placeholder.campaignStepFunction),
      Payload: { action: 'deliver', 'run.$': '$.run', step: 'd1', 'items.$': '$.items', 'cursor.$': '$.cursor' },
    };
    const definition: AslDefinition = {
      Comment: 'the campaign layout',
      StartAt: 'Run',
      TimeoutSeconds: 86_400,
      States: {
        Run: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'd1',
              States: {
                d1: {
                  ...deliverDefinition().States.Deliver,
                  ItemBatcher: { MaxItemsPerBatch: 2, MaxInputBytesPerBatch: 200_000, BatchInput: { 'run.$': '$.run', step: 'd1', rate: 10, concurrency: 2 } },
                  ItemProcessor: {
                    ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
                    StartAt: 'd1.batch',
                    States: {
                      'd1.batch': call('$.Items'),
                      'd1.result': {
                        Type: 'Choice',
                        Choices: [
                          { Variable: '$.status', StringEquals: 'paused', Next: 'd1.hold' },
                          { Variable: '$.status', StringEquals: 'done', Next: 'd1.pace' },
                        ],
                        Default: 'd1.end',
                      },
                      'd1.hold': { Type: 'Wait', Seconds: 10, Next: 'd1.resume' },
                      'd1.resume': resume,
                      'd1.pace': { Type: 'Wait', SecondsPath: '$.paceSeconds', End: true },
                      'd1.end': { Type: 'Succeed' },
                    },
                  },
                  ResultPath: null,
                  Catch: undefined,
                  Next: undefined,
                  End: true,
                } as AslState,
              },
            },
          ],
          ResultPath: null,
          End: true,
        },
      },
    };
    const e = await run('campaign-layout', definition, { set: 'runs/c/r8/audience.jsonl', run: { runId: 'r8' } });
    expect(e.status).toBe('SUCCEEDED');
    // ResultPath null: the execution's output is its input.
    expect(e.output).toEqual({ set: 'runs/c/r8/audience.jsonl', run: { runId: 'r8' } });
    expect(seen).toEqual([
      { action: 'deliver', at: T0, items: ['p-0', 'p-1'] },
      { action: 'deliver', at: T0, items: ['p-2', 'p-3'] },
      // Held 10 s, resumed from its cursor, throttled once and retried 2 s later, all in virtual time.
      { action: 'deliver', at: '2026-12-01T09:00:10.000Z', items: ['p-0', 'p-1'], cursor: 1 },
      { action: 'deliver', at: '2026-12-01T09:00:12.000Z', items: ['p-0', 'p-1'], cursor: 1 },
    ]);
    // The last batch paced 30 s after it was done.
    expect(e.stopDate).toBe('2026-12-01T09:00:42.000Z');
  });
});

describe('local Distributed Map in scaled time (npm start)', () => {
  it('runs the same definition on the system clock with waits scaled away', async () => {
    await putText('runs/c/r9/audience.jsonl', jsonl(ids(5)));
    const called: string[][] = [];
    const executions = new LocalExecutions({
      functions: {
        [Placeholder.campaignStepFunction]: async (payload) => {
          const items = (payload as { Items: { profileId: string }[] }).Items.map((i) => i.profileId);
          called.push(items);
          return { done: items.length, first: items[0] };
        },
      },
      values: { [Placeholder.audienceBucket]: BUCKET },
      outbox: new Outbox(),
      metrics: new LocalMetrics(),
      timeScale: Infinity,
      s3: s3.client,
    });
    const arn = executions.deploy('dmap-scaled', deliverDefinition());
    const { executionArn } = await executions.start(arn, 'run-1', { set: 'runs/c/r9/audience.jsonl', run: {} } as unknown as ExecutionInput);
    await executions.get(executionArn)!.done;
    expect(executions.get(executionArn)?.path).toEqual(['Deliver', 'Done']);
    expect(called).toEqual([ids(5).slice(0, 3), ids(5).slice(3)]);
  });
});

describe('local Distributed Map: children end with their parent', () => {
  it('stops the running children when the parent execution is stopped', async () => {
    // Four batches, two at a time: the last two are still to start when the parent stops.
    await putText('runs/c/r7/audience.jsonl', jsonl(ids(12)));
    const { clock, executions } = executor();
    // Every failure tolerated: the stopped children alone do not end the Map, the parent's end must.
    const arn = executions.deploy('dmap-stop', deliverDefinition({ ToleratedFailurePercentage: 100 }));
    const { executionArn } = await executions.start(arn, 'run-1', { set: 'runs/c/r7/audience.jsonl', run: {} } as unknown as ExecutionInput);
    await clock.settle();
    const children = () => executions.list().filter((e) => e.executionArn.includes(':execution:waymark-local-dmap-stop/Deliver:'));
    expect(children().map((c) => c.status)).toEqual(['RUNNING', 'RUNNING']);
    await executions.stop(executionArn, 'cancelled');
    await clock.settle();
    expect(executions.get(executionArn)?.status).toBe('ABORTED');
    expect(children().map((c) => c.status)).toEqual(['ABORTED', 'ABORTED']);
    // Nothing more starts: the next batches never run.
    await clock.runUntilIdle();
    expect(children()).toHaveLength(2);
  });
});

describe('local stack with s3: true', () => {
  it('starts s3rver with the audience bucket, binds ${AudienceBucketName} to it and offers AudienceFiles over it', async () => {
    const { openVirtualStack } = await import('./local-stack');
    const { stack } = await openVirtualStack({ s3: true, journeys: [] });
    try {
      expect(stack.s3?.bucket).toBe('waymark-local-audience');
      await stack.audienceFiles!.writeRows('runs/c/r/audience.jsonl', [{ profileId: 'a' }]);
      const out = await stack.s3!.client.send(new GetObjectCommand({ Bucket: stack.s3!.bucket, Key: 'runs/c/r/audience.jsonl' }));
      expect(await out.Body!.transformToString()).toBe('{"profileId":"a"}\n');
      const arn = stack.executions.deploy('bucket-name', { Comment: '', StartAt: 'P', TimeoutSeconds: 60, States: { P: { Type: 'Pass', Result: ref(Placeholder.audienceBucket), End: true } } });
      expect(stack.executions.describeStateMachine(arn)?.definition).toContain('"Result":"waymark-local-audience"');
    } finally {
      await stack.stop();
    }
  });
});

describe('local Distributed Map: the deployed definition is the one given', () => {
  it('keeps the definition it was deployed with (placeholders filled in), as DescribeStateMachine answers it', () => {
    const { executions } = executor();
    const definition = deliverDefinition();
    const given = JSON.stringify(definition);
    const arn = executions.deploy('dmap-describe', definition);
    expect(JSON.stringify(definition)).toBe(given);
    const expected = given
      .replaceAll(ref(Placeholder.audienceBucket), BUCKET)
      .replaceAll(ref(Placeholder.campaignStepFunction), `arn:aws:lambda:local:000000000000:function:${Placeholder.campaignStepFunction}`);
    expect(executions.describeStateMachine(arn)?.definition).toBe(expected);
  });

  it('rewrites only Distributed Map states (nested ones too), keeping their InputPath, ResultPath, Retry, Catch and Next', () => {
    const inline = { Type: 'Map', ItemsPath: '$.xs', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, Next: 'Run' };
    const definition: AslDefinition = {
      Comment: 'c',
      StartAt: 'Inline',
      TimeoutSeconds: 60,
      States: {
        Inline: inline,
        Run: { Type: 'Parallel', Branches: [{ StartAt: 'Deliver', States: { Deliver: deliverDefinition().States.Deliver } }], Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    definition.States.Run.Branches = [
      { StartAt: 'Deliver', States: { Deliver: { ...deliverDefinition().States.Deliver, Retry: [{ ErrorEquals: ['States.ALL'] }], InputPath: '$.in', Next: undefined, End: true } } },
    ];
    const before = structuredClone(definition);
    const found = rewriteDistributedMaps(definition);
    expect([...found.keys()]).toEqual(['Deliver']);
    const branch = (definition.States.Run.Branches as AslDefinition[])[0];
    expect(branch.States.Deliver).toEqual({
      Type: 'Task',
      Resource: DISTRIBUTED_MAP_RESOURCE,
      InputPath: '$.in',
      ResultPath: '$.deliver',
      Retry: [{ ErrorEquals: ['States.ALL'] }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
      End: true,
    });
    // Everything else as it was; the original Map is kept for the runner.
    expect(found.get('Deliver')).toEqual((before.States.Run.Branches as AslDefinition[])[0].States.Deliver);
    (branch.States as Record<string, unknown>).Deliver = (before.States.Run.Branches as AslDefinition[])[0].States.Deliver;
    expect(definition).toEqual(before);
  });

  it('refuses at deploy what it cannot run, naming the state (a CSV reader)', () => {
    const { executions } = executor();
    const definition = deliverDefinition({
      ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'CSV' }, Parameters: { Bucket: 'b', Key: 'k' } },
    });
    expect(() => executions.deploy('dmap-csv', definition)).toThrow(/Distributed Map Deliver: ItemReader InputType CSV is not supported/);
  });
});

describe('local Distributed Map: the campaign audience (ItemsPath over the state input, one child per segment)', () => {
  /** The compiled audience state, ending the run: the same definition CDK deploys. */
  const audienceDefinition = (): AslDefinition => {
    const campaign = Campaign.parse({
      schemaVersion: 1,
      id: 'segments',
      name: 'Segments',
      audience: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } },
      schedule: { type: 'on-demand' },
      start: 'email',
      steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 's', text: 't' } } },
    });
    const audience = compileCampaign(campaign).States[CampaignState.audience];
    const States: Record<string, AslState> = {
      [CampaignState.audience]: { ...audience, Next: 'Done' },
      Done: { Type: 'Succeed' },
      [CampaignState.finishFailed]: { Type: 'Pass', End: true },
    };
    return { Comment: 'the compiled audience', StartAt: CampaignState.audience, TimeoutSeconds: 86_400, States };
  };

  it('pages each segment in a child of its own, at most MaxConcurrencyPath at a time, the pages only in the children', async () => {
    const pages: { segment: number; page: number; running: number }[] = [];
    let executions: LocalExecutions | undefined;
    const fn = async (payload: unknown) => {
      const p = payload as { segment: number; totalSegments: number; page?: number; run: unknown };
      const page = p.page ?? 0;
      const running = executions!.list({ status: 'RUNNING' }).filter((x) => x.stateMachineArn.endsWith('/Audience')).length;
      pages.push({ segment: p.segment, page, running });
      // Segment s has s + 1 pages.
      const next = page < p.segment ? { cursor: `c${page}` } : {};
      return { run: p.run, segment: p.segment, totalSegments: p.totalSegments, page: page + 1, ...next };
    };
    const stack = executor(async (payload) => fn(payload));
    executions = stack.executions;
    // Four parts, two at a time (the path's value; a run's start answers as many parts as segments).
    const input = { run: { runId: 'r1' }, parts: [0, 1, 2, 3], totalSegments: 2 };
    const e = await stack.run('dmap-audience', audienceDefinition(), input);
    expect(e.status).toBe('SUCCEEDED');
    expect(pages.filter((p) => p.segment === 3).map((p) => p.page)).toEqual([0, 1, 2, 3]);
    expect(pages).toHaveLength(1 + 2 + 3 + 4);
    expect(Math.max(...pages.map((p) => p.running))).toBe(2);
    const children = stack.executions.list().filter((c) => c.stateMachineArn.endsWith('/Audience'));
    expect(children).toHaveLength(4);
    const second = children.find((c) => (c.input as unknown as { segment: number }).segment === 1)!;
    const trail = (await stack.executions.trace(second.executionArn, { maxEvents: 100 }))!;
    expect(trail.states.map((s) => s.state)).toEqual([
      CampaignState.audiencePage, CampaignState.audienceMore, CampaignState.audienceNext,
      CampaignState.audiencePage, CampaignState.audienceMore, CampaignState.audienceDone,
    ]);
    const parent = (await stack.executions.trace(e.executionArn, { maxEvents: 100 }))!.states.map((s) => s.state);
    expect(parent).toEqual([CampaignState.audience, 'Done']);
  });

  it('fails the map at a segment that keeps failing, into the Catch', async () => {
    const stack = executor(async (payload) => {
      const p = payload as { segment: number; run: unknown; totalSegments: number };
      if (p.segment === 1) throw Object.assign(new Error('scan refused'), { name: 'ScanFailed' });
      return { run: p.run, segment: p.segment, totalSegments: p.totalSegments, page: 1 };
    });
    const input = { run: { runId: 'r1' }, parts: [0, 1, 2], totalSegments: 3 };
    const e = await stack.run('dmap-audience-fail', audienceDefinition(), input);
    expect(e.status).toBe('SUCCEEDED');
    const parent = (await stack.executions.trace(e.executionArn, { maxEvents: 100 }))!.states.map((s) => s.state);
    expect(parent).toEqual([CampaignState.audience, CampaignState.finishFailed]);
    expect(e.output).toMatchObject({ error: { Error: 'States.ExceedToleratedFailureThreshold' } });
  });
});
