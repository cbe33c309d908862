import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { dynamoPorts } from '../adapters/dynamodb-ports';
import { ProfileConsentStore } from '../core/consent/profile-consent-store';
import type { Offer, Placement } from '../core/decisions/model';
import { localPrivacyKey, type PrivacyKey } from '../core/privacy/keys';
import { defaultProfilePolicy } from '../core/profiles/model';
import { GraphProfileStore } from '../core/profiles/store';
import type { Clock } from '../core/runtime/ports';
import type { SegmentDefinition } from '../core/segments/rule';
import { MemoryCatalogStore } from './memory/catalog';
import { MemoryCapStore, MemoryDecisionLog } from './memory/decisions';
import { MemorySendCapStore } from './memory/governance';
import { MemoryProfileTable } from './memory/profiles';
import {
  MemoryEnrollmentStore,
  MemoryJourneyRegistry,
  MemoryLedger,
  MemoryProfileRecords,
  MemoryRejectedEventStore,
  MemoryWaitIndex,
} from './memory/runtime';
import { MemoryMembershipStore, MemoryProfileScanner, MemorySnapshotStore } from './memory/segments';
import { MemorySuppressionList } from './memory/suppression';
import { MemoryTable, MemoryValidationError, type Item } from './memory/table';

/** The public shape of each port `dynamoPorts` returns (a class's private fields make it nominal, not its API). */
type PortShapes<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? T[K] : Pick<T[K], keyof T[K]> };
export type WaymarkPorts = PortShapes<ReturnType<typeof dynamoPorts>>;

/** The tables behind a set of memory ports (to sweep expired items, count what is held, or write as the ASL does). */
export interface MemoryTables {
  profiles: MemoryTable;
  journeys: MemoryTable;
  runtime: MemoryTable;
  /** The identity graph's storage (profiles, identities, event records) in the profiles table. */
  profileStorage: MemoryProfileTable;
}

const tablesOf = new WeakMap<object, MemoryTables>();

/**
 * Every port of `dynamoPorts`, in memory: the same keys and port types, the same items under the same keys with the
 * same conditions, so the deployed domain code (identity graph, segments, caps, erasure) behaves as on DynamoDB, in
 * process and on the given clock. For `waymark simulate`, tests and the bench; what differs is in lambdas/local/README.md.
 */
export function memoryPorts(clock: Clock, privacyKey: PrivacyKey = localPrivacyKey) {
  const policy = defaultProfilePolicy;
  const profilesTable = new MemoryTable('profiles');
  const journeysTable = new MemoryTable('journeys');
  const runtime = new MemoryTable('runtime', { profileIndex: true });
  const profileStorage = new MemoryProfileTable(clock, policy.window.days, profilesTable);
  const ports = {
    clock,
    privacyKey,
    profiles: new GraphProfileStore({ storage: profileStorage, clock, policy, privacyKey }),
    journeys: new MemoryJourneyRegistry(journeysTable),
    enrollments: new MemoryEnrollmentStore(runtime),
    waits: new MemoryWaitIndex(runtime),
    ledger: new MemoryLedger(runtime),
    rejected: new MemoryRejectedEventStore(runtime, privacyKey),
    records: new MemoryProfileRecords(runtime),
    segmentStore: new MemoryCatalogStore<SegmentDefinition>(journeysTable, 'SEGMENT'),
    memberships: new MemoryMembershipStore(profilesTable),
    snapshots: new MemorySnapshotStore(runtime),
    profileScanner: new MemoryProfileScanner(profileStorage, profilesTable, clock, policy),
    offerStore: new MemoryCatalogStore<Offer>(journeysTable, 'OFFER'),
    placementStore: new MemoryCatalogStore<Placement>(journeysTable, 'PLACEMENT'),
    caps: new MemoryCapStore(runtime),
    decisionLog: new MemoryDecisionLog(runtime, clock),
    sendCaps: new MemorySendCapStore(runtime),
  } satisfies WaymarkPorts;
  tablesOf.set(ports, { profiles: profilesTable, journeys: journeysTable, runtime, profileStorage });
  return ports;
}

export type MemoryPorts = ReturnType<typeof memoryPorts>;

// The same keys as dynamoPorts, no more, no fewer (satisfies above checks the types of those it has).
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const sameKeys: SameKeys<MemoryPorts, ReturnType<typeof dynamoPorts>> = true;
void sameKeys;

/** The tables of ports made by `memoryPorts`. */
export function memoryTables(ports: MemoryPorts): MemoryTables {
  const tables = tablesOf.get(ports);
  if (!tables) throw new Error('memoryTables: these ports were not made by memoryPorts');
  return tables;
}

/** The consent store of the local stack and AWS (ProfileConsentStore over the profile storage), on these ports. */
export function memoryConsentStore(ports: MemoryPorts): ProfileConsentStore {
  return new ProfileConsentStore(memoryTables(ports).profileStorage, ports.clock);
}

/** The suppression list in these ports' runtime table (as DynamoSuppressionList). */
export function memorySuppressionList(ports: MemoryPorts): MemorySuppressionList {
  return new MemorySuppressionList(memoryTables(ports).runtime, ports.privacyKey);
}

/** A request the memory UpdateItem does not implement (DynamoDB might accept it): says what, so it can be added. */
export class UnsupportedUpdateItemError extends Error {
  override readonly name = 'UnsupportedUpdateItemError';
}

