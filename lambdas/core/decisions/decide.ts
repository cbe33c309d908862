import type { SegmentProfile } from '../segments/context';
import type { Memberships } from '../segments/ports';
import { scoreOf } from './expression';
import type { CompiledOffer, DecisionCatalog } from './catalog';
import type { CapStore, ChosenOffer, OfferExplanation, PlacementDecision } from './ports';

/** The profile a decision is made for: what rules and formulas read. */
export interface DecisionProfile extends SegmentProfile {
  readonly id: string;
}

export interface DecisionRequest {
  placements: readonly string[];
  /** Offers wanted per placement. */
  count: number;
  context: Record<string, unknown>;
}

interface Ranked {
  compiled: CompiledOffer;
  explanation: OfferExplanation;
}

/**
 * Picks up to `count` offers per placement (D1–D3):
 * 1. an offer is eligible when `now` is within its validity window and its eligibility (a segment rule, or membership
 *    of a segment) holds for the profile;
 * 2. eligible offers rank by score (the ranking formula, or the priority) highest first, a score without a value
 *    last; ties by priority, then by offer id, so equal inputs always give the same order;
 * 3. in that order each offer with caps must reserve a proposal (atomically, in the cap store) to be chosen;
 * 4. when nothing was chosen for a placement, its fallback offers are (by priority, then id).
 * An offer chosen for one placement is not proposed again in another placement of the same decision.
 */
export async function decide(
  deps: { caps: CapStore },
  catalog: DecisionCatalog,
  profile: DecisionProfile,
  memberships: Memberships,
  request: DecisionRequest,
  now: Date,
  /** Decides eligibility (rule or segment) another way, e.g. the benchmark's json-rules-engine baseline. */
  options: { isEligible?: (compiled: CompiledOffer) => boolean } = {},
): Promise<Record<string, PlacementDecision>> {
  const nowMs = now.getTime();
  const context = { now: nowMs, memberships: new Set(Object.keys(memberships)) };
  const formulaProfile = { id: profile.id, attributes: profile.attributes, computed: profile.computed ?? {}, segments: memberships };
  const proposed = new Set<string>();
  // An offer in several requested placements is judged once per decision.
  const judged = new Map<string, { reason: string | undefined; score: number | null }>();
  const result: Record<string, PlacementDecision> = {};
  for (const placementId of request.placements) {
    const ranked: Ranked[] = [];
    const explanation: OfferExplanation[] = [];
    for (const compiled of catalog.candidates(placementId)) {
      let verdict = judged.get(compiled.offer.id);
      if (verdict === undefined) {
        const why = ineligibility(compiled, profile, context, nowMs, options.isEligible);
        verdict = { reason: why, score: why === undefined ? scoreFor(compiled, formulaProfile, request.context, nowMs) : null };
        judged.set(compiled.offer.id, verdict);
      }
      const { reason, score } = verdict;
      const line: OfferExplanation = { offerId: compiled.offer.id, eligible: reason === undefined, score, chosen: false };
      if (reason !== undefined) line.reason = reason;
      explanation.push(line);
      if (reason === undefined) ranked.push({ compiled, explanation: line });
    }
    ranked.sort(byRank);
    const offers: ChosenOffer[] = [];
    for (const { compiled, explanation: line } of ranked) {
      if (offers.length >= request.count) break;
      if (proposed.has(compiled.offer.id)) {
        line.reason = 'already proposed in this decision';
        continue;
      }
      if (compiled.offer.caps) {
        const reserved = await deps.caps.reserve(compiled.offer.id, profile.id, compiled.offer.caps, now);
        if (!reserved.ok) {
          line.capped = reserved.cap;
          continue;
        }
      }
      line.chosen = true;
      proposed.add(compiled.offer.id);
      offers.push(chosen(compiled, placementId, line.score, false));
    }
    let fallback = false;
    if (offers.length === 0) {
      const fallbacks = [...catalog.fallbacks(placementId)].sort((a, b) => b.offer.priority - a.offer.priority || (a.offer.id < b.offer.id ? -1 : 1));
      for (const compiled of fallbacks.slice(0, request.count)) {
        fallback = true;
        explanation.push({ offerId: compiled.offer.id, eligible: true, reason: 'fallback', score: null, chosen: true });
        offers.push(chosen(compiled, placementId, null, true));
      }
    }
    result[placementId] = { offers, fallback, explanation };
  }
  return result;
}

function ineligibility(
  compiled: CompiledOffer,
  profile: DecisionProfile,
  context: { now: number; memberships: ReadonlySet<string> },
  now: number,
  isEligible: ((compiled: CompiledOffer) => boolean) | undefined,
): string | undefined {
  if (now < compiled.from) return 'not yet valid';
  if (now > compiled.until) return 'expired';
  if (isEligible !== undefined) {
    if (compiled.segment === undefined && compiled.rule === undefined) return undefined;
    if (isEligible(compiled)) return undefined;
    return compiled.segment !== undefined ? `not in segment "${compiled.segment}"` : 'eligibility rule does not hold';
  }
  if (compiled.segment !== undefined && !context.memberships.has(compiled.segment)) return `not in segment "${compiled.segment}"`;
  if (compiled.rule !== undefined && !compiled.rule(profile, context)) return 'eligibility rule does not hold';
  return undefined;
}

function scoreFor(compiled: CompiledOffer, profile: unknown, context: Record<string, unknown>, now: number): number | null {
  if (compiled.score === undefined) return compiled.offer.priority;
  return scoreOf(compiled.score({ profile, context, offer: compiled.view, now }));
}

function byRank(a: Ranked, b: Ranked): number {
  const sa = a.explanation.score;
  const sb = b.explanation.score;
  if (sa !== sb) {
    if (sa === null) return 1;
    if (sb === null) return -1;
    return sb - sa;
  }
  const pa = a.compiled.offer.priority;
  const pb = b.compiled.offer.priority;
  if (pa !== pb) return pb - pa;
  return a.compiled.offer.id < b.compiled.offer.id ? -1 : 1;
}

function chosen(compiled: CompiledOffer, placement: string, score: number | null, fallback: boolean): ChosenOffer {
  return {
    offerId: compiled.offer.id,
    name: compiled.offer.name,
    placement,
    content: compiled.offer.placements[placement],
    score,
    tags: [...compiled.offer.tags],
    fallback,
  };
}
