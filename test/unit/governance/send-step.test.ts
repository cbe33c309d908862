import type { SendNode } from '../../../lambdas/core/journey/schema';
import type { GovernanceDeps } from '../../../lambdas/core/governance/send-step';
import { Rule, type RuleInput } from '../../../lambdas/core/governance/rules';
import { prepareSend, releaseSend, type PrepareSendPayload } from '../../../lambdas/core/runtime/send';
import { MemorySendCapStore, staticRules } from '../../../lambdas/local/memory/governance';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { FakeClock, MemoryEnrollmentStore, MemoryLedger, MemoryProfileStore } from '../runtime/fakes';
import { carryOverMerge } from '../../../lambdas/core/runtime/merge';

const email = (id = 'promo'): SendNode => ({ id, kind: 'send', channel: 'email', template: { subject: 'Hi', text: 'Sale {{ profile.attributes.x }}' }, next: 'done' });
const NIGHT: RuleInput = { id: 'night', kind: 'quiet-hours', channel: 'any', from: '21:00', to: '08:00', action: 'defer' };
const DAILY: RuleInput = { id: 'email-daily', kind: 'frequency-cap', channel: 'email', limit: 1, period: { calendar: 'day' } };

function setup(rules: RuleInput[], options: { zone?: string; start?: string; defaultTimeZone?: string } = {}) {
  const clock = new FakeClock(options.start ?? '2026-12-03T12:00:00.000Z');
  const profiles = new MemoryProfileStore(clock);
  const ledger = new MemoryLedger();
  const caps = new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true }));
  profiles.add({ id: 'p-1', attributes: options.zone === undefined ? {} : { timezone: options.zone }, identities: { email: 'ada@example.com' } });
  const governance: GovernanceDeps = { rules: staticRules(rules.map((r) => Rule.parse(r))), caps, defaultTimeZone: options.defaultTimeZone ?? 'Europe/Berlin' };
  const deps = { profiles, ledger, clock, governance };
  const payload = (node: SendNode, executionId = 'exec-1', steps: Record<string, unknown> = {}): PrepareSendPayload => ({
    executionId,
    node,
    messageClass: 'marketing',
    state: { journey: { id: 'sale', version: 'v1' }, profileId: 'p-1', profile: { id: 'p-1', attributes: {}, identities: {} }, event: null, context: {}, steps },
  });
  return { clock, ledger, deps, payload, send: (node = email(), executionId?: string, steps?: Record<string, unknown>) => prepareSend(deps, payload(node, executionId, steps)) };
}

