import { withoutStackTraces } from '../../../lambdas/local/stack-traces';

describe('withoutStackTraces', () => {
  it('captures no stack while the work runs, keeps name and message, and restores the limit after', async () => {
    const before = Error.stackTraceLimit;
    const inside = await withoutStackTraces(async () => new RangeError('out of range'));
    expect(inside.stack).toBe('RangeError: out of range');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('after').stack).toContain('stack-traces.test');
  });

  it('restores the limit when the work fails', async () => {
    const before = Error.stackTraceLimit;
    await expect(withoutStackTraces(async () => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    expect(Error.stackTraceLimit).toBe(before);
  });
});
