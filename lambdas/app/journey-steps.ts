import type { StepPayload } from '../core/journey/asl';
import type { WaitForEventNode } from '../core/journey/schema';
import { makeDecision, type DecisionServiceDeps } from '../core/decisions/service';
import type { ChosenOffer } from '../core/decisions/ports';
import { NotFoundError } from '../core/runtime/errors';
import type { Clock, Executions, ProfileStore, WaitIndex } from '../core/runtime/ports';
import { prepareSend, releaseSend, type PrepareResult, type PrepareSendDeps, type SendGuardDeps } from '../core/runtime/send';
import { registerWait } from '../core/runtime/waits';
import { resolveWaitUntil } from '../core/runtime/wait-time';
import { readPath } from '../core/shared/paths';
import { profileSnapshot } from '../core/runtime/enter';
import { projectProfile } from '../core/runtime/execution-data';
import { conditionPaths } from '../core/journey/condition-eval';
import type { MembershipStore } from '../core/segments/ports';
import { withPowertools } from './middleware';
import { decidePayload, loadProfilePayload, prepareSendPayload, registerWaitPayload, releaseSendPayload, resolveWaitPayload } from './step-payloads';

export { StepPayloadError } from './step-payloads';

export interface DecideStepResult {
  decisionId: string | null;
  /** The best offer, or null when none (not even a fallback) qualified. */
  offer: ChosenOffer | null;
  offers: ChosenOffer[];
  fallback: boolean;
}

/** The suppression list and unsubscribe links are required here, so no deployment can send without them. */
export function createPrepareSendHandler(deps: PrepareSendDeps & Required<Pick<SendGuardDeps, 'suppression' | 'unsubscribeLinks'>>) {
  return withPowertools(async (raw: unknown): Promise<PrepareStepResult | { released: boolean }> => {
    const release = (raw as { release?: unknown } | null)?.release === true;
    if (release) return releaseSend(deps, releaseSendPayload(raw));
    const parsed = prepareSendPayload(raw);
    // The state machine selects every field: a result without a deferral says so with nulls.
    return { deferUntil: null, deferredSince: null, ...(await prepareSend(deps, parsed as never)) };
  });
}

/** The prepare-send step's answer as the state machine reads it (`deferUntil` null unless quiet hours defer it). */
export type PrepareStepResult = Omit<PrepareResult, 'deferUntil' | 'deferredSince'> & { deferUntil: string | null; deferredSince: string | null };

export function createRegisterWaitHandler(deps: { waits: WaitIndex; clock: Clock; profiles: Pick<ProfileStore, 'get'>; executions: Pick<Executions, 'resume'> }) {
  return withPowertools(async (raw: unknown) => registerWait(deps, registerWaitPayload(raw) as StepPayload<WaitForEventNode> & { token: string }));
}

export function createResolveWaitHandler(deps: { profiles: ProfileStore; clock: Clock }) {
  return withPowertools(async (raw: unknown) => {
    const { state, node } = resolveWaitPayload(raw);
    const profile = (await deps.profiles.get(state.profileId, { recentEvents: false })) ?? state.profile;
    const data = { ...state, profile: { ...state.profile, ...profile } };
    return resolveWaitUntil(readPath(data, node.until!), node, profile.attributes.timezone as string | undefined, deps.clock.now());
  });
}

/** Reloads the profile before a condition, with its segment memberships (a branch may test them). */
export function createLoadProfileHandler(deps: { profiles: ProfileStore; memberships: Pick<MembershipStore, 'get'> }) {
  return withPowertools(async (raw: unknown) => {
    const { state, node } = loadProfilePayload(raw);
    const paths = node.branches.flatMap((b) => conditionPaths(b.when));
    const profile = await deps.profiles.get(state.profileId, { recentEvents: false });
    // An erased profile is known by its id only: its branches see no attributes, identities or segments.
    if (!profile) return projectProfile({ id: state.profileId, attributes: {}, identities: {} }, paths);
    const { segments } = await deps.memberships.get(profile.id);
    // Only what the branches read goes into the run's data (it stays within Step Functions' 256 KB, and holds no more
    // personal data than the decision needs).
    return projectProfile(profileSnapshot({ ...profile, segments }), paths);
  });
}

/**
 * The journey `decide` node: the best offer(s) for its placement, for the run's profile, with the node's context read
 * from the run's data. An erased profile gets no offer (the run goes on). The decision is logged like an API decision,
 * with origin `journey:<journey id>:<node id>`.
 */
export function createDecideStepHandler(deps: DecisionServiceDeps) {
  return withPowertools(async (raw: unknown): Promise<DecideStepResult> => {
    const { executionId, state, node } = decidePayload(raw);
    const context = Object.fromEntries(Object.entries(node.context ?? {}).map(([name, path]) => [name, readPath(state, path) ?? null]));
    try {
      const record = await makeDecision(deps, {
        profileId: state.profileId,
        placements: [node.placement],
        count: node.count,
        context,
        origin: `journey:${state.journey.id}:${node.id}`,
        // A retried step (Lambda error, timeout) gets the decision of its first attempt: caps are not reserved twice.
        idempotencyKey: `${executionId}#${node.id}`,
      });
      const offers = record.placements[node.placement]?.offers ?? [];
      return { decisionId: record.id, offer: offers[0] ?? null, offers, fallback: record.placements[node.placement]?.fallback ?? false };
    } catch (error) {
      if (error instanceof NotFoundError) return { decisionId: null, offer: null, offers: [], fallback: false };
      throw error;
    }
  });
}
