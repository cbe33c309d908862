import { recordDeliveryEvent, SES_DELIVERY_EVENT_PATTERN, suppressionsFrom, SesDeliveryEvent } from '../../../lambdas/core/consent/ses-events';
import { matchesPattern, ROUTER_EVENT_PATTERN } from '../../../lambdas/core/events/pattern';
import { MemorySuppressionList } from './fakes';

/** SES events as EventBridge delivers them from a configuration set's event destination (fields we do not read trimmed). */
const sesEvent = (detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: 'c3d4e5f6-0000-4000-8000-000000000001',
  'detail-type': detailType,
  source: 'aws.ses',
  account: '123456789012',
  time: '2026-03-01T10:30:02Z',
  region: 'eu-west-1',
  resources: [],
  detail: {
    mail: { timestamp: '2026-03-01T10:30:00.000Z', source: 'news@shop.example', messageId: 'ses-msg-1', destination: ['Ann@Example.com'], tags: { journey: ['cart-abandonment'] } },
    ...detail,
  },
});
const bounce = (bounceType: string, recipients?: string[]) =>
  sesEvent('Email Bounced', {
    eventType: 'Bounce',
    bounce: { bounceType, bounceSubType: 'General', timestamp: '2026-03-01T10:30:01.000Z', ...(recipients ? { bouncedRecipients: recipients.map((emailAddress) => ({ emailAddress, status: '5.1.1' })) } : {}) },
  });
const complaint = (recipients?: string[]) =>
  sesEvent('Email Complaint Received', {
    eventType: 'Complaint',
    complaint: { timestamp: '2026-03-01T11:00:00.000Z', ...(recipients ? { complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })) } : {}) },
  });
const parse = (raw: unknown) => SesDeliveryEvent.parse(raw);

describe('SES delivery events', () => {
  it('suppresses the bounced recipients of a permanent bounce, lowercased, with the bounce time and message id', () => {
    expect(suppressionsFrom(parse(bounce('Permanent', ['Ann@Example.com'])))).toEqual([{ address: 'ann@example.com', reason: 'bounce', at: '2026-03-01T10:30:01.000Z', source: 'ses:ses-msg-1' }]);
  });

  it.each(['Transient', 'Undetermined'])('suppresses nobody for a %s bounce', (bounceType) => {
    expect(suppressionsFrom(parse(bounce(bounceType, ['ann@example.com'])))).toEqual([]);
  });

  it('suppresses the complaining recipients of a complaint', () => {
    expect(suppressionsFrom(parse(complaint(['Bob <bob@example.com>'])))).toEqual([{ address: 'bob@example.com', reason: 'complaint', at: '2026-03-01T11:00:00.000Z', source: 'ses:ses-msg-1' }]);
  });

  it('falls back to the message destinations when the event names no recipient', () => {
    expect(suppressionsFrom(parse(complaint())).map((s) => s.address)).toEqual(['ann@example.com']);
    expect(suppressionsFrom(parse(bounce('Permanent'))).map((s) => s.address)).toEqual(['ann@example.com']);
  });

  it('records permanent bounces and complaints in the suppression list, and nothing else', async () => {
    const suppression = new MemorySuppressionList();
    expect(await recordDeliveryEvent({ suppression }, bounce('Transient', ['ann@example.com']))).toEqual({ status: 'ignored', reason: 'Transient bounce' });
    expect(await recordDeliveryEvent({ suppression }, sesEvent('Email Delivered', { eventType: 'Delivery', delivery: {} }))).toMatchObject({ status: 'ignored' });
    expect(await recordDeliveryEvent({ suppression }, { source: 'shop', 'detail-type': 'Email Bounced', detail: {} })).toMatchObject({ status: 'ignored' });
    expect(suppression.entries.size).toBe(0);
    expect(await recordDeliveryEvent({ suppression }, bounce('Permanent', ['ann@example.com']))).toEqual({ status: 'suppressed', addresses: ['ann@example.com'] });
    expect(await suppression.isSuppressed('ANN@example.com')).toMatchObject({ reason: 'bounce' });
  });

  it('routes bounces, complaints and the engagement events to the delivery-event rule, nothing else of SES', () => {
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, bounce('Permanent'))).toBe(true);
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, complaint())).toBe(true);
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, sesEvent('Email Delivered', {}))).toBe(true);
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, sesEvent('Email Opened', {}))).toBe(true);
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, sesEvent('Sending Status Disabled', {}))).toBe(false);
    expect(matchesPattern(SES_DELIVERY_EVENT_PATTERN, { ...bounce('Permanent'), source: 'shop' })).toBe(false);
    // On one bus (the local stack) the router sees them too, and ignores them (see route.test.ts).
    expect(matchesPattern(ROUTER_EVENT_PATTERN, bounce('Permanent'))).toBe(true);
  });
});
