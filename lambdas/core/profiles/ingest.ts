import type { BusinessEvent } from '../events/business-event';
import type { PrivacyKey } from '../privacy/keys';
import type { Clock } from '../runtime/ports';
import {
  applyEvent,
  chooseSurvivor,
  emptyProfile,
  eventIdentities,
  foldInto,
  isDuplicate,
  newProfileId,
  windowEntry,
} from './merge-policy';
import { ProfileLimits, type ProfilePolicy, type ProfileState, type RecentEvent } from './model';
import type { ProfileStorage } from './storage';

/** Too many concurrent writers on the same profiles; infrastructure retries the event (it is idempotent). */
export class ProfileContentionError extends Error {
  override readonly name = 'ProfileContentionError';
}

/** The stored graph breaks an invariant (a merge pointer to a missing profile, a chain that does not end). */
export class ProfileGraphError extends Error {
  override readonly name = 'ProfileGraphError';
}

export interface IngestDeps {
  storage: ProfileStorage;
  clock: Clock;
  policy: ProfilePolicy;
  /** The key of new profile ids (see `newProfileId`). @default the local stack's fixed key */
  privacyKey?: PrivacyKey;
}

export interface IngestOutcome {
  profile: ProfileState;
  duplicate: boolean;
  /** Profiles this call absorbed (froze, or found frozen into its survivor) into `profile`. */
  merged: string[];
}

const MAX_ATTEMPTS = 16;
const MAX_CHAIN = 64;

/**
 * Ingests one (validated) event: resolves its identities to live profiles, merges them when there are several,
 * links identities not seen before, and applies the event once per event id. Every step is a single-item conditional
 * write that is safe to repeat, so a retried or interleaved call converges on the same graph (see lambdas/core/profiles/README.md).
 *
 * Known profile, one identity (the common case): read the identity, record the event (conditional put: dedupes and
 * is the window entry), apply it as increments (one conditional update) — 1 read, 2 writes. Anything unusual
 * (unknown identity, several profiles, out-of-order times, a duplicate) takes the general path below.
 */
export async function ingestEvent(deps: IngestDeps, event: BusinessEvent): Promise<IngestOutcome> {
  const run = new Ingestion(deps, event);
  return run.execute();
}

class Ingestion {
  private readonly now: Date;
  private readonly identities: [string, string][];
  private readonly entry: RecentEvent;
  /** Per profile id: did this call create the event's record there (true), or was one there already (false)? */
  private readonly recorded = new Map<string, boolean>();
  private readonly incrementTried = new Set<string>();
  private readonly merged: string[] = [];

  constructor(
    private readonly deps: IngestDeps,
    private readonly event: BusinessEvent,
  ) {
    this.now = deps.clock.now();
    this.identities = eventIdentities(event);
    this.entry = windowEntry(event, this.now);
  }

  private get storage(): ProfileStorage {
    return this.deps.storage;
  }

  private get policy(): ProfilePolicy {
    return this.deps.policy;
  }

