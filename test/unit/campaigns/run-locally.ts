import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from '../../../lambdas/core/journey/asl';
import type { AudienceRow, CampaignStepPayload } from '../../../lambdas/core/campaigns/contract';
import type { memoryAudienceFiles } from '../../../lambdas/core/campaigns/memory';
import { applyTemplate } from '../../../lambdas/local/distributed-map';

/**
 * Runs a compiled campaign with aws-local-stepfunctions, for unit tests. The library has no Distributed Map, so each
 * one is swapped for a Task whose Parameters resolve the ItemReader key and the BatchInput (or the ItemsPath items and
 * the input); its local handler reads the JSON Lines set, batches it like the ItemBatcher (or takes each item through
 * the ItemSelector) and runs the Map's own ItemProcessor once per batch (item) with the same executor (the local stack does this for real: lambdas/local/distributed-map.ts). Every Wait is zero time.
 */
export type StepFunction = (payload: CampaignStepPayload) => Promise<unknown>;

type Scope = { StartAt: string; States: Record<string, AslState> };
interface LocalMap {
  processor: Scope;
  /** Batched over an S3 set (ItemReader), or one child per item of the input (ItemsPath, through ItemSelector). */
  batchSize?: number;
  itemSelector?: unknown;
}

const VALIDATION = { validationOptions: { checkArn: false, checkPaths: false } } as const;

function swapDistributedMaps(scope: Scope, maps: Map<string, LocalMap>, waits: string[], tasks: string[]): Scope {
  const States: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(scope.States)) {
    if (state.Type === 'Wait') waits.push(name);
    if (state.Type === 'Task') tasks.push(name);
    const processor = state.ItemProcessor as (Scope & { ProcessorConfig?: { Mode?: string } }) | undefined;
    if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
      const { ProcessorConfig: _config, ...rest } = processor;
      const child = swapDistributedMaps(rest, maps, waits, tasks);
      const { ItemReader: _r, ItemBatcher: _b, ItemProcessor: _p, ResultWriter: _w, MaxConcurrency: _c, MaxConcurrencyPath: _cp, ToleratedFailurePercentage: _t, ItemsPath: _i, ItemSelector: _s, Label: _label, ...kept } = state;
      if (state.ItemReader === undefined) {
        // ItemsPath over the state input: the handler gets the items and the input for the ItemSelector.
        maps.set(name, { processor: child, itemSelector: state.ItemSelector });
        States[name] = { ...kept, Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { 'items.$': state.ItemsPath ?? '$', 'input.$': '$' } };
        continue;
      }
      const reader = state.ItemReader as { Parameters: Record<string, string> };
      const batcher = state.ItemBatcher as { MaxItemsPerBatch: number; BatchInput: Record<string, unknown> };
      maps.set(name, { processor: child, batchSize: batcher.MaxItemsPerBatch });
      States[name] = { ...kept, Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { 'key.$': reader.Parameters['Key.$'], BatchInput: batcher.BatchInput } };
      continue;
    }
    const copy: AslState = { ...state };
    if (Array.isArray(state.Branches)) copy.Branches = (state.Branches as Scope[]).map((b) => swapDistributedMaps(b, maps, waits, tasks));
    if (processor) copy.ItemProcessor = { ...processor, ...swapDistributedMaps(processor, maps, waits, tasks) };
    States[name] = copy;
  }
  return { ...scope, States };
}

export interface LocalRun {
  result: Promise<unknown>;
  /** Names of the states entered, in order (the parent's and every child's). */
  entered: string[];
}

export function runLocally(asl: AslDefinition, input: unknown, fn: StepFunction, files: ReturnType<typeof memoryAudienceFiles>): LocalRun {
  const maps = new Map<string, LocalMap>();
  const waits: string[] = [];
  const tasks: string[] = [];
  const definition = swapDistributedMaps(asl, maps, waits, tasks);
  const entered: string[] = [];
  const lambda = async (params: unknown) => {
    const { Payload } = params as { Payload: CampaignStepPayload };
    return { StatusCode: 200, Payload: (await fn(Payload)) as never };
  };
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const name of tasks) handlers[name] = lambda;
  const overrides = {
    taskResourceLocalHandlers: handlers as never,
    waitTimeOverrides: Object.fromEntries(waits.map((w) => [w, 0])),
    retryIntervalOverrides: Object.fromEntries(tasks.map((t) => [t, 0])),
  };
  let executions = 0;
  // One validated machine per scope, run once per batch (validating per batch is slow).
  const machines = new Map<Scope, StateMachine>();
  const execute = async (scope: Scope, value: unknown): Promise<unknown> => {
    const machine = machines.get(scope) ?? new StateMachine({ ...scope } as never, VALIDATION);
    machines.set(scope, machine);
    const Execution = { Id: `arn:aws:states:us-east-1:123456789012:execution:campaign:local-${executions++}`, StartTime: '2027-01-04T07:00:00.000Z' };
    const execution = machine.run(value as never, { overrides, context: { Execution } as never });
    const logs = (async () => {
      for await (const event of execution.eventLogs) if (event.type === 'StateEntered') entered.push(event.state.name);
    })();
    try {
      return await execution.result;
    } finally {
      await logs.catch(() => undefined);
    }
  };
  for (const [name, map] of maps) {
    handlers[name] = async (params) => {
      if (map.batchSize === undefined) {
        const { items, input: mapInput } = params as { items: unknown[]; input: unknown };
        // ToleratedFailurePercentage 0 here too; children run one after another (order does not matter to the runs).
        for (const [index, value] of items.entries()) {
          const context = { Map: { Item: { Index: index, Value: value } } };
          await execute(map.processor, map.itemSelector === undefined ? value : applyTemplate(map.itemSelector, mapInput, context));
        }
        return null;
      }
      const { key, BatchInput } = params as { key: string; BatchInput: unknown };
      const rows: AudienceRow[] = [];
      for await (const row of files.readRows(key)) rows.push(row);
      // ToleratedFailurePercentage 0: one failed child fails the map.
      const size = map.batchSize;
      for (let i = 0; i < rows.length; i += size) await execute(map.processor, { Items: rows.slice(i, i + size), BatchInput });
      return null;
    };
  }
  return { result: execute(definition, input), entered };
}
