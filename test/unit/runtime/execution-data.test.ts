import { compileJourney } from '../../../lambdas/core/journey/compile';
import { runDataBudget, validateJourney } from '../../../lambdas/core/journey/validate';
import { journeyFiles, mustValidate, PLAYBOOKS, readJson } from '../journey/fixtures';
import {
  jsonBytes,
  projectProfile,
  resumedEvent,
  RUN_DATA_LIMITS,
  runEvent,
} from '../../../lambdas/core/runtime/execution-data';
import { routeBusEvent } from '../../../lambdas/core/runtime/route';
import { prepareSend } from '../../../lambdas/core/runtime/send';
import type { SendNode } from '../../../lambdas/core/journey/schema';
import { businessEvent, FakeClock, journeyRecord, MemoryLedger, MemoryProfileStore, runtime } from './fakes';

const big = (bytes: number) => 'x'.repeat(bytes);

describe('run data: ids over copies, every part bounded', () => {
  it('carries the entry event without identities, attributes or consent', () => {
    const event = businessEvent({ attributes: { firstName: 'Ada' }, consent: { email: 'opted-in' }, properties: { cartId: 'c-1' } });
    expect(runEvent(event)).toEqual({ id: 'evt-1', type: 'user.signed_up', source: 'shop', time: event.time, properties: { cartId: 'c-1' } });
  });

  it('resumes a wait with a small event as it is, and a large one with its scalar properties only, marked truncated', () => {
    const small = businessEvent({ properties: { productId: 'sku-1', price: 9.99 } });
    expect(resumedEvent(small)).toEqual(runEvent(small));
    const large = businessEvent({ properties: { productId: 'sku-1', description: big(50_000), tags: ['a', 'b'], price: 9.99 } });
    const resumed = resumedEvent(large);
    expect(resumed).toEqual({ ...(runEvent(large) as object), properties: { price: 9.99, productId: 'sku-1' }, truncated: true });
    expect(jsonBytes(resumed)).toBeLessThanOrEqual(RUN_DATA_LIMITS.maxResumedEventBytes);
  });

  it('projects a reloaded profile to the paths a condition reads, leaving out values over the budget', () => {
    const profile = {
      id: 'p-1',
      attributes: { tier: 'gold', firstName: 'Ada', notes: big(10_000), constructor: 'own' },
      identities: { email: 'ada@example.com' },
      segments: { gold: '2026-01-01T00:00:00.000Z', silver: '2026-01-01T00:00:00.000Z' },
    };
    const projected = projectProfile(profile, ['profile.attributes.tier', 'profile.attributes.notes', 'profile.segments.gold', 'profile.attributes.constructor', 'profile.attributes.toString']);
    expect(projected).toEqual({ id: 'p-1', attributes: { tier: 'gold', constructor: 'own' }, identities: {}, segments: { gold: '2026-01-01T00:00:00.000Z' } });
  });

  it('does not start a journey whose start input passes its budget, and still enters the other journeys of the event', async () => {
    const deps = runtime([journeyRecord({ id: 'small' }), journeyRecord({ id: 'other' })], new FakeClock('2026-06-01T12:00:00.000Z'));
    const detail = { identities: { email: 'ada@example.com' }, properties: { blob: big(RUN_DATA_LIMITS.maxInputBytes) } };
    const result = await routeBusEvent(deps, { id: 'eb-1', 'detail-type': 'user.signed_up', source: 'shop', time: '2026-06-01T11:59:00Z', detail });
    expect(result.status).toBe('routed');
    const entries = result.status === 'routed' ? result.entries : [];
    expect(entries.map((e) => [e.journeyId, e.status, e.status === 'skipped' ? e.reason : undefined])).toEqual([
      ['small', 'skipped', 'input-too-large'],
      ['other', 'skipped', 'input-too-large'],
    ]);
    expect(deps.executions.executions.size).toBe(0);
    // Nothing written that would block a later, smaller entry.
    expect(await deps.enrollments.get('small', result.status === 'routed' ? result.profileId : '')).toBeUndefined();
    const smallEvent = { id: 'eb-2', 'detail-type': 'user.signed_up', source: 'shop', time: '2026-06-01T11:59:30Z', detail: { identities: { email: 'ada@example.com' } } };
    const second = await routeBusEvent(deps, smallEvent);
    expect(second.status === 'routed' && second.entries.map((e) => e.status)).toEqual(['started', 'started']);
  });

  it('does not send a rendered message larger than the run can carry, and records why', async () => {
    const clock = new FakeClock('2026-06-01T09:30:00.000Z');
    const profiles = new MemoryProfileStore(clock);
    const ledger = new MemoryLedger();
    profiles.add({ id: 'p-1', attributes: { bio: big(4000) }, identities: { email: 'ada@example.com' } });
    const node: SendNode = { id: 'mail', kind: 'send', channel: 'email', template: { subject: 'Hi', text: '{% for i in (1..15) %}{{ profile.attributes.bio }}{% endfor %}', html: '<p>{% for i in (1..15) %}{{ profile.attributes.bio }}{% endfor %}</p>' }, next: 'done' };
    const state = { journey: { id: 'j', version: 'v1' }, profileId: 'p-1', profile: { id: 'p-1', attributes: {}, identities: {} }, event: {}, context: {}, steps: {} };
    const result = await prepareSend({ profiles, ledger, clock }, { executionId: 'exec-1', node, messageClass: 'transactional', state });
    expect(result).toEqual({ deliver: false, reason: 'message-too-large', message: {} });
    expect(await ledger.get('exec-1', 'mail')).toMatchObject({ status: 'suppressed', reason: 'message-too-large' });
  });

  it('shrinks a send step to its outcome once delivered, so rendered messages do not pile up in the run', () => {
    const result = validateJourney({
      schemaVersion: 1,
      id: 'one-mail',
      name: 'One mail',
      entry: { kind: 'api' },
      start: 'mail',
      nodes: [
        { id: 'mail', kind: 'send', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, next: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    });
    if (!result.ok) throw new Error('invalid');
    const states = compileJourney(result.journey).States;
    for (const name of ['mail.record', 'mail.failed', 'mail.unknown']) expect(states[name]).toMatchObject({ ResultPath: '$.steps.mail', ResultSelector: { deliver: true } });
  });

  it('refuses a journey whose runs could hold more than 256 KB, naming the budget', () => {
    const waits = Array.from({ length: 30 }, (_, i) => ({
      id: `w${i}`,
      kind: 'wait-for-event',
      events: ['app.opened'],
      timeout: '1d',
      onEvent: i === 29 ? 'done' : `w${i + 1}`,
      onTimeout: 'done',
    }));
    const result = validateJourney({ schemaVersion: 1, id: 'many-waits', name: 'Many waits', entry: { kind: 'api' }, start: 'w0', nodes: [...waits, { id: 'done', kind: 'exit' }] });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.violations).toEqual([expect.objectContaining({ path: 'nodes', message: expect.stringContaining("over Step Functions' 256 KB") })]);
  });

  it('refuses a condition or correlation on the entry event\'s identities, which runs no longer carry', () => {
    const result = validateJourney({
      schemaVersion: 1,
      id: 'reads-identity',
      name: 'Reads identity',
      entry: { kind: 'event', event: 'order.placed' },
      start: 'check',
      nodes: [
        { id: 'check', kind: 'condition', branches: [{ when: { path: 'event.identities.email', op: 'exists' }, next: 'done' }], default: 'done' },
        { id: 'done', kind: 'exit' },
      ],
    });
    expect(!result.ok && result.violations).toEqual([
      expect.objectContaining({ nodeId: 'check', path: 'nodes[0].branches[0].when', message: expect.stringContaining('read profile.* instead') }),
    ]);
  });

  it('fits every shipped playbook in the budget', () => {
    for (const journey of journeyFiles(PLAYBOOKS).map((f) => mustValidate(readJson(f)))) expect([journey.id, runDataBudget(journey) <= RUN_DATA_LIMITS.maxStateBytes]).toEqual([journey.id, true]);
  });
});
