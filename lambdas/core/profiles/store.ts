import type { BusinessEvent } from '../events/business-event';
import type { IdentityGraphProfileStore, IngestResult, Profile } from '../runtime/ports';
import { ingestEvent, ProfileGraphError, type IngestDeps } from './ingest';
import { identityViews, recentWindow } from './merge-policy';
import type { ProfileState, RecentEvent } from './model';
import type { EventRecord } from './storage';

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
  async get(profileId: string, options: { recentEvents?: boolean } = {}): Promise<Profile | undefined> {
    let state = await this.deps.storage.readProfile(profileId);
    for (let hops = 0; state && state.status !== 'active'; hops++) {
      if (hops >= MAX_CHAIN) throw new ProfileGraphError(`profile ${profileId}: merge chain longer than ${MAX_CHAIN}`);
      state = await this.deps.storage.readProfile(state.mergedInto!);
    }
    if (!state) return undefined;
    if (options.recentEvents === false) return toProfile(state);
    const events = (await this.deps.storage.listEvents(state.id)).map(windowOf);
    return toProfile(state, recentWindow(events, this.deps.clock.now(), this.deps.policy));
  }

  /**
   * `get` of many ids: the profiles read in batches when the storage can (`readProfiles`); an id that was merged, or a
   * call that wants the event window, goes the way of `get`. In the order of `profileIds`.
   */
  async getMany(profileIds: readonly string[], options: { recentEvents?: boolean } = {}): Promise<(Profile | undefined)[]> {
    const storage = this.deps.storage;
    const states = storage.readProfiles
      ? await storage.readProfiles(profileIds)
      : await Promise.all(profileIds.map((id) => storage.readProfile(id)));
    return Promise.all(
      states.map(async (state, i) => {
        if (!state) return undefined;
        if (state.status === 'active' && options.recentEvents === false) return toProfile(state);
        return this.get(profileIds[i], options);
      }),
    );
  }

  /** The live profile this id resolves to, and every profile id folded into it (the ids runtime records may carry). */
  async related(profileId: string): Promise<{ survivor: ProfileState; profileIds: string[] } | undefined> {
    let state = await this.deps.storage.readProfile(profileId);
    for (let hops = 0; state && state.status !== 'active'; hops++) {
      if (hops >= MAX_CHAIN) throw new ProfileGraphError(`profile ${profileId}: merge chain longer than ${MAX_CHAIN}`);
      state = await this.deps.storage.readProfile(state.mergedInto!);
    }
    if (!state) return undefined;
    return { survivor: state, profileIds: [state.id, ...state.absorbed.filter((id) => id !== state!.id)] };
  }

  /** Everything the store holds about a profile: the profile and, for it and every profile folded into it, the event records. */
  async exportData(profileId: string): Promise<{ profile: Profile; profileIds: string[]; events: RecentEvent[] } | undefined> {
    const related = await this.related(profileId);
    if (!related) return undefined;
    // A merge copies the absorbed profile's event records to the survivor: one entry per event id.
    const byId = new Map((await Promise.all(related.profileIds.map((id) => this.deps.storage.listEvents(id)))).flat().map((e) => [e.id, windowOf(e)] as const));
    const events = [...byId.values()].sort((a, b) => b.time.localeCompare(a.time));
    return { profile: toProfile(related.survivor, events), profileIds: related.profileIds, events };
  }

  /** Erases a profile and every profile folded into it: identities (only those still pointing at them), profile items, event records. */
  async erase(profileId: string): Promise<{ profileIds: string[]; items: number } | undefined> {
    const related = await this.related(profileId);
    if (!related) return undefined;
    let items = 0;
    for (const id of related.profileIds) {
      const state = id === related.survivor.id ? related.survivor : await this.deps.storage.readProfile(id);
      for (const [namespace, values] of Object.entries(state?.identities ?? {})) {
        for (const value of Object.keys(values)) if (await this.deps.storage.deleteIdentity(namespace, value, related.profileIds)) items++;
      }
    }
    for (const id of related.profileIds) items += await this.deps.storage.deleteProfileItems(id);
    return { profileIds: related.profileIds, items };
  }

  async findByIdentity(namespace: string, value: string): Promise<Profile | undefined> {
    const profileId = await this.deps.storage.readIdentity(namespace, value);
    return profileId === undefined ? undefined : this.get(profileId);
  }
}

/** The window entry of an event record (without the storage's `applied` flag). */
function windowOf({ applied: _applied, ...entry }: EventRecord): RecentEvent {
  return entry;
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
    ...(state.absorbed.length > 0 ? { mergedIds: state.absorbed } : {}),
    ...(recentEvents ? { recentEvents } : {}),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    version: state.version,
  };
}
