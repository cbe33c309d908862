import fc from 'fast-check';
import { VirtualClock } from '../../../lambdas/local/virtual-clock';
import { VIRTUAL_WAIT_RESOURCE, virtualDefinition } from '../../../lambdas/local/executions';

describe('VirtualClock', () => {
  it('stands still until told, then fires timers in time order (equal times in scheduling order)', async () => {
    const clock = new VirtualClock('2026-12-01T00:00:00Z');
    const fired: string[] = [];
    clock.schedule(Date.parse('2026-12-01T02:00:00Z'), () => fired.push(`b@${clock.now().toISOString()}`));
    clock.schedule(Date.parse('2026-12-01T01:00:00Z'), () => fired.push(`a@${clock.now().toISOString()}`));
    clock.schedule(Date.parse('2026-12-01T02:00:00Z'), () => fired.push('c'));
    await clock.settle();
    expect(fired).toEqual([]);
    expect(clock.now().toISOString()).toBe('2026-12-01T00:00:00.000Z');
    await clock.advance('1h');
    expect(fired).toEqual(['a@2026-12-01T01:00:00.000Z']);
    await clock.advanceTo('2026-12-01T05:00:00Z');
    expect(fired).toEqual(['a@2026-12-01T01:00:00.000Z', 'b@2026-12-01T02:00:00.000Z', 'c']);
    expect(clock.now().toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });

  it('lets the system settle before each timer, so work a timer starts is done before the next fires', async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    let work: Promise<void> = Promise.resolve();
    clock.onQuiesce(() => work);
    clock.schedule(10, () => {
      work = new Promise((resolve) => setImmediate(() => setImmediate(() => (log.push('work of 10 done'), resolve()))));
    });
    clock.schedule(20, () => log.push('timer 20'));
    await clock.advance(30);
    expect(log).toEqual(['work of 10 done', 'timer 20']);
  });

  it('runs until only background timers are left, and background timers fire when time passes them', async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    const hourly = () => {
      fired.push(clock.nowMs());
      clock.schedule(clock.nowMs() + 3_600_000, hourly, { background: true });
    };
    clock.schedule(3_600_000, hourly, { background: true });
    clock.schedule(2.5 * 3_600_000, () => fired.push(-1));
    const stopped = await clock.runUntilIdle();
    expect(stopped.getTime()).toBe(2.5 * 3_600_000);
    expect(fired).toEqual([3_600_000, 7_200_000, -1]);
  });

  it('sleeps and cancels: a cancelled timer never fires; an aborted sleep rejects', async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    const cancel = clock.schedule(5, () => fired.push('cancelled'));
    cancel();
    const controller = new AbortController();
    const sleeping = clock.sleep(10, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    const slept = clock.sleep(10).then(() => fired.push(`slept@${clock.nowMs()}`));
    await clock.advance(20);
    await slept;
    expect(fired).toEqual(['slept@10']);
    expect(clock.pending()).toBe(0);
  });

  it('fires any mix of set and cancelled timers, background ones included, in time then scheduling order', async () => {
    const plan = fc.array(fc.record({ at: fc.integer({ min: 0, max: 50 }), background: fc.boolean(), cancelled: fc.boolean() }), { maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(plan, async (timers) => {
        const clock = new VirtualClock(0);
        const fired: number[] = [];
        const cancels = timers.map((t, i) => clock.schedule(t.at, () => fired.push(i), { background: t.background }));
        timers.forEach((t, i) => t.cancelled && cancels[i]());
        expect(clock.pending()).toBe(timers.filter((t) => !t.cancelled).length);
        await clock.advance(100);
        const expected = timers.map((t, i) => ({ ...t, i })).filter((t) => !t.cancelled).sort((a, b) => a.at - b.at || a.i - b.i);
        expect(fired).toEqual(expected.map((t) => t.i));
        expect(clock.pending()).toBe(0);
      }),
    );
  });

  it('still fires a timer cancelled by another firing at the same instant (both were due together)', async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    let cancelSecond = () => {};
    clock.schedule(10, () => (fired.push('first'), cancelSecond()));
    cancelSecond = clock.schedule(10, () => fired.push('second'));
    clock.schedule(20, () => fired.push('third'));
    await clock.advance(30);
    expect(fired).toEqual(['first', 'second', 'third']);
  });

  it('refuses to go back in time or to take a time it cannot read', async () => {
    const clock = new VirtualClock('2026-12-01T00:00:00Z');
    await expect(clock.advanceTo('2026-11-30T00:00:00Z')).rejects.toThrow(/before now/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    expect(() => new VirtualClock('not a time')).toThrow(/not a time/);
  });
});

describe('virtualDefinition', () => {
  it('turns Wait states into tasks with no real timeout, keeps Task retries for the runner and lifts the global timeout', () => {
    const retries = new Map();
    const timeouts = new Map<string, number>();
    const definition = virtualDefinition(
      {
        StartAt: 'pause',
        TimeoutSeconds: 3600,
        States: {
          pause: { Type: 'Wait', Seconds: 90, Next: 'park' },
          park: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 600, Retry: [{ ErrorEquals: ['X'] }], Next: 'end' },
          end: { Type: 'Succeed' },
        },
      } as never,
      retries,
      timeouts,
    );
    expect(definition.States.pause).toMatchObject({ Type: 'Task', Resource: VIRTUAL_WAIT_RESOURCE, TimeoutSeconds: 2_000_000, Next: 'park' });
    expect(JSON.parse(definition.States.pause.Comment as string)).toEqual({ Seconds: 90 });
    expect(definition.States.park.Retry).toBeUndefined();
    expect(retries.get('park')).toEqual([{ ErrorEquals: ['X'] }]);
    expect(timeouts.get('park')).toBe(600);
    expect(definition.TimeoutSeconds).toBeUndefined();
  });
});
