import type { SendNode } from '../../../lambdas/core/journey/schema';
import { Rule } from '../../../lambdas/core/governance/rules';
import type { RunningJourneys } from '../../../lambdas/core/governance/ports';
import { enterJourney } from '../../../lambdas/core/runtime/enter';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import { prepareSend, type PrepareSendPayload } from '../../../lambdas/core/runtime/send';
import { MemorySendCapStore, staticRules } from '../../../lambdas/local/memory/governance';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { FakeClock, journeyRecord, MemoryJourneyRegistry, MemoryLedger, MemoryProfileStore, runtime } from '../runtime/fakes';

const sendsEmail = (id: string, settings: Record<string, unknown>) =>
  journeyRecord({
    id,
    settings: { reentry: 'never', ...settings },
    start: 'mail',
    nodes: [
      { id: 'mail', kind: 'send', channel: 'email', template: { subject: 's', text: 't' }, next: 'done' },
      { id: 'done', kind: 'exit' },
    ],
  });

describe('exclusive groups at entry', () => {
  const profile: Profile = { id: 'p-1', attributes: {}, identities: {}, createdAt: '', updatedAt: '' };
  const entry = (id: string) => ({ id, event: {}, context: {} });
  const setup = () => {
    const low = sendsEmail('newsletter', { exclusive: 'onboarding', priority: 20 });
    const high = sendsEmail('win-back', { exclusive: 'onboarding', priority: 80 });
    const peer = sendsEmail('tips', { exclusive: 'onboarding' });
    const other = sendsEmail('receipts', {});
    const deps = runtime([low, high, peer, other]);
    return { deps, low, high, peer, other };
  };

  it('a higher-priority entry stops the lower one’s run, which ends as preempted', async () => {
    const { deps, low, high } = setup();
    const first = await enterJourney(deps, low, profile, entry('e1'));
    expect(first.status).toBe('started');
    const second = await enterJourney(deps, high, profile, entry('e2'));
    expect(second).toMatchObject({ status: 'started', journeyId: 'win-back', preempted: [{ journeyId: 'newsletter', executionArn: (first as { executionArn: string }).executionArn }] });
    expect(deps.executions.executions.get((first as { executionArn: string }).executionArn)?.status).toBe('ABORTED');
  });

  it('a lower-priority entry is refused while a higher one runs, and allowed once it has ended', async () => {
    const { deps, low, high } = setup();
    const running = await enterJourney(deps, high, profile, entry('e1'));
    expect(await enterJourney(deps, low, profile, entry('e2'))).toEqual({
      status: 'skipped',
      journeyId: 'newsletter',
      reason: 'exclusive',
      heldBy: { journeyId: 'win-back', executionArn: (running as { executionArn: string }).executionArn },
    });
    deps.executions.finish((running as { executionArn: string }).executionArn);
    expect(await enterJourney(deps, low, profile, entry('e3'))).toMatchObject({ status: 'started' });
  });

  it('an entry of the same priority waits its turn; journeys outside the group are not affected', async () => {
    const { deps, peer, other } = setup();
    const tips = sendsEmail('tips-2', { exclusive: 'onboarding' });
    deps.journeys.records.push(tips);
    await enterJourney(deps, peer, profile, entry('e1'));
    expect(await enterJourney(deps, tips, profile, entry('e2'))).toMatchObject({ status: 'skipped', reason: 'exclusive' });
    expect(await enterJourney(deps, other, profile, entry('e3'))).toMatchObject({ status: 'started' });
    expect(deps.executions.running()).toHaveLength(2);
  });
});

describe('priority arbitration of caps', () => {
  const cap = Rule.parse({ id: 'email-daily', kind: 'frequency-cap', channel: 'email', limit: 2, period: { calendar: 'day' } });
  const node: SendNode = { id: 'mail', kind: 'send', channel: 'email', template: { subject: 's', text: 't' }, next: 'done' };

  function setup(running: boolean) {
    const clock = new FakeClock('2026-12-03T12:00:00.000Z');
    const profiles = new MemoryProfileStore(clock);
    profiles.add({ id: 'p-1', attributes: {}, identities: { email: 'ada@example.com' } });
    const vip = sendsEmail('vip', { priority: 90 });
    const sms = journeyRecord({
      id: 'sms-only',
      settings: { priority: 95 },
      start: 'text',
      nodes: [
        { id: 'text', kind: 'send', channel: 'sms', template: { body: 't' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    });
    const runs: RunningJourneys = {
      list: async (_profileId, ids) => (running ? ids.map((journeyId) => ({ journeyId, executionArn: `run-of-${journeyId}` })) : []),
    };
    const governance = {
      rules: staticRules([cap]),
      caps: new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true })),
      defaultTimeZone: 'UTC',
      arbitration: { journeys: new MemoryJourneyRegistry([vip, sms]), runs },
    };
    const deps = { profiles, ledger: new MemoryLedger(), clock, governance };
    const send = (journeyId: string, executionId: string, priority?: number) =>
      prepareSend(deps, {
        executionId,
        node,
        messageClass: 'marketing',
        settings: priority === undefined ? {} : { priority },
        state: { journey: { id: journeyId, version: 'v1' }, profileId: 'p-1', profile: { id: 'p-1', attributes: {}, identities: {} }, event: null, context: {}, steps: {} },
      } as PrepareSendPayload);
    return send;
  }

  it('a lower-priority message may not take the last slot while a higher-priority run that sends email holds the profile', async () => {
    const send = setup(true);
    expect(await send('newsletter', 'n-1')).toMatchObject({ deliver: true });
    expect(await send('newsletter', 'n-2')).toMatchObject({ deliver: false, reason: 'frequency-cap:email-daily' });
    // The vip run (priority 90) takes the slot kept for it; the sms-only journey kept none (it never sends email).
    expect(await send('vip', 'run-of-vip', 90)).toMatchObject({ deliver: true });
  });

  it('without a higher-priority run in progress the cap is first come, first served', async () => {
    const send = setup(false);
    expect(await send('newsletter', 'n-1')).toMatchObject({ deliver: true });
    expect(await send('newsletter', 'n-2')).toMatchObject({ deliver: true });
    expect(await send('vip', 'v-1', 90)).toMatchObject({ deliver: false, reason: 'frequency-cap:email-daily' });
  });
});