  async execute(): Promise<IngestOutcome> {
    let links = await this.readLinks();
    const direct = links[0];
    if (direct !== undefined && links.every((l) => l === direct) && (await this.record(direct))) {
      const applied = await this.increment(direct);
      if (applied) return { profile: await this.flushIfDue(applied), duplicate: false, merged: [] };
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) links = await this.readLinks();
      const outcome = await this.attempt(links);
      if (outcome) return { ...outcome, merged: [...new Set(this.merged)] };
    }
    throw new ProfileContentionError(`event ${this.event.id}: profiles kept changing for ${MAX_ATTEMPTS} attempts`);
  }

  private readLinks(): Promise<(string | undefined)[]> {
    return Promise.all(this.identities.map(([namespace, value]) => this.storage.readIdentity(namespace, value)));
  }

  /** One pass of the general path; undefined when another writer changed something it relied on (try again). */
  private async attempt(links: (string | undefined)[]): Promise<Omit<IngestOutcome, 'merged'> | undefined> {
    const roots = new Map<string, ProfileState>();
    for (const profileId of new Set(links.filter((l): l is string => l !== undefined))) {
      const root = await this.liveRoot(profileId);
      roots.set(root.id, root);
    }
    if (roots.size === 0) return this.create();

    const survivor = [...roots.values()].reduce((a, b) => chooseSurvivor(a, b));
    const absorbedNow = new Set<string>();
    for (const other of roots.values()) {
      if (other.id === survivor.id) continue;
      const frozen = await this.storage.freeze(other.id, survivor.id);
      // Frozen into another profile by a concurrent merge: resolve again (its pointer leads to that survivor).
      if (!frozen || frozen.status === 'active' || frozen.mergedInto !== survivor.id) return undefined;
      if (frozen.status === 'merging') await completeFold(this.deps, frozen, this.now);
      absorbedNow.add(other.id);
      this.merged.push(other.id);
    }

    for (const [i, [namespace, value]] of this.identities.entries()) {
      const linked = links[i];
      if (linked === undefined) {
        if ((await this.storage.claimIdentity(namespace, value, survivor.id)) !== survivor.id) return undefined;
      } else if (linked !== survivor.id && !absorbedNow.has(linked)) {
        // Points at a profile absorbed earlier: shorten the chain (readers follow it either way).
        await this.storage.repointIdentity(namespace, value, linked, survivor.id);
      }
    }
    return this.applyTo(survivor.id);
  }

  /** No identity is linked yet: link them all to a new profile, then create it with the event applied. */
  private async create(): Promise<Omit<IngestOutcome, 'merged'> | undefined> {
    const [namespace0, value0] = this.identities[0];
    const id = newProfileId(namespace0, value0, this.deps.privacyKey ? await this.deps.privacyKey() : undefined);
    for (const [namespace, value] of this.identities) {
      if ((await this.storage.claimIdentity(namespace, value, id)) !== id) return undefined;
    }
    // Created at receipt time: the survivor rule orders by it, and the sender's time is not to be trusted with that.
    // Recorded by a concurrent delivery: its record's time goes with the id (see `flushPending`).
    const record = (await this.record(id)) ? undefined : await this.storage.readEvent(id, this.event.id);
    const recordedAt = record?.receivedAt ?? this.entry.receivedAt;
    const created = applyEvent(emptyProfile(id, this.now.toISOString()), this.event, this.now, this.policy, recordedAt).state;
    // A new profile holds one pending id: nothing to flush.
    if (await this.storage.createProfile(created)) return { profile: created, duplicate: false };
    return undefined;
  }

  /** The live profile an identity's pointer leads to, finishing any merge met on the way; creates a profile the pointer expects. */
  private async liveRoot(profileId: string): Promise<ProfileState> {
    const root = await resolveRoot(this.deps, profileId, this.now);
    if (root) return root;
    // Linked to a profile whose creation did not happen (a crash between the two writes): create it empty.
    await this.storage.createProfile(emptyProfile(profileId, this.now.toISOString()));
    const created = await resolveRoot(this.deps, profileId, this.now);
    if (!created) throw new ProfileGraphError(`profile ${profileId} could not be created`);
    return created;
  }

  private async record(profileId: string): Promise<boolean> {
    if (!this.recorded.has(profileId)) this.recorded.set(profileId, await this.storage.recordEvent(profileId, this.entry));
    return this.recorded.get(profileId)!;
  }

  private async increment(profileId: string): Promise<ProfileState | undefined> {
    if (this.incrementTried.has(profileId)) return undefined;
    this.incrementTried.add(profileId);
    return this.storage.applyIncrement(profileId, this.event, this.now, this.policy);
  }

  /**
   * Applies the event to a live profile once; undefined when the profile is no longer active. The event counts as
   * applied when the profile lists it in `pending` or its record is marked `applied` (a flush marks the record before
   * it drops the id, so reading the profile first and the record second never misses both); the write is conditional
   * on the version read, so a concurrent application or flush in between makes it read again.
   */
  private async applyTo(profileId: string): Promise<Omit<IngestOutcome, 'merged'> | undefined> {
    if (await this.record(profileId)) {
      const applied = await this.increment(profileId);
      if (applied) return { profile: await this.flushIfDue(applied), duplicate: false };
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const state = await this.storage.readProfile(profileId);
      if (!state || state.status !== 'active') return undefined;
      if (isDuplicate(state, this.event.id)) return { profile: state, duplicate: true };
      const record = await this.storage.readEvent(profileId, this.event.id);
      if (record?.applied) return { profile: state, duplicate: true };
      // Expired meanwhile (a call that ran into the record's TTL): record it again before applying.
      if (!record) await this.storage.recordEvent(profileId, this.entry);
      if (state.pending.length >= ProfileLimits.pending) {
        await flushPending(this.deps, state, true);
        continue;
      }
      // The record's time (not this call's): a concurrent call that wrote the record compares it with `flushedAt`.
      const recordedAt = record?.receivedAt ?? this.entry.receivedAt;
      const next = applyEvent(state, this.event, this.now, this.policy, recordedAt).state;
      if (await this.storage.replaceProfile(next, state.version)) {
        return { profile: await this.flushIfDue(next), duplicate: false };
      }
    }
    throw new ProfileContentionError(`event ${this.event.id}: profile ${profileId} kept changing`);
  }

  private async flushIfDue(state: ProfileState): Promise<ProfileState> {
    const settled = new Date(this.deps.clock.now().getTime() - ProfileLimits.pendingSettleMs).toISOString();
    const due = state.pending.filter(([, recordedAt]) => recordedAt <= settled).length >= ProfileLimits.pendingFlushAt;
    return due ? ((await flushPending(this.deps, state, false)) ?? state) : state;
  }
}

/**
 * Keeps `pending` bounded: marks the records of pending ids applied, then drops those ids from the profile (a write
 * conditional on its version, tried a few times; ids left behind are flushed by a later write). Marking first keeps
 * every applied event listed on the profile or marked on its record at every moment. Only settled ids (records older
 * than `pendingSettleMs`) unless `all`. `flushedAt` (the latest record time dropped) tells an increment in flight,
 * which does not read the profile, that the id it is about to apply may have been applied and dropped meanwhile.
 * Returns the profile afterwards, or undefined when another writer kept changing it.
 */
