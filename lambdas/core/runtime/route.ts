import { parseBusEvent } from '../events/bus-event';
import type { BusinessEvent, EventBridgeEvent, FieldError } from '../events/business-event';
import { AWS_SOURCE_PREFIX, PLATFORM_SOURCE_PREFIX } from '../config/env-keys';
import { checkEventTime } from '../events/event-time';
import { enterJourney, entryMatches, type EntryOutcome } from './enter';
import type { Clock, EnrollmentStore, EventPublisher, Executions, JourneyRegistry, Profile, ProfileStore, RejectedEventStore, WaitIndex } from './ports';
import { resumeWaiting, type Resumed } from './waits';
import { carryOverMerge } from './merge';
import type { CapCarryOver } from '../decisions/ports';
import type { SegmentCatalog } from '../segments/cached-catalog';
import type { MembershipStore } from '../segments/ports';
import { updateSegments, type SegmentUpdate } from './segments';
import type { JourneyCounters } from '../measure/counters';
import { recordConversions, type ConversionStore } from '../measure/conversions';
import { recordCampaignConversions, type CampaignConversionDeps } from '../campaigns/conversions';

export interface RouteDeps {
  profiles: ProfileStore;
  journeys: JourneyRegistry;
  enrollments: EnrollmentStore;
  waits: WaitIndex;
  executions: Executions;
  rejected: RejectedEventStore;
  /** Where the platform's own events go (`ProfileMerged`). */
  publisher: EventPublisher;
  clock: Clock;
  /** Streaming segmentation; without it events update profiles and journeys only. */
  segmentation?: { segments: SegmentCatalog; memberships: MembershipStore };
  /** Per-profile offer caps, carried into the survivor of a merge; without it they stay with the absorbed id. */
  caps?: CapCarryOver;
  /** Governance frequency-cap slots, likewise carried into the survivor. */
  sendCaps?: CapCarryOver;
  /** Goal conversions (windows opened at entry); without it nothing converts. */
  conversions?: ConversionStore;
  /** Where entries and conversions are counted; without it they are not. */
  counters?: JourneyCounters;
  /** Campaign runs' goal conversions (windows opened at audience time); without it campaign runs convert nothing. */
  campaignGoals?: CampaignConversionDeps;
}

/** The platform event announcing a merge (at least once: a retried merge may announce again). */
export function profileMergedEvent(profile: Profile, absorbed: readonly string[], cause: BusinessEvent, at: string): BusinessEvent {
  return {
    id: `merge-${profile.id}-${absorbed.join('-')}`.slice(0, 128),
    type: 'ProfileMerged',
    source: `${PLATFORM_SOURCE_PREFIX}profiles`,
    time: at,
    identities: profile.identities,
    properties: { profileId: profile.id, absorbed: [...absorbed], causedBy: { id: cause.id, type: cause.type } },
  };
}

export type RouteResult =
  | { status: 'rejected'; errors: FieldError[] }
  | { status: 'ignored'; reason: 'platform-event' | 'aws-event' }
  /** A catalog event (`"catalog": true`): no profile, no entries, no segments; catalog-scoped waits resumed. */
  | { status: 'catalog'; resumed: Resumed[] }
  | { status: 'routed'; profileId: string; entries: EntryOutcome[]; resumed: Resumed[]; segments?: Omit<SegmentUpdate, 'memberships'> };

/** Routes one business event: updates the profile, resumes waiting executions, starts matching journeys. */
export async function routeBusinessEvent(deps: RouteDeps, event: BusinessEvent): Promise<RouteResult> {
  if (event.catalog) {
    return { status: 'catalog', resumed: await resumeWaiting(deps, await deps.journeys.list(), event, []) };
  }
  const { profile, merged, duplicate } = await deps.profiles.ingest(event);
  if (merged.length > 0) await deps.publisher.publish([profileMergedEvent(profile, merged, event, deps.clock.now().toISOString())]);
  const journeys = await deps.journeys.list();
  // A repeat may be the retry of a delivery that merged and failed before carrying over: carry again (idempotent).
  const absorbed = merged.length > 0 ? merged : duplicate ? (profile.mergedIds ?? []) : [];
  if (absorbed.length > 0) {
    const stores = { enrollments: deps.enrollments, memberships: deps.segmentation?.memberships, caps: deps.caps, sendCaps: deps.sendCaps };
    await carryOverMerge(stores, journeys, profile.id, absorbed);
  }
  let segments: SegmentUpdate | undefined;
  if (deps.segmentation) {
    // A merge can change anything; otherwise only the segments reading what this event touched.
    const scope = absorbed.length > 0 ? 'all' : { changed: { attributes: Object.keys(event.attributes ?? {}), eventTypes: [event.type] } };
    segments = await updateSegments({ ...deps, ...deps.segmentation }, journeys, profile, scope, { id: event.id, type: event.type });
    if (segments.memberships !== undefined) profile.segments = segments.memberships;
  }
  const resumed = await resumeWaiting(deps, journeys, event, [profile.id, ...(profile.mergedIds ?? [])]);
  // Before entries: an event that is both a goal and an entry converts earlier entries, never the one it starts. A
  // repeated event is looked at again (a retry after a crash), the conditional write converts each entry once.
  if (deps.conversions) {
    await recordConversions({ conversions: deps.conversions, counters: deps.counters }, journeys, event, [profile.id, ...(profile.mergedIds ?? [])]);
  }
  if (deps.campaignGoals) {
    await recordCampaignConversions(deps.campaignGoals, event, [profile.id, ...(profile.mergedIds ?? [])]);
  }
  const entries: EntryOutcome[] = [];
  for (const record of journeys) {
    if (entryMatches(record, event, profile)) entries.push(await enterJourney(deps, record, profile, { id: event.id, event, context: {} }));
  }
  if (segments === undefined) return { status: 'routed', profileId: profile.id, entries, resumed };
  const { memberships: _memberships, ...summary } = segments;
  return { status: 'routed', profileId: profile.id, entries, resumed, segments: summary };
}

/** Routes an event as delivered by the EventBridge rule; an invalid one is kept with its reason, never dropped. */
export async function routeBusEvent(deps: RouteDeps, raw: EventBridgeEvent): Promise<RouteResult> {
  if (raw.source.startsWith(PLATFORM_SOURCE_PREFIX)) return { status: 'ignored', reason: 'platform-event' };
  // AWS service events (SES bounces and complaints) have rules of their own; they are not business events.
  if (raw.source.startsWith(AWS_SOURCE_PREFIX)) return { status: 'ignored', reason: 'aws-event' };
  const parsed = parseBusEvent(raw);
  // The receipt clock bounds the event's time: a far-future or pre-2000 time would otherwise win (or lose) every
  // later-wins rule forever (see lambdas/core/events/event-time.ts).
  const receivedAt = deps.clock.now();
  const timeError = parsed.ok ? checkEventTime(parsed.value.time, receivedAt, 'detail.time') : undefined;
  if (!parsed.ok || timeError) {
    const errors = parsed.ok ? [timeError!] : parsed.errors;
    await deps.rejected.put({ receivedAt: receivedAt.toISOString(), origin: 'bus', errors, raw });
    return { status: 'rejected', errors };
  }
  return routeBusinessEvent(deps, parsed.value);
}
