import { createUnsubscribeLinks } from '../../../lambdas/core/consent/links';
import { verifyUnsubscribeToken } from '../../../lambdas/core/consent/token';
import type { SendNode } from '../../../lambdas/core/journey/schema';
import type { ConsentRecord } from '../../../lambdas/core/runtime/ports';
import { prepareSend, type PrepareSendPayload } from '../../../lambdas/core/runtime/send';
import { clockAt, MemoryConsentProfiles, MemoryLedger, MemorySuppressionList } from './fakes';

const SECRET = 'unit-test-unsubscribe-secret';
const email = (list?: string): SendNode => ({
  id: 'offer-email',
  kind: 'send',
  channel: 'email',
  ...(list ? { list } : {}),
  template: { subject: 'Offer', text: 'Hi. Unsubscribe: {{ unsubscribeUrl }}' },
  next: 'done',
});
const push: SendNode = { id: 'offer-push', kind: 'send', channel: 'push', template: { title: 'Offer', body: 'For you' }, next: 'done' };
const sms: SendNode = { id: 'offer-sms', kind: 'send', channel: 'sms', template: { body: 'Offer' }, next: 'done' };

function setup(consent: Record<string, ConsentRecord['status']> = {}) {
  const clock = clockAt('2026-03-01T12:00:00.000Z');
  const profiles = new MemoryConsentProfiles();
  profiles.add('p-1', {
    identities: { email: 'Ann@Example.com', phone: '+4915100000001' },
    attributes: { pushToken: 'device-1' },
    consent: Object.fromEntries(Object.entries(consent).map(([k, status]) => [k, { status, at: '2026-02-01T00:00:00.000Z', source: 'test' }])),
  });
  const ledger = new MemoryLedger();
  const suppression = new MemorySuppressionList();
  const unsubscribeLinks = createUnsubscribeLinks({ getSecret: async () => SECRET, publicUrl: () => 'https://api.shop.example/prod/', clock });
  const deps = { profiles, ledger, clock, suppression, unsubscribeLinks };
  const payload = (node: SendNode, messageClass: 'marketing' | 'transactional' = 'marketing', executionId = 'exec-1'): PrepareSendPayload => ({
    executionId,
    node,
    messageClass,
    state: { journey: { id: 'offers', version: 'v1' }, profileId: 'p-1', profile: { id: 'p-1', attributes: {}, identities: {} }, event: {}, context: {}, steps: {} },
  });
  return { deps, ledger, suppression, clock, send: (node: SendNode, messageClass?: 'marketing' | 'transactional', executionId?: string) => prepareSend(deps, payload(node, messageClass, executionId)) };
}

describe('the send step honours consent and suppression', () => {
  it('does not email a profile that opted out of email, and records why in the ledger', async () => {
    const { send, ledger } = setup({ email: 'opted-out' });
    expect(await send(email())).toEqual({ deliver: false, reason: 'consent:email', message: {} });
    expect(await ledger.get('exec-1', 'offer-email')).toMatchObject({ status: 'suppressed', reason: 'consent:email', channel: 'email', profileId: 'p-1' });
  });

  it('still sends that profile a marketing push, and a transactional email', async () => {
    const { send } = setup({ email: 'opted-out' });
    expect((await send(push)).deliver).toBe(true);
    expect((await send(email(), 'transactional', 'exec-2')).deliver).toBe(true);
  });

  it('does not send a message of a list the profile left, on any channel', async () => {
    const { send } = setup({ 'list:news': 'opted-out' });
    expect(await send(email('news'))).toMatchObject({ deliver: false, reason: 'consent:list:news' });
    expect(await send({ ...sms, list: 'news' } as SendNode, 'marketing', 'exec-2')).toMatchObject({ deliver: false, reason: 'consent:list:news' });
    expect((await send(email('offers'), 'marketing', 'exec-3')).deliver).toBe(true);
  });

  it('sends no email at all, not even transactional, to a suppressed address (looked up case-insensitively)', async () => {
    const { send, suppression, ledger } = setup();
    await suppression.suppress('ann@example.com', 'bounce', '2026-02-20T00:00:00Z', 'ses:m-1');
    expect(await send(email(), 'transactional')).toEqual({ deliver: false, reason: 'suppressed:bounce', message: {} });
    expect(await ledger.get('exec-1', 'offer-email')).toMatchObject({ status: 'suppressed', reason: 'suppressed:bounce' });
    expect((await send(sms, 'transactional', 'exec-2')).deliver).toBe(true);
    expect(suppression.lookups).toEqual(['Ann@Example.com']);
  });

  it('answers a retried step with the reason it was suppressed the first time', async () => {
    const { send } = setup({ email: 'opted-out' });
    await send(email());
    expect(await send(email())).toEqual({ deliver: false, reason: 'consent:email', message: {} });
  });

  it('gives a marketing email a signed one-click unsubscribe link: in the template, the message and its headers', async () => {
    const { send, clock } = setup();
    const { deliver, message } = await send(email());
    expect(deliver).toBe(true);
    const url = (message as { unsubscribeUrl: string }).unsubscribeUrl;
    expect(url).toMatch(/^https:\/\/api\.shop\.example\/prod\/unsubscribe\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(message).toMatchObject({
      text: `Hi. Unsubscribe: ${url}`,
      headers: [
        { Name: 'List-Unsubscribe', Value: `<${url}>` },
        { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
      ],
    });
    const claims = verifyUnsubscribeToken(new URL(url).searchParams.get('token')!, SECRET, clock.now());
    expect(claims).toEqual({ profileId: 'p-1', scope: 'email', expiresAt: new Date('2026-05-30T12:00:00.000Z') });
  });

  it('scopes the link of a list message to the list', async () => {
    const { send, clock } = setup();
    const { message } = await send(email('news'));
    const token = new URL((message as { unsubscribeUrl: string }).unsubscribeUrl).searchParams.get('token')!;
    expect(verifyUnsubscribeToken(token, SECRET, clock.now()).scope).toBe('list:news');
  });

  it('puts no unsubscribe link or headers into transactional email', async () => {
    const { send } = setup();
    const { message } = await send(email(), 'transactional');
    expect(message).not.toHaveProperty('unsubscribeUrl');
    expect(message).not.toHaveProperty('headers');
    expect((message as { text: string }).text).toBe('Hi. Unsubscribe: ');
  });
});
