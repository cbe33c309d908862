import type { CatalogRecord, CatalogStore } from '../decisions/ports';
import type { Clock } from '../runtime/ports';
import { cachedValue } from '../shared/cached';
import type { RuleSource } from './ports';
import type { Rule } from './rules';
import { storedRule } from './stored-rule';

/**
 * Where governance rules are kept: the rule files deployed (origin `file`) and the rules written through the API
 * (origin `api`), as items of the journeys table (adapters: DynamoDB, memory). `list()` is what the send step reads
 * (the engine's `RuleSource` port); the rest is for the API.
 */

/** A stored rule: its definition, where it came from, and its version (the API's ETag; +1 with every write). */
export type RuleRecord = CatalogRecord<Rule>;

export interface RuleStore {
  /** Every rule in force, files and API ones; a stored item that no longer parses is left out (and shown by `records`). */
  list(): Promise<Rule[]>;
  /** Every stored rule with its origin and version, by id. */
  records(): Promise<RuleRecord[]>;
  get(id: string): Promise<RuleRecord | undefined>;
  /** `expectedVersion` undefined → only if absent; a number → only at that version; `force` → always. False: the condition failed. */
  put(record: RuleRecord, condition: { expectedVersion?: number; force?: boolean }): Promise<boolean>;
  /** False when there was none. */
  delete(id: string): Promise<boolean>;
}

/**
 * A rule store over a catalog store (the same items and conditions as segments and offers: `RULES` / `RULE#<id>`).
 * `list()` parses each definition again, so a rule stored before a schema default was added reads with it.
 */
export function catalogRuleStore(catalog: CatalogStore<Rule>): RuleStore {
  return {
    list: async () => (await catalog.list()).flatMap((r) => {
      const rule = storedRule(r.definition);
      return rule === undefined ? [] : [rule];
    }),
    records: async () => (await catalog.list()).sort((a, b) => (a.definition.id < b.definition.id ? -1 : a.definition.id > b.definition.id ? 1 : 0)),
    get: (id) => catalog.get(id),
    put: (record, condition) => catalog.put(record, condition),
    delete: (id) => catalog.delete(id),
  };
}

/** How long a function keeps the rules it read (`cachedRuleSource`): an API rule applies within it. */
export const RULE_CACHE_MS = 60_000;

/**
 * The rules in force as the send step reads them on AWS: listed at most once every `ttlMs` per container, so a send
 * costs no rule read, and a rule written or deleted through the API governs every message at most `ttlMs` later.
 */
export function cachedRuleSource(store: Pick<RuleStore, 'list'>, clock: Clock, ttlMs = RULE_CACHE_MS): RuleSource {
  const cache = cachedValue(() => store.list(), clock, ttlMs);
  return { list: () => cache.get() };
}
