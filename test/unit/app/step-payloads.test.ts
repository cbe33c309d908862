import { ConditionNode, DecideNode, SendNode, WaitForEventNode, WaitNode } from '../../../lambdas/core/journey/schema';
import {
  decidePayload,
  loadProfilePayload,
  prepareSendPayload,
  registerWaitPayload,
  releaseSendPayload,
  resolveWaitPayload,
  StepPayloadError,
} from '../../../lambdas/app/step-payloads';

const state = () => ({
  journey: { id: 'welcome', version: 'v1' },
  profileId: 'p-1',
  profile: { id: 'p-1', attributes: { tier: 'gold' }, identities: { email: 'ada@example.com' }, segments: { vip: '2026-01-01' }, extra: 1 },
  event: { type: 'signed.up' },
  context: {},
  steps: {},
});
// Nodes as the compiler puts them in payloads: each one valid for the journey schema too.
const nodes = {
  send: SendNode.parse({ id: 'hello', kind: 'send', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, next: 'end' }),
  wait: WaitNode.parse({ id: 'until-renewal', kind: 'wait', until: 'profile.attributes.renewsAt', offset: '-1d', next: 'end' }),
  waitForEvent: WaitForEventNode.parse({ id: 'await-order', kind: 'wait-for-event', events: ['order.placed'], timeout: '1d', onEvent: 'a', onTimeout: 'b' }),
  condition: ConditionNode.parse({
    id: 'is-gold',
    kind: 'condition',
    branches: [{ when: { all: [{ path: 'profile.attributes.tier', op: 'eq', value: 'gold' }, { not: { segment: 'vip' } }] }, next: 'a' }],
    default: 'b',
  }),
  decide: DecideNode.parse({ id: 'pick-offer', kind: 'decide', placement: 'home-hero', context: { total: 'event.properties.total' }, next: 'a' }),
};
const of = (node: unknown, extra: Record<string, unknown> = {}) => ({ executionId: 'arn:exec', state: state(), node, ...extra });

describe('journey step payloads (checked by hand)', () => {
  it('accepts what the compiler sends each step, records null-prototype, the profile reduced to what steps read', () => {
    const send = prepareSendPayload(of(nodes.send, { messageClass: 'marketing', settings: { priority: 60, tags: ['promo'] } }));
    expect(send.node).toEqual(nodes.send);
    expect(Object.getPrototypeOf(send.state.profile.attributes)).toBeNull();
    expect(send.state.profile).toEqual({ id: 'p-1', attributes: { tier: 'gold' }, identities: { email: 'ada@example.com' }, segments: { vip: '2026-01-01' } });
    expect(resolveWaitPayload(of(nodes.wait)).node).toEqual(nodes.wait);
    expect(registerWaitPayload(of(nodes.waitForEvent, { token: 'task-token' })).token).toBe('task-token');
    expect(loadProfilePayload(of(nodes.condition)).node).toEqual(nodes.condition);
    expect(decidePayload(of({ ...nodes.decide, count: undefined })).node.count).toBe(1);
    expect(releaseSendPayload({ release: true, executionId: 'arn:exec', profileId: 'p-1', nodeId: 'hello' })).toEqual({
      release: true,
      executionId: 'arn:exec',
      profileId: 'p-1',
      nodeId: 'hello',
    });
  });

  it('keeps a __proto__ attribute as data', () => {
    const payload = of(nodes.wait);
    payload.state.profile.attributes = JSON.parse('{"__proto__": "x"}');
    expect(Object.keys(resolveWaitPayload(payload).state.profile.attributes)).toEqual(['__proto__']);
  });

  it.each([
    ['no execution id', () => resolveWaitPayload({ ...of(nodes.wait), executionId: undefined }), 'executionId'],
    ['a state that is not an object', () => resolveWaitPayload({ ...of(nodes.wait), state: 'x' }), 'state: expected an object'],
    ['no journey version', () => resolveWaitPayload({ ...of(nodes.wait), state: { ...state(), journey: { id: 'w' } } }), 'state.journey.version'],
    ['a numeric identity', () => resolveWaitPayload({ ...of(nodes.wait), state: { ...state(), profile: { ...state().profile, identities: { crmId: 42 } } } }), 'state.profile.identities.crmId'],
    ['steps that are a list', () => resolveWaitPayload({ ...of(nodes.wait), state: { ...state(), steps: [] } }), 'state.steps'],
    ['a node of another kind', () => resolveWaitPayload(of(nodes.send)), 'node.kind'],
    ['a wait without until', () => resolveWaitPayload(of({ ...nodes.wait, until: undefined })), 'node.until'],
    ['an unknown channel', () => prepareSendPayload(of({ ...nodes.send, channel: 'fax' }, { messageClass: 'marketing' })), 'node.channel'],
    ['an email without text', () => prepareSendPayload(of({ ...nodes.send, template: { subject: 'Hi' } }, { messageClass: 'marketing' })), 'node.template.text'],
    ['no message class', () => prepareSendPayload(of(nodes.send)), 'messageClass'],
    ['a priority of 0', () => prepareSendPayload(of(nodes.send, { messageClass: 'marketing', settings: { priority: 0 } })), 'settings.priority'],
    ['no task token', () => registerWaitPayload(of(nodes.waitForEvent)), 'token'],
    ['no awaited events', () => registerWaitPayload(of({ ...nodes.waitForEvent, events: [] }, { token: 't' })), 'node.events'],
    ['a condition without a path', () => loadProfilePayload(of({ ...nodes.condition, branches: [{ when: { op: 'exists' }, next: 'a' }] })), 'node.branches.0.when.path'],
    ['a nested condition that is not an object', () => loadProfilePayload(of({ ...nodes.condition, branches: [{ when: { any: [1] }, next: 'a' }] })), 'node.branches.0.when.any.0'],
    ['a count of 6', () => decidePayload(of({ ...nodes.decide, count: 6 })), 'node.count'],
    ['a context path that is not a string', () => decidePayload(of({ ...nodes.decide, context: { total: 1 } })), 'node.context.total'],
    ['a release without a node id', () => releaseSendPayload({ release: true, executionId: 'e', profileId: 'p' }), 'nodeId'],
  ])('refuses %s with a StepPayloadError naming the field', (_case, read, field) => {
    expect(read).toThrow(StepPayloadError);
    expect(read).toThrow(`invalid step payload: ${field}`);
  });
});
