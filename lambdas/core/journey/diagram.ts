import { assertNever } from '../shared/assert-never';
import { successors } from './graph';
import type { Journey, JourneyNode } from './schema';

function label(node: JourneyNode): string {
  switch (node.kind) {
    case 'wait':
      return node.duration !== undefined ? `wait ${node.duration}` : `wait until ${node.until}${node.offset ? ` ${node.offset}` : ''}${node.atLocalTime ? ` at ${node.atLocalTime} local` : ''}`;
    case 'wait-for-event':
      return `wait for ${node.events.join(' or ')}${node.correlate?.scope === 'catalog' ? ' (catalog-wide)' : ''}`;
    case 'condition':
      return 'condition';
    case 'send':
      return `send ${node.channel}`;
    case 'decide':
      return `decide offer for ${node.placement}`;
    case 'split':
      return `split ${node.variants.map((v) => `${v.id} ${v.weight}%`).join(' / ')}${node.holdout ? ` / holdout ${node.holdout.weight}%` : ''}`;
    case 'exit':
      return 'exit';
    default:
      return assertNever(node, 'node');
  }
}

const escape = (text: string) => text.replace(/"/g, '#quot;');
// Mermaid ids get a prefix: a node named `end`, `style` or `entry` would otherwise break the chart or meet the entry box.
const mermaidId = (nodeId: string) => `n_${nodeId.replace(/-/g, '_')}`;
/** The end box of a split's holdout (its own prefix: no node's id can take it). */
export const holdoutId = (nodeId: string) => `h_${nodeId.replace(/-/g, '_')}`;

/** A Mermaid flowchart of a journey: entry, one box per node (shape by kind), labelled edges. */
export function toMermaid(journey: Journey): string {
  const lines = ['flowchart TD'];
  const entry = journey.entry.kind === 'event' ? `on ${journey.entry.event}` : journey.entry.kind === 'segment' ? `enters segment ${journey.entry.segment}` : 'API trigger';
  lines.push(`  entry(["${escape(entry)}"])`);
  for (const node of journey.nodes) {
    const text = escape(`${node.id}<br/>${label(node)}`);
    const shape = node.kind === 'condition' || node.kind === 'split' ? `{"${text}"}` : node.kind === 'exit' ? `((\"${text}\"))` : node.kind === 'wait-for-event' || node.kind === 'wait' ? `[/"${text}"/]` : `["${text}"]`;
    lines.push(`  ${mermaidId(node.id)}${shape}`);
  }
  lines.push(`  entry --> ${mermaidId(journey.start)}`);
  // A split's holdout exits there: drawn as an end of its own, so the share that gets no message is visible.
  for (const node of journey.nodes) {
    if (node.kind === 'split' && node.holdout) {
      lines.push(`  ${holdoutId(node.id)}((\"${escape(`holdout ${node.holdout.weight}%<br/>no message, exit`)}\"))`);
      lines.push(`  ${mermaidId(node.id)} -- "holdout ${node.holdout.weight}%" --> ${holdoutId(node.id)}`);
    }
  }
  for (const node of journey.nodes) {
    for (const edge of successors(node)) {
      const arrow = edge.label && edge.field !== 'next' ? `-- "${escape(edge.label)}" -->` : '-->';
      lines.push(`  ${mermaidId(node.id)} ${arrow} ${mermaidId(edge.target)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
