import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Io } from '../../bin/waymark';
import { REPOSITORY_ROOT, simulate } from '../../lambdas/simulate';
import { ScriptError } from '../../lambdas/simulate/script';

/** The compiled ASL on the virtual clock of the local stack: what `waymark simulate` and `simulate()` run. */
const CART = 'statemachines/cart-abandonment.json';
const fixture = (name: string) => JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'test', 'fixtures', 'simulate', name), 'utf8')) as unknown[];
const cartAdded = (email: string, cart: string) => ({
  type: 'cart.updated',
  identities: { email },
  attributes: { firstName: 'Ann' },
  properties: { action: 'item-added', cartId: cart, productIds: [`${cart}-sku`], cartUrl: `https://shop.example/${cart}`, itemCount: 1 },
});

describe('simulate() on the cart-abandonment playbook', () => {
  it('takes each profile of the example script down its branch at the virtual times the journey says', async () => {
    const sim = await simulate({ journey: CART, events: fixture('cart-abandonment.events.json'), profiles: fixture('cart-abandonment.profiles.json') });
    expect([sim.start, sim.end]).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-04T11:10:00.000Z']);

    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'pick-offer', 'offer-push', 'done']);
    expect(ann.messages.map((m) => [m.at, m.channel, m.recipient, m.subject])).toEqual([
      ['2026-12-01T11:00:00.000Z', 'email', 'ann@example.com', 'Ann, your cart is waiting'],
      ['2026-12-02T10:00:00.000Z', 'push', 'device-ann', 'Good news about your cart'],
    ]);
    expect(ann.messages[1].body).toBe('Socks is now 9.99. Code CART10 takes 10% off, for 48 hours.');
    const [decision] = ann.decisions;
    expect(decision).toMatchObject({ node: 'pick-offer', placement: 'push', offers: [{ offerId: 'cart-discount' }], fallback: false });
    expect(decision.explanation.find((e) => e.offerId === 'free-shipping')).toMatchObject({ eligible: true, chosen: false });
    expect(ann.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-02T10:00:00.000Z' });

    const bob = sim.profile('email:bob@example.com');
    expect([bob.path, bob.messages]).toEqual([['wait-for-order', 'converted'], []]);

    // Cem opted out of email before the script started: both emails are suppressed, with the ledger's reason.
    const cem = sim.profile('email:cem@example.com');
    expect(cem.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'last-chance-email', 'done']);
    expect(cem.suppressions).toEqual([
      { at: '2026-12-01T11:10:00.000Z', node: 'reminder-email', channel: 'email', reason: 'consent:email' },
      { at: '2026-12-04T11:10:00.000Z', node: 'last-chance-email', channel: 'email', reason: 'consent:email' },
    ]);
    expect(cem.messages).toEqual([]);
  });

  it('applies attribute and consent changes through the API at their times', async () => {
    const sim = await simulate({
      journey: CART,
      events: [
        { at: '+0s', ...cartAdded('ann@example.com', 'cart-a') },
        { at: '+0s', ...cartAdded('bea@example.com', 'cart-b'), attributes: { firstName: 'Bea' } },
        { at: '+30m', profile: 'email:ann@example.com', setAttributes: { firstName: 'Annie' } },
        { at: '+59m', identities: { email: 'bea@example.com' }, setConsent: { email: 'opted-out' } },
      ],
    });
    expect(sim.profile('email:ann@example.com').messages.map((m) => m.subject)).toEqual(['Annie, your cart is waiting', 'Last chance: your cart expires soon']);
    expect(sim.profile('email:bea@example.com').suppressions.map((s) => [s.node, s.reason])).toEqual([
      ['reminder-email', 'consent:email'],
      ['last-chance-email', 'consent:email'],
    ]);
  });

  it('prints through the CLI what the helper reports, the same on every run', async () => {
    const sim = await simulate({ journey: CART, events: fixture('cart-abandonment.events.json'), profiles: fixture('cart-abandonment.profiles.json') });
    let stdout = '';
    const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t), readFile: async (p) => readFileSync(join(REPOSITORY_ROOT, p), 'utf8') };
    const argv = ['simulate', CART, '--events', 'test/fixtures/simulate/cart-abandonment.events.json', '--profiles', 'test/fixtures/simulate/cart-abandonment.profiles.json'];
    expect(await run(argv, io, { root: REPOSITORY_ROOT })).toBe(0);
    expect(stdout).toBe(sim.text());
  });

  it('runs from the executable as npx waymark does, printing only the report', () => {
    const args = ['simulate', CART, '--events', 'test/fixtures/simulate/cart-abandonment.events.json', '--json'];
    const out = spawnSync(process.execPath, [join(REPOSITORY_ROOT, 'bin', 'waymark.js'), ...args], { cwd: REPOSITORY_ROOT, encoding: 'utf8' });
    expect([out.status, out.stderr]).toEqual([0, '']);
    const report = JSON.parse(out.stdout);
    expect(report.profiles.map((p: { identities: { email: string } }) => p.identities.email)).toEqual(['ann@example.com', 'bob@example.com', 'cem@example.com']);
  });

  it('refuses an entry the API would refuse, naming it', async () => {
    const events = [{ at: '+0s', profile: 'email:zoe@example.com', setAttributes: { tier: 'gold' } }];
    const error = await simulate({ journey: CART, events }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScriptError);
    expect((error as Error).message).toBe('events[0]: no profile has the identity email:zoe@example.com yet (an event or a starting profile creates it)');
    const trigger = await simulate({ journey: CART, events: [{ at: '+0s', trigger: 'cart-abandonment', identities: { email: 'ann@example.com' } }] }).catch((e: unknown) => e);
    expect((trigger as Error).message).toMatch(/^events\[0\]\.trigger: journey "cart-abandonment" starts on events, not by API trigger/);
  });
});

