import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidJourneyError,
  REPOSITORY_ROOT,
  scriptProblem,
  simulate,
  type SimulationEngine,
  type SimulationInput,
} from '../../../lambdas/simulate/engine';
import { renderText, type SimulationReport } from '../../../lambdas/simulate/report';
import { formatProblem, ScriptError } from '../../../lambdas/simulate/script';
import { ANN, cartAbandonmentReport } from '../../support/simulation-report';

const CART = 'statemachines/cart-abandonment.json';
const cartJourney = () => JSON.parse(readFileSync(join(REPOSITORY_ROOT, CART), 'utf8'));
const added = (email: string) => ({ at: '+0s', type: 'cart.updated', identities: { email }, properties: { action: 'item-added' } });

/** An engine that records what it was asked and answers `report`. */
function fakeEngine(report: SimulationReport = cartAbandonmentReport()) {
  const calls: SimulationInput[] = [];
  const engine: SimulationEngine = {
    run: async (input) => {
      calls.push(input);
      return report;
    },
  };
  return { engine, calls };
}

describe('simulate() hands the engine validated inputs', () => {
  it('reads the journey file from the repository and resolves the entries from the start', async () => {
    const { engine, calls } = fakeEngine();
    await simulate({
      journey: CART,
      events: [added('ann@example.com'), { at: '+1h', type: 'order.placed', identities: { email: 'ann@example.com' } }],
      profiles: [{ identities: { email: 'ann@example.com' }, attributes: { firstName: 'Ann' } }],
      start: '2026-12-01T10:00:00Z',
      engine,
    });
    const [input] = calls;
    expect(input).toMatchObject({ journeyFile: CART, root: REPOSITORY_ROOT, journey: { id: 'cart-abandonment' } });
    expect(input.start.toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(input.script.map((e) => [e.kind, e.at, e.index, e.line])).toEqual([
      ['event', '2026-12-01T10:00:00.000Z', 0, undefined],
      ['event', '2026-12-01T11:00:00.000Z', 1, undefined],
    ]);
    expect(input.profiles).toMatchObject([{ index: 0, identities: { email: 'ann@example.com' }, attributes: { firstName: 'Ann' } }]);
  });

  it('passes --until resolved from the start, and none when not asked', async () => {
    const { engine, calls } = fakeEngine();
    await simulate({ journey: CART, events: [added('ann@example.com')], start: new Date('2026-12-01T10:00:00Z'), until: '+2d', engine });
    await simulate({ journey: CART, events: [added('ann@example.com')], engine });
    expect(calls[0].until?.toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(calls[1]).not.toHaveProperty('until');
  });

  it('takes a journey definition instead of a file', async () => {
    const { engine, calls } = fakeEngine();
    await simulate({ journey: { ...cartJourney(), id: 'cart-draft' }, events: [added('ann@example.com')], engine });
    expect(calls[0]).toMatchObject({ journeyFile: 'cart-draft.json', journey: { id: 'cart-draft' } });
    expect(calls[0].start.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('refuses an invalid journey with every violation, before running anything', async () => {
    const { engine, calls } = fakeEngine();
    const broken = { ...cartJourney(), start: 'nowhere' };
    await expect(simulate({ journey: broken, events: [], engine })).rejects.toThrow(InvalidJourneyError);
    await expect(simulate({ journey: broken, events: [], engine })).rejects.toThrow('start: start refers to unknown node "nowhere"');
    expect(calls).toEqual([]);
  });

  it('refuses invalid entries naming events[i] and the field, before running anything', async () => {
    const { engine, calls } = fakeEngine();
    const run = simulate({ journey: CART, events: [added('ann@example.com'), { at: '+1h', type: 'order.placed' }], engine });
    await expect(run).rejects.toThrow(ScriptError);
    await expect(simulate({ journey: CART, events: [{ at: 'later', type: 't', identities: { a: '1' } }], engine })).rejects.toThrow(
      'events[0].at: at is "+<duration>"',
    );
    await expect(simulate({ journey: CART, events: [], profiles: [{}], engine })).rejects.toThrow('profiles[0].identities: ');
    expect(calls).toEqual([]);
  });
});

describe('the answer of simulate()', () => {
  it('finds a profile by identity or id, with its path, messages, suppressions and decisions', async () => {
    const sim = await simulate({ journey: CART, events: [added('ann@example.com')], engine: fakeEngine().engine });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.profileId).toBe(ANN);
    expect(ann.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'pick-offer', 'offer-push', 'done']);
    expect(ann.messages.map((m) => `${m.channel}:${m.node}`)).toEqual(['email:reminder-email', 'push:offer-push']);
    expect(ann.decisions[0].offers.map((o) => o.offerId)).toEqual(['cart-discount']);
    expect(sim.profile(ANN).path).toEqual(ann.path);
    expect(sim.profile('email:cem@example.com').suppressions.map((s) => s.reason)).toEqual(['consent:email', 'consent:email']);
    expect(sim.profile('email:bob@example.com').run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-01T10:35:00.000Z' });
  });

  it('keeps path and messages to the simulated journey; every run stays in runs', async () => {
    const report = cartAbandonmentReport();
    const [run] = report.profiles[0].runs;
    report.profiles[0].runs.push({ ...run, journeyId: 'welcome', executionId: 'welcome-1' });
    const sim = await simulate({ journey: CART, events: [], engine: fakeEngine(report).engine });
    const ann = sim.profile('email:ann@example.com');
    expect([ann.runs.length, ann.messages.length, ann.run('welcome').executionId]).toEqual([2, 2, 'welcome-1']);
    expect(() => ann.run('cross-sell')).toThrow(`profile ${ANN} has 0 runs of cross-sell, not one`);
  });

  it('names the profiles there are when asked for one that is not', async () => {
    const sim = await simulate({ journey: CART, events: [], engine: fakeEngine().engine });
    expect(() => sim.profile('email:zoe@example.com')).toThrow(
      'no profile email:zoe@example.com in the simulation (profiles: email:ann@example.com, email:bob@example.com, email:cem@example.com)',
    );
    expect(() => sim.profile('constructor:x')).toThrow('no profile constructor:x');
  });

  it('prints itself as the CLI does', async () => {
    const sim = await simulate({ journey: CART, events: [], engine: fakeEngine().engine });
    expect(sim.text()).toBe(renderText(cartAbandonmentReport()));
  });
});

describe('scriptProblem', () => {
  it('names an entry by the line it starts on, for the engine to refuse it', () => {
    const problem = scriptProblem({ index: 3, line: 12 }, 'profile', 'no profile has the identity email:zoe@example.com');
    expect(formatProblem('events.json', problem)).toBe('events.json:12: entry 4, profile: no profile has the identity email:zoe@example.com');
    expect(formatProblem(undefined, scriptProblem({ index: 3 }, 'trigger', 'not API-triggered'))).toBe('events[3].trigger: not API-triggered');
  });
});
