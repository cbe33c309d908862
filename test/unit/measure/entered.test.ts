import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsExecutions } from '../../../lambdas/adapters/step-functions';
import type { Journey } from '../../../lambdas/core/journey/schema';
import { enterJourney } from '../../../lambdas/core/runtime/enter';
import type { Executions, JourneyRecord, Profile } from '../../../lambdas/core/runtime/ports';
import { memoryJourneyCounters, memoryPorts } from '../../../lambdas/local/memory-ports';
import { VirtualClock } from '../../../lambdas/local/virtual-clock';

const record = (reentry: unknown): JourneyRecord => ({
  journey: { id: 'j', name: 'J', entry: { kind: 'api' }, settings: { reentry, timeout: '91d', messageClass: 'marketing' }, start: 'done', nodes: [{ id: 'done', kind: 'exit' }] } as unknown as Journey,
  stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:j',
  version: 'v1',
});
const profile: Profile = { id: 'p1', attributes: {}, identities: {}, createdAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z' };

/** Step Functions as it answers a repeated name and input while the run is open: success, every time. */
const idempotentStarts: Executions = {
  start: async (arn, name) => ({ executionArn: `${arn}:${name}`, started: true }),
  isRunning: async () => true,
  resume: async () => 'gone',
  stop: async () => false,
};

describe('entered is counted once per entry', () => {
  it('counts a duplicated event once although both starts answer success', async () => {
    const ports = memoryPorts(new VirtualClock('2026-12-01T09:00:00Z'));
    const counters = memoryJourneyCounters(ports);
    const deps = { enrollments: ports.enrollments, executions: idempotentStarts, clock: ports.clock, counters };
    const entry = { id: 'evt-1', event: {}, context: {} };
    await Promise.all([enterJourney(deps, record('never'), profile, entry), enterJourney(deps, record('never'), profile, entry)]);
    expect(await counters.read('j', '2026-12-01', '2026-12-01')).toEqual([{ day: '2026-12-01', name: 'entered', dims: {}, value: 1 }]);
  });
});

describe('StepFunctionsExecutions.start', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const input = { journey: { id: 'j', version: 'v' }, profileId: 'p', profile: { id: 'p', attributes: {}, identities: {} }, event: null, context: {}, steps: {} };

  it('reports a start that answered with an earlier execution (same name and input, still running) as not started', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date(Date.now() - 60_000) });
    expect(await new StepFunctionsExecutions(new SFNClient({})).start('arn:aws:states:r:1:stateMachine:j', 'n', input)).toEqual({ executionArn: 'arn:x', started: false });
  });

  it('reports a new execution as started', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    expect(await new StepFunctionsExecutions(new SFNClient({})).start('arn:aws:states:r:1:stateMachine:j', 'n', input)).toEqual({ executionArn: 'arn:x', started: true });
  });
});
