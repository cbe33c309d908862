import { createHash } from 'node:crypto';
import type { Clock, ProfileStore } from '../runtime/ports';
import { ConflictError, NotFoundError, ValidationError } from '../runtime/errors';
import type { MembershipStore } from '../segments/ports';
import type { DecisionCatalogSource } from './catalog';
import { decide } from './decide';
import type { CapStore, DecisionKey, DecisionLog, DecisionRecord } from './ports';

export interface DecisionServiceDeps {
  decisions: DecisionCatalogSource;
  caps: CapStore;
  decisionLog: DecisionLog;
  profiles: Pick<ProfileStore, 'get' | 'findByIdentity'>;
  memberships: Pick<MembershipStore, 'get'>;
  clock: Clock;
  newId: () => string;
  /** Waits between polls for a racing request's decision. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A keyed request first claims its key for `KEY_LEASE_MS`: longer than a decision can take (functions time out after
 * 10 s), short enough that a retry of a step that crashed mid-decision takes the key over within its retries.
 */
export const KEY_LEASE_MS = 20_000;
/** A repeat that finds its key pending polls this often, this many times (5 s), then answers 409 (in progress). */
export const KEY_POLL_MS = 200;
export const KEY_POLLS = 25;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DecisionInput {
  /** The profile by id, or by one of its identities. */
  profileId?: string;
  identity?: { namespace: string; value: string };
  placements: readonly string[];
  count: number;
  context: Record<string, unknown>;
  /** `api`, or `journey:<journey id>:<node id>`. */
  origin: string;
  /**
   * A repeat of a request with the same key for the same profile (a retried journey step, a client retrying) answers the
   * decision made the first time, without reserving caps again, even when the repeats race. The key is the profile's:
   * another profile's request with it is another decision. The same key with another request is a ConflictError.
   */
  idempotencyKey?: string;
}

/**
 * One decision for one profile (D4): reads the profile (with its recent events, for event conditions) and its segment
 * memberships, decides per placement, and appends the decision with its explanation to the profile's decision log.
 */
export async function makeDecision(deps: DecisionServiceDeps, input: DecisionInput): Promise<DecisionRecord> {
  const catalog = await deps.decisions.catalog();
  const unknown = input.placements.map((id, i) => ({ id, i })).filter(({ id }) => !catalog.placements.has(id));
  if (unknown.length > 0) {
    throw new ValidationError(
      'unknown placement',
      unknown.map(({ id, i }) => ({ field: `placements[${i}]`, message: `unknown placement "${id}"` })),
    );
  }
  const found = input.profileId !== undefined ? await deps.profiles.get(input.profileId) : input.identity ? await deps.profiles.findByIdentity(input.identity.namespace, input.identity.value) : undefined;
  if (!found) throw new NotFoundError(input.profileId !== undefined ? `profile "${input.profileId}" does not exist` : 'no profile has that identity');
  const key: DecisionKey | undefined =
    input.idempotencyKey === undefined
      ? undefined
      : { profileId: found.id, key: input.idempotencyKey, fingerprint: fingerprint(input) };
  if (key) {
    const earlier = await claimKey(deps, key);
    if (earlier) return earlier;
  }
  const leaseUntil = key ? new Date(deps.clock.now().getTime() + KEY_LEASE_MS) : undefined;
  try {
    // Identity lookups return the profile without its event window; event conditions need it.
    const profile = found.recentEvents === undefined ? ((await deps.profiles.get(found.id)) ?? found) : found;
    const { segments } = await deps.memberships.get(profile.id);
    const now = deps.clock.now();
    const placements = await decide(deps, catalog, profile, segments, input, now);
    const record: DecisionRecord = { id: deps.newId(), profileId: profile.id, at: now.toISOString(), placements, context: input.context, origin: input.origin };
    await deps.decisionLog.append(record, key);
    return record;
  } catch (error) {
    // Best effort: a retry then decides at once instead of waiting for the lease to run out.
    if (key && leaseUntil) await deps.decisionLog.release(key, leaseUntil).catch(() => undefined);
    throw error;
  }
}

/**
 * Claims the key, or answers the decision its first request made: waits (bounded) while that request is deciding, and
 * takes the key over when its lease ran out (that request crashed). Undefined: this request decides.
 */
async function claimKey(deps: DecisionServiceDeps, key: DecisionKey): Promise<DecisionRecord | undefined> {
  const sleep = deps.sleep ?? realSleep;
  const inProgress = () =>
    new ConflictError(`a request with idempotency key "${key.key}" is still being decided`, [
      { field: 'idempotencyKey', message: 'a request with this key is in progress; retry it in a few seconds' },
    ]);
  // Each round either waits or lost a claim to another request; either way, bounded.
  for (let round = 0, waits = 0; round <= 2 * KEY_POLLS; round++) {
    const state = await deps.decisionLog.findByKey(key.profileId, key.key);
    const leaseUntil = new Date(deps.clock.now().getTime() + KEY_LEASE_MS);
    if (!state) {
      if (await deps.decisionLog.claim(key, leaseUntil)) return undefined;
      continue; // Another request claimed it in between: read what it holds.
    }
    if (state.fingerprint !== key.fingerprint) {
      throw new ConflictError(`idempotency key "${key.key}" was used for another request of this profile`, [
        {
          field: 'idempotencyKey',
          message: 'already used for another request (other placements, count or context); use a new key',
        },
      ]);
    }
    if (state.status === 'done') return state.record;
    if (Date.parse(state.leaseUntil) <= deps.clock.now().getTime()) {
      if (await deps.decisionLog.claim(key, leaseUntil, state.leaseUntil)) return undefined;
      continue;
    }
    if (waits++ === KEY_POLLS) throw inProgress();
    await sleep(KEY_POLL_MS);
  }
  throw inProgress();
}

/** What a request asks, independent of key order: the same key must come with the same request. */
function fingerprint(input: DecisionInput): string {
  const { placements, count, context, origin } = input;
  const canonical = JSON.stringify({ placements, count, context, origin }, (_name, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((name) => [name, (value as Record<string, unknown>)[name]]))
      : value,
  );
  return createHash('sha256').update(canonical).digest('base64url');
}
