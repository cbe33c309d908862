import fc from 'fast-check';
import type { ExecutionInput } from '../../../lambdas/core/journey/asl';
import type { WaitForEventNode } from '../../../lambdas/core/journey/schema';
import { lookupKeys, MAX_CORRELATION_VALUES, registerWait, registrationKeys, resumeWaiting } from '../../../lambdas/core/runtime/waits';
import { businessEvent, FakeClock, FakeExecutions, journeyRecord, MemoryWaitIndex } from './fakes';

function waitNode(overrides: Partial<WaitForEventNode> = {}): WaitForEventNode {
  return { id: 'await-checkout', kind: 'wait-for-event', events: ['cart.checked_out'], timeout: '1d', onEvent: 'done', onTimeout: 'done', ...overrides };
}

function state(overrides: Partial<ExecutionInput> = {}): ExecutionInput {
  return {
    journey: { id: 'cart', version: 'v1' },
    profileId: 'p-1',
    profile: { id: 'p-1', attributes: {}, identities: { email: 'ada@example.com' } },
    event: { properties: {} },
    context: {},
    steps: {},
    ...overrides,
  };
}

/** A journey whose only wait is `node`. */
function waitingJourney(node: WaitForEventNode, id = 'cart') {
  return journeyRecord({ id, start: node.id, nodes: [node, { id: 'done', kind: 'exit' }] });
}

const byCart = { property: 'cartId', equals: 'event.properties.cartId' };

describe('registrationKeys', () => {
  const cases: { name: string; node: WaitForEventNode; state: ExecutionInput; keys: string[] }[] = [
    { name: 'no correlation: the profile key', node: waitNode(), state: state(), keys: ['cart.checked_out#profile#p-1'] },
    {
      name: 'no correlation, two event types: a profile key for each',
      node: waitNode({ events: ['cart.checked_out', 'cart.emptied'] }),
      state: state(),
      keys: ['cart.checked_out#profile#p-1', 'cart.emptied#profile#p-1'],
    },
    { name: 'a string value', node: waitNode({ correlate: byCart }), state: state({ event: { properties: { cartId: 'c-1' } } }), keys: ['cart.checked_out#cartId#c-1'] },
    { name: 'a number value', node: waitNode({ correlate: { property: 'orderNo', equals: 'context.orderNo' } }), state: state({ context: { orderNo: 42 } }), keys: ['cart.checked_out#orderNo#42'] },
    {
      name: 'a list: one key per string or number element, once each',
      node: waitNode({ correlate: byCart }),
      state: state({ event: { properties: { cartId: ['c-1', 7, 'c-1', true, null, { id: 'c-3' }] } } }),
      keys: ['cart.checked_out#cartId#c-1', 'cart.checked_out#cartId#7'],
    },
    {
      name: 'two event types and a list: every pair',
      node: waitNode({ events: ['cart.checked_out', 'cart.emptied'], correlate: byCart }),
      state: state({ event: { properties: { cartId: ['c-1', 'c-2'] } } }),
      keys: ['cart.checked_out#cartId#c-1', 'cart.checked_out#cartId#c-2', 'cart.emptied#cartId#c-1', 'cart.emptied#cartId#c-2'],
    },
    { name: 'a missing value: no keys', node: waitNode({ correlate: byCart }), state: state({ event: { properties: {} } }), keys: [] },
    { name: 'a boolean value: no keys', node: waitNode({ correlate: byCart }), state: state({ event: { properties: { cartId: true } } }), keys: [] },
    { name: 'a value from the profile', node: waitNode({ correlate: { property: 'accountId', equals: 'profile.attributes.accountId' } }), state: state({ profile: { id: 'p-1', attributes: { accountId: 'a-9' }, identities: {} } }), keys: ['cart.checked_out#accountId#a-9'] },
  ];

  it.each(cases)('$name', ({ node, state, keys }) => {
    expect(registrationKeys(node, state).sort()).toEqual([...keys].sort());
  });
});

