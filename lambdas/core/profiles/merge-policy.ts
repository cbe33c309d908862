import type { BusinessEvent } from '../events/business-event';
import { keyedHash, LOCAL_PRIVACY_KEY } from '../privacy/keys';
import { dict, own, type Dict } from '../shared/records';
import { applyConsentChange, mergeConsentStates } from './consent-state';
import { ProfileLimits, type AttributeValue, type ComputedStats, type ProfilePolicy, type ProfileState, type RecentEvent } from './model';

export { compareConsent } from './consent-state';

/**
 * The merge policy, as pure functions. Every combination below is a maximum under a total order, a sum or a union,
 * so folding profiles is commutative and associative, and `absorbed` makes it idempotent:
 * - attribute: the higher-ranked source wins when `sourcePriority` is set, then the later event time, then (a tie)
 *   the greater JSON text of the value, then the greater source name;
 * - consent per key: a firm decision (explicit, or any opt-out) over an event-borne opt-in, then the later `at`, then
 *   opted-out over opted-in (a tie never re-subscribes anyone), then the greater source (consent-state.ts); history: union;
 * - computed per event type: counts and sums add, firstSeen is the minimum, lastSeen the maximum (within
 *   `ProfileLimits`: the survivor's types and sums first, then the absorbed one's, earliest first, while room is left);
 * - identities: union, each value's first-linked (receipt) time the minimum;
 * - recent events: union by event id, the newest `size` kept;
 * - survivor: the older `createdAt` (receipt time of the creating event), then the smaller id.
 * Every map keyed by outside data (namespaces, values, names, types) is a null-prototype record read as own
 * properties (shared/records.ts), so `constructor` or `__proto__` is a key like any other.
 */

const DAY_MS = 86_400_000;

const NORMALIZED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function normalizeTime(time: string): string {
  return NORMALIZED.test(time) ? time : new Date(time).toISOString();
}

/** Whether the profile holds an event id among those applied and not yet marked on their record (see ingest.ts). */
export function isDuplicate(state: Pick<ProfileState, 'pending'>, eventId: string): boolean {
  return state.pending.some(([id]) => id === eventId);
}

/**
 * Profile ids are derived from the identity that created the profile, so a retried creation lands on the same id;
 * keyed with the stage's privacy key (HMAC-SHA256), so the id in SES tags, tokens and logs names nobody without it.
 * The default key is the local stack's and the tests'.
 */
export function newProfileId(namespace: string, value: string, privacyKey: string = LOCAL_PRIVACY_KEY): string {
  return `p-${keyedHash(privacyKey, 'profile', `${namespace}:${value}`).slice(0, 24)}`;
}

/** The keyed parts of a profile, empty: null-prototype records (keyed by outside names), so no name reaches Object. */
export function emptyProfileMaps(): Pick<ProfileState, 'identities' | 'attributes' | 'attributeTimes' | 'attributeSources' | 'computed' | 'consent'> {
  return { identities: dict(), attributes: dict(), attributeTimes: dict(), attributeSources: dict(), computed: dict(), consent: dict() };
}

export function emptyProfile(id: string, createdAt: string): ProfileState {
  return {
    id,
    status: 'active',
    ...emptyProfileMaps(),
    pending: [],
    absorbed: [],
    createdAt: normalizeTime(createdAt),
    updatedAt: normalizeTime(createdAt),
    version: 0,
  };
}

