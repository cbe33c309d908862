import { assertNever } from '../shared/assert-never';
import type { JourneyNode, NodeKind } from './schema';

export interface Edge {
  /** The field of the node holding the reference, e.g. `next`, `branches[1].next`. */
  field: string;
  target: string;
  label?: string;
}

/** The outgoing edges of a node, in the order they are written. */
export function successors(node: JourneyNode): Edge[] {
  switch (node.kind) {
    case 'wait':
    case 'send':
      return [{ field: 'next', target: node.next }];
    case 'wait-for-event':
      return [
        { field: 'onEvent', target: node.onEvent, label: node.events.join(' | ') },
        { field: 'onTimeout', target: node.onTimeout, label: `timeout ${node.timeout}` },
      ];
    case 'condition':
      return [
        ...node.branches.map((b, i) => ({ field: `branches[${i}].next`, target: b.next, label: b.label ?? `branch ${i + 1}` })),
        { field: 'default', target: node.default, label: 'default' },
      ];
    case 'decide':
      return node.onNoOffer === undefined
        ? [{ field: 'next', target: node.next, label: `offer for ${node.placement}` }]
        : [
            { field: 'next', target: node.next, label: `offer for ${node.placement}` },
            { field: 'onNoOffer', target: node.onNoOffer, label: 'no offer' },
          ];
    case 'split':
      return node.variants.map((v, i) => ({ field: `variants[${i}].next`, target: v.next, label: v.label ?? `${v.id} ${v.weight}%` }));
    case 'exit':
      return [];
    default:
      return assertNever(node, 'node');
  }
}

/** Suffixes the compiler appends to a node id to name its extra states (kept here so the validator checks name lengths). */
export const STATE_SUFFIXES: Record<NodeKind, readonly string[]> = {
  wait: ['.wait'],
  'wait-for-event': [],
  condition: ['.branch'],
  send: ['.route', '.deliver', '.record', '.failed'],
  decide: ['.branch'],
  split: ['.branch', '.holdout'],
  exit: [],
};

/** The key under `$.steps` where a node's results are kept (JSONPath-safe). */
export function stepKey(nodeId: string): string {
  return nodeId.replace(/-/g, '_');
}
