import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { objectLines } from '../adapters/s3-audience-files';
import type { AslDefinition, AslState } from '../core/journey/asl';

/**
 * Distributed Map states, locally. aws-local-stepfunctions runs a Map as an inline one and knows no ItemReader,
 * ItemBatcher or ResultWriter, so the local runner rewrites ITS COPY of a definition (the deployed one is unchanged):
 * each Distributed Map becomes a Task bound to `runDistributedMap`, which reads the items, batches them and runs each
 * batch as a child execution of the Map's ItemProcessor on the same executor (same function bindings, same clock).
 * The Task keeps the Map's InputPath, ResultSelector, ResultPath, OutputPath, Retry and Catch, which the runner applies
 * as it does a Map's. Docs: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */

/** The resource a Distributed Map becomes in the runner's copy of a definition. */
export const DISTRIBUTED_MAP_RESOURCE = 'waymark:local:distributed-map';

/** The largest input of one child execution (Step Functions' payload quota, 256 KiB). */
export const MAX_CHILD_INPUT_BYTES = 262_144;

/**
 * Children the local runner runs at once per Map Run, whatever the Map's MaxConcurrency (up to 1,000 deployed): one
 * process and one dynalite serve them all, so more only queue on the local DynamoDB client's 128 sockets. Not fewer:
 * a campaign child's pace Wait (`SecondsPath`) takes real seconds locally (only fixed waits are scaled), so children
 * overlap their waits. A child paces to its share of the rate as compiled, so fewer children never exceed the rate.
 */
export const LOCAL_MAX_CHILDREN = 128;

/** Fields of a Map the Task keeps (the runner applies them around the handler as it does around a Map). */
const KEPT = ['Comment', 'InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End'] as const;

export function isDistributedMap(state: AslState): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/**
 * Replaces every Distributed Map of `definition` (in Parallel branches and inline Map processors too, not inside
 * another Distributed Map's processor: that one is its children's definition) by a Task bound to
 * DISTRIBUTED_MAP_RESOURCE, and returns the originals by state name. Every other state is left as it is.
 */
export function rewriteDistributedMaps(definition: AslDefinition): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const walk = (scope: { States: Record<string, AslState> }) => {
    for (const [name, state] of Object.entries(scope.States)) {
      if (isDistributedMap(state)) {
        checkSupported(name, state);
        found.set(name, state);
        const task: AslState = { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE };
        for (const field of KEPT) if (state[field] !== undefined) task[field] = state[field];
        scope.States[name] = task;
        continue;
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, AslState> } | undefined;
      if (processor?.States) walk(processor as { States: Record<string, AslState> });
      for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) walk(branch);
    }
  };
  walk(definition);
  return found;
}

/** What the local runner does not do: refused at deploy, naming the state and the field, rather than run wrongly. */
function checkSupported(name: string, state: AslState): void {
  const refuse = (what: string) => {
    throw new Error(`Distributed Map ${name}: ${what} is not supported by the local stack (lambdas/local/README.md)`);
  };
  const reader = state.ItemReader as { Resource?: string; ReaderConfig?: { InputType?: string } } | undefined;
  if (reader) {
    if (reader.Resource === READ_OBJECT) {
      const type = reader.ReaderConfig?.InputType;
      if (type !== 'JSONL' && type !== 'JSON') refuse(`ItemReader InputType ${String(type)}`);
    } else if (reader.Resource !== LIST_OBJECTS) refuse(`ItemReader ${String(reader.Resource)}`);
  }
  const writer = state.ResultWriter as { Resource?: string; WriterConfig?: unknown } | undefined;
  if (writer && writer.Resource !== PUT_OBJECT) refuse(`ResultWriter ${String(writer.Resource)}`);
  if (writer?.WriterConfig !== undefined) refuse('ResultWriter WriterConfig');
  if (state.QueryLanguage === 'JSONata') refuse('JSONata');
  if (state.ItemsPointer !== undefined || state.Items !== undefined) refuse('Items/ItemsPointer');
}