/** Sorted identities of an event: namespace, then value. */
export function eventIdentities(event: Pick<BusinessEvent, 'identities'>): [string, string][] {
  return Object.entries(event.identities).sort(([a, x], [b, y]) => (a === b ? compare(x, y) : compare(a, b)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rank of a source: listed sources rank above unlisted ones (0), the first listed highest. */
export function sourceRank(source: string | undefined, policy: ProfilePolicy): number {
  const index = source === undefined ? -1 : policy.sourcePriority.indexOf(source);
  return index < 0 ? 0 : policy.sourcePriority.length - index;
}

export interface AttributeCandidate {
  value: AttributeValue;
  at: string;
  source: string;
}

/** Positive when `a` wins over `b` (see the policy above); 0 only for identical candidates. */
export function compareAttributes(a: AttributeCandidate, b: AttributeCandidate, policy: ProfilePolicy): number {
  return (
    sourceRank(a.source, policy) - sourceRank(b.source, policy) ||
    compare(a.at, b.at) ||
    compare(JSON.stringify(a.value), JSON.stringify(b.value)) ||
    compare(a.source, b.source)
  );
}

export function mergeComputed(a: ComputedStats, b: ComputedStats): ComputedStats {
  const sums = dict(Object.entries(a.sums));
  let room = ProfileLimits.sumsPerType - Object.keys(sums).length;
  for (const [name, total] of Object.entries(b.sums).sort(([x], [y]) => compare(x, y))) {
    const held = own(sums, name);
    if (held !== undefined) sums[name] = held + total;
    else if (room-- > 0) sums[name] = total;
  }
  return {
    count: a.count + b.count,
    firstSeen: a.firstSeen < b.firstSeen ? a.firstSeen : b.firstSeen,
    lastSeen: a.lastSeen > b.lastSeen ? a.lastSeen : b.lastSeen,
    sums: sortKeys(sums),
  };
}

/** Union by event id, newest first (time, then id), at most `size`. */
export function mergeWindows(a: readonly RecentEvent[], b: readonly RecentEvent[], size: number): RecentEvent[] {
  const byId = new Map<string, RecentEvent>();
  for (const entry of [...a, ...b]) {
    const held = byId.get(entry.id);
    // The same event recorded twice (on an absorbed profile and its survivor) keeps its first receipt.
    if (!held || entry.receivedAt < held.receivedAt) byId.set(entry.id, entry);
  }
  return [...byId.values()].sort((x, y) => compare(y.time, x.time) || compare(y.id, x.id)).slice(0, size);
}

/** The window as readers see it: within `days` of `now` by event time, newest first, at most `size`. */
export function recentWindow(entries: readonly RecentEvent[], now: Date, policy: ProfilePolicy): RecentEvent[] {
  const since = new Date(now.getTime() - policy.window.days * DAY_MS).toISOString();
  return mergeWindows(
    entries.filter((e) => e.time >= since),
    [],
    policy.window.size,
  );
}

const MAX_WINDOW_PROPERTIES = 16;
const MAX_WINDOW_STRING = 256;

/** The window entry of an event: its scalar properties only (strings up to 256 characters), at most 16, by name. */
export function windowEntry(event: BusinessEvent, receivedAt: Date): RecentEvent {
  const properties = dict<AttributeValue>();
  for (const name of Object.keys(event.properties).sort()) {
    if (Object.keys(properties).length >= MAX_WINDOW_PROPERTIES) break;
    const value = own(event.properties, name);
    if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_WINDOW_STRING)) {
      properties[name] = value;
    }
  }
  return { id: event.id, type: event.type, time: normalizeTime(event.time), source: event.source, properties, receivedAt: receivedAt.toISOString() };
}

const SUMMED_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * The numeric properties of an event that the policy sums: finite numbers under identifier names, the first
 * `ProfileLimits.sumsPerType` by name (other properties are kept in the event's window entry, not summed).
 */
export function summedProperties(event: Pick<BusinessEvent, 'type' | 'properties'>, policy: ProfilePolicy): [string, number][] {
  const names = policy.sums === 'numeric' ? Object.keys(event.properties) : (own(policy.sums, event.type) ?? []);
  return names
    .filter((name) => SUMMED_NAME.test(name) && Object.hasOwn(event.properties, name))
    .map((name) => [name, event.properties[name]] as [string, unknown])
    .filter((pair): pair is [string, number] => typeof pair[1] === 'number' && Number.isFinite(pair[1]))
    .sort(([a], [b]) => compare(a, b))
    .slice(0, ProfileLimits.sumsPerType);
}

/** Whether a profile holds (or has room for) an attribute: beyond `ProfileLimits.attributes` a new name is not kept. */
export function holdsAttribute(attributeTimes: ProfileState['attributeTimes'], name: string): boolean {
  return Object.hasOwn(attributeTimes, name) || Object.keys(attributeTimes).length < ProfileLimits.attributes;
}

/** Whether a profile counts an event type: it does already, or it counts fewer than `ProfileLimits.computedTypes`. */
export function tracksType(computed: ProfileState['computed'], type: string): boolean {
  return Object.hasOwn(computed, type) || Object.keys(computed).length < ProfileLimits.computedTypes;
}

function sortKeys<T>(record: Dict<T>): Dict<T> {
  return dict(Object.entries(record).sort(([a], [b]) => compare(a, b)));
}

function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compare);
}

/**
 * Applies one event to a profile: identities linked, attributes and consent by the policy, computed attributes,
 * and the event id remembered (a second application changes nothing). `now` is the ingestion clock; `recordedAt`
 * the time of the event's record (its `receivedAt`), kept with the id in `pending`.
 */