describe('simulate() as statemachines/README.md shows it', () => {
  it('reminds Ann after an hour, then pushes the cart offer when a cart item drops in price', async () => {
    const sim = await simulate({
      journey: 'statemachines/cart-abandonment.json',
      start: '2026-12-01T10:00:00Z',
      events: [
        { at: '+0s', type: 'cart.updated', identities: { email: 'ann@example.com' }, attributes: { pushToken: 'device-ann' },
          properties: { action: 'item-added', cartId: 'cart-1', productIds: ['sku-2'] } },
        { at: '+1d', type: 'price.dropped', catalog: true, properties: { productId: 'sku-2', productName: 'Socks', price: '9.99' } },
      ],
    });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['wait-for-order', 'reminder-email', 'wait-for-offer-signal', 'pick-offer', 'offer-push', 'done']);
    expect(ann.messages.map((m) => m.channel)).toEqual(['email', 'push']);
  });
});

describe('simulate() on other journeys', () => {
  it('triggers an API journey with its context', async () => {
    const sim = await simulate({
      journey: 'statemachines/manual-outreach.json',
      events: [{ at: '+1h', trigger: 'manual-outreach', identities: { email: 'ann@example.com' }, context: { subject: 'Hello Ann', text: 'We miss you.' } }],
    });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['channel', 'outreach-email', 'done']);
    expect(ann.messages).toMatchObject([{ at: '2026-01-01T01:00:00.000Z', channel: 'email', subject: 'Hello Ann', body: expect.stringContaining('We miss you.') }]);
  });

  it('lets time run until --until for what time alone brings about: the member day found by the hourly re-check', async () => {
    const events = [
      { at: '+0s', type: 'member.signed-up', identities: { email: 'ann@example.com' }, attributes: { firstName: 'Ann', loyaltyTier: 'gold', memberSince: '2024-01-03' } },
    ];
    const journey = 'statemachines/loyalty-member-day.json';
    expect((await simulate({ journey, events })).profile('email:ann@example.com').runs).toEqual([]);
    const sim = await simulate({ journey, events, until: '+3d' });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['by-tier', 'thank-you', 'done']);
    expect(ann.messages.map((m) => [m.at, m.subject])).toEqual([['2026-01-03T00:00:00.000Z', 'Happy member day: thank you']]);
    expect(sim.end).toBe('2026-01-04T00:00:00.000Z');
  });

  it('runs a journey written from the reference page, given as a definition', async () => {
    const journey = {
      schemaVersion: 1,
      id: 'welcome-draft',
      name: 'Welcome draft',
      entry: { kind: 'event', event: 'member.signed-up' },
      start: 'cool-off',
      nodes: [
        { id: 'cool-off', kind: 'wait', description: 'Give them a day.', duration: '1d', next: 'hello' },
        { id: 'hello', kind: 'send', channel: 'sms', template: { body: 'Hi {{ profile.attributes.firstName }}!' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    };
    const sim = await simulate({
      journey,
      start: '2026-12-01T08:00:00Z',
      events: [{ at: '+0s', type: 'member.signed-up', identities: { phone: '+4915100000000' }, attributes: { firstName: 'Ann' } }],
    });
    const ann = sim.profile('phone:+4915100000000');
    expect(ann.path).toEqual(['cool-off', 'hello', 'done']);
    expect(ann.messages.map((m) => [m.at, m.channel, m.body])).toEqual([['2026-12-02T08:00:00.000Z', 'sms', 'Hi Ann!']]);
  });
});
