import { ledgerOutcomes } from '../../../lambdas/core/engagement/ports';
import { recordEmailEvent, type EngagementDeps } from '../../../lambdas/core/engagement/record';
import { SES_EMAIL_EVENTS, SesEmailEvent } from '../../../lambdas/core/engagement/ses-events';
import { memoryPorts, memorySuppressionList, memoryUpdateItem } from '../../../lambdas/local/memory-ports';
import { recordingJourneyCounters } from '../../../lambdas/local/memory-ports';
import { clockAt } from '../consent/fakes';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-test-welcome';
const NAME = 'welcome--0123456789abcdef0123456789ab';
const EXECUTION = `${MACHINE.replace(':stateMachine:', ':execution:')}:${NAME}`;
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)';

/** An SES event as EventBridge delivers it from the configuration set (fields we do not read trimmed). */
function sesEvent(detailType: keyof typeof SES_EMAIL_EVENTS, detail: Record<string, unknown> = {}, tags: Record<string, string[]> = {}) {
  return {
    version: '0',
    id: `evt-${detailType}`,
    'detail-type': detailType,
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-12-01T10:00:05Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      mail: {
        timestamp: '2026-12-01T09:00:00.000Z',
        messageId: 'ses-msg-1',
        destination: ['ann@example.com'],
        tags: { 'ses:configuration-set': ['waymark-test'], journey: ['welcome'], node: ['welcome-email'], variant: ['none'], execution: [NAME], ...tags },
      },
      ...detail,
    },
  };
}
const delivery = sesEvent('Email Delivered', { eventType: 'Delivery', delivery: { timestamp: '2026-12-01T09:00:01.000Z' } });
const open = (userAgent = BROWSER, at = '2026-12-01T10:00:00.000Z') => sesEvent('Email Opened', { eventType: 'Open', open: { timestamp: at, userAgent, ipAddress: '198.51.100.1' } });
const click = (at: string) => sesEvent('Email Clicked', { eventType: 'Click', click: { timestamp: at, userAgent: BROWSER, ipAddress: '198.51.100.1', link: 'https://shop.example/a' } });

async function setUp() {
  const clock = clockAt('2026-12-01T12:00:00.000Z');
  const ports = memoryPorts(clock);
  const { profile } = await ports.profiles.ingest({ id: 'signup-1', type: 'member.signed-up', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { email: 'ann@example.com' }, properties: {} });
  await ports.ledger.prepare({ executionId: EXECUTION, nodeId: 'welcome-email', status: 'prepared', journeyId: 'welcome', profileId: profile.id, channel: 'email', preparedAt: '2026-12-01T09:00:00.000Z' });
  // What the compiled ASL's record state writes after SES accepted the message.
  await memoryUpdateItem(ports, { runtimeTable: 'runtime' })({
    TableName: 'runtime',
    Key: { pk: { S: `LEDGER#${EXECUTION}` }, sk: { S: 'welcome-email' } },
    UpdateExpression: 'SET #status = :status, #messageId = :messageId',
    ExpressionAttributeNames: { '#status': 'status', '#messageId': 'messageId' },
    ExpressionAttributeValues: { ':status': { S: 'sent' }, ':messageId': { S: 'ses-msg-1' } },
  });
  const counters = recordingJourneyCounters();
  const journeys = { get: async (id: string) => (id === 'welcome' ? { journey: {} as never, stateMachineArn: MACHINE, version: 'v1' } : undefined) };
  const deps: EngagementDeps = { suppression: memorySuppressionList(ports), ledger: ports.ledger, journeys, profiles: ports.profiles, counters, clock };
  const outcomes = async () => ledgerOutcomes((await ports.ledger.get(EXECUTION, 'welcome-email'))!);
  const totals = async () => (await counters.read('welcome', '2026-12-01', '2026-12-01')).map((t) => ({ name: t.name, dims: t.dims, value: t.value }));
  const computed = async (type: string) => (await ports.profiles.get(profile.id))!.computed?.[type]?.count;
  return { deps, ports, profile, counters, outcomes, totals, computed };
}