describe('prepareSend with governance rules', () => {
  it('defers a marketing message at 22:30 local until 08:00 local, writing nothing to the ledger', async () => {
    const { send, ledger } = setup([NIGHT], { zone: 'Europe/Berlin', start: '2026-12-03T21:30:00.000Z' });
    expect(await send()).toEqual({
      deliver: false,
      reason: 'quiet-hours:night',
      message: {},
      deferUntil: '2026-12-04T07:00:00.000Z',
      deferredSince: '2026-12-03T21:30:00.000Z',
    });
    expect(ledger.prepared).toEqual([]);
  });

  it('uses the stage default zone for a profile without one (or with an unknown one)', async () => {
    const { send } = setup([NIGHT], { start: '2026-12-03T09:30:00.000Z', defaultTimeZone: 'Pacific/Tongatapu' });
    expect(await send()).toMatchObject({ deferUntil: '2026-12-03T19:00:00.000Z' });
    const other = setup([NIGHT], { zone: 'Not/AZone', start: '2026-12-03T09:30:00.000Z', defaultTimeZone: 'Pacific/Pago_Pago' });
    expect(await other.send()).toMatchObject({ deferUntil: '2026-12-03T19:00:00.000Z' });
    const day = setup([NIGHT], { start: '2026-12-03T09:30:00.000Z', defaultTimeZone: 'Europe/Berlin' });
    expect(await day.send()).toMatchObject({ deliver: true });
  });

  it('suppresses with quiet-hours:<rule> when the rule skips', async () => {
    const { send, ledger } = setup([{ ...NIGHT, action: 'skip' }], { zone: 'Europe/Berlin', start: '2026-12-03T21:30:00.000Z' });
    expect(await send()).toEqual({ deliver: false, reason: 'quiet-hours:night', message: {} });
    expect(ledger.prepared).toMatchObject([{ status: 'suppressed', reason: 'quiet-hours:night' }]);
  });

  it('drops a message deferred longer than maxDeferral (counted from its first deferral) as quiet-hours-expired', async () => {
    const rule = { ...NIGHT, maxDeferral: '12h' };
    const { send, ledger } = setup([rule], { zone: 'Europe/Berlin', start: '2026-12-03T21:30:00.000Z' });
    expect(await send()).toMatchObject({ deferUntil: '2026-12-04T07:00:00.000Z' });
    // Checked again 20 hours after the first deferral, in the next night's window: past 12 hours.
    const again = setup([rule], { zone: 'Europe/Berlin', start: '2026-12-04T20:30:00.000Z' });
    const result = await again.send(email(), 'exec-1', { promo: { deferredSince: '2026-12-03T21:30:00.000Z' } });
    expect(result).toEqual({ deliver: false, reason: 'quiet-hours-expired', message: {} });
    expect(again.ledger.prepared).toMatchObject([{ status: 'suppressed', reason: 'quiet-hours-expired' }]);
    // A 1-hour maximum drops a message that would wait 9.5 hours at once.
    const short = setup([{ ...NIGHT, maxDeferral: '1h' }], { zone: 'Europe/Berlin', start: '2026-12-03T21:30:00.000Z' });
    expect(await short.send()).toMatchObject({ reason: 'quiet-hours-expired' });
    expect(ledger.prepared).toEqual([]);
  });

  it('suppresses with frequency-cap:<rule> once the cap is full, and a retried step keeps its own slot', async () => {
    const { send, ledger } = setup([DAILY]);
    expect(await send(email('a'), 'exec-1')).toMatchObject({ deliver: true });
    expect(await send(email('a'), 'exec-1')).toMatchObject({ deliver: true });
    expect(await send(email('b'), 'exec-2')).toEqual({ deliver: false, reason: 'frequency-cap:email-daily', message: {} });
    expect(ledger.prepared.at(-1)).toMatchObject({ status: 'suppressed', reason: 'frequency-cap:email-daily', executionId: 'exec-2' });
  });

  it('lets transactional messages through quiet hours and caps unless a rule names them', async () => {
    const { deps, payload, clock } = setup([NIGHT, DAILY], { zone: 'Europe/Berlin' });
    clock.set('2026-12-03T22:00:00.000Z');
    const tx = (id: string, ex: string) => prepareSend(deps, { ...payload(email(id), ex), messageClass: 'transactional' });
    expect(await tx('a', 'e1')).toMatchObject({ deliver: true });
    expect(await tx('b', 'e2')).toMatchObject({ deliver: true });
  });

  it('gives the slot back when the message is not sent after all (render failure) and on a failed delivery', async () => {
    const { send, deps, payload } = setup([DAILY]);
    const broken: SendNode = { ...email('broken'), template: { subject: 'x', text: '{{ "x" | nope }}' } } as SendNode;
    expect(await send(broken, 'exec-1')).toMatchObject({ reason: 'render-failed' });
    expect(await send(email('a'), 'exec-2')).toMatchObject({ deliver: true });
    // exec-2's delivery fails: its slot comes back, once.
    const failed = { executionId: 'exec-2', profileId: payload(email('a'), 'exec-2').state.profileId, nodeId: 'a' };
    expect(await releaseSend(deps, failed)).toEqual({ released: true });
    expect(await releaseSend(deps, failed)).toEqual({ released: false });
    expect(await send(email('c'), 'exec-3')).toMatchObject({ deliver: true });
  });


  it('a retried step that is suppressed after all keeps the slot its first attempt took (that message went out)', async () => {
    const { send, ledger } = setup([DAILY]);
    expect(await send(email('a'), 'exec-1')).toMatchObject({ deliver: true });
    ledger.mark('exec-1', 'a', 'sent');
    // The same step again (a redrive), now failing to render: its earlier slot is not given back.
    const broken = { ...email('a'), template: { subject: 'x', text: '{{ "x" | nope }}' } } as SendNode;
    expect(await send(broken, 'exec-1')).toMatchObject({ deliver: false });
    expect(await send(email('b'), 'exec-2')).toMatchObject({ reason: 'frequency-cap:email-daily' });
  });
});

describe('merges', () => {
  it('carry the absorbed profile’s cap slots into the survivor (route → carryOverMerge)', async () => {
    const caps = new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true }));
    const claim = { ruleId: 'email-daily', limit: 1, period: { calendar: 'day' as const, key: '2026-12-03' }, keepSeconds: 172800 };
    await caps.reserve('absorbed', { holder: 'e1#a', at: new Date('2026-12-03T10:00:00Z'), claims: [claim] });
    const carried = await carryOverMerge({ enrollments: new MemoryEnrollmentStore(), sendCaps: caps }, [], 'survivor', ['absorbed']);
    expect(carried.caps).toBe(1);
    expect(await caps.reserve('survivor', { holder: 'e2#a', at: new Date('2026-12-03T11:00:00Z'), claims: [claim] })).toEqual({ ok: false, ruleId: 'email-daily' });
  });
});
