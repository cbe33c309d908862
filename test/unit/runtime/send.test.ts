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

  it('renders an sms to the phone identity, with the context its status events come back with', async () => {
    const { send } = setup();
    expect(await send(sms)).toEqual({
      deliver: true,
      reason: null,
      message: {
        channel: 'sms',
        to: '+4915100000000',
        body: 'Hi Ada, order o-42',
        context: { journey: 'welcome', node: 'sms', variant: 'none', execution: 'exec-1' },
      },
    });
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

describe('prepareSend with hostile data', () => {
  const hostile = '<img src=x onerror=alert(2)>';
  const phishing = 'Ann <a href="https://evil.example/login">verify your account</a>';
  const htmlEmail = (html: string, subject = 'Hi'): SendNode => ({ id: 'html-email', kind: 'send', channel: 'email', template: { subject, text: 'Hi {{ profile.attributes.firstName }}: {{ event.properties.name }}', html }, next: 'done' });
  const sendWith = (node: SendNode, properties: Record<string, unknown>, firstName = phishing) => {
    const { profiles, ledger, clock, payload } = setup({ attributes: { firstName } });
    const base = payload(node);
    return { ledger, result: prepareSend({ profiles, ledger, clock }, { ...base, state: { ...base.state, event: { properties } } }) };
  };

  it('escapes output in the html part, and leaves the text part as written', async () => {
    const { result } = sendWith(htmlEmail('<p>{{ profile.attributes.firstName }}: {{ event.properties.name }}</p>'), { name: hostile });
    const message = (await result).message as { html: string; text: string };
    expect(message.html).toBe('<p>Ann &lt;a href=&#34;https://evil.example/login&#34;&gt;verify your account&lt;/a&gt;: &lt;img src=x onerror=alert(2)&gt;</p>');
    expect(message.text).toBe(`Hi ${phishing}: ${hostile}`);
  });

  it('outputs HTML as is only through the raw filter', async () => {
    const { profiles, ledger, clock, payload } = setup();
    const base = payload(htmlEmail('<div>{{ steps.banner | raw }}</div>'));
    const trusted = await prepareSend({ profiles, ledger, clock }, { ...base, state: { ...base.state, steps: { banner: '<b>Gold</b>' } } });
    expect((trusted.message as { html: string }).html).toBe('<div><b>Gold</b></div>');
  });

  it.each([
    ['javascript:alert(1)'],
    ['  JaVaScRiPt:alert(1)'],
    ['java\tscript:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['vbscript:msgbox(1)'],
  ])('disables a link whose rendered URL is %j (only http, https, mailto and relative links)', async (url) => {
    const { result } = sendWith(htmlEmail('<a href="{{ event.properties.url }}">cart</a><img src=\'{{ event.properties.url }}\'>'), { url });
    const { html } = (await result).message as { html: string };
    expect(html).toBe('<a href="#">cart</a><img src=\'#\'>');
  });

  it.each([['https://shop.example/cart?a=1&b=2', 'https://shop.example/cart?a=1&amp;b=2'], ['mailto:help@shop.example', 'mailto:help@shop.example'], ['/cart', '/cart'], ['http://x.example', 'http://x.example']])(
    'keeps a link to %s',
    async (url, written) => {
      const { result } = sendWith(htmlEmail('<a href="{{ event.properties.url }}">cart</a>'), { url });
      expect(((await result).message as { html: string }).html).toBe(`<a href="${written}">cart</a>`);
    },
  );

  it.each([['javascript:alert(1)', undefined], ['app://cart', 'app://cart'], ['https://shop.example/c', 'https://shop.example/c']])(
    'opens the app instead of a push url %s that is a script',
    async (link, kept) => {
      const { profiles, ledger, clock, payload } = setup({ attributes: { pushToken: 'tok' } });
      const base = payload(push('{{ event.properties.link }}'));
      const result = await prepareSend({ profiles, ledger, clock }, { ...base, state: { ...base.state, event: { properties: { link } } } });
      expect((result.message as { url?: string }).url).toBe(kept);
    },
  );

  it('keeps CR and LF out of the subject (no header injection)', async () => {
    const { result } = sendWith(htmlEmail('<p>x</p>', 'Hi {{ event.properties.name }}'), { name: 'Ann\r\nBcc: victim@example.com\nX: y' });
    expect(((await result).message as { subject: string }).subject).toBe('Hi Ann Bcc: victim@example.com X: y');
  });

  it('suppresses (render-failed) a message whose data drives a loop past the render limits, instead of rendering megabytes', async () => {
    const loop = htmlEmail('<p>{% for i in (1..event.properties.n) %}xxxxxxxxxx{% endfor %}</p>');
    for (const n of [20_000, 100_000_000]) {
      const { result, ledger } = sendWith(loop, { n });
      expect(await result).toEqual({ deliver: false, reason: 'render-failed', message: {} });
      expect(await ledger.get('exec-1', 'html-email')).toMatchObject({ status: 'suppressed', reason: 'render-failed' });
    }
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
