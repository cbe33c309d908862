import type { Condition } from './condition';
import type { Journey } from './schema';

/** What a journey names outside itself, with where: segments (entry, exit criteria, branches) and placements (decide). */
export interface JourneyReference {
  kind: 'segment' | 'placement';
  id: string;
  /** E.g. `entry.segment`, `exitCriteria[0].segment`, `nodes[2] (node "by-tier").branches[0].when`. */
  where: string;
}

function conditionSegments(condition: Condition): string[] {
  if ('all' in condition) return condition.all.flatMap(conditionSegments);
  if ('any' in condition) return condition.any.flatMap(conditionSegments);
  if ('not' in condition) return conditionSegments(condition.not);
  return 'segment' in condition ? [condition.segment] : [];
}

export function journeyReferences(journey: Journey): JourneyReference[] {
  const out: JourneyReference[] = [];
  if (journey.entry.kind === 'segment') out.push({ kind: 'segment', id: journey.entry.segment, where: 'entry.segment' });
  if (journey.entry.kind === 'event' && journey.entry.condition) {
    for (const id of conditionSegments(journey.entry.condition)) out.push({ kind: 'segment', id, where: 'entry.condition' });
  }
  journey.exitCriteria?.forEach((c, i) => out.push({ kind: 'segment', id: c.segment, where: `exitCriteria[${i}].segment` }));
  journey.nodes.forEach((node, i) => {
    const at = `nodes[${i}] (node "${node.id}")`;
    if (node.kind === 'decide') out.push({ kind: 'placement', id: node.placement, where: `${at}.placement` });
    if (node.kind === 'condition') {
      node.branches.forEach((b, j) => {
        for (const id of conditionSegments(b.when)) out.push({ kind: 'segment', id, where: `${at}.branches[${j}].when` });
      });
    }
  });
  return out;
}

/**
 * The references of journeys to segments and placements that are not among `known` (the deployed files): each would
 * leave an entry that never fires, a branch that is never taken, or a decide step that fails every run.
 */
export function unknownReferences(journeys: readonly Journey[], known: { segments: ReadonlySet<string>; placements: ReadonlySet<string> }): string[] {
  return journeys.flatMap((journey) =>
    journeyReferences(journey)
      .filter((r) => !(r.kind === 'segment' ? known.segments : known.placements).has(r.id))
      .map((r) => `journey "${journey.id}": ${r.where}: unknown ${r.kind} "${r.id}" (no ${r.kind === 'segment' ? 'segments' : 'placements'}/*.json has that id)`),
  );
}
