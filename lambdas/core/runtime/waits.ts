import type { BusinessEvent } from '../events/business-event';
import type { StepPayload } from '../journey/asl';
import type { Journey, WaitForEventNode } from '../journey/schema';
import { parseDuration } from '../shared/duration';
import { readPath } from '../shared/paths';
import type { RecentEvent } from '../profiles/model';
import { resumedEvent } from './execution-data';
import type { Clock, Executions, JourneyRecord, ProfileStore, WaitIndex, WaitRegistration } from './ports';

/** How long an index entry outlives its timeout before DynamoDB's TTL may remove it. */
const INDEX_GRACE_SECONDS = 86400;

/** Values of one correlation property an event (or a run) contributes at most: each is one index read (or write). */
export const MAX_CORRELATION_VALUES = 100;
/** Longer values cannot be correlation ids (and would exceed DynamoDB's 2,048-byte partition key): ignored. */
export const MAX_CORRELATION_VALUE_LENGTH = 512;

export function correlationKey(eventType: string, property: string, value: string): string {
  return `${eventType}#${property}#${value}`;
}

/** Catalog-scoped waits live under keys of their own (`:` cannot occur in a property name), found by any sender. */
export function catalogKey(eventType: string, property: string, value: string): string {
  return `${eventType}#catalog:${property}#${value}`;
}

export function profileKey(eventType: string, profileId: string): string {
  return `${eventType}#profile#${profileId}`;
}

const isCatalogScoped = (node: WaitForEventNode) => node.correlate?.scope === 'catalog';

/** The distinct string or number values (of a scalar or a list), bounded in count and length. */
function asKeyValues(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  const out = new Set<string>();
  for (const v of values) {
    if (out.size >= MAX_CORRELATION_VALUES) break;
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const key = String(v);
    if (key.length <= MAX_CORRELATION_VALUE_LENGTH) out.add(key);
  }
  return [...out];
}

/** The index keys under which a waiting execution can be found when one of its events arrives. */
export function registrationKeys(node: WaitForEventNode, state: StepPayload['state']): string[] {
  const keys = new Set<string>();
  for (const type of node.events) {
    if (!node.correlate) {
      keys.add(profileKey(type, state.profileId));
      continue;
    }
    const keyOf = isCatalogScoped(node) ? catalogKey : correlationKey;
    const values = asKeyValues(readPath(state, node.correlate.equals));
    for (const value of values) keys.add(keyOf(type, node.correlate.property, value));
  }
  return [...keys];
}

/** Event ids that already resumed an earlier wait of this execution (they must not resume another). */
function consumedEventIds(state: StepPayload['state']): Set<string> {
  const ids = new Set<string>();
  for (const step of Object.values(state.steps)) {
    const event = (step as { event?: { id?: unknown } } | null)?.event;
    if (typeof event?.id === 'string') ids.add(event.id);
  }
  return ids;
}

/**
 * An awaited event that reached the profile before this wait was registered (the race between a journey step and a
 * quick customer): the newest matching one in the profile's recent events since the run's entry, not used before.
 */
export function earlierMatch(node: WaitForEventNode, state: StepPayload['state'], recent: readonly RecentEvent[]): RecentEvent | undefined {
  // Catalog events are in no profile's window, and a customer's own events do not resume a catalog-scoped wait.
  if (isCatalogScoped(node)) return undefined;
  const entryTime = Date.parse((state.event as { time?: string } | null)?.time ?? '');
  const consumed = consumedEventIds(state);
  const wanted = node.correlate ? new Set(asKeyValues(readPath(state, node.correlate.equals))) : undefined;
  return recent.find(
    (e) =>
      node.events.includes(e.type) &&
      !consumed.has(e.id) &&
      (Number.isNaN(entryTime) || Date.parse(e.time) >= entryTime) &&
      (wanted === undefined || (node.correlate !== undefined && wanted.has(String(readOwn(e.properties, node.correlate.property))))),
  );
}

/**
 * Registers a wait-for-event task token under its correlation keys (idempotent: a retried step rewrites the same items),
 * then resumes it at once if the awaited event already arrived while the journey was getting here.
 */
