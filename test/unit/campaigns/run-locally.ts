import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from '../../../lambdas/core/journey/asl';
import type { AudienceRow, CampaignStepPayload } from '../../../lambdas/core/campaigns/contract';
import type { memoryAudienceFiles } from '../../../lambdas/core/campaigns/memory';

/**
 * Runs a compiled campaign with aws-local-stepfunctions, for unit tests. The library has no Distributed Map, so each
 * one is swapped for a Task whose Parameters resolve the ItemReader key and the BatchInput; its local handler reads
 * the JSON Lines set, batches it like the ItemBatcher and runs the Map's own ItemProcessor once per batch with the
 * same executor (the local stack does this for real: lambdas/local/distributed-map.ts). Every Wait is zero time.
 */
export type StepFunction = (payload: CampaignStepPayload) => Promise<unknown>;

type Scope = { StartAt: string; States: Record<string, AslState> };
interface LocalMap {
  processor: Scope;
  batchSize: number;
}

const VALIDATION = { validationOptions: { checkArn: false, checkPaths: false } } as const;

function swapDistributedMaps(scope: Scope, maps: Map<string, LocalMap>, waits: string[], tasks: string[]): Scope {
  const States: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(scope.States)) {
    if (state.Type === 'Wait') waits.push(name);
    if (state.Type === 'Task') tasks.push(name);
    const processor = state.ItemProcessor as (Scope & { ProcessorConfig?: { Mode?: string } }) | undefined;
    if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
      const reader = state.ItemReader as { Parameters: Record<string, string> };
      const batcher = state.ItemBatcher as { MaxItemsPerBatch: number; BatchInput: Record<string, unknown> };
      const { ProcessorConfig: _config, ...rest } = processor;
      maps.set(name, { processor: swapDistributedMaps(rest, maps, waits, tasks), batchSize: batcher.MaxItemsPerBatch });
      const { ItemReader: _r, ItemBatcher: _b, ItemProcessor: _p, ResultWriter: _w, MaxConcurrency: _c, ToleratedFailurePercentage: _t, Label: _label, ...kept } = state;
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
      const { key, BatchInput } = params as { key: string; BatchInput: unknown };
      const rows: AudienceRow[] = [];
      for await (const row of files.readRows(key)) rows.push(row);
      // ToleratedFailurePercentage 0: one failed child fails the map.
      for (let i = 0; i < rows.length; i += map.batchSize) await execute(map.processor, { Items: rows.slice(i, i + map.batchSize), BatchInput });
      return null;
    };
  }
  return { result: execute(definition, input), entered };
}
