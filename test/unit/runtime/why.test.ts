import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCatalog } from '../../../lambdas/core/journey/catalog';
import { compileJourney } from '../../../lambdas/core/journey/compile';
import type { Journey } from '../../../lambdas/core/journey/schema';
import { assignEntry, assignmentOfInput } from '../../../lambdas/core/measure/assignment';
import type { LedgerRecord, RunSummary, StateVisit } from '../../../lambdas/core/runtime/ports';
import { endOf, messageOf, nodeOfState, nodesTaken, variantsOf, type NodeVisit } from '../../../lambdas/core/runtime/why';
import { journeyOfExecution, runOfKey } from '../../../lambdas/adapters/dynamodb-runs';

const file = join(__dirname, '../../../statemachines/cart-abandonment.json');
const { journeys } = buildCatalog([{ path: file, text: readFileSync(file, 'utf8') }]);
const cart: Journey = journeys[0].journey;

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:waymark-prod-cart-abandonment:cart-abandonment--0123456789abcdef0123456789ab';

describe('nodeOfState: compiled state names map back to journey nodes', () => {
  it('maps every state the compiler writes for a journey to the node it compiled', () => {
    const ids = new Set(cart.nodes.map((n) => n.id));
    const states = Object.keys(compileJourney(cart).States);
    expect(states.length).toBeGreaterThan(cart.nodes.length);
    for (const state of states) expect(ids.has(nodeOfState(state, ids)!)).toBe(true);
    expect(nodeOfState('reminder-email.deliver', ids)).toBe('reminder-email');
    expect(nodeOfState('pick-offer', ids)).toBe('pick-offer');
  });

  it('maps a state of no node of the journey (a definition since changed) to none', () => {
    const ids = new Set(cart.nodes.map((n) => n.id));
    expect(nodeOfState('gone-node.route', ids)).toBeUndefined();
    expect(nodeOfState('gone-node.route')).toBe('gone-node');
    expect(nodeOfState('.route')).toBeUndefined();
  });
});

describe('nodesTaken: a run history as the nodes it went through', () => {
  const visit = (state: string, enteredAt: string, exitedAt?: string): StateVisit => ({ state, enteredAt, ...(exitedAt ? { exitedAt } : {}) });

  it("groups a node's consecutive states into one visit, entered with its first state and left with its last", () => {
    const states = [
      visit('wait-for-order', 't0', 't1'),
      visit('reminder-email', 't1', 't1'),
      visit('reminder-email.route', 't1', 't1'),
      visit('reminder-email.deliver', 't1', 't2'),
      visit('reminder-email.record', 't2', 't2'),
      visit('reminder-email.count', 't2', 't3'),
      visit('wait-for-offer-signal', 't3'),
    ];
    expect(nodesTaken(states, cart)).toEqual([
      { node: 'wait-for-order', kind: 'wait-for-event', enteredAt: 't0', exitedAt: 't1', states: ['wait-for-order'] },
      {
        node: 'reminder-email',
        kind: 'send',
        enteredAt: 't1',
        exitedAt: 't3',
        states: ['reminder-email', 'reminder-email.route', 'reminder-email.deliver', 'reminder-email.record', 'reminder-email.count'],
      },
      // Still in it: no exit time.
      { node: 'wait-for-offer-signal', kind: 'wait-for-event', enteredAt: 't3', states: ['wait-for-offer-signal'] },
    ]);
  });

  it('keeps a node open while one of its states (a branch of a push) has not been left', () => {
    const states = [visit('offer-push', 't0', 't0'), visit('offer-push.deliver', 't0'), visit('offer-push.send', 't0', 't1')];
    expect(nodesTaken(states, cart)[0].exitedAt).toBeUndefined();
  });

  it('leaves out states of nodes the journey no longer has, and without the journey keeps every node unnamed by kind', () => {
    const states = [visit('old-node', 't0', 't1'), visit('done', 't1', 't1')];
    expect(nodesTaken(states, cart).map((n) => n.node)).toEqual(['done']);
    expect(nodesTaken(states)).toEqual([
      { node: 'old-node', enteredAt: 't0', exitedAt: 't1', states: ['old-node'] },
      { node: 'done', enteredAt: 't1', exitedAt: 't1', states: ['done'] },
    ]);
  });
});