const READ_OBJECT = 'arn:aws:states:::s3:getObject';
const LIST_OBJECTS = 'arn:aws:states:::s3:listObjectsV2';
const PUT_OBJECT = 'arn:aws:states:::s3:putObject';

/** An error a state fails with, named as Step Functions names it (Catch and Retry match the name). */
export function statesError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** A reference path (`$`, `$.a.b`, `$.a[0]`, `$['a']`) read from a document; undefined when a part is missing. */
export function readJsonPath(root: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw statesError('States.Runtime', `${path} is not a reference path`);
  let value = root;
  const parts = path.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]/g) ?? [];
  if (parts.join('') !== path.slice(1)) throw statesError('States.Runtime', `the local stack cannot read the path ${path}`);
  for (const part of parts) {
    const key = part.startsWith('.') ? part.slice(1) : part.startsWith("['") ? part.slice(2, -2) : Number(part.slice(1, -1));
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/**
 * A payload template (ItemSelector, BatchInput, ItemReader/ResultWriter Parameters): `"k.$"` fields take the value at
 * a path of the input (`$…`) or of the context (`$$…`). Intrinsic functions are not evaluated locally.
 */
export function applyTemplate(template: unknown, input: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, input, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith('.$')) {
      out[key] = applyTemplate(value, input, context);
      continue;
    }
    const path = String(value);
    if (path.startsWith('States.')) {
      throw statesError('States.Runtime', `intrinsic functions (${path}) are not evaluated in a local Distributed Map`);
    }
    const read = path.startsWith('$$') ? readJsonPath(context, path.slice(1)) : readJsonPath(input, path);
    if (read === undefined) throw statesError('States.Runtime', `${key}: the path ${path} matches nothing in the input`);
    out[key.slice(0, -2)] = read;
  }
  return out;
}

/** One child execution as the runner ran it. */
export interface ChildRun {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  status: string;
  startDate: string;
  stopDate?: string;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
}

/** What `runDistributedMap` needs from the executor running the parent. */
export interface DistributedMapEnv {
  /** The Map state's definition as deployed. */
  state: AslState;
  stateName: string;
  /** The parent execution and its state machine (for the Map Run's and children's ARNs). */
  executionArn: string;
  stateMachineArn: string;
  /** S3 for ItemReader and ResultWriter (s3rver locally). */
  s3?: S3Client;
  /** Starts one child execution of the ItemProcessor; resolves when it has ended. */
  runChild(name: string, input: unknown): { executionArn: string; done: Promise<ChildRun> };
  /** Stops a running child (the Map failed, or the parent ended). */
  stopChild(executionArn: string, cause: string): Promise<void>;
  /** Wraps a promise the handler only waits on (children at work): the parent counts as parked meanwhile. */
  parked<T>(promise: Promise<T>): Promise<T>;
  /** Unique per Map Run (the last part of its ARN). */
  mapRunId: string;
  /** True once the parent has ended (stopped, timed out): nothing more is started. */
  ended(): boolean;
  /** Children at once at most, below MaxConcurrency. @default LOCAL_MAX_CHILDREN */
  maxChildren?: number;
}

interface Batcher {
  MaxItemsPerBatch?: number;
  MaxItemsPerBatchPath?: string;
  MaxInputBytesPerBatch?: number;
  MaxInputBytesPerBatchPath?: string;
  BatchInput?: unknown;
}

