import { assertNever } from '../shared/assert-never';
import type { Rule } from './rule';

/** What a rule reads: the index streaming evaluation uses to re-evaluate only the segments a change can affect. */
export interface RuleDependencies {
  /** Attribute names (`attributes[name]`). */
  attributes: string[];
  /** Event types whose computed attributes (count, first/last seen, sums) the rule reads. */
  computedEvents: string[];
  /** Event types of event conditions over the recent-events window. */
  eventTypes: string[];
  /** Other segments whose membership the rule tests. */
  segments: string[];
  /** The result can change with `now` alone (relative dates, event windows, anniversaries): needs a scheduled re-check. */
  timeDependent: boolean;
}

export function ruleDependencies(rule: Rule): RuleDependencies {
  const attributes = new Set<string>();
  const computedEvents = new Set<string>();
  const eventTypes = new Set<string>();
  const segments = new Set<string>();
  let timeDependent = false;
  const visit = (r: Rule): void => {
    switch (r.kind) {
      case 'all':
      case 'any':
        r.rules.forEach(visit);
        return;
      case 'not':
        visit(r.rule);
        return;
      case 'segment':
        segments.add(r.id);
        return;
      case 'event':
        eventTypes.add(r.type);
        // Without `within` the window still ages: events fall out of it after `ProfilePolicy.window.days`.
        timeDependent = true;
        return;
      case 'withinLast':
      case 'withinNext':
      case 'anniversary':
        timeDependent = true;
        break;
      case 'equals':
      case 'notEquals':
      case 'greater':
      case 'less':
      case 'between':
      case 'in':
      case 'contains':
      case 'startsWith':
      case 'exists':
        break;
      default:
        return assertNever(r, 'rule');
    }
    if (r.field.kind === 'attribute') attributes.add(r.field.name);
    else computedEvents.add(r.field.event);
  };
  visit(rule);
  return { attributes: [...attributes].sort(), computedEvents: [...computedEvents].sort(), eventTypes: [...eventTypes].sort(), segments: [...segments].sort(), timeDependent };
}

export interface SegmentIndex {
  readonly byAttribute: ReadonlyMap<string, readonly string[]>;
  readonly byEventType: ReadonlyMap<string, readonly string[]>;
  /** Segment id → segments whose rules reference it. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** Segments whose membership can change with time alone. */
  readonly timeDependent: readonly string[];
}

function push(map: Map<string, string[]>, key: string, id: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

export function buildSegmentIndex(segments: readonly { id: string; rule: Rule }[]): SegmentIndex {
  const byAttribute = new Map<string, string[]>();
  const byEventType = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  const timeDependent: string[] = [];
  for (const { id, rule } of segments) {
    const deps = ruleDependencies(rule);
    for (const name of deps.attributes) push(byAttribute, name, id);
    for (const type of [...deps.computedEvents, ...deps.eventTypes]) push(byEventType, type, id);
    for (const ref of deps.segments) push(dependents, ref, id);
    if (deps.timeDependent) timeDependent.push(id);
  }
  return { byAttribute, byEventType, dependents, timeDependent };
}

/**
 * A profile change: the attributes it set and the event types it touched. An event type is touched when an event of
 * it arrived (computed attributes and the window change) or when the bounded window evicted one of it.
 */
export interface ProfileChange {
  readonly attributes: readonly string[];
  readonly eventTypes: readonly string[];
}

/** The segments whose result a change can affect, directly or through segments that reference them (sorted). */
export function affectedSegments(index: SegmentIndex, change: ProfileChange): string[] {
  const affected = new Set<string>();
  const queue: string[] = [];
  const add = (ids: readonly string[] | undefined) => {
    for (const id of ids ?? []) {
      if (!affected.has(id)) {
        affected.add(id);
        queue.push(id);
      }
    }
  };
  for (const name of change.attributes) add(index.byAttribute.get(name));
  for (const type of change.eventTypes) add(index.byEventType.get(type));
  while (queue.length > 0) add(index.dependents.get(queue.pop() as string));
  return [...affected].sort();
}
