import { fromItem, toItem } from '../../../lambdas/adapters/dynamodb-profiles';
import { parseApiEvent, type BusinessEvent } from '../../../lambdas/core/events/business-event';
import { applyEvent, emptyProfile, foldInto, identityViews } from '../../../lambdas/core/profiles/merge-policy';
import { MemoryProfileStorage } from '../../../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy } from '../../../lambdas/core/profiles/model';
import { GraphProfileStore } from '../../../lambdas/core/profiles/store';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const clock = { now: () => NOW };
const policy = defaultProfilePolicy;

/** Every member of Object.prototype and Object, as they were before any test ran. */
const objectPrototype = Object.getOwnPropertyNames(Object.prototype).map((name) => [name, Object.getOwnPropertyDescriptor(Object.prototype, name)]);
const objectStatics = Object.getOwnPropertyNames(Object).map((name) => [name, Object.getOwnPropertyDescriptor(Object, name)]);

afterEach(() => {
  expect(Object.getOwnPropertyNames(Object.prototype).map((name) => [name, Object.getOwnPropertyDescriptor(Object.prototype, name)])).toEqual(objectPrototype);
  expect(Object.getOwnPropertyNames(Object).map((name) => [name, Object.getOwnPropertyDescriptor(Object, name)])).toEqual(objectStatics);
});

const event = (id: string, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'member.signed-up',
  source: 'shop',
  time: '2026-01-01T10:00:00.000Z',
  identities: { email: 'ann@example.com' },
  properties: {},
  ...over,
});

const storeOver = (storage: MemoryProfileStorage) => new GraphProfileStore({ storage, clock, policy });

describe('keys named like Object.prototype members', () => {
  it('reads a stored identity namespace `constructor` without replacing Object.keys', () => {
    const { state } = applyEvent(emptyProfile('p-1', '2026-01-01T10:00:00.000Z'), event('e1', { identities: { constructor: 'keys' } }), NOW, policy);
    const read = fromItem(toItem(state));
    expect(typeof Object.keys).toBe('function');
    // First linked at receipt (NOW), not the event's own time.
    expect(Object.entries(read.identities)).toEqual([['constructor', { keys: NOW.toISOString() }]]);
    expect(identityViews(read.identities).primary.constructor).toBe('keys');
  });

  it('keeps a profile with an event type `constructor` and a numeric property readable', () => {
    const { state } = applyEvent(emptyProfile('p-1', '2026-01-01T10:00:00.000Z'), event('e1', { type: 'constructor', properties: { total: 3 } }), NOW, policy);
    const read = fromItem(toItem(state));
    expect(Object.entries(read.computed)).toEqual([['constructor', { count: 1, firstSeen: '2026-01-01T10:00:00.000Z', lastSeen: '2026-01-01T10:00:00.000Z', sums: { total: 3 } }]]);
  });

  it('counts events of types named like prototype members on their own', () => {
    let { state } = applyEvent(emptyProfile('p-1', '2026-01-01T10:00:00.000Z'), event('e1', { type: 'toString', properties: { valueOf: 2 } }), NOW, policy);
    state = applyEvent(state, event('e2', { type: 'toString', properties: { valueOf: 5 } }), NOW, policy).state;
    expect(state.computed.toString).toMatchObject({ count: 2, sums: { valueOf: 7 } });
    expect(Object.keys(state.computed)).toEqual(['toString']);
  });

  it('stores attributes named constructor, toString, hasOwnProperty and __proto__ and reads them back', () => {
    const attributes = JSON.parse('{"constructor":"c","toString":"t","hasOwnProperty":1,"__proto__":"p","valueOf":true}');
    const { state } = applyEvent(emptyProfile('p-1', '2026-01-01T10:00:00.000Z'), event('e1', { attributes }), NOW, policy);
    const read = fromItem(toItem(state));
    expect(JSON.parse(JSON.stringify(read.attributes))).toEqual(attributes);
    expect(Object.keys(read.attributes).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf']);
    expect(Object.keys(read.attributeTimes).sort()).toEqual(Object.keys(read.attributes).sort());
  });

  it('folds profiles whose maps have prototype-named keys', () => {
    const a = applyEvent(emptyProfile('p-a', '2026-01-01T10:00:00.000Z'), event('e1', { identities: { constructor: 'x' }, attributes: { toString: 'a' } }), NOW, policy).state;
    const b = applyEvent(emptyProfile('p-b', '2026-01-02T10:00:00.000Z'), event('e2', { identities: { constructor: 'y' }, type: 'valueOf', consent: { email: 'opted-in' } }), NOW, policy).state;
    const folded = foldInto(a, b, policy);
    expect(Object.keys(folded.identities.constructor).sort()).toEqual(['x', 'y']);
    expect(Object.keys(folded.computed).sort()).toEqual(['member.signed-up', 'valueOf']);
  });

  it('keeps an attribute or property named __proto__ through event validation (JSON makes it an own key)', () => {
    const body = JSON.parse('{"type":"member.signed-up","identities":{"constructor":"keys"},"attributes":{"__proto__":"x","toString":"y"},"properties":{"__proto__":{"a":1},"constructor":2}}');
    const parsed = parseApiEvent(body, { id: 'e1', time: '2026-01-01T10:00:00.000Z', source: 'api' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.keys(parsed.value.attributes!).sort()).toEqual(['__proto__', 'toString']);
    expect(Object.hasOwn(parsed.value.properties, '__proto__')).toBe(true);
    expect(Object.keys(parsed.value.identities)).toEqual(['constructor']);
  });

  it('names the field when a key inside an event record is invalid', () => {
    const parsed = parseApiEvent({ type: 'a', identities: { email: 'a@example.com' }, attributes: { 'bad name': 1 } }, { id: 'e1', time: '2026-01-01T10:00:00.000Z', source: 'api' });
    expect(parsed).toMatchObject({ ok: false, errors: [{ field: 'attributes.bad name', message: expect.stringContaining('attribute names') }] });
  });

  it('erases an identity whose namespace is `constructor`, and the profile with an event type `constructor`', async () => {
    const storage = new MemoryProfileStorage(clock.now);
    const store = storeOver(storage);
    const { profile } = await store.ingest(event('e1', { type: 'constructor', identities: { constructor: 'keys', email: 'ann@example.com' }, properties: { total: 1 } }));
    expect(await store.get(profile.id)).toMatchObject({ identities: { constructor: 'keys', email: 'ann@example.com' } });
    expect(await store.erase(profile.id)).toMatchObject({ profileIds: [profile.id] });
    expect([...storage.identities.keys()]).toEqual([]);
    expect([...storage.profiles.keys()]).toEqual([]);
  });
});