describe('endOf: how a run ended, from its status and stop cause', () => {
  const summary = (status: RunSummary['status'], cause?: string) => ({ status, stoppedAt: 'T', ...(cause ? { error: 'Waymark.Stopped', cause } : {}) });
  it.each([
    ['SUCCEEDED', undefined, 'completed'],
    ['TIMED_OUT', undefined, 'timeout'],
    ['FAILED', 'Lambda.Unknown', 'failed'],
    ['ABORTED', 'profile erased', 'erased'],
    ['ABORTED', 'exit criteria: profile left segment "loyalty-members"', 'exit-criteria'],
    ['ABORTED', 'preempted by journey "x" (priority 80)', 'preempted'],
    ['ABORTED', 'stopped from the console', 'stopped'],
    ['ABORTED', undefined, 'stopped'],
  ] as const)('%s with cause %s ended: %s', (status, cause, reason) => {
    expect(endOf(summary(status, cause))).toMatchObject({ reason, at: 'T' });
  });

  it('says a running run has not ended', () => {
    expect(endOf({ status: 'RUNNING' })).toBeNull();
    expect(endOf({ status: 'PENDING_REDRIVE' })).toBeNull();
  });
});

describe('messageOf: a ledger item as its message outcome', () => {
  const base: LedgerRecord = { executionId: ARN, nodeId: 'reminder-email', status: 'sent', journeyId: 'cart-abandonment', profileId: 'p', channel: 'email', preparedAt: 't0' };
  it('reports the furthest engagement recorded, and every time known', () => {
    expect(messageOf(base).outcome).toBe('sent');
    expect(messageOf({ ...base, deliveredAt: 't1' }).outcome).toBe('delivered');
    expect(messageOf({ ...base, deliveredAt: 't1', openedAt: 't2' })).toMatchObject({ outcome: 'opened', deliveredAt: 't1', openedAt: 't2' });
    expect(messageOf({ ...base, deliveredAt: 't1', openedAt: 't2', clickedAt: 't3' }).outcome).toBe('clicked');
    expect(messageOf({ ...base, bouncedAt: 't1' }).outcome).toBe('bounced');
  });

  it('says why a message was suppressed or failed', () => {
    expect(messageOf({ ...base, status: 'suppressed', reason: 'consent:email' })).toEqual({
      node: 'reminder-email',
      channel: 'email',
      outcome: 'suppressed',
      status: 'suppressed',
      reason: 'consent:email',
      preparedAt: 't0',
    });
    expect(messageOf({ ...base, status: 'failed', error: 'SesV2.MessageRejectedException' })).toMatchObject({ outcome: 'failed', error: 'SesV2.MessageRejectedException' });
  });
});