export async function registerWait(
  deps: { waits: WaitIndex; clock: Clock; profiles?: Pick<ProfileStore, 'get'>; executions?: Pick<Executions, 'resume'> },
  payload: StepPayload<WaitForEventNode> & { token: string },
): Promise<{ keys: number; resumedBy?: string }> {
  const expiresAt = Math.floor(deps.clock.now().getTime() / 1000) + parseDuration(payload.node.timeout) + INDEX_GRACE_SECONDS;
  const registrations: WaitRegistration[] = registrationKeys(payload.node, payload.state).map((key) => ({
    key,
    executionId: payload.executionId,
    nodeId: payload.node.id,
    token: payload.token,
    profileId: payload.state.profileId,
    expiresAt,
  }));
  await deps.waits.register(registrations);
  if (deps.profiles && deps.executions) {
    const profile = await deps.profiles.get(payload.state.profileId);
    const match = profile?.recentEvents ? earlierMatch(payload.node, payload.state, profile.recentEvents) : undefined;
    if (match) {
      // The window keeps scalar properties only; the resumed step sees what the window holds.
      await deps.executions.resume(payload.token, { received: true, event: match, earlier: true });
      return { keys: registrations.length, resumedBy: match.id };
    }
  }
  return { keys: registrations.length };
}

/**
 * The keys an arriving event could resume, given the wait-for-event nodes of all journeys, each with its scope: a
 * `catalog` key resumes whoever waits under it; a `profile` key only runs of one of `profileIds`. A catalog event
 * (no profile) finds catalog-scoped waits only, and a customer's event never finds them.
 */
function lookups(
  journeys: readonly Journey[],
  event: BusinessEvent,
  profileIds: string | readonly string[],
): Map<string, 'profile' | 'catalog'> {
  const keys = new Map<string, 'profile' | 'catalog'>();
  const ids = typeof profileIds === 'string' ? [profileIds] : profileIds;
  for (const journey of journeys) {
    for (const node of journey.nodes) {
      if (node.kind !== 'wait-for-event' || !node.events.includes(event.type)) continue;
      // Catalog-scoped waits hear catalog events only: no customer's event (and data) reaches other people's runs.
      if (Boolean(event.catalog) !== isCatalogScoped(node)) continue;
      // Runs that started before a merge wait under the absorbed profile's id.
      if (!node.correlate) for (const id of ids) keys.set(profileKey(event.type, id), 'profile');
      else {
        const scope = isCatalogScoped(node) ? 'catalog' : 'profile';
        const keyOf = scope === 'catalog' ? catalogKey : correlationKey;
        for (const value of asKeyValues(readOwn(event.properties, node.correlate.property))) {
          keys.set(keyOf(event.type, node.correlate.property, value), scope);
        }
      }
    }
  }
  return keys;
}

function readOwn(properties: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(properties, name) ? properties[name] : undefined;
}

export function lookupKeys(journeys: readonly Journey[], event: BusinessEvent, profileIds: string | readonly string[]): string[] {
  return [...lookups(journeys, event, profileIds).keys()];
}

export interface Resumed {
  executionId: string;
  nodeId: string;
}

/**
 * Resumes every execution waiting for this event; each waiting step resumes once, with the event as its result.
 * A profile-scoped wait found under the event's correlation value resumes only when the event belongs to the run's
 * profile (or a profile merged into it): a stranger's event carrying someone's order id neither resumes nor drops it.
 */
export async function resumeWaiting(
  deps: { waits: WaitIndex; executions: Executions },
  journeys: readonly JourneyRecord[],
  event: BusinessEvent,
  profileIds: string | readonly string[],
): Promise<Resumed[]> {
  const resumed: Resumed[] = [];
  const done = new Set<string>();
  const ids = new Set(typeof profileIds === 'string' ? [profileIds] : profileIds);
  for (const [key, scope] of lookups(journeys.map((r) => r.journey), event, profileIds)) {
    for (const registration of await deps.waits.find(key)) {
      if (scope === 'profile' && !ids.has(registration.profileId)) continue;
      const step = `${registration.executionId}#${registration.nodeId}`;
      if (!done.has(step)) {
        done.add(step);
        // The run gets the event without identities, and bounded (it lives in the run's data from now on).
        const outcome = await deps.executions.resume(registration.token, { received: true, event: resumedEvent(event) });
        if (outcome === 'resumed') resumed.push({ executionId: registration.executionId, nodeId: registration.nodeId });
      }
      await deps.waits.remove(registration);
    }
  }
  return resumed;
}
