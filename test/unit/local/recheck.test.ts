import { recheckDecision, type RecheckPolicy } from '../../../lambdas/local/recheck';

const policy: RecheckPolicy = { intervalMs: 1000, maxBusyShare: 0.1 };

describe('recheckDecision: when a scheduled segment re-check starts', () => {
  it.each([
    { when: 'no re-check has run yet', last: undefined, now: 0, expected: { start: true } },
    { when: 'the last one is still running, long past its interval', last: { startedAt: 0 }, now: 60_000, expected: { start: false, reason: 'running' } },
    { when: 'the interval has not passed since the last start', last: { startedAt: 0, stoppedAt: 10 }, now: 999, expected: { start: false, reason: 'not-due' } },
    { when: 'a short run ended and the interval has passed', last: { startedAt: 0, stoppedAt: 10 }, now: 1000, expected: { start: true } },
    { when: 'a 7 s run ended 1 s ago (re-checks would take most of the time)', last: { startedAt: 0, stoppedAt: 7000 }, now: 8000, expected: { start: false, reason: 'busy-share' } },
    { when: 'a 7 s run ended 63 s ago (nine times its length)', last: { startedAt: 0, stoppedAt: 7000 }, now: 70_000, expected: { start: true } },
  ])('$when → $expected', ({ last, now, expected }) => {
    expect(recheckDecision(last, now, policy)).toEqual(expected);
  });

  it('keeps scheduled re-checks under the busy share whatever their length', () => {
    for (const busy of [1, 500, 7000, 120_000]) {
      let last = { startedAt: 0, stoppedAt: busy };
      let started = 1;
      let now = busy;
      // Ticks every 100 ms for 10 minutes of real time; every run takes `busy` ms.
      for (; now < 600_000; now += 100) {
        if (recheckDecision(last, now, policy).start) {
          last = { startedAt: now, stoppedAt: now + busy };
          started++;
        }
      }
      expect(started * busy).toBeLessThanOrEqual(600_000 * policy.maxBusyShare + busy);
    }
  });
});
