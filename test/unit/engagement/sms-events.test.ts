import fc from 'fast-check';
import { ledgerOutcomes } from '../../../lambdas/core/engagement/ports';
import { recordEngagementEvent, recordSmsEvent, type EngagementDeps } from '../../../lambdas/core/engagement/record';
import { smsContext, smsStatusMeaning, SMS_STATUS_EVENT_PATTERN } from '../../../lambdas/core/engagement/sms-events';
import { matchesPattern } from '../../../lambdas/core/events/pattern';
import { memoryPorts, memorySuppressionList, memoryUpdateItem, recordingJourneyCounters } from '../../../lambdas/local/memory-ports';
import { clockAt } from '../consent/fakes';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-test-welcome';
const NAME = 'welcome--0123456789abcdef0123456789ab';
const EXECUTION = `${MACHINE.replace(':stateMachine:', ':execution:')}:${NAME}`;
const CONTEXT = { ...smsContext({ journeyId: 'welcome', nodeId: 'welcome-sms', executionArn: EXECUTION }), configurationSet: 'waymark-test' };

/** A status event as End User Messaging SMS puts it on the default bus (docs' example, trimmed of price fields). */
function statusEvent(messageStatus: string, detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: `evt-${messageStatus}`,
    'detail-type': 'Text Message Delivery Status Updated',
    source: 'aws.sms-voice',
    account: '123456789012',
    time: '2026-12-01T09:00:05Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventType: `TEXT_${messageStatus}`,
      eventVersion: '1.0',
      eventTimestamp: Date.parse('2026-12-01T09:00:03.000Z'),
      isFinal: true,
      destinationPhoneNumber: '+4915100000000',
      isoCountryCode: 'DE',
      messageId: 'sms-msg-1',
      messageStatus,
      messageStatusDescription: messageStatus === 'DELIVERED' ? 'Message has been accepted by phone' : 'Blocked by the carrier',
      context: CONTEXT,
      ...detail,
    },
  };
}

async function setUp() {
  const clock = clockAt('2026-12-01T12:00:00.000Z');
  const ports = memoryPorts(clock);
  const { profile } = await ports.profiles.ingest({ id: 'signup-1', type: 'member.signed-up', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { phone: '+4915100000000' }, properties: {} });
  await ports.ledger.prepare({ executionId: EXECUTION, nodeId: 'welcome-sms', status: 'prepared', journeyId: 'welcome', profileId: profile.id, channel: 'sms', preparedAt: '2026-12-01T09:00:00.000Z' });
  // What the compiled ASL's record state writes after SendTextMessage answered its MessageId.
  await memoryUpdateItem(ports, { runtimeTable: 'runtime' })({
    TableName: 'runtime',
    Key: { pk: { S: `LEDGER#${EXECUTION}` }, sk: { S: 'welcome-sms' } },
    UpdateExpression: 'SET #status = :status, #messageId = :messageId',
    ExpressionAttributeNames: { '#status': 'status', '#messageId': 'messageId' },
    ExpressionAttributeValues: { ':status': { S: 'sent' }, ':messageId': { S: 'sms-msg-1' } },
  });
  const counters = recordingJourneyCounters();
  const journeys = { get: async (id: string) => (id === 'welcome' ? { journey: {} as never, stateMachineArn: MACHINE, version: 'v1' } : undefined) };
  const deps: EngagementDeps = { suppression: memorySuppressionList(ports), ledger: ports.ledger, journeys, profiles: ports.profiles, counters, clock };
  const entry = async () => (await ports.ledger.get(EXECUTION, 'welcome-sms'))!;
  const totals = async () => (await counters.read('welcome', '2026-12-01', '2026-12-01')).map((t) => ({ name: t.name, dims: t.dims, value: t.value }));
  return { deps, entry, totals };
}

