import { Resource, type AslDefinition } from '../../../lambdas/core/journey/asl';
import { fixedWaitTimes, localLambdaContext, localTimeouts } from '../../../lambdas/local/executions';

const HOUR = 3600;

/** A journey-shaped definition: a Lambda step, a wait-for-event (1 h) and a Map whose item runs a Lambda step. */
function definition(): AslDefinition {
  const lambda = { Type: 'Task', Resource: Resource.lambdaInvoke, Next: 'wait' };
  return {
    Comment: 'test',
    StartAt: 'load',
    TimeoutSeconds: 5 * 24 * HOUR,
    States: {
      load: lambda,
      wait: { Type: 'Task', Resource: Resource.lambdaInvokeWaitForToken, TimeoutSeconds: HOUR, Next: 'each' },
      each: { Type: 'Map', ItemProcessor: { StartAt: 'item', States: { item: { Type: 'Task', Resource: Resource.lambdaInvoke, End: true } } }, End: true },
    },
  };
}

const states = (d: AslDefinition) => d.States as Record<string, { TimeoutSeconds?: number; ItemProcessor?: AslDefinition }>;

describe('localTimeouts: scaled time never turns a timeout into (nearly) nothing', () => {
  it.each([3600, Number.POSITIVE_INFINITY])('gives Lambda steps longer than the runner default of 60 real seconds at time scale %s', (scale) => {
    const local = localTimeouts(definition(), scale);
    // Without an explicit timeout aws-local-stepfunctions fails a task after 60 s: a busy machine fails the run.
    expect(states(local).load.TimeoutSeconds).toBeGreaterThanOrEqual(HOUR);
    expect(states(local).each.ItemProcessor!.States.item.TimeoutSeconds).toBeGreaterThanOrEqual(HOUR);
  });

  it.each([3600, Number.POSITIVE_INFINITY])('gives the whole run at least ten real minutes at time scale %s', (scale) => {
    expect(localTimeouts(definition(), scale).TimeoutSeconds).toBeGreaterThanOrEqual(600);
  });

  it('scales a long global timeout that stays above the floor', () => {
    expect(localTimeouts({ ...definition(), TimeoutSeconds: 365 * 24 * HOUR }, 60).TimeoutSeconds).toBe((365 * 24 * HOUR) / 60);
  });

  it('keeps the wait-for-event timeout in virtual seconds (the binding scales it) and caps it to a Node timer', () => {
    expect(states(localTimeouts(definition(), 3600)).wait.TimeoutSeconds).toBe(HOUR);
    const long = definition();
    states(long).wait.TimeoutSeconds = 300 * 24 * HOUR;
    expect(states(localTimeouts(long, 1)).wait.TimeoutSeconds).toBeLessThanOrEqual(Math.floor((2 ** 31 - 1) / 1000));
  });
});

describe('localLambdaContext: a local Lambda step is not cut short by a busy machine', () => {
  const where = { region: 'local', account: '000000000000' };

  it('gives a step the longest Lambda timeout (15 minutes) of real time, counted from its start', () => {
    let now = 1_000_000;
    const context = localLambdaContext('register-wait', 'r-1', where, () => now);
    // middy aborts a handler when this runs out: at 30 s, steps queued behind a busy dynalite failed with AbortError.
    expect(context.getRemainingTimeInMillis()).toBe(15 * 60_000);
    now += 60_000;
    expect(context.getRemainingTimeInMillis()).toBe(14 * 60_000);
    now += 15 * 60_000;
    expect(context.getRemainingTimeInMillis()).toBe(0);
  });
});

describe('fixedWaitTimes: Wait states are scaled wherever they are', () => {
  it('scales a Wait inside a Parallel branch (a campaign wait step) as one at the top level', () => {
    const asl: AslDefinition = {
      Comment: 'campaign-shaped',
      TimeoutSeconds: 7 * 24 * HOUR,
      StartAt: 'top',
      States: {
        top: { Type: 'Wait', Seconds: 3600, Next: 'Run' },
        Run: { Type: 'Parallel', Branches: [{ StartAt: 'wait.two-days', States: { 'wait.two-days': { Type: 'Wait', Seconds: 2 * 24 * HOUR, End: true } } }], End: true },
      },
    };
    expect(Object.fromEntries(fixedWaitTimes(asl, 3600))).toEqual({ top: 1000, 'wait.two-days': 48_000 });
  });
});
