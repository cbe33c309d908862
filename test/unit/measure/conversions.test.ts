import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import type { Journey } from '../../../lambdas/core/journey/schema';
import { COUNTER } from '../../../lambdas/core/measure/counters';
import { CONVERSION_LIMITS, goalValue, measureEntry, recordConversions, type GoalWindow } from '../../../lambdas/core/measure/conversions';
import type { JourneyRecord } from '../../../lambdas/core/runtime/ports';
import { MemoryConversionStore } from '../../../lambdas/local/memory/conversions';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { recordingJourneyCounters } from '../../../lambdas/local/memory-ports';

const journey = {
  id: 'quotes',
  goal: { event: 'order.placed', within: '7d', value: 'properties.total' },
  settings: { timeout: '8d', messageClass: 'marketing' },
} as unknown as Journey;
const records = [{ journey, stateMachineArn: 'arn', version: 'v1' }] as JourneyRecord[];
const order = (id: string, time: string, total: unknown = 80): BusinessEvent =>
  ({ id, type: 'order.placed', source: 'shop', time, identities: { email: 'a@x' }, properties: { total } }) as BusinessEvent;

function setup() {
  const table = new MemoryTable('runtime', { profileIndex: true });
  const conversions = new MemoryConversionStore(table);
  const counters = recordingJourneyCounters();
  const enter = (profileId: string, at: string, assignment = { holdout: false, variants: {}, byNode: {} as Record<string, string> }) =>
    measureEntry({ conversions, counters }, journey, { profileId, executionId: `exec-${profileId}-${at}`, at: new Date(at), assignment });
  const convert = (event: BusinessEvent, profileIds = ['p-1']) => recordConversions({ conversions, counters }, records, event, profileIds);
  const total = async (name: string, dims: object = {}) =>
    (await counters.read('quotes', '2000-01-01', '2100-01-01')).filter((t) => t.name === name && JSON.stringify(t.dims) === JSON.stringify(dims)).reduce((s, t) => s + t.value, 0);
  return { table, conversions, counters, enter, convert, total };
}