describe('SMS status events (End User Messaging SMS)', () => {
  it('records a delivery once: the ledger entry and the delivered counter move on the first event, not on its redelivery', async () => {
    const t = await setUp();
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED'))).toMatchObject({ status: 'recorded', kind: 'sms-delivery', outcome: 'delivered', counted: true, executionArn: EXECUTION });
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED'))).toMatchObject({ status: 'duplicate', counted: false });
    expect(ledgerOutcomes(await t.entry()).get('delivered')).toEqual({ at: '2026-12-01T09:00:03.000Z' });
    expect((await t.entry()).deliveredAt).toBe('2026-12-01T09:00:03.000Z');
    expect(await t.totals()).toEqual([{ name: 'delivered', dims: { node: 'welcome-sms', channel: 'sms' }, value: 1 }]);
  });

  it("records a final carrier failure once, with the carrier's status as the ledger detail and the counter's reason", async () => {
    const t = await setUp();
    for (let i = 0; i < 3; i++) await recordSmsEvent(t.deps, statusEvent('BLOCKED'));
    expect(ledgerOutcomes(await t.entry()).get('undelivered')).toEqual({ at: '2026-12-01T09:00:03.000Z', detail: 'BLOCKED: Blocked by the carrier' });
    expect((await t.entry()).undeliveredAt).toBe('2026-12-01T09:00:03.000Z');
    expect(await t.totals()).toEqual([{ name: 'undelivered', dims: { node: 'welcome-sms', channel: 'sms', reason: 'BLOCKED' }, value: 1 }]);
  });

  it('takes a final SUCCESSFUL as the delivery (some countries report only it), and a SUCCESSFUL then a DELIVERED once', async () => {
    const t = await setUp();
    expect(await recordSmsEvent(t.deps, statusEvent('SUCCESSFUL'))).toMatchObject({ status: 'recorded', outcome: 'delivered' });
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED'))).toMatchObject({ status: 'duplicate' });
    expect(await t.totals()).toEqual([{ name: 'delivered', dims: { node: 'welcome-sms', channel: 'sms' }, value: 1 }]);
  });

  it('puts the run variant on the counter, none when the run has none', async () => {
    const t = await setUp();
    const context = { ...CONTEXT, variant: 'b' };
    await recordSmsEvent(t.deps, statusEvent('DELIVERED', { context }));
    expect((await t.totals())[0].dims).toEqual({ node: 'welcome-sms', channel: 'sms', variant: 'b' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a message on its way', { messageStatus: 'PENDING' }, 'PENDING: on the way'],
    ['a queued message', { messageStatus: 'QUEUED' }, 'QUEUED: on the way'],
    ['a failure that is not final', { messageStatus: 'CARRIER_UNREACHABLE', isFinal: false }, 'CARRIER_UNREACHABLE, not final'],
    ['no word from the carrier in 72 hours', { messageStatus: 'UNKNOWN' }, 'UNKNOWN: no final status from the carrier'],
    ['a status this code does not know', { messageStatus: 'TELEPORTED' }, 'unknown messageStatus "TELEPORTED"'],
  ])('ignores %s, saying why, and records nothing', async (_name, detail, reason) => {
    const t = await setUp();
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED', detail))).toEqual({ status: 'ignored', reason });
    expect(ledgerOutcomes(await t.entry()).size).toBe(0);
    expect(await t.totals()).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no context', { context: undefined }, 'no journey, node or execution in the context'],
    ['a context without the execution', { context: { journey: 'welcome', node: 'welcome-sms' } }, 'no journey, node or execution in the context'],
    ['a journey no longer deployed', { context: { ...CONTEXT, journey: 'gone' } }, 'journey gone is not deployed'],
    ['another run', { context: { ...CONTEXT, execution: 'welcome--ffffffffffffffffffffffffffff' } }, 'no ledger entry for the message'],
    ['a forged context naming the entry of another message', { messageId: 'sms-msg-2' }, 'the ledger entry holds another message'],
  ])('leaves an event with %s unattributed, with the reason', async (_name, detail, reason) => {
    const t = await setUp();
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED', detail))).toEqual({ status: 'unattributed', kind: 'sms-delivery', reason });
    expect(await t.totals()).toEqual([]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'DELIVERED', /^not an SMS status event: : /],
    ['another detail type', { ...statusEvent('DELIVERED'), 'detail-type': 'Registration Status Change' }, /detail-type/],
    ['no message id', statusEvent('DELIVERED', { messageId: undefined }), /detail\.messageId/],
    ['an oversized status', statusEvent('x'.repeat(65)), /detail\.messageStatus/],
    ['a context value that is not text', statusEvent('DELIVERED', { context: { journey: 42 } }), /detail\.context\.journey/],
    ['a timestamp that is no number', statusEvent('DELIVERED', { eventTimestamp: 'yesterday' }), /detail\.eventTimestamp/],
  ])('ignores a hostile or malformed event (%s), naming the field', async (_name, raw, reason) => {
    const t = await setUp();
    const result = await recordSmsEvent(t.deps, raw);
    expect(result.status).toBe('ignored');
    expect((result as { reason: string }).reason).toMatch(reason);
    expect(await t.totals()).toEqual([]);
  });

  it('reads context keys such as __proto__ or constructor as data, never as members of Object.prototype', async () => {
    const t = await setUp();
    const context = JSON.parse('{"__proto__":"welcome","constructor":"x","node":"welcome-sms","execution":"x"}') as Record<string, unknown>;
    expect(await recordSmsEvent(t.deps, statusEvent('DELIVERED', { context }))).toEqual({ status: 'unattributed', kind: 'sms-delivery', reason: 'no journey, node or execution in the context' });
    expect(({} as Record<string, unknown>).journey).toBeUndefined();
  });

  it('dates the outcome by the event timestamp, bounded: a time far ahead of receipt falls back to the bus time', async () => {
    const t = await setUp();
    await recordSmsEvent(t.deps, statusEvent('DELIVERED', { eventTimestamp: Date.parse('2030-01-01T00:00:00.000Z') }));
    expect(ledgerOutcomes(await t.entry()).get('delivered')).toEqual({ at: '2026-12-01T09:00:05.000Z' });
  });

  it('never throws on arbitrary input, and records nothing it cannot attribute', async () => {
    const t = await setUp();
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (detail) => {
        const result = await recordEngagementEvent(t.deps, { ...statusEvent('DELIVERED'), detail });
        expect(['ignored', 'unattributed']).toContain(result.status);
      }),
      { numRuns: 200 },
    );
    expect(await t.totals()).toEqual([]);
  });

  it('routes SMS status events to the SMS recording and everything else to the SES one', async () => {
    const t = await setUp();
    expect(await recordEngagementEvent(t.deps, statusEvent('DELIVERED'))).toMatchObject({ kind: 'sms-delivery', status: 'recorded' });
    expect(await recordEngagementEvent(t.deps, { source: 'aws.ses' })).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^not an SES email event/) });
  });

  it('matches the status events by source and detail type', () => {
    expect(matchesPattern(SMS_STATUS_EVENT_PATTERN, statusEvent('DELIVERED'))).toBe(true);
    expect(matchesPattern(SMS_STATUS_EVENT_PATTERN, { ...statusEvent('DELIVERED'), 'detail-type': 'Voice Message Delivery Status Updated' })).toBe(false);
    expect(matchesPattern(SMS_STATUS_EVENT_PATTERN, { ...statusEvent('DELIVERED'), source: 'shop' })).toBe(false);
  });
});