describe('recording SES email events on the message they belong to', () => {
  it('records a delivery once: ledger, counter and profile move on the first event and not on its redelivery', async () => {
    const t = await setUp();
    expect(await recordEmailEvent(t.deps, delivery)).toMatchObject({ status: 'recorded', outcome: 'delivered', counted: true, executionArn: EXECUTION });
    expect(await recordEmailEvent(t.deps, delivery)).toMatchObject({ status: 'duplicate', counted: false });
    expect((await t.outcomes()).get('delivered')).toEqual({ at: '2026-12-01T09:00:01.000Z' });
    expect(await t.totals()).toEqual([{ name: 'delivered', dims: { node: 'welcome-email', channel: 'email' }, value: 1 }]);
    expect(await t.computed('email.delivered')).toBe(1);
  });

  it('keeps human and machine opens apart, each once per message, with the agent on the ledger and the counter', async () => {
    const t = await setUp();
    await recordEmailEvent(t.deps, delivery);
    for (const event of [open('Mozilla/5.0'), open('Mozilla/5.0'), open(), open()]) await recordEmailEvent(t.deps, event);
    const outcomes = await t.outcomes();
    expect(outcomes.get('opened-machine')).toMatchObject({ agent: 'machine', agentReason: 'apple-mail-privacy-protection' });
    expect(outcomes.get('opened-human')).toMatchObject({ agent: 'human', agentReason: 'person' });
    const opened = (await t.totals()).filter((c) => c.name === 'opened');
    expect(opened).toEqual([
      { name: 'opened', dims: { node: 'welcome-email', channel: 'email', agent: 'machine' }, value: 1 },
      { name: 'opened', dims: { node: 'welcome-email', channel: 'email', agent: 'human' }, value: 1 },
    ]);
    expect(await t.computed('email.opened')).toBe(2);
  });

  it('calls a click within seconds of the recorded delivery a scanner, and a later one a person', async () => {
    const t = await setUp();
    await recordEmailEvent(t.deps, delivery);
    expect(await recordEmailEvent(t.deps, click('2026-12-01T09:00:04.000Z'))).toMatchObject({ outcome: 'clicked-machine', agent: { reason: 'click-right-after-delivery' } });
    expect(await recordEmailEvent(t.deps, click('2026-12-01T11:00:00.000Z'))).toMatchObject({ outcome: 'clicked-human' });
    expect((await t.outcomes()).get('clicked-human')).toMatchObject({ link: 'https://shop.example/a' });
  });

  it('puts the run variant on the counters, and none for a run without one', async () => {
    const t = await setUp();
    await recordEmailEvent(t.deps, sesEvent('Email Delivered', { delivery: {} }, { variant: ['b'] }));
    expect((await t.totals())[0].dims).toEqual({ node: 'welcome-email', channel: 'email', variant: 'b' });
  });

  it('suppresses a bounced address even when the message belongs to no journey, and records what it can', async () => {
    const t = await setUp();
    const bounce = sesEvent('Email Bounced', { bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: 'ann@example.com' }] } }, { journey: ['gone'] });
    expect(await recordEmailEvent(t.deps, bounce)).toEqual({ status: 'unattributed', kind: 'bounce', reason: 'journey gone is not deployed', suppressed: ['ann@example.com'] });
    expect(await t.deps.suppression.isSuppressed('ann@example.com')).toMatchObject({ reason: 'bounce' });
    const attributed = sesEvent('Email Bounced', { bounce: { bounceType: 'Transient' } });
    expect(await recordEmailEvent(t.deps, attributed)).toMatchObject({ status: 'recorded', outcome: 'bounced', counted: true });
    expect((await t.outcomes()).get('bounced')).toMatchObject({ detail: 'Transient' });
  });

  it.each<[string, unknown, string]>([
    ['no tags', sesEvent('Email Opened', { open: {} }, { journey: [], node: [], execution: [] }), 'no journey, node or execution tag'],
    ['another execution', sesEvent('Email Opened', { open: {} }, { execution: ['welcome--ffffffffffffffffffffffffffff'] }), 'no ledger entry for the message'],
    ['another message on the same entry', { ...open(), detail: { ...open().detail, mail: { ...open().detail.mail, messageId: 'ses-msg-2' } } }, 'the ledger entry holds another message'],
  ])('leaves an event it cannot attribute (%s) unrecorded and uncounted', async (_name, event, reason) => {
    const t = await setUp();
    expect(await recordEmailEvent(t.deps, event)).toMatchObject({ status: 'unattributed', reason });
    expect(await t.totals()).toEqual([]);
    expect([...(await t.outcomes()).keys()]).toEqual([]);
  });

  it('records a reject and a rendering failure on the ledger without counting them, and ignores Send and other events', async () => {
    const t = await setUp();
    expect(await recordEmailEvent(t.deps, sesEvent('Email Rejected', { reject: { reason: 'Bad content' } }))).toMatchObject({ outcome: 'rejected', counted: false });
    expect(await recordEmailEvent(t.deps, sesEvent('Email Rendering Failed', { failure: { errorMessage: 'x' } }))).toMatchObject({ outcome: 'rendering-failed' });
    expect(await recordEmailEvent(t.deps, sesEvent('Email Sent', { send: {} }))).toMatchObject({ status: 'ignored' });
    expect(await recordEmailEvent(t.deps, { ...delivery, source: 'shop' })).toMatchObject({ status: 'ignored' });
    expect(await recordEmailEvent(t.deps, { ...delivery, 'detail-type': 'Sending Status Disabled' })).toMatchObject({ status: 'ignored' });
    expect(await t.totals()).toEqual([]);
  });

  it('dates an event by its own timestamp, and by its receipt when that claims a time far ahead of it', async () => {
    const t = await setUp();
    expect(await recordEmailEvent(t.deps, open(BROWSER, '2026-12-01T10:00:00.000Z'))).toMatchObject({ outcome: 'opened-human' });
    expect((await t.outcomes()).get('opened-human')!.at).toBe('2026-12-01T10:00:00.000Z');
    const ahead = { ...open('Mozilla/5.0', '2027-06-01T00:00:00.000Z'), time: '2027-06-01T00:00:00Z' };
    await recordEmailEvent(t.deps, ahead);
    expect((await t.outcomes()).get('opened-machine')!.at).toBe('2026-12-01T12:00:00.000Z');
  });

  it('reads tag names from outside as data: a __proto__ or constructor tag is a tag like any other', () => {
    const raw = JSON.parse(JSON.stringify(delivery).replace('"journey":', '"__proto__":["x"],"constructor":["y"],"journey":'));
    const parsed = SesEmailEvent.parse(raw);
    expect(parsed.detail.mail.tags.get('__proto__')).toEqual(['x']);
    expect(parsed.detail.mail.tags.get('constructor')).toEqual(['y']);
    expect(parsed.detail.mail.tags.get('journey')).toEqual(['welcome']);
  });

  it('does not count when no counters store is configured, and records everything else', async () => {
    const t = await setUp();
    expect(await recordEmailEvent({ ...t.deps, counters: null }, delivery)).toMatchObject({ status: 'recorded', counted: false });
    expect(await t.computed('email.delivered')).toBe(1);
  });
});