describe('lookupKeys', () => {
  const keyValue = fc.oneof(fc.string({ minLength: 0, maxLength: 20 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const property = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/), fc.constantFrom('constructor', 'toString', '__proto__'));

  it('finds a registration when the event property equals the journey value (scalar or any list element)', () => {
    fc.assert(
      fc.property(property, keyValue, fc.array(keyValue, { maxLength: 3 }), fc.boolean(), fc.boolean(), (prop, value, others, journeyList, eventList) => {
        const node = waitNode({ correlate: { property: prop, equals: 'context.key' } });
        const registered = registrationKeys(node, state({ context: { key: journeyList ? [...others, value] : value } }));
        const event = businessEvent({ type: 'cart.checked_out', properties: { [prop]: eventList ? [value, ...others] : value } });
        const looked = lookupKeys([waitingJourney(node).journey], event, 'p-other');
        expect(looked.some((key) => registered.includes(key))).toBe(true);
      }),
    );
  });

  it('finds no registration for a different string value, or for another event type', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (journeyValue, eventValue) => {
        fc.pre(journeyValue !== eventValue);
        const node = waitNode({ correlate: byCart });
        const registered = registrationKeys(node, state({ event: { properties: { cartId: journeyValue } } }));
        const other = lookupKeys([waitingJourney(node).journey], businessEvent({ type: 'cart.checked_out', properties: { cartId: eventValue } }), 'p-1');
        const otherType = lookupKeys([waitingJourney(node).journey], businessEvent({ type: 'cart.emptied', properties: { cartId: journeyValue } }), 'p-1');
        expect(other.filter((key) => registered.includes(key))).toEqual([]);
        expect(otherType).toEqual([]);
      }),
    );
  });

  it('finds an uncorrelated wait by the profile the event belongs to, only that profile', () => {
    const node = waitNode();
    const registered = registrationKeys(node, state({ profileId: 'p-1' }));
    const journeys = [waitingJourney(node).journey];
    expect(lookupKeys(journeys, businessEvent({ type: 'cart.checked_out' }), 'p-1')).toEqual(registered);
    expect(lookupKeys(journeys, businessEvent({ type: 'cart.checked_out' }), 'p-2').filter((k) => registered.includes(k))).toEqual([]);
  });
});

describe('registerWait', () => {
  it('stores the token under every key, expiring a day after the wait times out', async () => {
    const waits = new MemoryWaitIndex();
    const clock = new FakeClock('2026-06-01T00:00:00.000Z');
    const node = waitNode({ correlate: byCart, timeout: '2d' });
    const out = await registerWait({ waits, clock }, { executionId: 'exec-1', node, state: state({ event: { properties: { cartId: ['c-1', 'c-2'] } } }), token: 'tok-1' });
    expect(out).toEqual({ keys: 2 });
    const expiresAt = Date.parse('2026-06-01T00:00:00.000Z') / 1000 + 2 * 86400 + 86400;
    expect(await waits.find('cart.checked_out#cartId#c-2')).toEqual([{ key: 'cart.checked_out#cartId#c-2', executionId: 'exec-1', nodeId: 'await-checkout', token: 'tok-1', profileId: 'p-1', expiresAt }]);
  });
});

