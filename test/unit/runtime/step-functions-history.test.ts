import { DescribeExecutionCommand, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { StepFunctionsExecutionHistory, statesOf } from '../../../lambdas/adapters/step-functions-history';

const options = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:waymark-prod-cart-abandonment:cart-abandonment--0123';
const t = (minute: number) => new Date(Date.UTC(2026, 11, 1, 9, minute));

let id = 0;
const entered = (type: string, name: string, minute: number): HistoryEvent => ({ id: ++id, type: `${type}StateEntered` as never, timestamp: t(minute), stateEnteredEventDetails: { name } });
const exited = (type: string, name: string, minute: number, output?: unknown): HistoryEvent => ({
  id: ++id,
  type: `${type}StateExited` as never,
  timestamp: t(minute),
  stateExitedEventDetails: { name, ...(output === undefined ? {} : { output: JSON.stringify(output) }) },
});
const other = (type: string, minute: number): HistoryEvent => ({ id: ++id, type: type as never, timestamp: t(minute) });

function setUp() {
  const sfn = new SFNClient(options);
  const mock = mockClient(sfn);
  // Any call a test did not expect fails loudly instead of answering undefined.
  mock.onAnyCommand().rejects(new Error('unexpected call'));
  return { mock, history: new StepFunctionsExecutionHistory(sfn) };
}

describe('statesOf: history events as the states a run went through', () => {
  it('pairs each StateEntered with its StateExited by state name, whatever the state type, skipping other events', () => {
    const events = [
      other('ExecutionStarted', 0),
      entered('Task', 'wait-for-order', 0),
      other('TaskScheduled', 0),
      exited('Task', 'wait-for-order', 60),
      entered('Task', 'reminder-email', 60),
      exited('Task', 'reminder-email', 60),
      entered('Choice', 'reminder-email.route', 60),
      exited('Choice', 'reminder-email.route', 60),
      entered('Succeed', 'done', 61),
    ];
    expect(statesOf(events)).toEqual([
      { state: 'wait-for-order', enteredAt: t(0).toISOString(), exitedAt: t(60).toISOString() },
      { state: 'reminder-email', enteredAt: t(60).toISOString(), exitedAt: t(60).toISOString() },
      { state: 'reminder-email.route', enteredAt: t(60).toISOString(), exitedAt: t(60).toISOString() },
      { state: 'done', enteredAt: t(61).toISOString() },
    ]);
  });
});

describe('StepFunctionsExecutionHistory', () => {
  it('describes a run: status, times and the stop cause; an unknown execution is undefined', async () => {
    const { mock, history } = setUp();
    mock.on(DescribeExecutionCommand, { executionArn: ARN }).resolves({
      executionArn: ARN,
      stateMachineArn: 'sm',
      status: 'ABORTED',
      startDate: t(0),
      stopDate: t(5),
      error: 'Waymark.Stopped',
      cause: 'profile erased',
    });
    mock.on(DescribeExecutionCommand, { executionArn: `${ARN}-gone` }).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    expect(await history.describe(ARN)).toEqual({
      executionArn: ARN,
      status: 'ABORTED',
      startedAt: t(0).toISOString(),
      stoppedAt: t(5).toISOString(),
      error: 'Waymark.Stopped',
      cause: 'profile erased',
    });
    expect(await history.describe(`${ARN}-gone`)).toBeUndefined();
  });

  it('reads the history page by page without execution data, and the assignment from the start input', async () => {
    const { mock, history } = setUp();
    const input = { journey: { id: 'cart-abandonment', version: '3' }, profileId: 'p', steps: {}, holdout: true, variants: { split_subject: 'b' } };
    mock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: 'sm', status: 'RUNNING', startDate: t(0), input: JSON.stringify(input) });
    mock
      .on(GetExecutionHistoryCommand, { executionArn: ARN, includeExecutionData: false, maxResults: 1000 })
      .resolves({ events: [entered('Task', 'wait-for-order', 0), exited('Task', 'wait-for-order', 60)], nextToken: 'page-2' });
    mock
      .on(GetExecutionHistoryCommand, { executionArn: ARN, includeExecutionData: false, nextToken: 'page-2' })
      .resolves({ events: [entered('Task', 'split-subject', 60), exited('Task', 'split-subject', 60), entered('Task', 'wait-for-offer-signal', 60)] });
    const trace = await history.trace(ARN, { maxEvents: 1000 });
    expect(trace).toMatchObject({ status: 'RUNNING', truncated: false, assignment: { holdout: true, variants: { split_subject: 'b' } } });
    expect(trace!.states.map((s) => [s.state, s.exitedAt !== undefined])).toEqual([
      ['wait-for-order', true],
      ['split-subject', true],
      ['wait-for-offer-signal', false],
    ]);
    // The input comes with DescribeExecution: no history read with execution data.
    expect(mock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
  });

  it('leaves the assignment out when the input is not JSON (and does not fail)', async () => {
    const { mock, history } = setUp();
    mock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: 'sm', status: 'RUNNING', startDate: t(0), input: '{"truncated' });
    mock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const trace = await history.trace(ARN, { maxEvents: 1000 });
    expect(trace).toMatchObject({ status: 'RUNNING', states: [] });
    expect(trace!.assignment).toBeUndefined();
  });

  it('reads at most maxEvents events and says the history was truncated', async () => {
    const { mock, history } = setUp();
    mock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, stateMachineArn: 'sm', status: 'SUCCEEDED', startDate: t(0), stopDate: t(9), input: '{"steps":{}}' });
    mock.on(GetExecutionHistoryCommand, { maxResults: 3 }).resolves({ events: [entered('Task', 'a', 0), exited('Task', 'a', 1), entered('Task', 'b', 1)], nextToken: 'more' });
    const trace = await history.trace(ARN, { maxEvents: 3 });
    expect(trace).toMatchObject({ status: 'SUCCEEDED', truncated: true, assignment: { holdout: false, variants: {} } });
    expect(trace!.states).toHaveLength(2);
    expect(mock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });
});
