import { parseBusEvent, type BusinessEvent, type EventBridgeEvent, type FieldError } from '../events/business-event';
import { PLATFORM_SOURCE_PREFIX } from '../config/env-keys';
import { enterJourney, entryMatches, type EntryOutcome } from './enter';
import type { Clock, EnrollmentStore, Executions, JourneyRegistry, ProfileStore, RejectedEventStore, WaitIndex } from './ports';
import { resumeWaiting, type Resumed } from './waits';

export interface RouteDeps {
  profiles: ProfileStore;
  journeys: JourneyRegistry;
  enrollments: EnrollmentStore;
  waits: WaitIndex;
  executions: Executions;
  rejected: RejectedEventStore;
  clock: Clock;
}

export type RouteResult =
  | { status: 'rejected'; errors: FieldError[] }
  | { status: 'ignored'; reason: 'platform-event' }
  | { status: 'routed'; profileId: string; entries: EntryOutcome[]; resumed: Resumed[] };

/** Routes one business event: updates the profile, resumes waiting executions, starts matching journeys. */
export async function routeBusinessEvent(deps: RouteDeps, event: BusinessEvent): Promise<RouteResult> {
  const profile = await deps.profiles.upsertFromEvent(event);
  const journeys = await deps.journeys.list();
  const resumed = await resumeWaiting(deps, journeys, event, profile.id);
  const entries: EntryOutcome[] = [];
  for (const record of journeys) {
    if (entryMatches(record, event, profile)) entries.push(await enterJourney(deps, record, profile, { id: event.id, event, context: {} }));
  }
  return { status: 'routed', profileId: profile.id, entries, resumed };
}

/** Routes an event as delivered by the EventBridge rule; an invalid one is kept with its reason, never dropped. */
export async function routeBusEvent(deps: RouteDeps, raw: EventBridgeEvent): Promise<RouteResult> {
  if (raw.source.startsWith(PLATFORM_SOURCE_PREFIX)) return { status: 'ignored', reason: 'platform-event' };
  const parsed = parseBusEvent(raw);
  if (!parsed.ok) {
    await deps.rejected.put({ receivedAt: deps.clock.now().toISOString(), origin: 'bus', errors: parsed.errors, raw });
    return { status: 'rejected', errors: parsed.errors };
  }
  return routeBusinessEvent(deps, parsed.value);
}
