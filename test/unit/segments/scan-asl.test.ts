import '../app/quiet-powertools';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Context } from 'aws-lambda';
import { createScanProfilesHandler } from '../../../lambdas/app/segments';
import { Placeholder, Resource } from '../../../lambdas/core/journey/asl';
import type { ScanPageDeps } from '../../../lambdas/core/segments/batch';
import type { AudienceScanInput } from '../../../lambdas/core/segments/ports';
import { AUDIENCE_SCAN_FAILED, AudienceScanState, audienceScanDefinition } from '../../../lambdas/core/segments/scan-asl';
import { FakeClock, runtime } from '../runtime/fakes';
import { catalogOf, FakeMembershipStore, FakeProfileScanner, FakeSegmentStore, FakeSnapshotStore, profile, record, segment } from './audience-fakes';

const gold = segment('gold', { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' });
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:scan-profiles';

/** The definition with its placeholder filled in, as CDK's definitionSubstitutions does. */
function deployed(): unknown {
  const text = JSON.stringify(audienceScanDefinition({ maxConcurrency: 3 })).replaceAll(`\${${Placeholder.scanProfilesFunction}}`, FUNCTION_ARN);
  return JSON.parse(text);
}

const context = { functionName: 'scan-profiles', awsRequestId: 'local', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

function setup(count: number) {
  const clock = new FakeClock('2026-06-10T12:00:00.000Z');
  const profiles = Array.from({ length: count }, (_, i) => profile(`p${String(i).padStart(3, '0')}`, { tier: i % 3 === 0 ? 'gold' : 'silver' }));
  const segmentStore = new FakeSegmentStore([record(gold)]);
  const snapshots = new FakeSnapshotStore();
  const profileScanner = new FakeProfileScanner(profiles);
  const deps: ScanPageDeps = { ...runtime([], clock), segmentStore, snapshots, memberships: new FakeMembershipStore(), profileScanner, segments: catalogOf(segmentStore), pageSize: 3 };
  const handler = createScanProfilesHandler(deps);
  const invoked: string[] = [];
  // Every Task is a lambda:invoke of the scan function: bound here to the handler, as the local stack binds it.
  const invoke = async (params: unknown) => {
    const { FunctionName, Payload } = params as { FunctionName: string; Payload: { action: string } };
    expect(FunctionName).toBe(FUNCTION_ARN);
    invoked.push(Payload.action);
    return { Payload: await handler(Payload, context), StatusCode: 200 };
  };
  const run = (input: AudienceScanInput) =>
    new StateMachine(deployed() as never, { validationOptions: { checkArn: false, checkPaths: false } }).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: { [AudienceScanState.page]: invoke, [AudienceScanState.finish]: invoke, [AudienceScanState.fail]: invoke } as never,
        retryIntervalOverrides: { [AudienceScanState.page]: 0, [AudienceScanState.finish]: 0, [AudienceScanState.fail]: 0 },
      },
    });
  return { deps, snapshots, profiles, profileScanner, invoked, run };
}

const input: AudienceScanInput = { job: { kind: 'snapshot', jobId: 'snap-1', snapshotId: 'snap-1', segmentId: 'gold' }, totalSegments: 3, parts: [0, 1, 2] };

describe('audience-scan state machine (run by aws-local-stepfunctions)', () => {
  it('scans every part page by page, stores every member, and completes the snapshot with its count', async () => {
    const { snapshots, profiles, profileScanner, invoked, run } = setup(40);
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    const output = (await run(input).result) as { status: string; count: number; scanned: number };
    const expected = profiles.filter((p) => p.attributes.tier === 'gold').map((p) => p.id).sort();
    expect(snapshots.stored('snap-1')).toEqual(expected);
    expect(output).toMatchObject({ status: 'complete', count: expected.length, scanned: 40 });
    expect(await snapshots.get('snap-1')).toMatchObject({ status: 'complete', count: expected.length, scanned: 40 });
    // Each part was read to its end over several pages, each page once.
    const pages = [0, 1, 2].map((s) => Math.ceil(profileScanner.inSegment(s, 3).length / 3));
    expect(pages.every((n) => n > 1)).toBe(true);
    expect(profileScanner.calls.length).toBe(pages.reduce((a, b) => a + b, 0));
    expect(new Set(profileScanner.calls.map((c) => c.totalSegments))).toEqual(new Set([3]));
    expect(invoked.filter((a) => a === 'finish')).toHaveLength(1);
    expect(invoked).not.toContain('fail');
  });

  it('marks the snapshot failed and fails the execution when a page keeps failing', async () => {
    const { snapshots, profileScanner, invoked, run } = setup(10);
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    profileScanner.failWith = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
    await expect(run(input).result).rejects.toThrow();
    expect(invoked).toContain('fail');
    expect(invoked).not.toContain('finish');
    const header = await snapshots.get('snap-1');
    expect(header?.status).toBe('failed');
    expect(header?.error).toContain('Requested resource not found');
  });

  it('fails with its own error name, so alarms can tell a failed job from a broken definition', async () => {
    const { snapshots, profileScanner, run } = setup(5);
    await snapshots.create({ id: 'snap-1', segmentId: 'gold', segmentVersion: 1, status: 'running', createdAt: '2026-06-10T12:00:00.000Z' });
    profileScanner.failWith = new Error('boom');
    const error = await run(input).result.then(() => undefined, (e: unknown) => e as { cause?: { name?: string } });
    expect(error?.cause?.name).toBe(AUDIENCE_SCAN_FAILED);
  });

  it('invokes the scan function through its placeholder, with the Map concurrency it was given', () => {
    const definition = audienceScanDefinition({ maxConcurrency: 5 });
    const map = definition.States[AudienceScanState.map] as unknown as { MaxConcurrency: number; ItemProcessor: { States: Record<string, { Resource?: string; Parameters?: { FunctionName: string } }> } };
    expect(map.MaxConcurrency).toBe(5);
    expect(map.ItemProcessor.States[AudienceScanState.page]).toMatchObject({ Resource: Resource.lambdaInvoke, Parameters: { FunctionName: '${ScanProfilesFunctionArn}' } });
    expect(audienceScanDefinition().States[AudienceScanState.map]).toMatchObject({ MaxConcurrency: 8 });
  });
});
