import { stepKey } from '../journey/graph';
import { DEFAULT_PRIORITY } from '../journey/constants';
import type { Journey, SendNode } from '../journey/schema';
import type { JourneyRegistry, Profile } from '../runtime/ports';
import { parseDuration } from '../shared/duration';
import { capClaims, profileTimeZone, quietHours, ruleApplies, type CapClaim, type GovernedMessage } from './evaluate';
import type { RuleSource, RunningJourneys, SendCapStore } from './ports';
import { governanceReason } from './reasons';
import type { Rule } from './rules';
import { holderOf } from './slots';

/** What the send step needs to apply governance rules. */
export interface GovernanceDeps {
  rules: RuleSource;
  caps: SendCapStore;
  /** The stage's default IANA time zone, for profiles without a valid `attributes.timezone`. */
  defaultTimeZone: string;
  /** Priority arbitration (README.md); without it a cap is first come, first served. */
  arbitration?: { journeys: Pick<JourneyRegistry, 'list'>; runs: RunningJourneys };
}

export interface GovernedSend {
  executionId: string;
  node: SendNode;
  messageClass: 'marketing' | 'transactional';
  /** The journey's governance settings, as compiled into the step's payload. */
  settings?: { priority?: number; tags?: string[] };
  /** The run's data: `steps[<node key>].deferredSince` carries the first deferral from check to check. */
  state: { journey: { id: string }; steps: Record<string, unknown> };
  profile: Pick<Profile, 'id' | 'attributes'>;
  now: Date;
}

export type Governed =
  | { outcome: 'send'; release?: () => Promise<unknown> }
  | { outcome: 'suppress'; reason: string }
  | { outcome: 'defer'; reason: string; until: string; since: string };

/** The step's earlier deferral of this message, if it was deferred (the previous check's result). */
function deferredSince(state: GovernedSend['state'], nodeId: string): number | undefined {
  const key = stepKey(nodeId);
  const previous = Object.hasOwn(state.steps, key) ? state.steps[key] : undefined;
  const since = typeof previous === 'object' && previous !== null ? (previous as Record<string, unknown>).deferredSince : undefined;
  const ms = typeof since === 'string' ? Date.parse(since) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The governance check of one message, after consent and before rendering: quiet hours (`skip` → suppressed,
 * `defer` → wait, `quiet-hours-expired` past `maxDeferral`), then the frequency caps (one reservation of every cap
 * that counts it, or `frequency-cap:<rule>`). `send` carries the release of the slots taken.
 */
export async function governSend(deps: GovernanceDeps, send: GovernedSend): Promise<Governed> {
  const rules = await deps.rules.list();
  if (rules.length === 0) return { outcome: 'send' };
  const message: GovernedMessage = {
    profileId: send.profile.id,
    timeZone: profileTimeZone(send.profile.attributes, deps.defaultTimeZone),
    channel: send.node.channel,
    messageClass: send.messageClass,
    journey: { id: send.state.journey.id, tags: send.settings?.tags, priority: send.settings?.priority ?? DEFAULT_PRIORITY },
    now: send.now,
  };
  const quiet = quietHours(rules, message);
  if (quiet.action === 'skip') return { outcome: 'suppress', reason: governanceReason.quietHours(quiet.rule.id) };
  if (quiet.action === 'defer') {
    const since = deferredSince(send.state, send.node.id) ?? send.now.getTime();
    if (quiet.until.getTime() - since > parseDuration(quiet.rule.maxDeferral) * 1000) {
      return { outcome: 'suppress', reason: governanceReason.quietHoursExpired };
    }
    const reason = governanceReason.quietHours(quiet.rule.id);
    return { outcome: 'defer', reason, until: quiet.until.toISOString(), since: new Date(since).toISOString() };
  }
  const claims = capClaims(rules, message);
  if (claims.length === 0) return { outcome: 'send' };
  const holder = holderOf(send.executionId, send.node.id);
  const arbitrated = deps.arbitration
    ? await withHigherRuns(deps.arbitration, rules, claims, message, send.executionId)
    : claims;
  const reserved = await deps.caps.reserve(message.profileId, { holder, at: send.now, claims: arbitrated });
  if (!reserved.ok) return { outcome: 'suppress', reason: governanceReason.frequencyCap(reserved.ruleId) };
  // Only a slot this check took is given back if the message is not sent: an earlier attempt's slot may be a sent one.
  if (!reserved.taken) return { outcome: 'send' };
  return { outcome: 'send', release: () => deps.caps.release(message.profileId, holder, send.now) };
}

/** Gives back the slot a message took (its delivery failed); false when it held none. */
export function releaseSendSlot(
  deps: GovernanceDeps,
  slot: { profileId: string; executionId: string; nodeId: string },
  now: Date,
): Promise<boolean> {
  return deps.caps.release(slot.profileId, holderOf(slot.executionId, slot.nodeId), now);
}

/** Could a message of this journey count towards the rule (one of its send nodes on a channel the rule counts)? */
export function journeyMaySendUnder(journey: Journey, rule: Rule): boolean {
  const tags = journey.settings.tags;
  const messageClass = journey.settings.messageClass;
  return journey.nodes.some(
    (node) =>
      node.kind === 'send' &&
      ruleApplies(rule, { channel: node.channel, messageClass, journey: { id: journey.id, tags, priority: 0 } }),
  );
}

/**
 * Arbitration (README.md): for each claim, the running runs of this profile in journeys of higher priority that have a
 * send the rule counts. The cap store keeps one slot of the period free for each of them that has not sent in it yet.
 */
async function withHigherRuns(
  arbitration: NonNullable<GovernanceDeps['arbitration']>,
  rules: readonly Rule[],
  claims: CapClaim[],
  message: GovernedMessage,
  executionId: string,
): Promise<CapClaim[]> {
  const higher = (await arbitration.journeys.list())
    .map((r) => r.journey)
    .filter((j) => j.id !== message.journey.id && (j.settings.priority ?? DEFAULT_PRIORITY) > message.journey.priority);
  if (higher.length === 0) return claims;
  const byRule = new Map(rules.map((r) => [r.id, r]));
  const sendersUnder = (ruleId: string) => higher.filter((j) => journeyMaySendUnder(j, byRule.get(ruleId)!)).map((j) => j.id);
  const counting = new Map(claims.map((c) => [c.ruleId, sendersUnder(c.ruleId)]));
  const ids = [...new Set([...counting.values()].flat())];
  if (ids.length === 0) return claims;
  const runs = (await arbitration.runs.list(message.profileId, ids)).filter((r) => r.executionArn !== executionId);
  return claims.map((c) => {
    const journeys = new Set(counting.get(c.ruleId));
    const higherRuns = runs.filter((r) => journeys.has(r.journeyId)).map((r) => r.executionArn);
    return higherRuns.length === 0 ? c : { ...c, higherRuns };
  });
}