export function applyEvent(state: ProfileState, event: BusinessEvent, now: Date, policy: ProfilePolicy, recordedAt = now.toISOString()): { state: ProfileState; duplicate: boolean } {
  if (isDuplicate(state, event.id)) return { state, duplicate: true };
  const at = normalizeTime(event.time);
  // Maps are kept sorted by key (canonical, so equal profiles compare equal); re-sorted only when a key is new.
  // An identity's first-linked time is the receipt time: the sender's time would let an old-dated event take the primary.
  const received = now.toISOString();
  let identities = state.identities;
  for (const [namespace, value] of eventIdentities(event)) {
    const values = own(identities, namespace) ?? dict();
    const first = own(values, value);
    if (first !== undefined && first <= received) continue;
    identities = withKey(identities, namespace, withKey(values, value, received));
  }
  let { attributes, attributeTimes, attributeSources } = state;
  for (const [name, value] of Object.entries(event.attributes ?? {})) {
    if (!holdsAttribute(attributeTimes, name)) continue;
    const candidate = { value, at, source: event.source };
    const heldAt = own(attributeTimes, name);
    const held =
      heldAt === undefined ? undefined : { value: own(attributes, name)!, at: heldAt, source: own(attributeSources, name)! };
    if (held && compareAttributes(candidate, held, policy) <= 0) continue;
    attributes = withKey(attributes, name, value);
    attributeTimes = withKey(attributeTimes, name, at);
    attributeSources = withKey(attributeSources, name, event.source);
  }
  let consent = state.consent;
  for (const [name, status] of Object.entries(event.consent ?? {})) {
    const change = { status, at, source: event.source, via: 'event' as const, recordedAt: received, eventId: event.id };
    consent = withKey(consent, name, applyConsentChange(own(consent, name), change).state);
  }
  let computed = state.computed;
  // Beyond the bound on event types a new type is not counted; the rest of the event applies all the same.
  if (tracksType(computed, event.type)) {
    const held = own(computed, event.type);
    const single: ComputedStats = { count: 1, firstSeen: at, lastSeen: at, sums: dict(summedProperties(event, policy)) };
    computed = withKey(computed, event.type, held ? mergeComputed(held, single) : single);
  }
  const pending = [...state.pending, [event.id, recordedAt] as [string, string]].sort(([a], [b]) => compare(a, b));
  return {
    duplicate: false,
    state: { ...state, identities, attributes, attributeTimes, attributeSources, consent, computed, pending, updatedAt: now.toISOString(), version: state.version + 1 },
  };
}

/** A copy of a key-sorted record with one key set, still sorted. */
function withKey<T>(record: Dict<T>, key: string, value: T): Dict<T> {
  const next = dict(Object.entries(record));
  next[key] = value;
  return Object.hasOwn(record, key) ? next : sortKeys(next);
}

/**
 * When an event can be applied as blind increments (DynamoDB ADD/SET without reading the profile) with the same result
 * as `applyEvent`: the profile is active, the id unseen, and the event is newer than everything it overwrites.
 * Anything else (out-of-order times, ties, a higher-ranked source held, consent with its history) takes the
 * read-modify-write path.
 */
export function canApplyIncrementally(state: ProfileState | undefined, event: BusinessEvent, now: Date, policy: ProfilePolicy): state is ProfileState {
  if (!state || state.status !== 'active' || isDuplicate(state, event.id) || state.pending.length >= ProfileLimits.pending) return false;
  // A flush that dropped an id recorded since this call recorded its event may have dropped this very event.
  if (state.flushedAt !== undefined && !(state.flushedAt < now.toISOString())) return false;
  // Consent keeps a bounded history, which a blind write cannot trim: consent-bearing events are rare (sign-ups).
  if (Object.keys(event.consent ?? {}).length > 0) return false;
  const at = normalizeTime(event.time);
  const rank = sourceRank(event.source, policy);
  for (const name of Object.keys(event.attributes ?? {})) {
    const heldAt = own(state.attributeTimes, name);
    const heldRank = sourceRank(own(state.attributeSources, name), policy);
    if (heldAt !== undefined && !(heldAt < at && heldRank <= rank)) return false;
  }
  const names = Object.keys(event.attributes ?? {});
  const heldNames = Object.keys(state.attributeTimes).length;
  if (names.some((n) => !Object.hasOwn(state.attributeTimes, n)) && heldNames + names.length > ProfileLimits.attributes) return false;
  if (!tracksType(state.computed, event.type)) return false;
  const stats = own(state.computed, event.type);
  const sums = summedProperties(event, policy).map(([name]) => name);
  const held = Object.keys(stats?.sums ?? {});
  if (sums.some((name) => !held.includes(name)) && held.length + sums.length > ProfileLimits.sumsPerType) return false;
  return !stats || stats.lastSeen <= at;
}


