import { parseRule } from '../../../lambdas/core/governance/files';
import type { QuietHoursRule, Rule } from '../../../lambdas/core/governance/rules';
import { estimatePolicy, quietWindowEnd, renderEstimate, type EstimateMessage } from '../../../lambdas/simulate/rule-estimate';

const rule = (input: Record<string, unknown>): Rule => {
  const parsed = parseRule(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
};
const cap = (id: string, channel: string, limit: number, period: unknown, over: Record<string, unknown> = {}) => rule({ id, kind: 'frequency-cap', channel, limit, period, ...over });
const quiet = (over: Record<string, unknown> = {}) => rule({ id: 'night', kind: 'quiet-hours', channel: 'sms', from: '21:00', to: '08:00', action: 'defer', ...over }) as QuietHoursRule;
const message = (at: string, over: Partial<EstimateMessage> = {}): EstimateMessage => ({
  profileId: 'p1', journeyId: 'j', node: 'send', channel: 'email', at, messageClass: 'marketing', tags: [], timeZone: 'UTC', ...over,
});
const statuses = (estimate: ReturnType<typeof estimatePolicy>) => estimate.outcomes.map((o) => `${o.message.at} ${o.status}${o.reason ? ` ${o.reason}` : ''} @${o.at}`);

describe('quietWindowEnd', () => {
  it.each([
    ['evening, inside a window past midnight', '2026-12-03T22:00:00Z', 'UTC', '2026-12-04T08:00:00.000Z'],
    ['early morning, inside it', '2026-12-04T07:59:00Z', 'UTC', '2026-12-04T08:00:00.000Z'],
    ['at its end, outside', '2026-12-04T08:00:00Z', 'UTC', undefined],
    ['just before its start, outside', '2026-12-03T20:59:00Z', 'UTC', undefined],
    ['at +13 (Pacific/Tongatapu): 22:00 local is 09:00 UTC', '2026-12-03T09:00:00Z', 'Pacific/Tongatapu', '2026-12-03T19:00:00.000Z'],
    ['at −11 (Pacific/Pago_Pago): 22:00 local is 09:00 UTC the next day', '2026-12-04T09:00:00Z', 'Pacific/Pago_Pago', '2026-12-04T19:00:00.000Z'],
    // Europe/Paris leaves summer time on 2026-10-25 at 03:00 local: the night is an hour longer.
    ['across the end of summer time (Paris)', '2026-10-24T20:00:00Z', 'Europe/Paris', '2026-10-25T07:00:00.000Z'],
    ['across the start of summer time (Paris)', '2026-03-28T21:00:00Z', 'Europe/Paris', '2026-03-29T06:00:00.000Z'],
  ])('%s', (_, at, zone, end) => {
    const result = quietWindowEnd(quiet(), Date.parse(at), zone);
    expect(result === undefined ? undefined : new Date(result).toISOString()).toBe(end);
  });

  it('holds a window on the weekdays it starts: Friday night reaches into Saturday morning, Thursday night is free', () => {
    const fridays = quiet({ days: ['fri'] });
    // 2026-12-04 is a Friday.
    expect(quietWindowEnd(fridays, Date.parse('2026-12-05T07:00:00Z'), 'UTC')).toBe(Date.parse('2026-12-05T08:00:00Z'));
    expect(quietWindowEnd(fridays, Date.parse('2026-12-04T07:00:00Z'), 'UTC')).toBeUndefined();
    expect(quietWindowEnd(fridays, Date.parse('2026-12-03T22:00:00Z'), 'UTC')).toBeUndefined();
  });

  it('holds a window within a day between its times', () => {
    const lunch = quiet({ from: '12:00', to: '14:00' });
    expect(quietWindowEnd(lunch, Date.parse('2026-12-03T13:00:00Z'), 'UTC')).toBe(Date.parse('2026-12-03T14:00:00Z'));
    expect(quietWindowEnd(lunch, Date.parse('2026-12-03T22:00:00Z'), 'UTC')).toBeUndefined();
  });
});

describe('estimatePolicy', () => {
  it('stops a rolling cap at its limit and lets messages through again once the first slides out', () => {
    const estimate = estimatePolicy(
      ['2026-12-01T10:00:00Z', '2026-12-02T10:00:00Z', '2026-12-03T10:00:00Z', '2026-12-04T10:00:00Z', '2026-12-08T10:00:01Z'].map((at) => message(at)),
      [cap('email-weekly', 'email', 3, { rolling: '7d' })],
    );
    expect(statuses(estimate).map((s) => s.split(' ')[1])).toEqual(['sent', 'sent', 'sent', 'suppressed', 'sent']);
    expect(estimate.outcomes[3].reason).toBe('frequency-cap:email-weekly');
    expect(estimate).toMatchObject({ messages: 5, sent: 4, suppressed: 1, deferred: 0, rules: [{ ruleId: 'email-weekly', suppressed: 1, deferred: 0 }] });
  });

  it('counts a calendar day in the profile time zone, not UTC', () => {
    const daily = cap('sms-daily', 'sms', 1, { calendar: 'day' });
    // 23:30 and 00:30 UTC are the same day in New York (18:30, 19:30) and two days in UTC.
    const at = ['2026-12-03T23:30:00Z', '2026-12-04T00:30:00Z'];
    expect(estimatePolicy(at.map((a) => message(a, { channel: 'sms' })), [daily]).suppressed).toBe(0);
    expect(estimatePolicy(at.map((a) => message(a, { channel: 'sms', timeZone: 'America/New_York' })), [daily]).suppressed).toBe(1);
  });

  it('counts a calendar week from Monday, and a cap on any channel counts every channel', () => {
    const weekly = cap('all-weekly', 'any', 2, { calendar: 'week' });
    // Sunday 2026-12-06, then Monday 2026-12-07: a new week.
    const estimate = estimatePolicy(
      [message('2026-12-05T10:00:00Z'), message('2026-12-06T10:00:00Z', { channel: 'push' }), message('2026-12-06T11:00:00Z', { channel: 'sms' }), message('2026-12-07T10:00:00Z')],
      [weekly],
    );
    expect(estimate.outcomes.map((o) => o.status)).toEqual(['sent', 'sent', 'suppressed', 'sent']);
  });

  it('leaves transactional messages, other channels and untagged journeys alone unless the rule names them', () => {
    const rules = [cap('promo-email', 'email', 1, { rolling: '1d' }, { journeyTags: ['promo'] })];
    const estimate = estimatePolicy(
      [
        message('2026-12-01T10:00:00Z', { tags: ['promo'] }),
        message('2026-12-01T11:00:00Z', { tags: ['promo'] }),
        message('2026-12-01T12:00:00Z', { tags: ['other'] }),
        message('2026-12-01T13:00:00Z', { tags: ['promo'], messageClass: 'transactional' }),
        message('2026-12-01T14:00:00Z', { tags: ['promo'], channel: 'sms' }),
      ],
      rules,
    );
    expect(estimate.outcomes.map((o) => o.status)).toEqual(['sent', 'suppressed', 'sent', 'sent', 'sent']);
  });

  it('defers a message in quiet hours to the window end, then checks the caps again there', () => {
    const estimate = estimatePolicy(
      [message('2026-12-03T22:00:00Z', { channel: 'sms' }), message('2026-12-04T08:00:00Z', { channel: 'sms' })],
      [quiet(), cap('sms-daily', 'sms', 1, { calendar: 'day' })],
    );
    // The deferred one and the 08:00 one meet at 08:00: the earlier in the simulation goes first and takes the day.
    expect(statuses(estimate)).toEqual([
      '2026-12-03T22:00:00Z sent @2026-12-04T08:00:00.000Z',
      '2026-12-04T08:00:00Z suppressed frequency-cap:sms-daily @2026-12-04T08:00:00.000Z',
    ]);
    expect(estimate.rules).toEqual([
      { ruleId: 'night', kind: 'quiet-hours', suppressed: 0, deferred: 1 },
      { ruleId: 'sms-daily', kind: 'frequency-cap', suppressed: 1, deferred: 0 },
    ]);
    expect(estimate.deferred).toBe(1);
  });

  it('skips a message in a skip window, and drops one that would wait past maxDeferral as quiet-hours-expired', () => {
    expect(estimatePolicy([message('2026-12-03T22:00:00Z', { channel: 'sms' })], [quiet({ action: 'skip' })]).outcomes[0]).toMatchObject({ status: 'suppressed', reason: 'quiet-hours:night' });
    const short = estimatePolicy([message('2026-12-03T22:00:00Z', { channel: 'sms' })], [quiet({ maxDeferral: '1h' })]);
    expect(short.outcomes[0]).toMatchObject({ status: 'suppressed', reason: 'quiet-hours-expired' });
    expect(short.rules[0]).toMatchObject({ suppressed: 1, deferred: 0 });
  });

  it('keeps profiles apart', () => {
    const estimate = estimatePolicy(
      [message('2026-12-01T10:00:00Z'), message('2026-12-01T10:00:00Z', { profileId: 'p2' })],
      [cap('one', 'email', 1, { rolling: '1d' })],
    );
    expect(estimate.suppressed).toBe(0);
  });

  it('prints totals and one line per rule, saying it is an estimate', () => {
    const text = renderEstimate(estimatePolicy([message('2026-12-03T22:00:00Z', { channel: 'sms' })], [quiet(), cap('e', 'email', 1, { rolling: '1d' })]));
    expect(text.split('\n').slice(0, 3)).toEqual([
      'estimate: 1 messages without rules; with them 1 sent, 0 suppressed, 1 deferred',
      '  night (quiet-hours): 0 suppressed, 1 deferred',
      '  e (frequency-cap): 0 suppressed',
    ]);
    expect(text).toContain('An estimate');
  });
});
