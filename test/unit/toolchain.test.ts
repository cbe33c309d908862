import middy from '@middy/core';

// The handlers need middy (ES modules only, transformed for jest) and Node ≥ 22 (Promise.withResolvers is ES2024).
describe('toolchain', () => {
  it('runs a middy handler under jest', async () => {
    const handler = middy(async (n: number) => n + 1);
    expect(await handler(1, {} as never)).toBe(2);
  });

  it('runs on Node 22 or later', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
    const { promise, resolve } = Promise.withResolvers<number>();
    resolve(7);
    return expect(promise).resolves.toBe(7);
  });
});