/** A number field of the Map given as a value or as a path into the input (`…Path`). */
function numberField(state: Record<string, unknown>, name: string, input: unknown): number | undefined {
  const path = state[`${name}Path`];
  const value = typeof path === 'string' ? readJsonPath(input, path) : state[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw statesError('States.Runtime', `${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The items of the Map: from its ItemReader (S3), streamed, or from ItemsPath in the input. */
async function* readItems(env: DistributedMapEnv, input: unknown, context: unknown): AsyncGenerator<unknown> {
  type Reader = { Resource: string; Parameters?: unknown; ReaderConfig?: Record<string, unknown> };
  const reader = env.state.ItemReader as Reader | undefined;
  if (!reader) {
    const items = readJsonPath(input, (env.state.ItemsPath as string | undefined) ?? '$');
    if (!Array.isArray(items)) throw statesError('States.Runtime', `ItemsPath of ${env.stateName} does not select an array`);
    yield* items;
    return;
  }
  if (!env.s3) throw statesError('States.ItemReaderFailed', `no local S3 for ${env.stateName}'s ItemReader (s3: true)`);
  const p = applyTemplate(reader.Parameters ?? {}, input, context) as { Bucket?: string; Key?: string; Prefix?: string };
  const max = numberField(reader.ReaderConfig ?? {}, 'MaxItems', input);
  let n = 0;
  const where = `s3://${p.Bucket}/${p.Key ?? p.Prefix ?? ''}`;
  const failed = (error: unknown) =>
    statesError('States.ItemReaderFailed', `${env.stateName} could not read ${where}: ${(error as Error).message}`);
  try {
    if (reader.Resource === LIST_OBJECTS) {
      let token: string | undefined;
      do {
        const list = new ListObjectsV2Command({ Bucket: p.Bucket, Prefix: p.Prefix, ContinuationToken: token });
        const page = await env.s3.send(list);
        for (const o of page.Contents ?? []) {
          if (max && n++ >= max) return;
          // The item shape of the S3 object lister (docs: input-output-itemreader.html).
          const LastModified = o.LastModified?.getTime();
          yield { Etag: o.ETag, Key: o.Key, LastModified, Size: o.Size, StorageClass: o.StorageClass };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return;
    }
    if (reader.ReaderConfig?.InputType === 'JSONL') {
      for await (const line of objectLines(env.s3, p.Bucket!, p.Key!, MAX_CHILD_INPUT_BYTES)) {
        if (max && n++ >= max) return;
        yield JSON.parse(line);
      }
      return;
    }
    const out = await env.s3.send(new GetObjectCommand({ Bucket: p.Bucket, Key: p.Key }));
    const items = JSON.parse((await out.Body?.transformToString()) ?? 'null') as unknown;
    if (!Array.isArray(items)) throw new Error('the object is not a JSON array');
    yield* max ? items.slice(0, max) : items;
  } catch (error) {
    throw (error as Error).name?.startsWith('States.') ? error : failed(error);
  }
}

/** The children's inputs: items through ItemSelector, grouped by the ItemBatcher (`{Items, BatchInput}`) if any. */
async function* childInputs(
  env: DistributedMapEnv,
  input: unknown,
  context: Record<string, unknown>,
): AsyncGenerator<{ input: unknown; items: number }> {
  const selector = env.state.ItemSelector ?? env.state.Parameters;
  const batcher = env.state.ItemBatcher as (Batcher & Record<string, unknown>) | undefined;
  const maxItems = batcher ? numberField(batcher, 'MaxItemsPerBatch', input) : undefined;
  const maxBytes = Math.min(MAX_CHILD_INPUT_BYTES, (batcher && numberField(batcher, 'MaxInputBytesPerBatch', input)) || Infinity);
  const batchInput = batcher?.BatchInput === undefined ? undefined : applyTemplate(batcher.BatchInput, input, context);
  const wrap = (items: unknown[]) => ({ Items: items, ...(batchInput === undefined ? {} : { BatchInput: batchInput }) });
  // The bytes of `{"Items":[],"BatchInput":…}` before any item.
  const baseBytes = Buffer.byteLength(JSON.stringify(wrap([])));
  let batch: unknown[] = [];
  let bytes = baseBytes;
  let index = 0;
  for await (const value of readItems(env, input, context)) {
    const itemContext = { ...context, Map: { Item: { Index: index, Value: value } } };
    const item = selector === undefined ? value : applyTemplate(selector, input, itemContext);
    index++;
    if (!batcher) {
      yield { input: item, items: 1 };
      continue;
    }
    const size = Buffer.byteLength(JSON.stringify(item)) + (batch.length > 0 ? 1 : 0);
    if (baseBytes + size > maxBytes) {
      throw statesError('States.Runtime', `item ${index - 1} of ${env.stateName} is over MaxInputBytesPerBatch (${maxBytes})`);
    }
    const full = bytes + size > maxBytes || (maxItems !== undefined && maxItems > 0 && batch.length >= maxItems);
    if (batch.length > 0 && full) {
      yield { input: wrap(batch), items: batch.length };
      batch = [];
      bytes = baseBytes;
    }
    bytes += Buffer.byteLength(JSON.stringify(item)) + (batch.length > 0 ? 1 : 0);
    batch.push(item);
  }
  if (batch.length > 0) yield { input: wrap(batch), items: batch.length };
}

/**
 * Runs one Distributed Map state: at most MaxConcurrency children at a time (0 or none: unbounded), and never more
 * than LOCAL_MAX_CHILDREN (WAYMARK_LOCAL_MAX_CHILDREN overrides it, for measuring), failing
 * with States.ExceedToleratedFailureThreshold once failed items exceed ToleratedFailureCount or, once every item is
 * read, ToleratedFailurePercentage (both 0 by default: any failed child fails the Map). Without a ResultWriter the
 * output is the children's outputs in item order; with one, the results go to S3 and the output names the manifest.
 */
export async function runDistributedMap(
  env: DistributedMapEnv,
  input: unknown,
  context: Record<string, unknown>,
): Promise<unknown> {
  const state = env.state;
  const localCap = env.maxChildren ?? Number(process.env.WAYMARK_LOCAL_MAX_CHILDREN ?? LOCAL_MAX_CHILDREN);
  const maxConcurrency = Math.min(numberField(state, 'MaxConcurrency', input) || Infinity, Math.max(1, localCap || 1));
  const toleratedCount = numberField(state, 'ToleratedFailureCount', input);
  const toleratedPercentage = numberField(state, 'ToleratedFailurePercentage', input);
  const smName = env.stateMachineArn.split(':').pop();
  const label = (state.Label as string | undefined) ?? env.stateName;
  const [partition, region, account] = env.stateMachineArn.split(':').slice(1, 5).filter((_, i) => i !== 1);
  const mapRunArn = `arn:${partition}:states:${region}:${account}:mapRun:${smName}/${label}:${env.mapRunId}`;

  const runs: { run?: ChildRun; items: number }[] = [];
  const active = new Map<string, Promise<void>>();
  let itemsTotal = 0;
  let itemsFailed = 0;
  let readAll = false;
  // Over either threshold fails (docs: maprun-fail-threshold.html); with neither, none is tolerated.
  const countBound = toleratedCount ?? (toleratedPercentage === undefined ? 0 : Infinity);
  const overPercentage = () =>
    toleratedPercentage !== undefined &&
    (toleratedPercentage === 0 ? itemsFailed > 0 : readAll && (itemsFailed / itemsTotal) * 100 > toleratedPercentage);
  const exceeded = () => itemsFailed > countBound || overPercentage();
  const failure = () =>
    statesError(
      'States.ExceedToleratedFailureThreshold',
      `${env.stateName}: ${itemsFailed} of ${readAll ? itemsTotal : `${itemsTotal}+`} items failed, over the tolerated threshold`,
    );
  const stopAll = async (cause: string) => {
    await Promise.all([...active.keys()].map((arn) => env.stopChild(arn, cause)));
    await Promise.all([...active.values()]);
  };
  const ended = () => statesError('States.Runtime', 'the execution ended');
  // The parent's end stops the children, which ends this wait: nothing more may start after it.
  const waitForOne = async () => {
    await env.parked(Promise.race(active.values()));
    if (env.ended()) throw ended();
  };

  try {
    for await (const child of childInputs(env, input, context)) {
      if (env.ended()) throw ended();
      while (active.size >= maxConcurrency) await waitForOne();
      if (exceeded()) throw failure();
      const slot: { run?: ChildRun; items: number } = { items: child.items };
      runs.push(slot);
      itemsTotal += child.items;
      const { executionArn, done } = env.runChild(`${env.mapRunId}-${runs.length}`, child.input);
      const finished = done.then((run) => {
        slot.run = run;
        if (run.status !== 'SUCCEEDED') itemsFailed += slot.items;
        active.delete(executionArn);
      });
      active.set(executionArn, finished);
    }
    readAll = true;
    while (active.size > 0) {
      if (exceeded()) throw failure();
      await waitForOne();
    }
    if (exceeded()) throw failure();
  } catch (error) {
    await stopAll(error instanceof Error ? error.message : 'the Map failed');
    // The results of a Map Run that failed its threshold are written too (which children failed, and why).
    if (state.ResultWriter && (error as Error).name === 'States.ExceedToleratedFailureThreshold') {
      await writeResults(env, input, context, mapRunArn, runs);
    }
    throw error;
  }
  if (state.ResultWriter) return writeResults(env, input, context, mapRunArn, runs);
  return runs.map((r) => r.run?.output ?? null);
}

/**
 * ResultWriter: the children's results by status (`SUCCEEDED_0.json`, `FAILED_0.json`, …, each a JSON array of the
 * executions with their input, output or error) and a `manifest.json` naming them, under `<Prefix>/<map run id>/`;
 * the state's result is `{MapRunArn, ResultWriterDetails: {Bucket, Key}}` with the manifest's key.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
async function writeResults(
  env: DistributedMapEnv,
  input: unknown,
  context: unknown,
  mapRunArn: string,
  runs: { run?: ChildRun; items: number }[],
): Promise<unknown> {
  const writer = env.state.ResultWriter as { Parameters?: unknown };
  const { Bucket, Prefix } = applyTemplate(writer.Parameters ?? {}, input, context) as { Bucket?: string; Prefix?: string };
  if (!env.s3) throw statesError('States.ResultWriterFailed', `no local S3 for ${env.stateName}'s ResultWriter (s3: true)`);
  const base = `${Prefix ? `${Prefix.replace(/\/$/, '')}/` : ''}${env.mapRunId}/`;
  const byStatus = new Map<string, unknown[]>([['SUCCEEDED', []], ['FAILED', []], ['PENDING', []]]);
  for (const { run } of runs) {
    if (!run) continue;
    const status = run.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
    byStatus.get(status)!.push({
      ExecutionArn: run.executionArn,
      Name: run.name,
      StateMachineArn: run.stateMachineArn,
      Status: run.status,
      StartDate: run.startDate,
      ...(run.stopDate ? { StopDate: run.stopDate } : {}),
      Input: JSON.stringify(run.input),
      InputDetails: { Included: true },
      ...(run.status === 'SUCCEEDED'
        ? { Output: JSON.stringify(run.output ?? null), OutputDetails: { Included: true } }
        : { Error: run.error ?? 'States.Runtime', Cause: run.cause ?? '' }),
    });
  }
  const put = async (Key: string, body: string) => {
    try {
      const Body = Buffer.from(body);
      await env.s3!.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.length, ContentType: 'application/json' }));
    } catch (error) {
      const message = `${env.stateName} could not write s3://${Bucket}/${Key}: ${(error as Error).message}`;
      throw statesError('States.ResultWriterFailed', message);
    }
    return Buffer.byteLength(body);
  };
  const files: Record<string, { Key: string; Size: number }[]> = {};
  for (const [status, entries] of byStatus) {
    files[status] = [];
    if (entries.length === 0) continue;
    const Key = `${base}${status}_0.json`;
    files[status].push({ Key, Size: await put(Key, JSON.stringify(entries)) });
  }
  const manifestKey = `${base}manifest.json`;
  await put(manifestKey, JSON.stringify({ DestinationBucket: Bucket, MapRunArn: mapRunArn, ResultFiles: files }));
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } };
}
