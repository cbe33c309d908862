import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { call } from './http';
import { openVirtualStack } from './local-stack';

/** Every item of every table, as text. */
async function everything(endpoint: string, tables: readonly string[]): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const items: unknown[] = [];
  for (const TableName of tables) {
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey as never;
    } while (ExclusiveStartKey);
  }
  client.destroy();
  return JSON.stringify(items);
}

const describeGlobals = () => Object.getOwnPropertyNames(Object).map((name) => [name, (Object as unknown as Record<string, unknown>)[name]]);

describe('the API with keys named like Object.prototype members', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  const globals = describeGlobals();
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** POST /events with a JSON text body (so `__proto__` arrives as an own key), then the stack settles. */
  async function post(text: string) {
    const reply = await call(ctx.stack, 'POST', '/events', text);
    expect(reply.status).toBe(202);
    await ctx.stack.settle();
  }

  it('links, reads, updates and erases a profile with an identity namespace `constructor` and such names everywhere', async () => {
    await post('{"type":"member.signed-up","identities":{"constructor":"keys"},"attributes":{"__proto__":"p","toString":"t"}}');
    expect(describeGlobals()).toEqual(globals);
    const found = await call(ctx.stack, 'GET', '/profiles?identity=constructor:keys');
    expect(found.status).toBe(200);
    expect(found.body.identities).toEqual({ constructor: 'keys' });
    expect(found.body.attributes).toMatchObject({ toString: 't' });
    expect(Object.hasOwn(found.body.attributes, '__proto__') && found.body.attributes.__proto__).toBe('p');
    const id: string = found.body.id;

    // An unrelated event still reaches its profile: nothing was dead-lettered.
    await post('{"type":"app.opened","identities":{"email":"keys.other@example.com"}}');
    expect((await call(ctx.stack, 'GET', '/profiles?identity=email:keys.other@example.com')).status).toBe(200);
    expect(ctx.stack.bus.deadLetters).toEqual([]);
    expect((await call(ctx.stack, 'GET', '/events/rejected')).body.events).toEqual([]);

    // An event of type `constructor` with a number keeps the profile readable.
    await post('{"type":"constructor","identities":{"constructor":"keys"},"properties":{"total":3,"__proto__":1}}');
    const read = await call(ctx.stack, 'GET', `/profiles/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.computed.constructor).toMatchObject({ count: 1 });
    expect(JSON.stringify(read.body.computed.constructor.sums)).toBe('{"__proto__":1,"total":3}');
    const recorded = read.body.recentEvents.find((e: { type: string }) => e.type === 'constructor');
    expect(JSON.stringify(recorded.properties)).toBe('{"__proto__":1,"total":3}');

    const updated = await call(ctx.stack, 'PUT', `/profiles/${id}/attributes`, '{"attributes":{"constructor":"c","valueOf":2,"__proto__":"q"}}');
    expect(updated.status).toBe(200);
    expect(updated.body.attributes).toMatchObject({ constructor: 'c', valueOf: 2, toString: 't' });
    expect(Object.hasOwn(updated.body.attributes, '__proto__') && updated.body.attributes.__proto__).toBe('q');

    expect((await call(ctx.stack, 'DELETE', `/profiles/${id}`)).status).toBe(200);
    const after = await everything(ctx.stack.dynamoEndpoint, Object.values(ctx.stack.tables));
    expect(after).not.toContain('IDENTITY#constructor');
    expect(after).not.toContain(id);
    expect(ctx.stack.bus.deadLetters).toEqual([]);
    expect(describeGlobals()).toEqual(globals);
  });

  it('names a consent key that is not a channel or list, __proto__ included', async () => {
    await post('{"type":"member.signed-up","identities":{"email":"keys.consent@example.com"}}');
    const { body } = await call(ctx.stack, 'GET', '/profiles?identity=email:keys.consent@example.com');
    const reply = await call(ctx.stack, 'PUT', `/profiles/${body.id}/consent`, '{"__proto__":"opted-out"}');
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body.errors)).toContain('__proto__');
  });
});