describe('what a status means', () => {
  it.each([
    ['DELIVERED', true, { kind: 'delivered' }],
    ['SUCCESSFUL', undefined, { kind: 'delivered' }],
    ['SUCCESSFUL', false, { kind: 'ignored', reason: 'SUCCESSFUL, not final' }],
    ['TTL_EXPIRED', true, { kind: 'undelivered', status: 'TTL_EXPIRED' }],
    ['INVALID', undefined, { kind: 'undelivered', status: 'INVALID' }],
    ['SPAM', true, { kind: 'undelivered', status: 'SPAM' }],
  ])('%s (isFinal %s)', (messageStatus, isFinal, meaning) => {
    expect(smsStatusMeaning({ messageStatus, isFinal })).toEqual(meaning);
  });
});

describe('the context of a journey SMS', () => {
  it('holds journey, node, variant (none without a split) and execution name, escaped without whitespace', () => {
    expect({ ...smsContext({ journeyId: 'welcome', nodeId: 'welcome-sms', executionArn: EXECUTION }) }).toEqual({
      journey: 'welcome',
      node: 'welcome-sms',
      variant: 'none',
      execution: NAME,
    });
    expect(smsContext({ journeyId: 'a b', nodeId: 'n', variant: 'x y', executionArn: 'e' }).variant).toBe('x_0020y');
  });
});
