import type { SendNode } from '../../../lambdas/core/journey/schema';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import { prepareSend, recipientFor, type PrepareSendPayload } from '../../../lambdas/core/runtime/send';
import { FakeClock, MemoryLedger, MemoryProfileStore } from './fakes';

const email: SendNode = {
  id: 'welcome-email',
  kind: 'send',
  channel: 'email',
  template: {
    subject: 'Hi {{ profile.attributes.firstName }}',
    text: 'Order {{ event.properties.orderId }}, code {{ context.coupon }}, score {{ steps.score.value }}, in {{ journey.id }}',
    html: '<p>{{ profile.identities.email }}</p>',
  },
  next: 'done',
};
const sms: SendNode = { id: 'sms', kind: 'send', channel: 'sms', template: { body: 'Hi {{ profile.attributes.firstName }}, order {{ event.properties.orderId }}' }, next: 'done' };
const push = (url?: string): SendNode => ({
  id: 'push',
  kind: 'send',
  channel: 'push',
  template: { title: 'For {{ profile.attributes.firstName }}', body: 'Code {{ context.coupon }}', ...(url === undefined ? {} : { url }) },
  next: 'done',
});

function setup(profile: Partial<Profile> = {}) {
  const clock = new FakeClock('2026-06-01T09:30:00.000Z');
  const profiles = new MemoryProfileStore(clock);
  const ledger = new MemoryLedger();
  profiles.add({ id: 'p-1', attributes: { firstName: 'Ada' }, identities: { email: 'ada@example.com', phone: '+4915100000000' }, ...profile });
  const payload = (node: SendNode, executionId = 'exec-1'): PrepareSendPayload => ({
    executionId,
    node,
    messageClass: 'transactional',
    state: {
      journey: { id: 'welcome', version: 'v1' },
      profileId: 'p-1',
      // The entry snapshot: stale on purpose, the step reads the stored profile.
      profile: { id: 'p-1', attributes: { firstName: 'Snapshot' }, identities: {} },
      event: { properties: { orderId: 'o-42' } },
      context: { coupon: 'WELCOME10' },
      steps: { score: { value: 7 } },
    },
  });
  return { clock, profiles, ledger, payload, send: (node: SendNode, executionId?: string) => prepareSend({ profiles, ledger, clock }, payload(node, executionId)) };
}