describe('resumeWaiting', () => {
  async function setup() {
    const waits = new MemoryWaitIndex();
    const executions = new FakeExecutions();
    const clock = new FakeClock();
    const correlated = waitNode({ correlate: byCart });
    const uncorrelated = waitNode({ id: 'any-checkout' });
    const journeys = [waitingJourney(correlated, 'cart'), waitingJourney(uncorrelated, 'any')];
    const register = async (executionId: string, node: WaitForEventNode, token: string, s: ExecutionInput) => {
      await registerWait({ waits, clock }, { executionId, node, state: s, token });
      executions.awaitToken(token);
    };
    return { waits, executions, journeys, correlated, uncorrelated, register };
  }

  it('resumes each waiting step once with the event, and removes the index entries it found', async () => {
    const { waits, executions, journeys, correlated, uncorrelated, register } = await setup();
    // exec-1 waits for either of two carts; the event names both, so exec-1 is found under two keys.
    await register('exec-1', correlated, 'tok-1', state({ profileId: 'p-1', event: { properties: { cartId: ['c-1', 'c-2'] } } }));
    await register('exec-2', uncorrelated, 'tok-2', state({ profileId: 'p-1' }));
    await register('exec-3', uncorrelated, 'tok-3', state({ profileId: 'p-2' }));
    const event = businessEvent({ type: 'cart.checked_out', properties: { cartId: ['c-1', 'c-2'] } });

    const resumed = await resumeWaiting({ waits, executions }, journeys, event, 'p-1');

    expect(resumed).toEqual(expect.arrayContaining([{ executionId: 'exec-1', nodeId: 'await-checkout' }, { executionId: 'exec-2', nodeId: 'any-checkout' }]));
    expect(resumed).toHaveLength(2);
    expect(executions.resumes.map((r) => r.token).sort()).toEqual(['tok-1', 'tok-2']);
    expect(executions.resumeCalls).toBe(2);
    // The run gets the event without the sender's identities (personal data stays in the profile).
    const { identities: _identities, ...withoutIdentities } = event;
    expect(executions.resumes[0].output).toEqual({ received: true, event: withoutIdentities });
    expect(waits.keys()).toEqual(['cart.checked_out#profile#p-2']);
  });

  it('tolerates a token that is gone (timed out or resumed before): not reported, its entry removed', async () => {
    const { waits, executions, journeys, correlated, register } = await setup();
    await register('exec-1', correlated, 'tok-1', state({ event: { properties: { cartId: 'c-1' } } }));
    await executions.resume('tok-1', {}); // resumed by an earlier delivery of the same event
    const resumed = await resumeWaiting({ waits, executions }, journeys, businessEvent({ type: 'cart.checked_out', properties: { cartId: 'c-1' } }), 'p-1');
    expect(resumed).toEqual([]);
    expect(waits.keys()).toEqual([]);
    expect(waits.removed).toEqual([{ key: 'cart.checked_out#cartId#c-1', executionId: 'exec-1', nodeId: 'await-checkout' }]);
  });

  it('resumes nothing for an event no journey waits for', async () => {
    const { waits, executions, journeys, correlated, register } = await setup();
    await register('exec-1', correlated, 'tok-1', state({ event: { properties: { cartId: 'c-1' } } }));
    expect(await resumeWaiting({ waits, executions }, journeys, businessEvent({ type: 'cart.viewed', properties: { cartId: 'c-1' } }), 'p-1')).toEqual([]);
    expect(await resumeWaiting({ waits, executions }, journeys, businessEvent({ type: 'cart.checked_out', properties: { cartId: 'c-2' } }), 'p-1')).toEqual([]);
    expect(executions.resumes).toEqual([]);
    expect(waits.keys()).toEqual(['cart.checked_out#cartId#c-1']);
  });

  it("does not resume another profile's run on a stranger's event carrying its correlation value, nor drop its wait", async () => {
    const { waits, executions, journeys, correlated, register } = await setup();
    await register('exec-owner', correlated, 'tok-owner', state({ profileId: 'p-owner', event: { properties: { cartId: 'c-1' } } }));
    const stranger = businessEvent({ type: 'cart.checked_out', identities: { email: 'eve@example.com' }, properties: { cartId: 'c-1' } });

    expect(await resumeWaiting({ waits, executions }, journeys, stranger, ['p-stranger'])).toEqual([]);
    expect(executions.resumes).toEqual([]);
    expect(waits.keys()).toEqual(['cart.checked_out#cartId#c-1']);

    // The owner's own event (or one of a profile merged into the owner's) still resumes it.
    const own = businessEvent({ type: 'cart.checked_out', properties: { cartId: 'c-1' } });
    expect(await resumeWaiting({ waits, executions }, journeys, own, ['p-survivor', 'p-owner'])).toEqual([{ executionId: 'exec-owner', nodeId: 'await-checkout' }]);
  });

  it('resumes a catalog-scoped wait of every profile on one catalog event (no identities)', async () => {
    const { waits, executions, register } = await setup();
    const node = waitNode({ id: 'await-restock', events: ['product.restocked'], correlate: { property: 'productId', equals: 'event.properties.productIds', scope: 'catalog' } });
    await register('exec-a', node, 'tok-a', state({ profileId: 'p-a', event: { properties: { productIds: ['sku-1', 'sku-2'] } } }));
    await register('exec-b', node, 'tok-b', state({ profileId: 'p-b', event: { properties: { productIds: ['sku-2'] } } }));
    await register('exec-c', node, 'tok-c', state({ profileId: 'p-c', event: { properties: { productIds: ['sku-3'] } } }));
    const restocked = businessEvent({ type: 'product.restocked', catalog: true, identities: {}, properties: { productId: 'sku-2' } });

    const resumed = await resumeWaiting({ waits, executions }, [waitingJourney(node)], restocked, []);

    expect(resumed.map((r) => r.executionId).sort()).toEqual(['exec-a', 'exec-b']);
    // exec-a's other product stays registered until its token is found gone; exec-c waits on.
    expect(waits.keys().sort()).toEqual(['product.restocked#catalog:productId#sku-1', 'product.restocked#catalog:productId#sku-3']);
  });

  it("a customer's event resumes no catalog-scoped wait (their data reaches no one else's run)", async () => {
    const { waits, executions, register } = await setup();
    const node = waitNode({ id: 'await-restock', events: ['product.restocked'], correlate: { property: 'productId', equals: 'event.properties.productIds', scope: 'catalog' } });
    await register('exec-a', node, 'tok-a', state({ profileId: 'p-a', event: { properties: { productIds: ['sku-1'] } } }));
    const fromCustomer = businessEvent({ type: 'product.restocked', properties: { productId: 'sku-1', productName: '<a href=x>phish</a>' } });
    expect(await resumeWaiting({ waits, executions }, [waitingJourney(node)], fromCustomer, ['p-a'])).toEqual([]);
    expect(waits.keys()).toEqual(['product.restocked#catalog:productId#sku-1']);
  });

  it('a catalog event resumes no profile-scoped wait', async () => {
    const { waits, executions, journeys, correlated, uncorrelated, register } = await setup();
    await register('exec-1', correlated, 'tok-1', state({ profileId: 'p-1', event: { properties: { cartId: 'c-1' } } }));
    await register('exec-2', uncorrelated, 'tok-2', state({ profileId: 'p-1' }));
    const event = businessEvent({ type: 'cart.checked_out', catalog: true, identities: {}, properties: { cartId: 'c-1' } });
    expect(await resumeWaiting({ waits, executions }, journeys, event, [])).toEqual([]);
    expect(waits.keys().sort()).toEqual(['cart.checked_out#cartId#c-1', 'cart.checked_out#profile#p-1']);
  });
});

describe('correlation key bounds', () => {
  it('an event yields at most 100 values of a correlation property, and skips values too long to be a key', () => {
    const node = waitNode({ correlate: byCart });
    const many = Array.from({ length: 10_000 }, (_, i) => `c-${i}`);
    const keys = lookupKeys([waitingJourney(node).journey], businessEvent({ type: 'cart.checked_out', properties: { cartId: [...many, 'x'.repeat(600)] } }), 'p-1');
    expect(keys).toHaveLength(MAX_CORRELATION_VALUES);
    expect(MAX_CORRELATION_VALUES).toBe(100);
    expect(lookupKeys([waitingJourney(node).journey], businessEvent({ type: 'cart.checked_out', properties: { cartId: 'x'.repeat(600) } }), 'p-1')).toEqual([]);
  });

  it('a run registers at most 100 values of its correlation list', () => {
    const node = waitNode({ correlate: byCart });
    const many = Array.from({ length: 500 }, (_, i) => `c-${i}`);
    expect(registrationKeys(node, state({ event: { properties: { cartId: many } } }))).toHaveLength(100);
  });
});
