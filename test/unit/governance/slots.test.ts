import fc from 'fast-check';
import type { CapClaim } from '../../../lambdas/core/governance/evaluate';
import { MAX_SLOTS, readSlots, releaseSlot, reserveSlot, type Slot } from '../../../lambdas/core/governance/slots';

const day = (key: string, limit = 2): CapClaim => ({ ruleId: 'daily', limit, period: { calendar: 'day', key }, keepSeconds: 172800 });
const rolling = (seconds: number, limit = 2): CapClaim => ({ ruleId: 'rolling', limit, period: { rolling: seconds }, keepSeconds: seconds });
const T0 = new Date('2026-12-03T10:00:00Z');
const after = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function take(slots: Slot[], holder: string, at: Date, claims: CapClaim[]): Slot[] | string {
  const outcome = reserveSlot(slots, { holder, at, claims });
  return outcome.ok ? outcome.slots : outcome.ruleId;
}

describe('reserveSlot', () => {
  it('takes slots up to the limit of the period, then refuses naming the rule', () => {
    let slots: Slot[] = [];
    slots = take(slots, 'a#n', T0, [day('2026-12-03')]) as Slot[];
    slots = take(slots, 'b#n', after(1), [day('2026-12-03')]) as Slot[];
    expect(take(slots, 'c#n', after(2), [day('2026-12-03')])).toBe('daily');
    // The next local day is a new period.
    expect(take(slots, 'c#n', after(86400), [day('2026-12-04')])).toHaveLength(3);
  });

  it('a rolling period frees a slot exactly when its oldest send is the period old', () => {
    let slots = take([], 'a#n', T0, [rolling(3600, 1)]) as Slot[];
    expect(take(slots, 'b#n', after(3599), [rolling(3600, 1)])).toBe('rolling');
    slots = take(slots, 'b#n', after(3600), [rolling(3600, 1)]) as Slot[];
    expect(slots.map((s) => s.h)).toEqual(['b#n']);
  });

  it('a holder that already has its slot gets it again without a second one (a retried step)', () => {
    const slots = take([], 'a#n', T0, [day('2026-12-03', 1)]) as Slot[];
    const again = reserveSlot(slots, { holder: 'a#n', at: after(5), claims: [day('2026-12-03', 1)] });
    expect(again).toEqual({ ok: true, slots, changed: false, taken: false });
  });

  it('takes a slot of every claim or of none', () => {
    const slots = take([], 'a#n', T0, [rolling(86400, 5)]) as Slot[];
    const full = take(slots, 'b#n', after(1), [rolling(86400, 5), { ...day('2026-12-03', 1), ruleId: 'other' }]);
    expect(full).toEqual(expect.any(Array));
    expect(take(full as Slot[], 'c#n', after(2), [rolling(86400, 5), { ...day('2026-12-03', 1), ruleId: 'other' }])).toBe('other');
  });

  it('keeps slots free for higher-priority runs that have not sent in the period yet', () => {
    const claim = (higherRuns: string[]) => ({ ...day('2026-12-03', 2), higherRuns });
    let slots = take([], 'low-1#n', T0, [claim(['high'])]) as Slot[];
    // One slot left, held back for `high`: a lower-priority message may not take it.
    expect(take(slots, 'low-2#n', after(1), [claim(['high'])])).toBe('daily');
    slots = take(slots, 'high#send', after(2), [claim([])]) as Slot[];
    expect(slots).toHaveLength(2);
    // Once `high` has its slot it holds nothing back: with room, the lower one goes.
    expect(take(take([], 'high#send', T0, [day('2026-12-03', 3)]) as Slot[], 'low#n', after(1), [{ ...day('2026-12-03', 3), higherRuns: ['high'] }])).toHaveLength(2);
  });

  it('drops slots every rule is done with, and keeps at most MAX_SLOTS', () => {
    const old: Slot[] = [{ h: 'old#n', t: 0, x: T0.getTime(), r: { daily: '1970-01-01' } }];
    expect((take(old, 'a#n', T0, [day('2026-12-03')]) as Slot[]).map((s) => s.h)).toEqual(['a#n']);
    const many: Slot[] = Array.from({ length: MAX_SLOTS }, (_, i) => ({ h: `h${i}#n`, t: i, x: after(3600).getTime(), r: { x: '' } }));
    const kept = take(many, 'new#n', T0, [rolling(60, 5)]) as Slot[];
    expect(kept).toHaveLength(MAX_SLOTS);
    expect(kept.at(-1)!.h).toBe('new#n');
  });
});

describe('releaseSlot and readSlots', () => {
  it('gives the holder’s slot back once', () => {
    const slots = take([], 'a#n', T0, [day('2026-12-03', 1)]) as Slot[];
    const first = releaseSlot(slots, 'a#n', after(1));
    expect(first).toEqual({ slots: [], released: true });
    expect(releaseSlot(first.slots, 'a#n', after(2)).released).toBe(false);
  });

  it('reads only well-formed slots, rule ids as own keys', () => {
    const slots = readSlots([{ h: 'a', t: 1, x: 2, r: { constructor: 'k', bad: 3 } }, { h: 1 }, null, 'x']);
    expect(slots).toHaveLength(1);
    expect(Object.keys(slots[0].r)).toEqual(['constructor']);
    expect(readSlots(undefined)).toEqual([]);
    expect(take(slots, 'b#n', new Date(1), [{ ruleId: 'toString', limit: 1, period: { rolling: 60 }, keepSeconds: 60 }])).toEqual(expect.any(Array));
  });
});

describe('reserveSlot (property)', () => {
  it('never lets more than the limit count in any rolling window, and refuses only when the window is full', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 7200 }),
        fc.array(fc.integer({ min: 0, max: 3600 }), { minLength: 1, maxLength: 40 }),
        (limit, seconds, gaps) => {
          const claim = rolling(seconds, limit);
          let slots: Slot[] = [];
          let now = T0.getTime();
          const accepted: number[] = [];
          gaps.forEach((gap, i) => {
            now += gap * 1000;
            const outcome = reserveSlot(slots, { holder: `e${i}#n`, at: new Date(now), claims: [claim] });
            const inWindow = accepted.filter((t) => t > now - seconds * 1000).length;
            expect(outcome.ok).toBe(inWindow < limit);
            if (outcome.ok) {
              slots = outcome.slots;
              accepted.push(now);
            }
          });
          for (const t of accepted) expect(accepted.filter((u) => u <= t && u > t - seconds * 1000).length).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});
