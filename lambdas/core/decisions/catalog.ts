import { compileRule } from '../segments/compile';
import type { Evaluator } from '../segments/context';
import type { Clock } from '../runtime/ports';
import { cachedValue } from '../shared/cached';
import { compileExpression, parseExpression } from './expression';
import type { Offer, Placement } from './model';
import type { OfferStore, PlacementStore } from './ports';

export type ScoreScope = { profile: unknown; context: unknown; offer: unknown; now: number };

export interface CompiledOffer {
  readonly offer: Offer;
  /** Compiled eligibility rule (undefined: everyone, or a segment reference). */
  readonly rule?: Evaluator;
  readonly segment?: string;
  /** Compiled ranking formula (undefined: the priority is the score). */
  readonly score?: (scope: ScoreScope) => unknown;
  /** What the formula sees as `offer`. */
  readonly view: { id: string; priority: number; tags: readonly string[]; attributes: Readonly<Record<string, unknown>> };
  /** Validity window in epoch ms. */
  readonly from: number;
  readonly until: number;
}

/** Problems of a catalog as a whole, each naming the offer and field: unknown placements, missing content, bad formulas. */
export function checkCatalog(offers: readonly Offer[], placements: readonly Placement[]): string[] {
  const problems: string[] = [];
  const byId = new Map(placements.map((p) => [p.id, p]));
  for (const offer of offers) {
    for (const [placementId, content] of Object.entries(offer.placements)) {
      const placement = byId.get(placementId);
      if (placement === undefined) {
        problems.push(`offer "${offer.id}": placements.${placementId}: unknown placement "${placementId}"`);
        continue;
      }
      for (const field of placement.requiredContent) {
        if (!(field in content)) problems.push(`offer "${offer.id}": placements.${placementId}.${field}: placement "${placementId}" requires content field "${field}"`);
      }
    }
    if (offer.score !== undefined) {
      const parsed = parseExpression(offer.score);
      if (!parsed.ok) problems.push(...parsed.errors.map((e) => `offer "${offer.id}": score: ${e}`));
    }
  }
  return problems;
}

export class DecisionCatalogError extends Error {
  override readonly name = 'DecisionCatalogError';
  constructor(readonly problems: string[]) {
    super(`invalid offer catalog: ${problems.join('; ')}`);
  }
}

/** Offers and placements compiled once: eligibility rules and ranking formulas become closures; offers grouped by placement. */
export class DecisionCatalog {
  readonly placements: ReadonlyMap<string, Placement>;
  private readonly byPlacement = new Map<string, { candidates: CompiledOffer[]; fallbacks: CompiledOffer[] }>();

  private constructor(offers: readonly Offer[], placements: readonly Placement[]) {
    this.placements = new Map(placements.map((p) => [p.id, p]));
    for (const placement of placements) this.byPlacement.set(placement.id, { candidates: [], fallbacks: [] });
    for (const offer of [...offers].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const compiled = compileOffer(offer);
      for (const placementId of Object.keys(offer.placements)) {
        const group = this.byPlacement.get(placementId);
        if (group) (offer.fallback ? group.fallbacks : group.candidates).push(compiled);
      }
    }
  }

  /** Throws DecisionCatalogError listing every problem. */
  static create(offers: readonly Offer[], placements: readonly Placement[]): DecisionCatalog {
    const problems = checkCatalog(offers, placements);
    if (problems.length > 0) throw new DecisionCatalogError(problems);
    return new DecisionCatalog(offers, placements);
  }

  /** Builds from stored entries, leaving out offers with problems (a race between API writers; the API refuses them). */
  static lenient(offers: readonly Offer[], placements: readonly Placement[]): DecisionCatalog {
    const bad = new Set(checkCatalog(offers, placements).map((p) => /^offer "([^"]+)"/.exec(p)?.[1]));
    return new DecisionCatalog(
      offers.filter((o) => !bad.has(o.id)),
      placements,
    );
  }

  candidates(placementId: string): readonly CompiledOffer[] {
    return this.byPlacement.get(placementId)?.candidates ?? [];
  }

  fallbacks(placementId: string): readonly CompiledOffer[] {
    return this.byPlacement.get(placementId)?.fallbacks ?? [];
  }

  get offerCount(): number {
    const ids = new Set<string>();
    for (const group of this.byPlacement.values()) for (const o of [...group.candidates, ...group.fallbacks]) ids.add(o.offer.id);
    return ids.size;
  }
}

function compileOffer(offer: Offer): CompiledOffer {
  let score: CompiledOffer['score'];
  if (offer.score !== undefined) {
    const parsed = parseExpression(offer.score);
    if (!parsed.ok) throw new DecisionCatalogError(parsed.errors.map((e) => `offer "${offer.id}": score: ${e}`));
    score = compileExpression(parsed.value);
  }
  const eligibility = offer.eligibility;
  return {
    offer,
    rule: eligibility?.rule !== undefined ? compileRule(eligibility.rule) : undefined,
    segment: eligibility?.segment,
    score,
    view: { id: offer.id, priority: offer.priority, tags: offer.tags, attributes: offer.attributes },
    from: offer.validFrom === undefined ? -Infinity : Date.parse(offer.validFrom),
    until: offer.validUntil === undefined ? Infinity : Date.parse(offer.validUntil),
  };
}

export interface DecisionCatalogSource {
  catalog(): Promise<DecisionCatalog>;
}

/** The stored catalog compiled, rebuilt at most every `ttlMs`; `invalidate` forgets it (the local stack's API writes). */
export function cachedDecisionCatalog(
  stores: { offerStore: Pick<OfferStore, 'list'>; placementStore: Pick<PlacementStore, 'list'> },
  clock: Clock,
  ttlMs = 30_000,
): DecisionCatalogSource & { invalidate(): void } {
  const cache = cachedValue(async () => {
    const [offers, placements] = await Promise.all([stores.offerStore.list(), stores.placementStore.list()]);
    return DecisionCatalog.lenient(
      offers.map((r) => r.definition),
      placements.map((r) => r.definition),
    );
  }, clock, ttlMs);
  return { catalog: () => cache.get(), invalidate: () => cache.invalidate() };
}
