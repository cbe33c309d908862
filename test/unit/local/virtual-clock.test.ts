import { VirtualClock } from '../../../lambdas/local/virtual-clock';

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

  it('refuses to go back in time or to take a time it cannot read', async () => {
    const clock = new VirtualClock('2026-12-01T00:00:00Z');
    await expect(clock.advanceTo('2026-11-30T00:00:00Z')).rejects.toThrow(/before now/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    expect(() => new VirtualClock('not a time')).toThrow(/not a time/);
  });
});
