import type { SegmentDefinition } from './rule';
import { ruleDependencies } from './dependencies';

/**
 * Checks a set of segments together: every `segment` condition names a segment of the set, and no segment depends on
 * itself through references. Returns the segments in evaluation order (a segment after every segment it references),
 * ties by id, or the problems, each naming the segment.
 */
export function orderSegments(segments: readonly SegmentDefinition[]): { ok: true; order: SegmentDefinition[] } | { ok: false; errors: string[]; invalid: string[] } {
  const byId = new Map<string, SegmentDefinition>();
  const errors: string[] = [];
  const invalid = new Set<string>();
  for (const segment of segments) {
    if (byId.has(segment.id)) {
      errors.push(`segment "${segment.id}": defined twice`);
      invalid.add(segment.id);
    }
    byId.set(segment.id, segment);
  }
  const refs = new Map<string, string[]>();
  for (const segment of byId.values()) {
    const deps = ruleDependencies(segment.rule).segments;
    for (const ref of deps) {
      if (byId.has(ref)) continue;
      errors.push(`segment "${segment.id}": rule references unknown segment "${ref}"`);
      invalid.add(segment.id);
    }
    refs.set(segment.id, deps.filter((d) => byId.has(d)));
  }
  const order: SegmentDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = path.slice(path.indexOf(id));
      errors.push(`segment "${id}": references form a cycle: ${[...cycle, id].join(' → ')}`);
      for (const member of cycle) invalid.add(member);
      return;
    }
    state.set(id, 'visiting');
    for (const ref of refs.get(id) ?? []) visit(ref, [...path, id]);
    state.set(id, 'done');
    order.push(byId.get(id)!);
  };
  for (const id of [...byId.keys()].sort()) visit(id, []);
  return errors.length > 0 ? { ok: false, errors: [...new Set(errors)], invalid: [...invalid].sort() } : { ok: true, order };
}

/** The key of a segment in a journey's `profile.segments` (JSONPath-safe: dashes become underscores). */
export function membershipKey(segmentId: string): string {
  return segmentId.replace(/-/g, '_');
}
