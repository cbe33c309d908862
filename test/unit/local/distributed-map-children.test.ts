import { LOCAL_MAX_CHILDREN, runDistributedMap, type ChildRun, type DistributedMapEnv } from '../../../lambdas/local/distributed-map';

/** The local runner's cap on children at once (one process and one dynalite serve them all), with a fake executor. */
function env(maxConcurrency: number, maxChildren?: number) {
  let running = 0;
  let most = 0;
  let n = 0;
  const map: DistributedMapEnv = {
    state: { Type: 'Map', MaxConcurrency: maxConcurrency, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } } },
    stateName: 'Send',
    executionArn: 'arn:aws:states:local:000000000000:execution:sm:run',
    stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:sm',
    mapRunId: 'map-1',
    ended: () => false,
    parked: (promise) => promise,
    stopChild: async () => undefined,
    runChild: (name, input) => {
      most = Math.max(most, ++running);
      const executionArn = `arn:child:${++n}`;
      const done = new Promise<ChildRun>((resolve) =>
        setImmediate(() => {
          running--;
          resolve({ executionArn, name, stateMachineArn: 'arn:sm/child', status: 'SUCCEEDED', startDate: '', input, output: input });
        }),
      );
      return { executionArn, done };
    },
    ...(maxChildren === undefined ? {} : { maxChildren }),
  };
  return { map, most: () => most };
}

describe('local Distributed Map children at once', () => {
  it(`runs at most ${LOCAL_MAX_CHILDREN} children at once locally, whatever a larger MaxConcurrency says`, async () => {
    const { map, most } = env(1000);
    const items = Array.from({ length: 3 * LOCAL_MAX_CHILDREN }, (_, i) => i);
    expect(await runDistributedMap(map, items, {})).toEqual(items);
    expect(most()).toBe(LOCAL_MAX_CHILDREN);
  });

  it('keeps a smaller MaxConcurrency, and takes a cap of its own', async () => {
    const small = env(3);
    await runDistributedMap(small.map, Array.from({ length: 20 }, (_, i) => i), {});
    expect(small.most()).toBe(3);
    const own = env(1000, 5);
    await runDistributedMap(own.map, Array.from({ length: 20 }, (_, i) => i), {});
    expect(own.most()).toBe(5);
  });
});
