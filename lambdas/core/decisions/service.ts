import type { Clock, ProfileStore } from '../runtime/ports';
import { NotFoundError, ValidationError } from '../runtime/errors';
import type { MembershipStore } from '../segments/ports';
import type { DecisionCatalogSource } from './catalog';
import { decide } from './decide';
import type { CapStore, DecisionLog, DecisionRecord } from './ports';

export interface DecisionServiceDeps {
  decisions: DecisionCatalogSource;
  caps: CapStore;
  decisionLog: DecisionLog;
  profiles: Pick<ProfileStore, 'get' | 'findByIdentity'>;
  memberships: Pick<MembershipStore, 'get'>;
  clock: Clock;
  newId: () => string;
}

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
   * A repeat of a request with the same key (a retried journey step, a client retrying) answers the decision made the
   * first time, without reserving caps again.
   */
  idempotencyKey?: string;
}

/**
 * One decision for one profile (D4): reads the profile (with its recent events, for event conditions) and its segment
 * memberships, decides per placement, and appends the decision with its explanation to the profile's decision log.
 */
export async function makeDecision(deps: DecisionServiceDeps, input: DecisionInput): Promise<DecisionRecord> {
  if (input.idempotencyKey !== undefined) {
    const earlier = await deps.decisionLog.findByKey(input.idempotencyKey);
    if (earlier) return earlier;
  }
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
  // Identity lookups return the profile without its event window; event conditions need it.
  const profile = found.recentEvents === undefined ? ((await deps.profiles.get(found.id)) ?? found) : found;
  const { segments } = await deps.memberships.get(profile.id);
  const now = deps.clock.now();
  const placements = await decide(deps, catalog, profile, segments, input, now);
  const record: DecisionRecord = { id: deps.newId(), profileId: profile.id, at: now.toISOString(), placements, context: input.context, origin: input.origin };
  await deps.decisionLog.append(record, input.idempotencyKey);
  return record;
}