/** Sources ranked strictly above `source` (the incremental write refuses to overwrite a value they set). */
export function sourcesAbove(source: string, policy: ProfilePolicy): string[] {
  const rank = sourceRank(source, policy);
  return policy.sourcePriority.filter((s) => sourceRank(s, policy) > rank);
}

/** Which of two profiles survives a merge: the older `createdAt`, then the smaller id. */
export function chooseSurvivor<T extends Pick<ProfileState, 'id' | 'createdAt'>>(a: T, b: T): T {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? a : b;
  return a.id <= b.id ? a : b;
}

/**
 * Folds `absorbed` into `survivor` by the policy. Idempotent: a profile already folded (directly or through another)
 * changes nothing. The survivor keeps its id, status, createdAt and version (storage bumps the version on write).
 */
export function foldInto(survivor: ProfileState, absorbed: ProfileState, policy: ProfilePolicy): ProfileState {
  if (absorbed.id === survivor.id || survivor.absorbed.includes(absorbed.id)) return survivor;
  const identities = dict(Object.entries(survivor.identities));
  for (const [namespace, values] of Object.entries(absorbed.identities)) {
    const merged = dict(Object.entries(own(identities, namespace) ?? {}));
    for (const [value, first] of Object.entries(values)) {
      const held = own(merged, value);
      if (held === undefined || first < held) merged[value] = first;
    }
    identities[namespace] = sortKeys(merged);
  }
  const attributes = dict(Object.entries(survivor.attributes));
  const attributeTimes = dict(Object.entries(survivor.attributeTimes));
  const attributeSources = dict(Object.entries(survivor.attributeSources));
  for (const name of Object.keys(absorbed.attributeTimes)) {
    if (!holdsAttribute(attributeTimes, name)) continue;
    const candidate = {
      value: own(absorbed.attributes, name)!,
      at: absorbed.attributeTimes[name],
      source: own(absorbed.attributeSources, name)!,
    };
    const heldAt = own(attributeTimes, name);
    const held =
      heldAt === undefined ? undefined : { value: own(attributes, name)!, at: heldAt, source: own(attributeSources, name)! };
    if (held && compareAttributes(candidate, held, policy) <= 0) continue;
    attributes[name] = candidate.value;
    attributeTimes[name] = candidate.at;
    attributeSources[name] = candidate.source;
  }
  const consent = dict(Object.entries(survivor.consent));
  for (const [name, state] of Object.entries(absorbed.consent)) {
    const held = own(consent, name);
    consent[name] = held ? mergeConsentStates(held, state) : state;
  }
  const computed = dict(Object.entries(survivor.computed));
  let room = ProfileLimits.computedTypes - Object.keys(computed).length;
  // The survivor's types first, then the absorbed profile's new ones, earliest first, while the bound leaves room.
  const types = Object.entries(absorbed.computed).sort(([ta, a], [tb, b]) => compare(a.firstSeen, b.firstSeen) || compare(ta, tb));
  for (const [type, stats] of types) {
    const held = own(computed, type);
    if (held) computed[type] = mergeComputed(held, stats);
    else if (room-- > 0) computed[type] = stats;
  }
  return {
    ...survivor,
    identities: sortKeys(identities),
    attributes: sortKeys(attributes),
    attributeTimes: sortKeys(attributeTimes),
    attributeSources: sortKeys(attributeSources),
    consent: sortKeys(consent),
    computed: sortKeys(computed),
    absorbed: sortedUnion(survivor.absorbed, [absorbed.id, ...absorbed.absorbed]),
    updatedAt: survivor.updatedAt > absorbed.updatedAt ? survivor.updatedAt : absorbed.updatedAt,
  };
}

/** Merges two profiles: the survivor (see `chooseSurvivor`) absorbs the other. Commutative, associative, idempotent. */
export function mergeProfiles(a: ProfileState, b: ProfileState, policy: ProfilePolicy): ProfileState {
  const survivor = chooseSurvivor(a, b);
  return foldInto(survivor, survivor === a ? b : a, policy);
}

/** The first-linked value of each namespace, and all values in first-linked order. */
export function identityViews(identities: ProfileState['identities']): { primary: Record<string, string>; all: Record<string, string[]> } {
  const primary = dict<string>();
  const all = dict<string[]>();
  for (const [namespace, values] of Object.entries(identities)) {
    all[namespace] = Object.entries(values)
      .sort(([va, ta], [vb, tb]) => compare(ta, tb) || compare(va, vb))
      .map(([value]) => value);
    if (all[namespace].length > 0) primary[namespace] = all[namespace][0];
  }
  return { primary, all };
}
