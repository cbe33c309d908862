import type { BusinessEvent } from '../events/business-event';
import type { IdentityGraphProfileStore, IngestResult, Profile } from '../runtime/ports';
import { ingestEvent, ProfileGraphError, type IngestDeps } from './ingest';
import { identityViews, recentWindow } from './merge-policy';
import type { ProfileState, RecentEvent } from './model';

const MAX_CHAIN = 64;

/** The ProfileStore port over any ProfileStorage (DynamoDB, in memory): the same algorithm everywhere. */
export class GraphProfileStore implements IdentityGraphProfileStore {
  constructor(private readonly deps: IngestDeps) {}

  async ingest(event: BusinessEvent): Promise<IngestResult> {
    const outcome = await ingestEvent(this.deps, event);
    return { profile: toProfile(outcome.profile), duplicate: outcome.duplicate, merged: outcome.merged };
  }

  async upsertFromEvent(event: BusinessEvent): Promise<Profile> {
    return (await this.ingest(event)).profile;
  }

  /** Follows merge pointers (read-only), so an absorbed profile's id reads as its survivor; with the recent-events window. */
  async get(profileId: string): Promise<Profile | undefined> {
    let state = await this.deps.storage.readProfile(profileId);
    for (let hops = 0; state && state.status !== 'active'; hops++) {
      if (hops >= MAX_CHAIN) throw new ProfileGraphError(`profile ${profileId}: merge chain longer than ${MAX_CHAIN}`);
      state = await this.deps.storage.readProfile(state.mergedInto!);
    }
    if (!state) return undefined;
    const events = await this.deps.storage.listEvents(state.id);
    return toProfile(state, recentWindow(events, this.deps.clock.now(), this.deps.policy));
  }

  async findByIdentity(namespace: string, value: string): Promise<Profile | undefined> {
    const profileId = await this.deps.storage.readIdentity(namespace, value);
    return profileId === undefined ? undefined : this.get(profileId);
  }
}

/** The port's view of a stored profile. */
export function toProfile(state: ProfileState, recentEvents?: RecentEvent[]): Profile {
  const { primary, all } = identityViews(state.identities);
  return {
    id: state.id,
    attributes: state.attributes,
    attributeTimes: state.attributeTimes,
    attributeSources: state.attributeSources,
    identities: primary,
    identityValues: all,
    computed: state.computed,
    consent: state.consent,
    ...(recentEvents ? { recentEvents } : {}),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version: state.version,
  };
}