describe('variantsOf: the variants a run was assigned, from its start input', () => {
  const split = { id: 'try-subject', kind: 'split', variants: [{ id: 'a', weight: 50, next: 'done' }, { id: 'b', weight: 40, next: 'done' }], holdout: { weight: 10 } };
  const journey = { ...cart, settings: { ...cart.settings, holdout: { percent: 30 } }, nodes: [...cart.nodes, split as never] } as Journey;
  const visit = (node: string): NodeVisit => ({ node, enteredAt: 't0', states: [node] });

  it('reports what enterJourney assigned: every split by its node, the journey holdout first, and which splits were reached', () => {
    // Profiles whose stable hash lands each way: whatever the assignment, it is read back as assigned.
    const seen = new Set<string>();
    for (const profileId of ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6', 'p-7', 'p-8']) {
      const assigned = assignEntry(journey, profileId);
      seen.add(`${assigned.holdout}:${assigned.byNode['try-subject']}`);
      const input = { profileId, steps: {}, ...(assigned.holdout ? { holdout: true } : {}), variants: assigned.variants };
      const expected = [
        ...(assigned.holdout ? [{ node: 'journey', variant: 'holdout', reached: true }] : []),
        { node: 'try-subject', variant: assigned.byNode['try-subject'], reached: true },
      ];
      expect(variantsOf(assignmentOfInput(JSON.parse(JSON.stringify(input))), [visit('wait-for-order'), visit('try-subject')], journey)).toEqual(expected);
    }
    expect([...seen].some((s) => s.startsWith('true'))).toBe(true);
    expect([...seen].some((s) => s.startsWith('false'))).toBe(true);
    expect(variantsOf({ holdout: false, variants: { try_subject: 'b' } }, [visit('wait-for-order')], journey)).toEqual([{ node: 'try-subject', variant: 'b', reached: false }]);
    expect(variantsOf({ holdout: true, variants: {} })).toEqual([{ node: 'journey', variant: 'holdout', reached: true }]);
    expect(variantsOf({ holdout: false, variants: {} }, [], journey)).toEqual([]);
    expect(variantsOf(undefined, [], journey)).toEqual([]);
  });

  it('ignores what the split state never set: the last variant ($.variant) and step results', () => {
    const input = { holdout: false, variant: 'b', steps: { try_subject: { variant: 'b' }, holdout: true } };
    expect(variantsOf(assignmentOfInput(input), [], journey)).toEqual([]);
  });

  it('shows a step key of no node of the journey (a split since removed) as its node id, a prototype name as data', () => {
    // `__proto__` is no step key (node ids start with a letter): left out, as are values that are no variant id.
    const read = assignmentOfInput(JSON.parse('{"variants":{"__proto__":"x","constructor":"b","old_split":"a","bad":3,"Upper":"a","arr":["a"]}}'));
    expect(variantsOf(read, [], journey)).toEqual([
      { node: 'constructor', variant: 'b', reached: false },
      { node: 'old-split', variant: 'a', reached: false },
    ]);
    expect(Object.getPrototypeOf(read!.variants)).toBeNull();
    expect(assignmentOfInput('not an object')).toBeUndefined();
    expect(assignmentOfInput(['variants'])).toBeUndefined();
    expect(assignmentOfInput({ holdout: 'true' })).toEqual({ holdout: false, variants: {} });
  });
});

describe('runOfKey: the runs a profile index key names', () => {
  it('reads the journey from the execution name and the ARN from the key', () => {
    expect(journeyOfExecution(ARN)).toBe('cart-abandonment');
    expect(runOfKey(`LEDGER#${ARN}`, 'p')).toEqual({ run: { journeyId: 'cart-abandonment', executionArn: ARN } });
    expect(runOfKey(`RUN#${ARN}`, 'p')).toEqual({ run: { journeyId: 'cart-abandonment', executionArn: ARN } });
    expect(runOfKey(`DECISIONKEY#p#${ARN}#pick-offer`, 'p')).toEqual({ run: { journeyId: 'cart-abandonment', executionArn: ARN } });
    expect(runOfKey('ENROLL#cart-abandonment#p', 'p')).toEqual({ read: { journeyId: 'cart-abandonment' } });
  });

  it("names no run for other keys: an API decision's key, another profile's, a malformed ARN", () => {
    expect(runOfKey('DECISIONKEY#p#my-key', 'p')).toBeUndefined();
    expect(runOfKey(`DECISIONKEY#q#${ARN}#pick-offer`, 'p')).toBeUndefined();
    expect(runOfKey('LEDGER#not-an-arn', 'p')).toBeUndefined();
    expect(runOfKey('CAP#offer#p', 'p')).toBeUndefined();
  });
});
