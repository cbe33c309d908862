import { createHash } from 'node:crypto';
import type { Journey, SplitNode } from '../journey/schema';
import { stepKey } from '../journey/graph';
import { dict } from '../shared/records';

/**
 * Stable random assignment: a profile's place in [0, 1) for one purpose is read from a SHA-256 of the purpose, the
 * journey, the node and the profile id, so the same profile always lands in the same place (every run, re-entry and
 * retry, on AWS and locally), different splits and the journey holdout are independent, and the share of profiles
 * below x is x (the hash's first 48 bits are uniform).
 */
export function unitHash(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('\n')).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The variant of a split's holdout (it gets no message from the split on). */
export const HOLDOUT = 'holdout';

/** Is this profile in the journey's holdout (`settings.holdout.percent` of entering profiles)? */
export function inJourneyHoldout(journey: Pick<Journey, 'id' | 'settings'>, profileId: string): boolean {
  const percent = journey.settings.holdout?.percent;
  return percent !== undefined && unitHash('journey-holdout', journey.id, profileId) * 100 < percent;
}

/** The variant of a split node this profile is in: its id, or `holdout`. Weights are percents summing to 100. */
export function splitVariant(journeyId: string, node: Pick<SplitNode, 'id' | 'variants' | 'holdout'>, profileId: string): string {
  const point = unitHash('split', journeyId, node.id, profileId) * 100;
  let upTo = 0;
  for (const variant of node.variants) {
    upTo += variant.weight;
    if (point < upTo) return variant.id;
  }
  // The holdout takes the last share; rounding can leave a point past the last variant only when there is one.
  return node.holdout ? HOLDOUT : node.variants[node.variants.length - 1].id;
}

/** What a run is assigned when it enters: the journey holdout, and its variant of every split (key: `stepKey(node)`). */
export interface Assignment {
  holdout: boolean;
  variants: Record<string, string>;
  /** The same by node id (for counters and the conversion record). */
  byNode: Record<string, string>;
}

export function assignEntry(journey: Pick<Journey, 'id' | 'settings' | 'nodes'>, profileId: string): Assignment {
  const variants = dict<string>();
  const byNode = dict<string>();
  for (const node of journey.nodes) {
    if (node.kind !== 'split') continue;
    const variant = splitVariant(journey.id, node, profileId);
    variants[stepKey(node.id)] = variant;
    byNode[node.id] = variant;
  }
  return { holdout: inJourneyHoldout(journey, profileId), variants, byNode };
}

/** Splits read back from one run's start input (a journey has far fewer; the input is at most 256 KiB anyway). */
export const MAX_INPUT_VARIANTS = 100;

/**
 * What a run was assigned, read back from its start input (`holdout`, `variants`, as `enterJourney` writes them): the
 * record of the run itself, whatever version it started on and whatever the journey's weights are today. Undefined
 * when the input is no object; what is not an assignment (a variant that is no string, a key that is no step key) is
 * left out.
 */
export function assignmentOfInput(input: unknown): Pick<Assignment, 'holdout' | 'variants'> | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  const read = (field: string) => (Object.hasOwn(input, field) ? (input as Record<string, unknown>)[field] : undefined);
  const variants = dict<string>();
  const given = read('variants');
  if (given !== null && typeof given === 'object' && !Array.isArray(given)) {
    for (const key of Object.keys(given).slice(0, MAX_INPUT_VARIANTS)) {
      const variant = (given as Record<string, unknown>)[key];
      if (/^[a-z][a-z0-9_]{0,63}$/.test(key) && typeof variant === 'string' && variant.length > 0 && variant.length <= 64) variants[key] = variant;
    }
  }
  return { holdout: read('holdout') === true, variants };
}