describe('goal conversions', () => {
  it('converts an entry once: a repeated event and a second order in the window count nothing more', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z');
    expect(await t.convert(order('o-1', '2026-12-02T00:00:00.000Z'))).toHaveLength(1);
    expect(await t.convert(order('o-1', '2026-12-02T00:00:00.000Z'))).toEqual([]);
    expect(await t.convert(order('o-2', '2026-12-03T00:00:00.000Z', 30))).toEqual([]);
    expect([await t.total(COUNTER.converted), await t.total(COUNTER.revenue), await t.total(COUNTER.secondsToConvert)]).toEqual([1, 80, 86400]);
  });

  it('counts nothing before the entry or after the window, and counts its last second', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z');
    expect(await t.convert(order('early', '2026-11-30T23:59:59.000Z'))).toEqual([]);
    expect(await t.convert(order('late', '2026-12-08T00:00:01.000Z'))).toEqual([]);
    expect(await t.convert(order('last', '2026-12-08T00:00:00.000Z'))).toHaveLength(1);
  });

  it('converts every open entry of the profile and of profiles merged into it, each in its entry-day cohort', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z');
    await t.enter('p-1', '2026-12-03T00:00:00.000Z');
    await t.enter('p-old', '2026-12-02T00:00:00.000Z');
    await t.convert(order('o', '2026-12-04T00:00:00.000Z'), ['p-1', 'p-old']);
    expect(t.counters.increments.filter((i) => i.name === COUNTER.converted).map((i) => i.day).sort()).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
  });

  it("converts only on goal events that satisfy the goal's condition", async () => {
    const t = setup();
    const online = { ...journey.goal!, condition: { path: 'event.properties.channel', op: 'eq' as const, value: 'online' } };
    await t.conversions.open({ journeyId: 'quotes', profileId: 'p-1', executionId: 'e-1', goal: online, enteredAt: '2026-12-01T00:00:00.000Z', until: '2026-12-08T00:00:00.000Z', holdout: false, variants: {} });
    const inStore = { ...order('store', '2026-12-02T00:00:00.000Z'), properties: { total: 5, channel: 'store' } };
    const web = { ...order('web', '2026-12-03T00:00:00.000Z'), properties: { total: 9, channel: 'online' } };
    expect(await t.convert(inStore as BusinessEvent)).toEqual([]);
    expect(await t.convert(web as BusinessEvent)).toHaveLength(1);
    expect(await t.total(COUNTER.revenue)).toBe(9);
  });

  it('counts a conversion without revenue when the value is not a number', () => {
    const goal = journey.goal!;
    expect([goalValue(goal, { properties: { total: '80' } }), goalValue(goal, { properties: { total: -5 } }), goalValue(goal, { properties: {} })]).toEqual([undefined, undefined, undefined]);
    expect(goalValue(goal, { properties: { total: 12.5 } })).toBe(12.5);
    // A property named like an Object.prototype member is data: absent means no revenue.
    expect(goalValue({ ...goal, value: 'properties.constructor' }, { properties: Object.create(null) })).toBeUndefined();
  });

  it('counts holdout entries under variant holdout, and treated ones per split variant too', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z', { holdout: true, variants: { s: 'a' }, byNode: { s: 'a' } });
    await t.enter('p-2', '2026-12-01T00:00:00.000Z', { holdout: false, variants: { s: 'b' }, byNode: { s: 'b' } });
    await t.convert(order('o-1', '2026-12-02T00:00:00.000Z', 10), ['p-1']);
    await t.convert(order('o-2', '2026-12-02T00:00:00.000Z', 20), ['p-2']);
    expect(await t.total(COUNTER.entered, { variant: 'holdout' })).toBe(1);
    expect(await t.total(COUNTER.entered)).toBe(1);
    expect(await t.total(COUNTER.assigned, { node: 's', variant: 'b' })).toBe(1);
    expect(await t.total(COUNTER.assigned, { node: 's', variant: 'a' })).toBe(0);
    expect(await t.total(COUNTER.revenue, { variant: 'holdout' })).toBe(10);
    expect(await t.total(COUNTER.revenue)).toBe(20);
    expect(await t.total(COUNTER.revenue, { node: 's', variant: 'b' })).toBe(20);
  });

  it('counts a conversion after a click only when the click came first', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z');
    const [window] = (await t.conversions.openAt('p-1', 'order.placed', '2026-12-01T00:00:00.000Z', 10)) as GoalWindow[];
    t.table.put({ pk: `LEDGER#${window.executionId}`, sk: 'reminder', clickedAt: '2026-12-02T10:00:00.000Z' });
    await t.convert(order('o-1', '2026-12-02T09:00:00.000Z'));
    expect(await t.total(COUNTER.convertedAfterClick)).toBe(0);
    await t.enter('p-1', '2026-12-01T00:00:00.001Z');
    const [newest] = await t.conversions.openAt('p-1', 'order.placed', '2026-12-03T00:00:00.000Z', 10);
    t.table.put({ pk: `LEDGER#${newest.executionId}`, sk: 'reminder', clickedAt: '2026-12-02T10:00:00.000Z' });
    await t.convert(order('o-2', '2026-12-03T00:00:00.000Z'));
    expect(await t.total(COUNTER.convertedAfterClick)).toBe(1);
  });

  it('looks at a bounded number of a profile\'s newest entries', async () => {
    const t = setup();
    for (let i = 0; i < CONVERSION_LIMITS.entriesPerProfile + 5; i++) await t.enter('p-1', new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString());
    const converted = await t.convert(order('o', '2026-12-02T00:00:00.000Z'));
    expect(converted).toHaveLength(CONVERSION_LIMITS.entriesPerProfile);
  });

  it('does nothing for an event no journey has as its goal', async () => {
    const t = setup();
    await t.enter('p-1', '2026-12-01T00:00:00.000Z');
    expect(await t.convert({ ...order('o', '2026-12-02T00:00:00.000Z'), type: 'order.cancelled' })).toEqual([]);
  });
});