type UpdateItem = (input: UpdateItemCommandInput) => Promise<Record<string, unknown>>;
type Unsupported = (what: string) => UnsupportedUpdateItemError;

const SET_ACTION = /^(#[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)$/;
const invalid = (message: string) => new MemoryValidationError(message);

/**
 * The DynamoDB UpdateItem service integration of the compiled ASL (`ledgerUpdate` in lambdas/core/journey/compile.ts),
 * against these ports' runtime table: `SET #a = :a, …` of top-level attributes named by placeholders, with typed
 * values (S, N, BOOL, NULL, M, L, SS, NS), on a `LEDGER#` item, unconditionally (creating the item if absent, as
 * UpdateItem does). Anything else throws UnsupportedUpdateItemError naming it; what DynamoDB itself refuses throws
 * ValidationException. Answers what the integration returns without ReturnValues: no attributes.
 */
export function memoryUpdateItem(ports: MemoryPorts, options: { runtimeTable?: string } = {}): UpdateItem {
  const { runtime } = memoryTables(ports);
  return async (input) => {
    const unsupported: Unsupported = (what) =>
      new UnsupportedUpdateItemError(
        `memory UpdateItem on ${input.TableName}: ${what} is not supported (only SET of #name = :value on a LEDGER# item)`,
      );
    const table = options.runtimeTable;
    if (table !== undefined && input.TableName !== table) {
      throw unsupported(`table ${JSON.stringify(input.TableName)} (only the runtime table ${table})`);
    }
    for (const field of ['ConditionExpression', 'Expected', 'AttributeUpdates', 'ConditionalOperator'] as const) {
      if (input[field] !== undefined) throw unsupported(field);
    }
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE') throw unsupported(`ReturnValues ${input.ReturnValues}`);
    const key = ledgerKey(input.Key, unsupported);
    const changes = setClause(input, unsupported);
    runtime.put({ ...runtime.get(key), ...changes, ...key });
    return {};
  };
}

/** The attributes a `SET #a = :a, …` expression writes, after DynamoDB's checks of its names and values. */
function setClause(input: UpdateItemCommandInput, unsupported: Unsupported): Item {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const expression = (input.UpdateExpression ?? '').trim();
  const clause = /^SET\s+([\s\S]+)$/i.exec(expression);
  if (!clause) throw unsupported(`UpdateExpression ${JSON.stringify(expression)}`);
  const usedNames = new Set<string>();
  const usedValues = new Set<string>();
  const changes: Item = {};
  for (const action of clause[1].split(',').map((a) => a.trim())) {
    const match = SET_ACTION.exec(action);
    if (!match) throw unsupported(`the SET action ${JSON.stringify(action)}`);
    const [, name, value] = match;
    if (!Object.hasOwn(names, name)) {
      throw invalid(`Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: ${name}`);
    }
    if (!Object.hasOwn(values, value)) {
      throw invalid(`Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: ${value}`);
    }
    const attribute = names[name];
    if (attribute === 'pk' || attribute === 'sk') {
      throw invalid(`One or more parameter values were invalid: Cannot update attribute ${attribute}. This attribute is part of the key`);
    }
    if (Object.hasOwn(changes, attribute)) {
      throw invalid(`Invalid UpdateExpression: Two document paths overlap with each other; path one: [${attribute}], path two: [${attribute}]`);
    }
    usedNames.add(name);
    usedValues.add(value);
    setOwn(changes, attribute, toNative(values[value], value, unsupported));
  }
  const unusedNames = Object.keys(names).filter((n) => !usedNames.has(n));
  if (unusedNames.length > 0) throw invalid(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
  const unusedValues = Object.keys(values).filter((v) => !usedValues.has(v));
  if (unusedValues.length > 0) throw invalid(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
  return changes;
}

function ledgerKey(key: UpdateItemCommandInput['Key'], unsupported: Unsupported): { pk: string; sk: string } {
  const attributes = Object.keys(key ?? {});
  const pk = key?.pk?.S;
  const sk = key?.sk?.S;
  if (attributes.length !== 2 || typeof pk !== 'string' || typeof sk !== 'string') {
    throw invalid('The provided key element does not match the schema (pk and sk, both S)');
  }
  if (!pk.startsWith('LEDGER#')) throw unsupported(`the key ${JSON.stringify(pk)}`);
  return { pk, sk };
}

/** A typed AttributeValue as the document client reads it (numbers as numbers). */
function toNative(value: AttributeValue, path: string, unsupported: Unsupported): unknown {
  const fields = value as unknown as Record<string, unknown>;
  const types = Object.keys(fields).filter((t) => fields[t] !== undefined && t !== '$unknown');
  if (types.length !== 1) throw invalid(`Supplied AttributeValue must contain exactly one of the supported datatypes (${path})`);
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return number(value.N, path);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map((n) => number(n, path)));
  if (value.L !== undefined) return value.L.map((v, i) => toNative(v, `${path}[${i}]`, unsupported));
  if (value.M !== undefined) {
    const out: Record<string, unknown> = {};
    for (const [name, inner] of Object.entries(value.M)) setOwn(out, name, toNative(inner, `${path}.${name}`, unsupported));
    return out;
  }
  throw unsupported(`the attribute type ${types[0]} (${path})`);
}

/** Sets an own property whatever its name (`__proto__` included). */
function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function number(text: string, path: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw invalid(`The parameter cannot be converted to a numeric value: ${text} (${path})`);
  return n;
}
