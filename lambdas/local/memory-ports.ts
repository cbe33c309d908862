import { onceMarkItemKey } from '../core/measure/run-end';
import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import type { dynamoPorts } from '../adapters/dynamodb-ports';
import { ProfileConsentStore } from '../core/consent/profile-consent-store';
import type { Offer, Placement } from '../core/decisions/model';
import type { Rule } from '../core/governance/rules';
import { catalogRuleStore } from '../core/governance/store';
import { localPrivacyKey, type PrivacyKey } from '../core/privacy/keys';
import { defaultProfilePolicy } from '../core/profiles/model';
import { GraphProfileStore } from '../core/profiles/store';
import type { Clock } from '../core/runtime/ports';
import { checkIncrement, checkWindow } from '../core/measure/counter-checks';
import type { OnceMarks } from '../core/measure/run-end';
import { COUNTER_PREFIX, COUNTER_SHARDS, counterPartitionKey, counterSortKey, dayRange, parseCounterSortKey, sumTotals } from '../core/measure/keys';
import type { SegmentDefinition } from '../core/segments/rule';
import { MemoryCatalogStore } from './memory/catalog';
import { MemoryConversionStore } from './memory/conversions';
import { MemoryCampaignConversionStore } from './memory/campaign-conversions';
import type { CounterIncrement, CounterTotal, JourneyCounters } from '../core/measure/counters';
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
import { MemoryProfileRuns } from './memory/runs';
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
    profileRuns: new MemoryProfileRuns(runtime),
    segmentStore: new MemoryCatalogStore<SegmentDefinition>(journeysTable, 'SEGMENT'),
    memberships: new MemoryMembershipStore(profilesTable),
    snapshots: new MemorySnapshotStore(runtime),
    profileScanner: new MemoryProfileScanner(profileStorage, profilesTable, clock, policy),
    offerStore: new MemoryCatalogStore<Offer>(journeysTable, 'OFFER'),
    placementStore: new MemoryCatalogStore<Placement>(journeysTable, 'PLACEMENT'),
    caps: new MemoryCapStore(runtime),
    decisionLog: new MemoryDecisionLog(runtime, clock),
    sendCaps: new MemorySendCapStore(runtime),
    conversions: new MemoryConversionStore(runtime),
    campaignConversions: new MemoryCampaignConversionStore(runtime),
    ruleStore: catalogRuleStore(new MemoryCatalogStore<Rule>(journeysTable, 'RULE')),
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

/**
 * Journey counters in these ports' runtime table, under the keys DynamoJourneyCounters writes (shard picked by `random`),
 * so the compiled send steps' ADD updates (memoryUpdateItem) and this store count into the same items.
 */
export function memoryJourneyCounters(ports: MemoryPorts, random: () => number = Math.random): JourneyCounters {
  const { runtime } = memoryTables(ports);
  return {
    async add(increments) {
      for (const inc of increments) checkIncrement(inc);
      for (const inc of increments) {
        const shard = Math.min(COUNTER_SHARDS - 1, Math.floor(random() * COUNTER_SHARDS));
        const key = { pk: counterPartitionKey(inc.journeyId, shard), sk: counterSortKey(inc.day, inc.name, inc.dims) };
        const value = Number(runtime.get(key)?.value ?? 0) + (inc.by ?? 1);
        runtime.put({ ...runtime.get(key), ...key, value });
      }
    },
    async read(journeyId, fromDay, toDay) {
      checkWindow(fromDay, toDay);
      const { start, end } = dayRange(fromDay, toDay);
      const totals: CounterTotal[] = [];
      for (let shard = 0; shard < COUNTER_SHARDS; shard++) {
        for (const item of runtime.query(counterPartitionKey(journeyId, shard))) {
          const sk = item.sk as string;
          const key = sk >= start && sk <= end ? parseCounterSortKey(sk) : undefined;
          if (key) totals.push({ ...key, value: Number(item.value ?? 0) });
        }
      }
      return sumTotals(totals);
    },
  };
}

