import { DescribeStateMachineCommand, SFNClient, StateMachineDoesNotExist, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsVersions } from '../../lambdas/adapters/step-functions-versions';
import { StepFunctionsExecutions } from '../../lambdas/adapters/step-functions';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-prod-welcome';
const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

describe('StepFunctionsVersions', () => {
  it("answers a version's creation date as its publication time, asking Step Functions once per version", async () => {
    sfn.on(DescribeStateMachineCommand, { stateMachineArn: `${MACHINE}:3` }).resolves({ creationDate: new Date('2026-11-30T08:00:00Z') } as never);
    const versions = new StepFunctionsVersions(new SFNClient({ region: 'eu-west-1' }));
    expect(await versions.publishedAt(`${MACHINE}:3`)).toBe('2026-11-30T08:00:00.000Z');
    expect(await versions.publishedAt(`${MACHINE}:3`)).toBe('2026-11-30T08:00:00.000Z');
    expect(sfn.commandCalls(DescribeStateMachineCommand)).toHaveLength(1);
  });

  it('answers undefined for a version that no longer exists', async () => {
    sfn.on(DescribeStateMachineCommand).rejects(new StateMachineDoesNotExist({ message: 'gone', $metadata: {} }));
    expect(await new StepFunctionsVersions(new SFNClient({ region: 'eu-west-1' })).publishedAt(`${MACHINE}:2`)).toBeUndefined();
  });
});

describe('StepFunctionsExecutions on an alias', () => {
  it('names a repeated start on the alias under the state machine (ExecutionAlreadyExists), where erasure looks for it', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));
    const executions = new StepFunctionsExecutions(new SFNClient({ region: 'eu-west-1' }));
    const input = { journey: { id: 'welcome', version: 'v1' }, profileId: 'p-1', profile: { id: 'p-1', attributes: {}, identities: {} }, event: {}, context: {}, steps: {} };
    expect(await executions.start(`${MACHINE}:live`, 'welcome--abc', input)).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:waymark-prod-welcome:welcome--abc',
      started: false,
    });
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.stateMachineArn).toBe(`${MACHINE}:live`);
  });
});
