import middy from '@middy/core';
it('runs middy under jest', async () => {
  const h = middy(async (e: number) => e + 1);
  expect(await h(1, {} as never)).toBe(2);
  expect(typeof (Promise as unknown as { withResolvers: unknown }).withResolvers).toBe('function');
});