/** First-time marks in these ports' runtime table, as DynamoOnceMarks keeps them. */
export function memoryOnceMarks(ports: MemoryPorts): OnceMarks {
  const { runtime } = memoryTables(ports);
  return {
    async first(key, expiresAt) {
      const item = onceMarkItemKey(key);
      if (runtime.get(item)) return false;
      runtime.put({ ...item, expiresAt });
      return true;
    },
  };
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
 * The DynamoDB UpdateItem service integration of the compiled ASL (lambdas/core/journey/compile.ts), against these
 * ports' runtime table: on a `LEDGER#` item, `SET #a = :a, …` of top-level attributes named by placeholders, with typed
 * values (S, N, BOOL, NULL, M, L, SS, NS), optionally under the condition `#a = :v` (the ledger's transition; a failed
 * one throws ConditionalCheckFailedException), creating the item if absent, as UpdateItem does; on a `COUNTER#` item
 * (journey counters), `ADD #a :n` of a number. Anything else throws UnsupportedUpdateItemError naming it; what DynamoDB
 * itself refuses throws ValidationException. Answers what the integration returns without ReturnValues: no attributes.
 */
export function memoryUpdateItem(ports: MemoryPorts, options: { runtimeTable?: string } = {}): UpdateItem {
  const { runtime } = memoryTables(ports);
  return async (input) => {
    const unsupported: Unsupported = (what) =>
      new UnsupportedUpdateItemError(
        `memory UpdateItem on ${input.TableName}: ${what} is not supported (only SET of #name = :value on a LEDGER# item, ADD #name :number on a COUNTER# item)`,
      );
    const table = options.runtimeTable;
    if (table !== undefined && input.TableName !== table) {
      throw unsupported(`table ${JSON.stringify(input.TableName)} (only the runtime table ${table})`);
    }
    for (const field of ['Expected', 'AttributeUpdates', 'ConditionalOperator'] as const) {
      if (input[field] !== undefined) throw unsupported(field);
    }
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE') throw unsupported(`ReturnValues ${input.ReturnValues}`);
    const key = itemKey(input.Key);
    const expression = (input.UpdateExpression ?? '').trim();
    if (key.pk.startsWith(COUNTER_PREFIX) && /^ADD\s/i.test(expression)) {
      if (input.ConditionExpression !== undefined) throw unsupported('ConditionExpression on a counter');
      const add = /^ADD\s+(#[A-Za-z0-9_]+)\s+(:[A-Za-z0-9_]+)$/i.exec(expression);
      if (!add) throw unsupported(`UpdateExpression ${JSON.stringify(expression)}`);
      const { attribute, value } = placeholders(input, add[1], add[2]);
      const by = toNative(value, add[2], unsupported);
      if (typeof by !== 'number') throw invalid('Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: not a number');
      const stored = runtime.get(key);
      const current = stored && Object.hasOwn(stored, attribute) ? stored[attribute] : undefined;
      if (current !== undefined && typeof current !== 'number') throw invalid('An operand in the update expression has an incorrect data type');
      runtime.put({ ...stored, [attribute]: (current ?? 0) + by, ...key });
      return {};
    }
    if (!key.pk.startsWith('LEDGER#')) throw unsupported(`UpdateExpression ${JSON.stringify(expression)} on the key ${JSON.stringify(key.pk)}`);
    const condition = conditionOf(input, unsupported);
    const changes = setClause(input, unsupported, condition?.used ?? []);
    const existing = runtime.get(key);
    if (condition && (existing === undefined || !Object.hasOwn(existing, condition.attribute) || existing[condition.attribute] !== condition.equals)) {
      throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    }
    runtime.put({ ...existing, ...changes, ...key });
    return {};
  };
}

/** The attribute name and typed value two placeholders stand for, as DynamoDB checks them. */
function placeholders(input: UpdateItemCommandInput, name: string, value: string): { attribute: string; value: AttributeValue } {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  if (!Object.hasOwn(names, name)) throw invalid(`Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: ${name}`);
  if (!Object.hasOwn(values, value)) throw invalid(`Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: ${value}`);
  const attribute = names[name];
  if (attribute === 'pk' || attribute === 'sk') throw invalid(`One or more parameter values were invalid: Cannot update attribute ${attribute}. This attribute is part of the key`);
  return { attribute, value: values[value] };
}

/** A `#name = :value` condition (the only form supported), with the placeholders it uses. */
function conditionOf(input: UpdateItemCommandInput, unsupported: Unsupported): { attribute: string; equals: unknown; used: string[] } | undefined {
  if (input.ConditionExpression === undefined) return undefined;
  const match = /^(#[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)$/.exec(input.ConditionExpression.trim());
  if (!match) throw unsupported(`ConditionExpression ${JSON.stringify(input.ConditionExpression)}`);
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  if (!Object.hasOwn(names, match[1])) throw invalid(`Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: ${match[1]}`);
  if (!Object.hasOwn(values, match[2])) throw invalid(`Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: ${match[2]}`);
  return { attribute: names[match[1]], equals: toNative(values[match[2]], match[2], unsupported), used: [match[1], match[2]] };
}

/** The attributes a `SET #a = :a, …` expression writes, after DynamoDB's checks of its names and values. */
function setClause(input: UpdateItemCommandInput, unsupported: Unsupported, usedByCondition: readonly string[] = []): Item {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const expression = (input.UpdateExpression ?? '').trim();
  const clause = /^SET\s+([\s\S]+)$/i.exec(expression);
  if (!clause) throw unsupported(`UpdateExpression ${JSON.stringify(expression)}`);
  const usedNames = new Set<string>(usedByCondition.filter((p) => p.startsWith('#')));
  const usedValues = new Set<string>(usedByCondition.filter((p) => p.startsWith(':')));
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

function itemKey(key: UpdateItemCommandInput['Key']): { pk: string; sk: string } {
  const attributes = Object.keys(key ?? {});
  const pk = key?.pk?.S;
  const sk = key?.sk?.S;
  if (attributes.length !== 2 || typeof pk !== 'string' || typeof sk !== 'string') {
    throw invalid('The provided key element does not match the schema (pk and sk, both S)');
  }
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

/**
 * Journey counters that keep every increment as it came (tests that check what was counted, and when); `read`
 * answers them summed, as the DynamoDB adapter answers its shards summed.
 */
export function recordingJourneyCounters(): JourneyCounters & { increments: CounterIncrement[] } {
  const increments: CounterIncrement[] = [];
  return {
    increments,
    async add(batch) {
      increments.push(...batch.map((i) => ({ ...i, dims: { ...i.dims } })));
    },
    async read(journeyId, fromDay, toDay) {
      const totals = new Map<string, CounterTotal>();
      for (const i of increments) {
        if (i.journeyId !== journeyId || i.day < fromDay || i.day > toDay) continue;
        const dims = Object.fromEntries(Object.entries(i.dims ?? {}).sort(([a], [b]) => a.localeCompare(b)));
        const key = JSON.stringify([i.day, i.name, dims]);
        const total = totals.get(key) ?? { day: i.day, name: i.name, dims, value: 0 };
        total.value += i.by ?? 1;
        totals.set(key, total);
      }
      return [...totals.values()];
    },
  };
}
