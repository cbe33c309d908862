import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateJourney } from '../../../lambdas/core/journey';
import { baseJourney, PLAYBOOKS } from './fixtures';

/**
 * The ```json examples of the language reference, so the page cannot drift from the schema: nodes and envelope
 * fragments (the simulation scripts and profiles, JSON arrays, are checked by the simulate tests).
 */
const examples = [...readFileSync(join(PLAYBOOKS, 'README.md'), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)]
  .map((m) => m[1].trim())
  .filter((e) => !e.startsWith('['));

function asJourney(example: string): unknown {
  if (example.startsWith('"')) {
    // A fragment such as "entry": { … } or "settings": { … } of the envelope.
    return { ...baseJourney(), ...JSON.parse(`{${example}}`) };
  }
  const node = JSON.parse(example) as Record<string, unknown> & { id: string };
  const targets = new Set<string>();
  for (const field of ['next', 'onEvent', 'onTimeout', 'default', 'onNoOffer']) if (typeof node[field] === 'string') targets.add(node[field] as string);
  for (const branch of (node.branches as { next: string }[] | undefined) ?? []) targets.add(branch.next);
  for (const variant of (node.variants as { next: string }[] | undefined) ?? []) targets.add(variant.next);
  return {
    schemaVersion: 1,
    id: 'reference',
    name: 'Reference example',
    entry: { kind: 'event', event: 'cart.updated' },
    start: node.id,
    nodes: [node, ...[...targets].map((id) => ({ id, kind: 'exit' }))],
  };
}

describe('the journey language reference', () => {
  it('has an example for every node kind and channel', () => {
    const kinds = examples.filter((e) => e.startsWith('{')).map((e) => JSON.parse(e) as { kind: string; channel?: string }).map((n) => n.channel ?? n.kind);
    expect([...new Set(kinds)].sort()).toEqual(['condition', 'decide', 'email', 'exit', 'push', 'sms', 'split', 'wait', 'wait-for-event']);
  });

  const title = (e: string) => (e.startsWith('"') ? e.split('"')[1] : `${(JSON.parse(e) as { kind: string }).kind} "${(JSON.parse(e) as { id: string }).id}"`);
  it.each(examples.map((e) => [title(e), e]))('shows a valid example: %s', (_title, example) => {
    const result = validateJourney(asJourney(example));
    expect(result.ok || result.violations).toBe(true);
  });
});
