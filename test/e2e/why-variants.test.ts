import { buildCatalog } from '../../lambdas/core/journey/catalog';
import type { Journey } from '../../lambdas/core/journey/schema';
import { inJourneyHoldout, splitVariant } from '../../lambdas/core/measure/assignment';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { run as cliRun } from '../../bin/waymark';
import { call } from './http';
import { openVirtualStack } from './local-stack';

const email = (id: string) => ({ kind: 'send', channel: 'email', template: { subject: `offer ${id}`, text: 'hello' }, next: 'done' });
/** A day's wait, then a split with a holdout, in a journey with a holdout of its own. */
const definition = {
  schemaVersion: 1,
  id: 'why-split',
  name: 'Why split',
  entry: { kind: 'event', event: 'why.signed.up' },
  settings: { holdout: { percent: 20 } },
  start: 'wait-a-day',
  nodes: [
    { id: 'wait-a-day', kind: 'wait', duration: '1d', next: 'offer-test' },
    { id: 'offer-test', kind: 'split', variants: [{ id: 'a', weight: 45, next: 'send-a' }, { id: 'b', weight: 45, next: 'send-b' }], holdout: { weight: 10 } },
    { id: 'send-a', ...email('a') },
    { id: 'send-b', ...email('b') },
    { id: 'done', kind: 'exit' },
  ],
};
const { journeys, problems } = buildCatalog([{ path: 'why-split.json', text: JSON.stringify(definition) }]);
const journey = journeys[0]?.journey as Journey;
const split = journey?.nodes[1] as Extract<Journey['nodes'][number], { kind: 'split' }>;

/** The first generated address whose profile lands where the test needs it (assignment is a stable hash). */
function addressWhere(wanted: { holdout: boolean; variant: string }, taken: Set<string>): string {
  for (let i = 0; ; i++) {
    const address = `why-v${i}@example.com`;
    const id = newProfileId('email', address);
    if (taken.has(address) || inJourneyHoldout(journey, id) !== wanted.holdout || splitVariant(journey.id, split, id) !== wanted.variant) continue;
    taken.add(address);
    return address;
  }
}

describe('why: the variants a run was assigned at entry (local stack, virtual clock)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  const taken = new Set<string>();
  const bob = addressWhere({ holdout: false, variant: 'b' }, taken);
  const cai = addressWhere({ holdout: false, variant: 'holdout' }, taken);
  const dee = addressWhere({ holdout: true, variant: 'a' }, taken);
  const idOf = (address: string) => newProfileId('email', address);
  const variantsOf = async (address: string) => {
    const why = await call(ctx.stack, 'GET', `/profiles/${idOf(address)}/journeys/why-split`);
    expect(why.status).toBe(200);
    return why.body.runs.map((r: { variants: unknown }) => r.variants);
  };

  beforeAll(async () => {
    expect(problems).toEqual([]);
    ctx = await openVirtualStack({ journeys, start: '2026-12-01T09:00:00.000Z' });
    for (const address of [bob, cai, dee]) await ctx.put('why.signed.up', { id: `why-signup-${address}`, identities: { email: address } });
  });
  afterAll(() => ctx.stack.stop());

  it('reports the split variant and the journey holdout assigned at entry, the split not reached yet', async () => {
    expect(await variantsOf(bob)).toEqual([[{ node: 'offer-test', variant: 'b', reached: false }]]);
    expect(await variantsOf(cai)).toEqual([[{ node: 'offer-test', variant: 'holdout', reached: false }]]);
    expect(await variantsOf(dee)).toEqual([
      [
        { node: 'journey', variant: 'holdout', reached: true },
        { node: 'offer-test', variant: 'a', reached: false },
      ],
    ]);
  });

  it('says the split was reached once the run went through it, and matches the path and messages', async () => {
    await ctx.clock.advance('1d');
    const [bobRun] = (await call(ctx.stack, 'GET', `/profiles/${idOf(bob)}/journeys/why-split`)).body.runs;
    expect(bobRun.end).toMatchObject({ reason: 'completed' });
    expect(bobRun.variants).toEqual([{ node: 'offer-test', variant: 'b', reached: true }]);
    expect(bobRun.nodes.map((n: { node: string }) => n.node)).toContain('send-b');
    expect(bobRun.messages).toEqual([expect.objectContaining({ node: 'send-b', outcome: 'sent' })]);
    // The split's holdout ends at the split; the journey's holdout goes on with every message suppressed.
    expect(await variantsOf(cai)).toEqual([[{ node: 'offer-test', variant: 'holdout', reached: true }]]);
    const [deeRun] = (await call(ctx.stack, 'GET', `/profiles/${idOf(dee)}/journeys/why-split`)).body.runs;
    expect(deeRun.variants).toEqual([
      { node: 'journey', variant: 'holdout', reached: true },
      { node: 'offer-test', variant: 'a', reached: true },
    ]);
    expect(deeRun.messages).toEqual([expect.objectContaining({ node: 'send-a', outcome: 'suppressed', reason: 'holdout' })]);
  });

  it('`waymark why` prints the assignment', async () => {
    let stdout = '';
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stdout += t), readFile: async () => '' };
    expect(await cliRun(['why', `email:${dee}`, 'why-split', '--api', ctx.stack.url], io)).toBe(0);
    expect(stdout).toContain('  variant: journey = holdout, offer-test = a');
  });
});
