import fc from 'fast-check';
import { consentDecision, type Channel, type ConsentPolicy, type MessageClass } from '../../../lambdas/core/consent/policy';
import type { ConsentRecord } from '../../../lambdas/core/runtime/ports';

const record = (status: ConsentRecord['status']): ConsentRecord => ({ status, at: '2026-01-01T00:00:00.000Z', source: 'test' });
const consent = (entries: Record<string, ConsentRecord['status']>) => ({ consent: Object.fromEntries(Object.entries(entries).map(([k, s]) => [k, record(s)])) });

describe('consentDecision', () => {
  const optInEmail: ConsentPolicy = { requireOptIn: ['email'] };
  const optInLists: ConsentPolicy = { listsRequireOptIn: true };
  it.each<[string, Record<string, ConsentRecord['status']>, Channel, MessageClass, string | undefined, 'bounce' | 'complaint' | undefined, ConsentPolicy | undefined, string | null]>([
    ['no record: marketing email goes (opt-out model)', {}, 'email', 'marketing', undefined, undefined, undefined, null],
    ['email opt-out blocks marketing email', { email: 'opted-out' }, 'email', 'marketing', undefined, undefined, undefined, 'consent:email'],
    ['email opt-out does not block transactional email', { email: 'opted-out' }, 'email', 'transactional', undefined, undefined, undefined, null],
    ['email opt-out does not block marketing push', { email: 'opted-out' }, 'push', 'marketing', undefined, undefined, undefined, null],
    ['sms opt-out blocks marketing sms', { sms: 'opted-out' }, 'sms', 'marketing', undefined, undefined, undefined, 'consent:sms'],
    ['push opt-out blocks marketing push', { push: 'opted-out' }, 'push', 'marketing', undefined, undefined, undefined, 'consent:push'],
    ['email opt-in lets marketing email go', { email: 'opted-in' }, 'email', 'marketing', undefined, undefined, undefined, null],
    ['list opt-out blocks a node naming that list', { 'list:news': 'opted-out' }, 'email', 'marketing', 'news', undefined, undefined, 'consent:list:news'],
    ['list opt-out does not block a node naming another list', { 'list:news': 'opted-out' }, 'email', 'marketing', 'offers', undefined, undefined, null],
    ['list opt-out does not block a node naming no list', { 'list:news': 'opted-out' }, 'email', 'marketing', undefined, undefined, undefined, null],
    ['list opt-out blocks a transactional node naming that list', { 'list:news': 'opted-out' }, 'sms', 'transactional', 'news', undefined, undefined, 'consent:list:news'],
    ['channel opt-out is named before a list opt-out', { email: 'opted-out', 'list:news': 'opted-out' }, 'email', 'marketing', 'news', undefined, undefined, 'consent:email'],
    ['a bounced address gets no transactional email', {}, 'email', 'transactional', undefined, 'bounce', undefined, 'suppressed:bounce'],
    ['a complaint beats an email opt-in', { email: 'opted-in' }, 'email', 'marketing', undefined, 'complaint', undefined, 'suppressed:complaint'],
    ['opt-in required: no record blocks marketing email', {}, 'email', 'marketing', undefined, undefined, optInEmail, 'consent:email'],
    ['opt-in required: an opt-in lets it go', { email: 'opted-in' }, 'email', 'marketing', undefined, undefined, optInEmail, null],
    ['opt-in required on email: transactional email still goes', {}, 'email', 'transactional', undefined, undefined, optInEmail, null],
    ['opt-in required on email: sms keeps the opt-out model', {}, 'sms', 'marketing', undefined, undefined, optInEmail, null],
    ['lists require opt-in: no record blocks a list node', {}, 'push', 'marketing', 'news', undefined, optInLists, 'consent:list:news'],
    ['lists require opt-in: a list opt-in lets it go', { 'list:news': 'opted-in' }, 'push', 'marketing', 'news', undefined, optInLists, null],
  ])('%s', (_name, held, channel, messageClass, list, suppressed, policy, reason) => {
    const decision = consentDecision(consent(held), channel, messageClass, list, suppressed ? { reason: suppressed } : undefined, policy);
    expect(decision).toEqual(reason === null ? { allowed: true } : { allowed: false, reason });
  });

  const channel = fc.constantFrom<Channel>('email', 'sms', 'push');
  const status = fc.constantFrom<ConsentRecord['status']>('opted-in', 'opted-out');
  const keys = fc.constantFrom('email', 'sms', 'push', 'list:news', 'list:offers');
  const held = fc.dictionary(keys, status);

  it('never lets a marketing message through on a channel the profile opted out of, whatever else is held', () => {
    fc.assert(
      fc.property(channel, held, fc.option(fc.constantFrom('news', 'offers'), { nil: undefined }), (ch, others, list) => {
        const decision = consentDecision(consent({ ...others, [ch]: 'opted-out' }), ch, 'marketing', list);
        expect(decision).toEqual({ allowed: false, reason: `consent:${ch}` });
      }),
    );
  });

  it('lets a transactional message through unless the address is suppressed or its list opted out', () => {
    fc.assert(
      fc.property(channel, held, (ch, others) => {
        expect(consentDecision(consent(others), ch, 'transactional')).toEqual({ allowed: true });
        expect(consentDecision(consent(others), ch, 'transactional', undefined, { reason: 'bounce' })).toEqual({ allowed: false, reason: 'suppressed:bounce' });
      }),
    );
  });
});