export async function flushPending(
  deps: IngestDeps,
  state: ProfileState,
  all: boolean,
): Promise<ProfileState | undefined> {
  const settled = new Date(deps.clock.now().getTime() - ProfileLimits.pendingSettleMs).toISOString();
  const flushed = state.pending.filter(([, recordedAt]) => all || recordedAt <= settled);
  if (flushed.length === 0) return state;
  for (const [eventId] of flushed) await deps.storage.markApplied(state.id, eventId);
  const ids = new Set(flushed.map(([id]) => id));
  const latest = flushed.reduce((max, [, recordedAt]) => (recordedAt > max ? recordedAt : max), state.flushedAt ?? '');
  let current: ProfileState | undefined = state;
  for (let attempt = 0; attempt < 4 && current?.status === 'active'; attempt++) {
    const flushedAt = current.flushedAt !== undefined && current.flushedAt > latest ? current.flushedAt : latest;
    const pending = current.pending.filter(([id]) => !ids.has(id));
    const next = { ...current, pending, flushedAt, version: current.version + 1 };
    if (await deps.storage.replaceProfile(next, current.version)) return next;
    current = await deps.storage.readProfile(state.id);
  }
  return undefined;
}

/** Follows merge pointers from a profile to the live profile at the end, completing any unfinished merge on the way. */
export async function resolveRoot(deps: IngestDeps, profileId: string, now: Date): Promise<ProfileState | undefined> {
  let state = await deps.storage.readProfile(profileId);
  for (let hops = 0; state && state.status !== 'active'; hops++) {
    if (hops >= MAX_CHAIN) throw new ProfileGraphError(`profile ${profileId}: merge chain longer than ${MAX_CHAIN}`);
    if (state.status === 'merging') await completeFold(deps, state, now);
    const next = state.mergedInto!;
    state = await deps.storage.readProfile(next);
    if (!state) throw new ProfileGraphError(`profile ${profileId}: merge pointer to missing profile ${next}`);
  }
  return state;
}

/**
 * Finishes absorbing a frozen profile: folds its data into the first live profile on its chain (unless a profile on
 * the chain holds it already), then moves its event records and identities to the live survivor, then marks it merged.
 *
 * Exactly one profile ever holds a frozen profile's data: a fold is a conditional write on an active profile that
 * does not list it in `absorbed`, and a profile found frozen without it never will (frozen profiles take no writes),
 * so the walk passes it by. Event records are copied only after the survivor holds the data, marked applied when
 * the absorbed profile applied them, so a redelivered event finds an applied record rather than a bare one.
 */
export async function completeFold(deps: IngestDeps, absorbed: ProfileState, now: Date): Promise<void> {
  if (absorbed.status !== 'merging') return;
  let targetId = absorbed.mergedInto!;
  let holder: ProfileState | undefined;
  for (let steps = 0; !holder; steps++) {
    if (steps >= MAX_CHAIN * MAX_ATTEMPTS) throw new ProfileContentionError(`profile ${absorbed.id}: could not fold into ${targetId}`);
    const target = await deps.storage.readProfile(targetId);
    if (!target) throw new ProfileGraphError(`profile ${absorbed.id} is being merged into ${targetId}, which does not exist`);
    if (target.absorbed.includes(absorbed.id)) holder = target;
    else if (target.status === 'active') {
      const folded = { ...foldInto(target, absorbed, deps.policy), version: target.version + 1, updatedAt: now.toISOString() };
      if (await deps.storage.replaceProfile(folded, target.version)) holder = folded;
    } else targetId = target.mergedInto!;
  }
  let root = holder.status === 'active' ? holder : await resolveRoot(deps, holder.id, now);
  // The absorbed profile's pending events are applied (its data is folded): their copies say so.
  const records = await deps.storage.listEvents(absorbed.id);
  const events = records.map((e) => (isDuplicate(absorbed, e.id) ? { ...e, applied: true } : e));
  for (let steps = 0; ; steps++) {
    if (!root) throw new ProfileGraphError(`profile ${absorbed.id}: its survivor chain ends nowhere`);
    for (const entry of events) {
      const copied = await deps.storage.recordEvent(root.id, entry);
      if (!copied && entry.applied) await deps.storage.markApplied(root.id, entry.id);
    }
    // Still live after the copies: a later merge of it lists them. Frozen meanwhile: copy to its survivor too.
    const check = await deps.storage.readProfile(root.id);
    if (check?.status === 'active') break;
    if (steps >= MAX_CHAIN) throw new ProfileContentionError(`profile ${absorbed.id}: survivor kept moving`);
    root = await resolveRoot(deps, root.id, now);
  }
  for (const [namespace, values] of Object.entries(absorbed.identities)) {
    for (const value of Object.keys(values)) await deps.storage.repointIdentity(namespace, value, absorbed.id, root.id);
  }
  await deps.storage.markMerged(absorbed.id, root.id, now);
}
