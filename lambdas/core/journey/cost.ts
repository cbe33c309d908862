import type { AslDefinition, AslState } from './asl';

/** Step Functions Standard workflows: USD per state transition ($0.025 per 1,000; us-east-1 list price, free tier not counted). */
export const STANDARD_USD_PER_TRANSITION = 0.025 / 1000;

/** The states a state can go to next: `Next`, each Choice branch, `Default` and each `Catch` target. */
export function aslSuccessors(state: AslState): string[] {
  const targets = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string') targets.add(value);
  };
  add(state.Next);
  add(state.Default);
  for (const choice of (state.Choices as { Next?: unknown }[] | undefined) ?? []) add(choice.Next);
  for (const handler of (state.Catch as { Next?: unknown }[] | undefined) ?? []) add(handler.Next);
  return [...targets];
}

/**
 * The longest path (by number of states) from `StartAt` to an end state. Each state visited is one
 * transition (Choice, Task, Wait, Pass and Succeed alike), a Parallel's longest branch included; retries are not counted.
 * Throws when the definition refers to a missing state or loops, except through a Wait back to a state on the path
 * (the quiet-hours re-check of a send step).
 */
export function longestPath(asl: AslDefinition): string[] {
  const memo = new Map<string, string[]>();
  const onPath = new Set<string>();
  const visit = (name: string): string[] => {
    const known = memo.get(name);
    if (known) return known;
    const state = asl.States[name];
    if (!state) throw new Error(`state "${name}" is referred to but not defined`);
    if (onPath.has(name)) throw new Error(`the definition loops through "${name}"; the longest path is unbounded`);
    onPath.add(name);
    let best: string[] = [];
    for (const next of aslSuccessors(state)) {
      // A quiet-hours deferral waits and goes back to its send step: counted once (each deferral adds 3 transitions).
      if (state.Type === 'Wait' && onPath.has(next)) continue;
      const path = visit(next);
      if (path.length > best.length) best = path;
    }
    onPath.delete(name);
    const branches = ((state.Branches as AslDefinition[] | undefined) ?? []).map((branch) => longestPath(branch));
    const inner = branches.reduce<string[]>((longest, path) => (path.length > longest.length ? path : longest), []);
    const result = [name, ...inner, ...best];
    memo.set(name, result);
    return result;
  };
  return visit(asl.StartAt);
}

/** State transitions on the longest path through a compiled journey: the most one entry can cost. */
export function countTransitions(asl: AslDefinition): number {
  return longestPath(asl).length;
}

export interface CostEstimate {
  /** Transitions on the longest path, per entry. */
  transitionsPerEntry: number;
  path: string[];
  entries: number;
  /** Upper bound in USD for `entries` entries, each taking the longest path. */
  usd: number;
}

/** Step Functions Standard cost of `entries` entries if every one takes the longest path. */
export function estimateCost(asl: AslDefinition, entries: number): CostEstimate {
  const path = longestPath(asl);
  return { transitionsPerEntry: path.length, path, entries, usd: path.length * entries * STANDARD_USD_PER_TRANSITION };
}
