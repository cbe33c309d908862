import { successors, toMermaid, type Journey } from '../../../lambdas/core/journey';
import { baseJourney, everyNodeKind, journeyFiles, mustValidate, PLAYBOOKS, readJson } from './fixtures';

const mermaidId = (id: string) => `n_${id.replace(/-/g, '_')}`;

describe('toMermaid', () => {
  const journeys: [string, Journey][] = [['every-node-kind', everyNodeKind()], ...journeyFiles(PLAYBOOKS).map((f): [string, Journey] => [f.split('/').pop()!, mustValidate(readJson(f))])];

  it.each(journeys)('draws every node of %s once, labelled with its id', (_name, journey) => {
    const lines = toMermaid(journey).split('\n');
    for (const node of journey.nodes) {
      expect(lines.filter((l) => l.startsWith(`  ${mermaidId(node.id)}`) && !l.includes('-->'))).toEqual([expect.stringContaining(`"${node.id}<br/>`)]);
    }
  });

  it.each(journeys)('draws every edge of %s, and the entry edge to the start', (_name, journey) => {
    const diagram = toMermaid(journey);
    const edges = diagram.split('\n').filter((l) => l.includes('-->'));
    const expected = [`  entry --> ${mermaidId(journey.start)}`];
    const holdouts: string[] = [];
    for (const node of journey.nodes) {
      for (const edge of successors(node)) {
        const arrow = edge.field === 'next' ? '-->' : `-- "${edge.label!.replace(/"/g, '#quot;')}" -->`;
        expected.push(`  ${mermaidId(node.id)} ${arrow} ${mermaidId(edge.target)}`);
      }
      // A split's holdout ends in a box of its own, after the split's edges are written.
      if (node.kind === 'split' && node.holdout) holdouts.push(`  ${mermaidId(node.id)} -- "holdout ${node.holdout.weight}%" --> h_${node.id.replace(/-/g, '_')}`);
    }
    expected.splice(1, 0, ...holdouts);
    expect(edges).toEqual(expected);
  });

  it('starts with a top-down flowchart and the entry event', () => {
    expect(toMermaid(everyNodeKind()).split('\n').slice(0, 2)).toEqual(['flowchart TD', '  entry(["on member.signed_up"])']);
  });

  it('labels branches and timeouts', () => {
    const diagram = toMermaid(everyNodeKind());
    expect(diagram).toContain('n_check_tier -- "gold" --> n_gold_push');
    expect(diagram).toContain('n_check_tier -- "default" --> n_pause');
    expect(diagram).toContain('n_wait_for_login -- "app.logged_in | web.logged_in" --> n_check_tier');
    expect(diagram).toContain('n_wait_for_login -- "timeout 3d" --> n_nudge_sms');
  });

  it('keeps nodes named like Mermaid keywords or the entry box apart from them', () => {
    const draft = baseJourney();
    const rename = { pause: 'entry', done: 'end' } as Record<string, string>;
    const renamed = JSON.parse(JSON.stringify(draft), (key, value) => (typeof value === 'string' && rename[value] && ['id', 'next', 'default', 'start'].includes(key) ? rename[value] : value));
    const diagram = toMermaid(mustValidate(renamed));
    expect(diagram).toContain('  entry --> n_entry');
    expect(diagram).toContain('n_hello --> n_end');
    expect(diagram).not.toMatch(/ end\b(?!<br)/);
  });

  it('escapes double quotes in labels', () => {
    const draft = baseJourney();
    (draft.nodes[1].branches as { label?: string }[])[0].label = 'say "hi"';
    expect(toMermaid(mustValidate(draft))).toContain('-- "say #quot;hi#quot;" -->');
  });
});