describe('prepareSend', () => {
  it('renders an email from the stored profile, the event, the context, earlier steps and the journey', async () => {
    const { send } = setup();
    const result = await send(email);
    expect(result.deliver).toBe(true);
    expect(result.reason).toBeNull();
    expect(result.message).toMatchObject({
      channel: 'email',
      to: 'ada@example.com',
      subject: 'Hi Ada',
      text: 'Order o-42, code WELCOME10, score 7, in welcome',
      html: '<p>ada@example.com</p>',
    });
  });

  it('leaves html out of an email whose template has none', async () => {
    const { send } = setup();
    const { html: _html, ...template } = (email as Extract<SendNode, { channel: 'email' }>).template;
    const result = await send({ ...email, template } as SendNode);
    expect(result.message).not.toHaveProperty('html');
  });

  it('renders an sms to the phone identity', async () => {
    const { send } = setup();
    expect(await send(sms)).toEqual({ deliver: true, reason: null, message: { channel: 'sms', to: '+4915100000000', body: 'Hi Ada, order o-42' } });
  });

  it('sends nothing when the profile is gone (erased), whatever the entry snapshot holds, and records nothing about it', async () => {
    const { profiles, ledger, clock, payload } = setup();
    profiles.profiles.delete('p-1');
    const base = payload(sms);
    const state = { ...base.state, profile: { ...base.state.profile, identities: { phone: '+4917000000000', email: 'ada@example.com' } } };
    for (const node of [sms, email, push()]) {
      const result = await prepareSend({ profiles, ledger, clock }, { ...base, node, state });
      expect(result).toEqual({ deliver: false, reason: 'profile-erased', message: {} });
    }
    // A ledger entry would write the erased profile's id back into the runtime table.
    expect(await ledger.get('exec-1', 'sms')).toBeUndefined();
  });

  it.each([
    { platform: 'APNS', url: 'https://shop.example/c/{{ context.coupon }}', channelType: 'APNS', key: 'APNSMessage', action: { Action: 'URL', Url: 'https://shop.example/c/WELCOME10' } },
    { platform: 'GCM', url: undefined, channelType: 'GCM', key: 'GCMMessage', action: { Action: 'OPEN_APP' } },
    { platform: undefined, url: undefined, channelType: 'GCM', key: 'GCMMessage', action: { Action: 'OPEN_APP' } },
    { platform: 'apns', url: undefined, channelType: 'GCM', key: 'GCMMessage', action: { Action: 'OPEN_APP' } },
  ])('builds a Pinpoint push request keyed by the token: platform $platform → $channelType', async ({ platform, url, channelType, key, action }) => {
    const { send } = setup({ attributes: { firstName: 'Ada', pushToken: 'tok-abc', ...(platform === undefined ? {} : { pushPlatform: platform }) } });
    const result = await send(push(url));
    expect(result.deliver).toBe(true);
    expect(result.message).toEqual({
      channel: 'push',
      to: 'tok-abc',
      title: 'For Ada',
      body: 'Code WELCOME10',
      ...(action.Url ? { url: action.Url } : {}),
      request: {
        Addresses: { 'tok-abc': { ChannelType: channelType } },
        MessageConfiguration: { [key]: { Title: 'For Ada', Body: 'Code WELCOME10', ...action } },
      },
    });
  });

  it('records the attempt in the ledger as prepared', async () => {
    const { send, ledger } = setup();
    await send(email);
    expect(await ledger.get('exec-1', 'welcome-email')).toEqual({
      executionId: 'exec-1',
      nodeId: 'welcome-email',
      journeyId: 'welcome',
      profileId: 'p-1',
      channel: 'email',
      status: 'prepared',
      preparedAt: '2026-06-01T09:30:00.000Z',
    });
  });

  it('suppresses a message without an address, with reason no-address and a ledger entry', async () => {
    const { send, ledger } = setup({ identities: { crmId: 'c-1' } });
    expect(await send(email)).toEqual({ deliver: false, reason: 'no-address', message: {} });
    expect(await ledger.get('exec-1', 'welcome-email')).toMatchObject({ status: 'suppressed', reason: 'no-address', channel: 'email' });
  });

  it('does not deliver again when a retried step finds the message sent', async () => {
    const { send, ledger } = setup();
    expect((await send(email)).deliver).toBe(true);
    ledger.mark('exec-1', 'welcome-email', 'sent');
    expect(await send(email)).toEqual({ deliver: false, reason: 'already-sent', message: {} });
    expect((await ledger.get('exec-1', 'welcome-email'))?.status).toBe('sent');
  });

  it.each(['prepared', 'failed'] as const)('delivers again when a retried step finds the message %s, not sent', async (status) => {
    const { send, ledger } = setup();
    await send(email);
    ledger.mark('exec-1', 'welcome-email', status);
    expect((await send(email)).deliver).toBe(true);
  });

  it('keeps the recorded reason when a suppressed step is retried, even if an address appeared since', async () => {
    const { send, profiles, ledger } = setup({ identities: { crmId: 'c-1' } });
    await send(email);
    profiles.add({ id: 'p-1', attributes: { firstName: 'Ada' }, identities: { crmId: 'c-1', email: 'ada@example.com' } });
    expect(await send(email)).toEqual({ deliver: false, reason: 'no-address', message: {} });
    expect(ledger.prepared).toHaveLength(1);
  });

  it('keeps separate ledger entries per execution: another run of the journey delivers', async () => {
    const { send, ledger } = setup();
    await send(email, 'exec-1');
    ledger.mark('exec-1', 'welcome-email', 'sent');
    expect((await send(email, 'exec-2')).deliver).toBe(true);
  });
});

describe('recipientFor', () => {
  const cases: { channel: SendNode['channel']; attributes: Record<string, unknown>; identities: Record<string, string>; expected: ReturnType<typeof recipientFor> }[] = [
    { channel: 'email', identities: { email: 'id@example.com' }, attributes: { email: 'attr@example.com' }, expected: { to: 'id@example.com' } },
    { channel: 'email', identities: {}, attributes: { email: 'attr@example.com' }, expected: { to: 'attr@example.com' } },
    { channel: 'email', identities: { email: '' }, attributes: { email: 'attr@example.com' }, expected: { to: 'attr@example.com' } },
    { channel: 'email', identities: {}, attributes: { email: 42 }, expected: undefined },
    { channel: 'email', identities: { phone: '+1555' }, attributes: {}, expected: undefined },
    { channel: 'sms', identities: { phone: '+1555' }, attributes: { phone: '+1666' }, expected: { to: '+1555' } },
    { channel: 'sms', identities: {}, attributes: { phone: '+1666' }, expected: { to: '+1666' } },
    { channel: 'sms', identities: { email: 'a@example.com' }, attributes: {}, expected: undefined },
    { channel: 'push', identities: {}, attributes: { pushToken: 't', pushPlatform: 'APNS' }, expected: { to: 't', platform: 'APNS' } },
    { channel: 'push', identities: {}, attributes: { pushToken: 't' }, expected: { to: 't', platform: 'GCM' } },
    { channel: 'push', identities: { pushToken: 'id-token' }, attributes: {}, expected: undefined },
    { channel: 'push', identities: {}, attributes: { pushToken: '' }, expected: undefined },
  ];

  it.each(cases)('$channel with identities $identities and attributes $attributes → $expected', ({ channel, attributes, identities, expected }) => {
    expect(recipientFor(channel, { attributes, identities })).toEqual(expected);
  });
});
