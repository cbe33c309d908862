import { JourneyItem } from '../config/env-keys';
import type { Journey } from './schema';
import { SCHEMA_VERSION } from './constants';

/** The alias executions start on: each deploy that changes a journey publishes a version and points this alias at it. */
export const LIVE_ALIAS = 'live';

/** The state-machine version the `live` alias points at. */
export interface LiveVersion {
  /** The version number Step Functions assigned (1, 2, …), as a string. */
  number: string;
  arn: string;
  /** When the version was published (ISO-8601); absent when the registry does not hold it (AWS: ask Step Functions). */
  publishedAt?: string;
}

export interface RegisteredJourney {
  journey: Journey;
  /** The unqualified state machine ARN (executions are named under it, whatever they started on). */
  stateMachineArn: string;
  /** The hash of the compiled definition (version.ts). */
  version: string;
  /** The `live` alias ARN; absent in items registered before versions, which start on the state machine itself. */
  aliasArn?: string;
  live?: LiveVersion;
}

/** The journeys-table item for a journey (all journeys share one partition, so listing them is one Query). CDK writes the same shape at deploy time. */
export function journeyItem(record: RegisteredJourney): Record<string, string | boolean> {
  const item: Record<string, string | boolean> = {
    pk: 'JOURNEYS',
    sk: `JOURNEY#${record.journey.id}`,
    [JourneyItem.definition]: JSON.stringify(record.journey),
    [JourneyItem.stateMachineArn]: record.stateMachineArn,
    [JourneyItem.version]: record.version,
    [JourneyItem.apiTriggered]: record.journey.entry.kind === 'api',
  };
  if (record.aliasArn !== undefined) item[JourneyItem.aliasArn] = record.aliasArn;
  if (record.live !== undefined) {
    item[JourneyItem.liveVersion] = record.live.number;
    item[JourneyItem.liveVersionArn] = record.live.arn;
    if (record.live.publishedAt !== undefined) item[JourneyItem.publishedAt] = record.live.publishedAt;
  }
  return item;
}

/**
 * The definition a registry item holds. CDK writes the journey as parsed and checked in full at synth (defaults
 * applied), so the readers (the router, the steps, the API) check its shape only: no journey schema (zod) in their
 * bundles. A hand-edited item that is not a journey fails, naming the item and the field.
 */
function storedJourney(item: Record<string, unknown>): Journey {
  const at = `journey item ${String(item.sk)}`;
  const raw = item[JourneyItem.definition];
  if (typeof raw !== 'string') throw new Error(`${at} holds an invalid definition: ${JourneyItem.definition} is not a string`);
  let journey: unknown;
  try {
    journey = JSON.parse(raw);
  } catch {
    throw new Error(`${at} holds an invalid definition: ${JourneyItem.definition} is not JSON`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const fail = (field: string, expected: string) => new Error(`${at} holds an invalid definition: ${field} is not ${expected}`);
  if (!isObject(journey)) throw fail('(root)', 'an object');
  if (journey.schemaVersion !== SCHEMA_VERSION) throw fail('schemaVersion', String(SCHEMA_VERSION));
  for (const field of ['id', 'name', 'start'] as const) if (typeof journey[field] !== 'string') throw fail(field, 'a string');
  if (!isObject(journey.entry) || typeof journey.entry.kind !== 'string') throw fail('entry.kind', 'a string');
  if (!isObject(journey.settings)) throw fail('settings', 'an object');
  if (!Array.isArray(journey.nodes) || journey.nodes.length === 0) throw fail('nodes', 'a non-empty list');
  journey.nodes.forEach((node: unknown, i) => {
    if (!isObject(node) || typeof node.id !== 'string' || typeof node.kind !== 'string') throw fail(`nodes[${i}]`, 'a node with an id and a kind');
  });
  return journey as unknown as Journey;
}

export function fromJourneyItem(item: Record<string, unknown>): RegisteredJourney {
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const record: RegisteredJourney = {
    journey: storedJourney(item),
    stateMachineArn: item[JourneyItem.stateMachineArn] as string,
    version: item[JourneyItem.version] as string,
  };
  const aliasArn = text(JourneyItem.aliasArn);
  if (aliasArn !== undefined) record.aliasArn = aliasArn;
  const number = text(JourneyItem.liveVersion);
  const arn = text(JourneyItem.liveVersionArn);
  if (number !== undefined && arn !== undefined) {
    const publishedAt = text(JourneyItem.publishedAt);
    record.live = publishedAt === undefined ? { number, arn } : { number, arn, publishedAt };
  }
  return record;
}

/** Where executions of a journey start: its `live` alias, or the state machine for an item registered before versions. */
export function startArn(record: Pick<RegisteredJourney, 'stateMachineArn' | 'aliasArn'>): string {
  return record.aliasArn ?? record.stateMachineArn;
}

/**
 * The state machine ARN without a version or alias qualifier,
 * `arn:<partition>:states:<region>:<account>:stateMachine:<name>`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/execution-alias-version-associate.html).
 */
export function unqualifiedStateMachineArn(arn: string): string {
  return arn.split(':').slice(0, 7).join(':');
}

/**
 * The ARN of an execution, `…:execution:<stateMachineName>:<executionName>`, also when it was started on an alias or a
 * version: the execution resource names the state machine only
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html#awsstepfunctions-resources-for-iam-policies).
 */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${unqualifiedStateMachineArn(stateMachineArn).replace(':stateMachine:', ':execution:')}:${name}`;
}
