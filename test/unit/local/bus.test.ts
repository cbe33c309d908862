import { LocalBus, type BusEvent, type PutEventsEntry } from '../../../lambdas/local/bus';

const valid: PutEventsEntry = { Source: 'shop', DetailType: 'order.placed', Detail: JSON.stringify({ identities: { email: 'ada@example.com' } }), EventBusName: 'waymark' };

function recorder() {
  const received: BusEvent[] = [];
  return { received, target: async (event: BusEvent) => void received.push(event) };
}

describe('LocalBus.putEvents', () => {
  const invalid: { name: string; entry: PutEventsEntry; code: string }[] = [
    { name: 'no Source', entry: { ...valid, Source: undefined }, code: 'InvalidArgument' },
    { name: 'an empty Source', entry: { ...valid, Source: '' }, code: 'InvalidArgument' },
    { name: 'no DetailType', entry: { ...valid, DetailType: undefined }, code: 'InvalidArgument' },
    { name: 'Detail that is not JSON', entry: { ...valid, Detail: '{"a":' }, code: 'MalformedDetail' },
    { name: 'Detail that is a JSON list', entry: { ...valid, Detail: '[1]' }, code: 'MalformedDetail' },
    { name: 'Detail that is JSON null', entry: { ...valid, Detail: 'null' }, code: 'MalformedDetail' },
    { name: 'Detail that is a JSON string', entry: { ...valid, Detail: '"x"' }, code: 'MalformedDetail' },
    { name: 'an unknown bus', entry: { ...valid, EventBusName: 'other' }, code: 'ResourceNotFoundException' },
    { name: 'the ARN of an unknown bus', entry: { ...valid, EventBusName: 'arn:aws:events:local:000000000000:event-bus/other' }, code: 'ResourceNotFoundException' },
  ];

  it.each(invalid)('fails an entry with $name ($code), delivers nothing of it, and still accepts the valid entries beside it', async ({ entry, code }) => {
    const bus = new LocalBus('waymark');
    const { received, target } = recorder();
    bus.addRule({ name: 'all', pattern: {}, target });
    const out = bus.putEvents([valid, entry, valid]);
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries[1]).toEqual({ ErrorCode: code, ErrorMessage: expect.any(String) });
    expect(out.Entries[0].EventId).toEqual(expect.any(String));
    expect(out.Entries[2].EventId).toEqual(expect.any(String));
    await bus.idle();
    expect(received.map((e) => e.id)).toEqual([out.Entries[0].EventId, out.Entries[2].EventId]);
  });

  it.each([
    ['no EventBusName (the default bus)', undefined],
    ['its name', 'waymark'],
    ['its ARN', 'arn:aws:events:local:000000000000:event-bus/waymark'],
  ])('accepts an entry addressed by %s', (_name, EventBusName) => {
    expect(new LocalBus('waymark').putEvents([{ ...valid, EventBusName }]).FailedEntryCount).toBe(0);
  });

  it('delivers the EventBridge event shape: detail parsed, time in seconds, missing Detail as {}', async () => {
    const bus = new LocalBus('waymark');
    const { received, target } = recorder();
    bus.addRule({ name: 'all', pattern: {}, target });
    bus.putEvents([
      { ...valid, Time: '2026-06-01T12:00:00.789Z', Resources: ['arn:x'] },
      { Source: 'shop', DetailType: 'ping', Time: 1_780_315_200 },
    ]);
    await bus.idle();
    expect(received[0]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'order.placed',
      source: 'shop',
      account: '000000000000',
      time: '2026-06-01T12:00:00Z',
      region: 'local',
      resources: ['arn:x'],
      detail: { identities: { email: 'ada@example.com' } },
    });
    expect(received[1]).toMatchObject({ time: '2026-06-01T12:00:00Z', detail: {}, resources: [] });
  });

  it('delivers asynchronously, to the rules whose pattern matches only', async () => {
    const bus = new LocalBus('waymark');
    const orders = recorder();
    const fromPos = recorder();
    const notPlatform = recorder();
    bus.addRule({ name: 'orders', pattern: { 'detail-type': [{ prefix: 'order.' }] }, target: orders.target });
    bus.addRule({ name: 'pos', pattern: { source: ['pos'] }, target: fromPos.target });
    bus.addRule({ name: 'router', pattern: { source: [{ 'anything-but': { prefix: 'waymark.' } }] }, target: notPlatform.target });
    bus.putEvents([valid, { ...valid, Source: 'waymark.profiles', DetailType: 'ProfileMerged' }]);
    expect(orders.received).toEqual([]);
    await bus.idle();
    expect(orders.received.map((e) => e.source)).toEqual(['shop']);
    expect(fromPos.received).toEqual([]);
    expect(notPlatform.received.map((e) => e['detail-type'])).toEqual(['order.placed']);
    expect(bus.delivered).toBe(2);
  });

  it('retries a failing target and counts the delivery once it succeeds', async () => {
    const bus = new LocalBus('waymark', 3);
    let attempts = 0;
    bus.addRule({
      name: 'flaky',
      pattern: {},
      target: async () => {
        if (++attempts < 3) throw new Error('throttled');
      },
    });
    bus.putEvents([valid]);
    await bus.idle();
    expect(attempts).toBe(3);
    expect(bus.delivered).toBe(1);
    expect(bus.deadLetters).toEqual([]);
  });

  it('keeps an event whose target fails every attempt as a dead letter, naming the rule and the error', async () => {
    const bus = new LocalBus('waymark', 2);
    let attempts = 0;
    const healthy = recorder();
    bus.addRule({
      name: 'broken',
      pattern: {},
      target: async () => {
        attempts++;
        throw new Error('table missing');
      },
    });
    bus.addRule({ name: 'healthy', pattern: {}, target: healthy.target });
    bus.putEvents([valid]);
    await bus.idle();
    expect(attempts).toBe(2);
    expect(bus.deadLetters).toEqual([{ rule: 'broken', event: expect.objectContaining({ source: 'shop' }), error: 'table missing', time: expect.any(String) }]);
    expect(healthy.received).toHaveLength(1);
    expect(bus.delivered).toBe(1);
  });

  it('idle() waits for deliveries that deliveries caused', async () => {
    const bus = new LocalBus('waymark');
    const { received, target } = recorder();
    bus.addRule({ name: 'ping', pattern: { 'detail-type': ['ping'] }, target: async () => void bus.putEvents([{ Source: 'worker', DetailType: 'pong' }]) });
    bus.addRule({ name: 'pong', pattern: { 'detail-type': ['pong'] }, target });
    bus.putEvents([{ Source: 'shop', DetailType: 'ping' }]);
    await bus.idle();
    expect(received.map((e) => e['detail-type'])).toEqual(['pong']);
  });

  it('idle() resolves at once with nothing in flight', async () => {
    await expect(new LocalBus('waymark').idle()).resolves.toBeUndefined();
  });
});

describe('LocalBus.publish', () => {
  it('puts business events with type as detail-type and the rest of the envelope, time included, as detail', async () => {
    const bus = new LocalBus('waymark');
    const { received, target } = recorder();
    bus.addRule({ name: 'all', pattern: {}, target });
    await bus.publish([{ id: 'evt-1', type: 'order.placed', source: 'shop', time: '2026-06-01T12:00:00.123Z', identities: { email: 'ada@example.com' }, properties: { total: 5 } }]);
    await bus.idle();
    expect(received[0]).toMatchObject({
      'detail-type': 'order.placed',
      source: 'shop',
      time: '2026-06-01T12:00:00Z',
      detail: { id: 'evt-1', time: '2026-06-01T12:00:00.123Z', identities: { email: 'ada@example.com' }, properties: { total: 5 } },
    });
  });

  it('throws when an event is refused', async () => {
    await expect(new LocalBus('waymark').publish([{ id: 'e', type: 'order.placed', source: '', time: '2026-06-01T12:00:00Z', identities: { email: 'a' }, properties: {} }])).rejects.toThrow(/PutEvents failed.*Source/);
  });
});
