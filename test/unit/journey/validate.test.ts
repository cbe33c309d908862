import { basename } from 'node:path';
import { journeyReferences, unknownReferences } from '../../../lambdas/core/journey/references';
import { checkJourney, validateJourney, type Journey, type Violation } from '../../../lambdas/core/journey';
import { baseJourney, journeyFiles, mustValidate, PLAYBOOKS, readJson, FIXTURES } from './fixtures';

type Draft = ReturnType<typeof baseJourney>;
const node = (draft: Draft, id: string) => draft.nodes.find((n) => n.id === id)!;

describe('validateJourney', () => {
  it('accepts the base journey the rule cases start from', () => {
    expect(validateJourney(baseJourney())).toMatchObject({ ok: true });
  });

  it.each(journeyFiles(PLAYBOOKS).map((f) => [basename(f), f]))('accepts the playbook %s', (_name, file) => {
    expect(validateJourney(readJson(file))).toMatchObject({ ok: true });
  });

  it('accepts the fixture with every node kind', () => {
    expect(validateJourney(readJson(`${FIXTURES}/every-node-kind.json`))).toMatchObject({ ok: true });
  });

  it('accepts a dollar sign before a Liquid output, which is not a placeholder', () => {
    const draft = baseJourney();
    (node(draft, 'hello').template as { text: string }).text = 'Now ${{ context.price }}';
    expect(validateJourney(draft)).toMatchObject({ ok: true });
  });

  it('fills in the default settings: 91 days and marketing', () => {
    expect(mustValidate(baseJourney()).settings).toEqual({ timeout: '91d', messageClass: 'marketing' });
  });

  const cases: [rule: string, change: (d: Draft) => void, expected: { nodeId?: string; path: string; message: RegExp }][] = [
    ['duplicate ids', (d) => d.nodes.push({ id: 'pause', kind: 'exit' }), { nodeId: 'pause', path: 'nodes[4].id', message: /duplicate node id "pause"/ }],
    ['unknown reference', (d) => (node(d, 'hello').next = 'nowhere'), { nodeId: 'hello', path: 'nodes[2].next', message: /unknown node "nowhere"/ }],
    [
      'unknown reference in a branch',
      (d) => ((node(d, 'is-vip').branches as { next: string }[])[0].next = 'nowhere'),
      { nodeId: 'is-vip', path: 'nodes[1].branches[0].next', message: /unknown node "nowhere"/ },
    ],
    ['unknown start', (d) => (d.start = 'nowhere'), { path: 'start', message: /start refers to unknown node "nowhere"/ }],
    [
      'an exclusive group with re-entrance always',
      (d) => (d.settings = { reentry: 'always', exclusive: 'offers' }),
      { path: 'settings.exclusive', message: /exclusive groups need one run per profile at a time/ },
    ],
    ['unreachable node', (d) => d.nodes.push({ id: 'orphan', kind: 'exit' }), { nodeId: 'orphan', path: 'nodes[4]', message: /"orphan" is not reachable from start "pause"/ }],
    ['cycle', (d) => (node(d, 'hello').next = 'pause'), { nodeId: 'hello', path: 'nodes[2]', message: /cycle: pause -> is-vip -> hello -> pause/ }],
    ['cycle of one node', (d) => (node(d, 'hello').next = 'hello'), { nodeId: 'hello', path: 'nodes[2]', message: /cycle: hello -> hello \(/ }],
    [
      'more than 50 nodes',
      (d) => {
        // A chain of 50 waits in front of the base journey: 54 nodes, all reachable.
        for (let i = 0; i < 50; i++) d.nodes.push({ id: `w${i}`, kind: 'wait', duration: '1m', next: i === 49 ? 'pause' : `w${i + 1}` });
        d.start = 'w0';
      },
      { path: 'nodes', message: /at most 50 nodes \(found 54\)/ },
    ],
    ['wait longer than 90 days', (d) => (node(d, 'pause').duration = '91d'), { nodeId: 'pause', path: 'nodes[0].duration', message: /at most 90 days \(got 91 days\)/ }],
    ['wait in weeks longer than 90 days', (d) => (node(d, 'pause').duration = '12w7d'), { nodeId: 'pause', path: 'nodes[0].duration', message: /at most 90 days/ }],
    ['wait of zero seconds', (d) => (node(d, 'pause').duration = '0s'), { nodeId: 'pause', path: 'nodes[0].duration', message: /at least 1 second/ }],
    [
      'wait-for-event timeout longer than 90 days',
      (d) => d.nodes.splice(0, 1, { id: 'pause', kind: 'wait-for-event', events: ['app.opened'], timeout: '100d', onEvent: 'is-vip', onTimeout: 'done' }),
      { nodeId: 'pause', path: 'nodes[0].timeout', message: /wait-for-event timeout is at most 90 days/ },
    ],
    [
      'offset longer than 90 days',
      (d) => Object.assign(node(d, 'pause'), { duration: undefined, until: 'context.renewsAt', offset: '-91d' }),
      { nodeId: 'pause', path: 'nodes[0].offset', message: /offset is at most 90 days/ },
    ],
    ['global timeout over a year', (d) => (d.settings = { timeout: '366d' }), { path: 'settings.timeout', message: /at most 365 days/ }],
    [
      'template that does not parse',
      (d) => ((node(d, 'hello').template as { subject: string }).subject = 'Hi {{ profile.attributes.firstName'),
      { nodeId: 'hello', path: 'nodes[2].template.subject', message: /template does not parse/ },
    ],
    [
      'template with an unknown variable',
      (d) => ((node(d, 'hello').template as { text: string }).text = 'Hello {{ customer.name }}'),
      { nodeId: 'hello', path: 'nodes[2].template.text', message: /unknown variable "customer"/ },
    ],
    [
      'template with an unknown filter',
      (d) => ((node(d, 'hello').template as { text: string }).text = 'Hello {{ profile.attributes.firstName | shout }}'),
      { nodeId: 'hello', path: 'nodes[2].template.text', message: /unknown filter "shout"/ },
    ],
    [
      'html output in an unquoted attribute',
      (d) => ((node(d, 'hello').template as { html?: string }).html = '<a href={{ event.properties.url }}>cart</a>'),
      { nodeId: 'hello', path: 'nodes[2].template.html', message: /unquoted attribute/ },
    ],
    [
      'html output in an event handler attribute',
      (d) => ((node(d, 'hello').template as { html?: string }).html = '<a href="#" onclick="track(\'{{ event.id }}\')">cart</a>'),
      { nodeId: 'hello', path: 'nodes[2].template.html', message: /event handler attribute "onclick"/ },
    ],
    [
      'html output in a script',
      (d) => ((node(d, 'hello').template as { html?: string }).html = '<script>var id = "{{ event.id }}";</script>'),
      { nodeId: 'hello', path: 'nodes[2].template.html', message: /<script>/ },
    ],
    ['unknown kind', (d) => (node(d, 'hello').kind = 'teleport'), { nodeId: 'hello', path: 'nodes[2].kind', message: /kind must be one of wait, wait-for-event, condition, send, decide, split, exit \(got "teleport"\)/ }],
    ['missing kind', (d) => delete node(d, 'hello').kind, { nodeId: 'hello', path: 'nodes[2].kind', message: /kind must be one of/ }],
    ['missing next', (d) => delete node(d, 'hello').next, { nodeId: 'hello', path: 'nodes[2].next', message: /./ }],
    ['missing template field', (d) => delete (node(d, 'hello').template as { text?: string }).text, { nodeId: 'hello', path: 'nodes[2].template.text', message: /./ }],
    ['unknown field', (d) => (node(d, 'done').colour = 'red'), { nodeId: 'done', path: 'nodes[3]', message: /colour/ }],
    ['wait with neither duration nor until', (d) => delete node(d, 'pause').duration, { nodeId: 'pause', path: 'nodes[0].duration', message: /exactly one of duration or until/ }],
    ['offset on a duration wait', (d) => (node(d, 'pause').offset = '-1d'), { nodeId: 'pause', path: 'nodes[0].offset', message: /until-waits only/ }],
    ['until reading steps', (d) => Object.assign(node(d, 'pause'), { duration: undefined, until: 'steps.is_vip.at' }), { nodeId: 'pause', path: 'nodes[0].until', message: /event, profile or context/ }],
    ['malformed duration', (d) => (node(d, 'pause').duration = '1 hour'), { nodeId: 'pause', path: 'nodes[0].duration', message: /durations are groups/ }],
    ['node id that is not kebab-case', (d) => (node(d, 'done').id = 'Done_Node'), { nodeId: 'Done_Node', path: 'nodes[3].id', message: /kebab-case/ }],
    [
      'boolean ordering comparison (ASL has no BooleanGreaterThan)',
      (d) => ((node(d, 'is-vip').branches as { when: unknown }[])[0].when = { path: 'context.vip', op: 'gt', value: true }),
      { nodeId: 'is-vip', path: 'nodes[1].branches[0].when.value', message: /not booleans/ },
    ],
    [
      'condition path ending in .length',
      (d) => ((node(d, 'is-vip').branches as { when: unknown }[])[0].when = { path: 'context.items.length', op: 'gt', value: 1 }),
      { nodeId: 'is-vip', path: 'nodes[1].branches[0].when.path', message: /other than \.length/ },
    ],
    [
      'correlation on the entry event of an API-triggered journey',
      (d) =>
        d.nodes.splice(0, 1, { id: 'pause', kind: 'wait-for-event', events: ['app.opened'], correlate: { property: 'x', equals: 'event.properties.x' }, timeout: '1d', onEvent: 'is-vip', onTimeout: 'done' }),
      { nodeId: 'pause', path: 'nodes[0].correlate.equals', message: /correlate on context/ },
    ],
    [
      'entry condition reading context',
      (d) => (d.entry = { kind: 'event', event: 'cart.updated', condition: { path: 'context.x', op: 'exists' } }),
      { path: 'entry.condition', message: /reads event\.\* or profile\.\* \(got "context.x"\)/ },
    ],
    [
      'deployment placeholder in a template',
      (d) => ((node(d, 'hello').template as { text: string }).text = 'Only ${price} today'),
      { nodeId: 'hello', path: 'nodes[2].template.text', message: /"\$\{price\}" is reserved for deployment placeholders/ },
    ],
    ['deployment placeholder in the name', (d) => (d.name = 'Sale ${SenderEmail}'), { path: 'name', message: /reserved for deployment placeholders/ }],
    ['schema version 2', (d) => (d.schemaVersion = 2), { path: 'schemaVersion', message: /schemaVersion must be 1/ }],
    ['missing start', (d) => delete d.start, { path: 'start', message: /./ }],
    ['no nodes', (d) => (d.nodes = []), { path: 'nodes', message: /./ }],
  ];

  it.each(cases)('reports %s with the node and path', (_rule, change, expected) => {
    const draft = baseJourney();
    change(draft);
    const result = validateJourney(JSON.parse(JSON.stringify(draft)));
    expect(result.ok).toBe(false);
    const violations = (result as { violations: Violation[] }).violations;
    expect(violations).toContainEqual({ ...(expected.nodeId ? { nodeId: expected.nodeId } : {}), path: expected.path, message: expect.stringMatching(expected.message) });
    if (!expected.nodeId) expect(violations.find((v) => v.path === expected.path)?.nodeId).toBeUndefined();
  });

  it.each([null, 42, 'journey', [], {}])('reports a violation rather than throwing for %p', (input) => {
    const result = validateJourney(input);
    expect(result.ok).toBe(false);
    expect((result as { violations: Violation[] }).violations.length).toBeGreaterThan(0);
  });

  it('reports every broken node, not only the first', () => {
    const draft = baseJourney();
    node(draft, 'pause').next = 'nowhere';
    node(draft, 'hello').next = 'elsewhere';
    const result = validateJourney(draft);
    expect(result.ok || result.violations.map((v) => v.nodeId)).toEqual(['pause', 'hello']);
  });
});

describe('checkJourney', () => {
  it('reports a node id that makes a state name longer than 80 characters', () => {
    // The schema caps ids at 64 characters, so this guards journeys built in code without the schema.
    const journey = mustValidate(baseJourney());
    const longId = `h${'e'.repeat(75)}`;
    const renamed: Journey = {
      ...journey,
      nodes: journey.nodes.map((n) => (n.id === 'hello' ? { ...n, id: longId } : n.kind === 'condition' ? { ...n, branches: n.branches.map((b) => ({ ...b, next: longId })) } : n)),
    };
    expect(checkJourney(renamed)).toContainEqual({ nodeId: longId, path: 'nodes[2].id', message: expect.stringMatching(/longer than 80 characters/) });
  });

  it('finds nothing wrong in a valid journey', () => {
    expect(checkJourney(mustValidate(baseJourney()))).toEqual([]);
  });
});

describe('journeyReferences / unknownReferences', () => {
  it('lists the segments and placements a journey names, and the ones not deployed', () => {
    const journey = validateJourney({
      schemaVersion: 1,
      id: 'refs',
      name: 'Refs',
      entry: { kind: 'segment', segment: 'vip' },
      exitCriteria: [{ kind: 'segment-exited', segment: 'vip' }],
      start: 'branch',
      nodes: [
        { id: 'branch', kind: 'condition', branches: [{ when: { not: { segment: 'churned' } }, next: 'pick' }], default: 'done' },
        { id: 'pick', kind: 'decide', placement: 'push', next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    });
    if (!journey.ok) throw new Error(JSON.stringify(journey.violations));
    expect(journeyReferences(journey.journey)).toEqual([
      { kind: 'segment', id: 'vip', where: 'entry.segment' },
      { kind: 'segment', id: 'vip', where: 'exitCriteria[0].segment' },
      { kind: 'segment', id: 'churned', where: 'nodes[0] (node "branch").branches[0].when' },
      { kind: 'placement', id: 'push', where: 'nodes[1] (node "pick").placement' },
    ]);
    expect(unknownReferences([journey.journey], { segments: new Set(['vip']), placements: new Set() })).toEqual([
      'journey "refs": nodes[0] (node "branch").branches[0].when: unknown segment "churned" (no segments/*.json has that id)',
      'journey "refs": nodes[1] (node "pick").placement: unknown placement "push" (no placements/*.json has that id)',
    ]);
  });
});
