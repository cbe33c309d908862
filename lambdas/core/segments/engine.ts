import { compileRule } from './compile';
import type { Evaluator, SegmentProfile } from './context';
import { orderSegments } from './catalog';
import { buildSegmentIndex, ruleDependencies, type ProfileChange, type RuleDependencies, type SegmentIndex } from './dependencies';
import type { Memberships } from './ports';
import type { SegmentDefinition } from './rule';

export class SegmentCatalogError extends Error {
  override readonly name = 'SegmentCatalogError';
  constructor(readonly errors: string[]) {
    super(`invalid segment catalog: ${errors.join('; ')}`);
  }
}

interface CompiledSegment {
  readonly definition: SegmentDefinition;
  readonly evaluate: Evaluator;
  readonly dependencies: RuleDependencies;
  /** Position in evaluation order: referenced segments come first. */
  readonly rank: number;
}

/**
 * Which segments to evaluate: ids (plus every segment referencing them), those a profile change can affect, every
 * segment, or those that change with time.
 */
export type EvaluationScope = readonly string[] | { changed: ProfileChange } | 'all' | 'time';

export interface SegmentEvaluation {
  /** How many segment rules ran. */
  evaluated: number;
  /** Segments entered and left, in evaluation order. */
  entered: string[];
  exited: string[];
  /** The memberships afterwards (entered ones dated `at`; memberships of segments no longer defined dropped). */
  memberships: Memberships;
}

/**
 * Every segment compiled once, with the dependency index streaming evaluation uses. Built from a checked catalog
 * (references resolve, no cycles); evaluates in dependency order, so a segment that references another sees the
 * other's new membership in the same pass.
 */
export class SegmentEngine {
  readonly index: SegmentIndex;
  private readonly segments: Map<string, CompiledSegment>;
  private readonly timeScope: string[];

  private constructor(order: SegmentDefinition[]) {
    this.segments = new Map(order.map((definition, rank) => [definition.id, { definition, evaluate: compileRule(definition.rule), dependencies: ruleDependencies(definition.rule), rank }]));
    this.index = buildSegmentIndex(order);
    this.timeScope = this.withDependents(this.index.timeDependent);
  }

  /** Throws SegmentCatalogError naming each segment with an unknown reference or in a cycle. */
  static create(definitions: readonly SegmentDefinition[]): SegmentEngine {
    const ordered = orderSegments(definitions);
    if (!ordered.ok) throw new SegmentCatalogError(ordered.errors);
    return new SegmentEngine(ordered.order);
  }

  get size(): number {
    return this.segments.size;
  }

  has(id: string): boolean {
    return this.segments.has(id);
  }

  definitions(): SegmentDefinition[] {
    return [...this.segments.values()].map((s) => s.definition);
  }

  /** The segments a profile change can affect (directly or through references), in evaluation order. */
  affected(change: ProfileChange): string[] {
    const seen = new Set<string>();
    for (const name of change.attributes) for (const id of this.index.byAttribute.get(name) ?? []) seen.add(id);
    for (const type of change.eventTypes) for (const id of this.index.byEventType.get(type) ?? []) seen.add(id);
    return this.withDependents([...seen]);
  }

  /** Does any of these segments read the recent-events window (so the profile must be read with it)? */
  readsEvents(ids: readonly string[]): boolean {
    return ids.some((id) => (this.segments.get(id)?.dependencies.eventTypes.length ?? 0) > 0);
  }

  /** The ids a scope stands for, in evaluation order. */
  resolve(scope: EvaluationScope): string[] {
    if (scope === 'all') return [...this.segments.keys()];
    if (scope === 'time') return this.timeScope;
    if ('changed' in scope) return this.affected(scope.changed);
    return this.withDependents(scope.filter((id) => this.segments.has(id)));
  }

  /**
   * Evaluates the segments of `scope` for one profile against its current memberships, at `now` (epoch ms);
   * memberships entered now are dated `at`.
   */
  evaluate(profile: SegmentProfile, current: Memberships, scope: EvaluationScope, now: number, at: string): SegmentEvaluation {
    return this.evaluateResolved(profile, current, this.resolve(scope), now, at);
  }

  /** `evaluate` for ids `resolve` returned (in evaluation order, dependents included): nothing is resolved again. */
  evaluateResolved(profile: SegmentProfile, current: Memberships, ids: readonly string[], now: number, at: string): SegmentEvaluation {
    const memberships: Memberships = {};
    for (const [id, since] of Object.entries(current)) if (this.segments.has(id)) memberships[id] = since;
    const set = new Set(Object.keys(memberships));
    const context = { now, memberships: set };
    const entered: string[] = [];
    const exited: string[] = [];
    for (const id of ids) {
      const member = this.segments.get(id)!.evaluate(profile, context);
      if (member === set.has(id)) continue;
      if (member) {
        set.add(id);
        memberships[id] = at;
        entered.push(id);
      } else {
        set.delete(id);
        delete memberships[id];
        exited.push(id);
      }
    }
    return { evaluated: ids.length, entered, exited, memberships };
  }

  private withDependents(ids: readonly string[]): string[] {
    const all = new Set<string>();
    const queue = [...ids];
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (all.has(id)) continue;
      all.add(id);
      queue.push(...(this.index.dependents.get(id) ?? []));
    }
    return [...all].sort((a, b) => this.segments.get(a)!.rank - this.segments.get(b)!.rank);
  }
}
