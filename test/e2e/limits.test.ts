import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { newProfileId } from '../../lambdas/core/profiles/merge-policy';
import { MAX_PATH_ID_LENGTH } from '../../lambdas/shared/http';
import { call, problemFields, type HttpReply } from './http';
import { openVirtualStack } from './local-stack';

/** Requests a client gets wrong: each is answered 4xx (problem+json naming the field, or EventBridge's error shape). */
describe('limits on the local stack (every route bounds its input; no 5xx for a client mistake)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(() => ctx.stack.stop());

  /** A raw AWS JSON 1.1 PutEvents call, as any HTTP client can make it. */
  async function putEventsRaw(body: string): Promise<{ status: number; body: any }> {
    const response = await fetch(ctx.stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) };
  }

  function expectProblem(reply: HttpReply, status: number, field: string): void {
    expect({ status: reply.status, contentType: reply.contentType }).toEqual({ status, contentType: 'application/problem+json' });
    expect(problemFields(reply)).toContain(field);
  }

  describe('the PutEvents endpoint', () => {
    it.each([
      { problem: 'a null body', body: 'null' },
      { problem: 'Entries that are an object', body: '{"Entries":{"a":1}}' },
      { problem: 'entries that are not objects', body: '{"Entries":[null,5,"x"]}' },
      { problem: 'an entry field of the wrong type', body: '{"Entries":[{"Source":5,"DetailType":"t","Detail":"{}"}]}' },
    ])('answers $problem with a 400 SerializationException, leaking nothing internal', async ({ body }) => {
      const reply = await putEventsRaw(body);

      expect(reply.status).toBe(400);
      expect(reply.body.__type).toBe('SerializationException');
      expect(reply.body.message).not.toMatch(/Cannot read|undefined|TypeError|is not a function/);
    });

    it.each([
      { problem: 'no Entries', body: '{}' },
      { problem: 'no entries', body: '{"Entries":[]}' },
      { problem: '11 entries', body: JSON.stringify({ Entries: Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 't', Detail: '{}' })) }) },
    ])('answers $problem with a 400 ValidationException', async ({ body }) => {
      const reply = await putEventsRaw(body);

      expect(reply.status).toBe(400);
      expect(reply.body.__type).toBe('ValidationException');
    });

    it('refuses a request whose entries add up to more than 256 KB, through the official client', async () => {
      const client = new EventBridgeClient({ endpoint: ctx.stack.url, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const detail = JSON.stringify({ identities: { email: 'big@example.com' }, properties: { blob: 'x'.repeat(300 * 1024) } });
      const delivered = ctx.stack.bus.delivered;

      await expect(client.send(new PutEventsCommand({ Entries: [{ Source: 'test.shop', DetailType: 'big.event', Detail: detail }] }))).rejects.toMatchObject({ name: 'ValidationException' });
      // Two entries of 150 KB: each fits, together they do not.
      const half = JSON.stringify({ properties: { blob: 'x'.repeat(150 * 1024) } });
      const entry = { Source: 'test.shop', DetailType: 'big.event', Detail: half };
      await expect(client.send(new PutEventsCommand({ Entries: [entry, entry] }))).rejects.toMatchObject({ name: 'ValidationException' });
      await ctx.stack.settle();
      expect(ctx.stack.bus.delivered).toBe(delivered);
    });

    it('answers MalformedDetail for a Detail nested deeper than EventBridge processes, and accepts the others', async () => {
      const deep = '{"a":'.repeat(1200) + '1' + '}'.repeat(1200);
      const reply = await putEventsRaw(JSON.stringify({ Entries: [{ Source: 's', DetailType: 't', Detail: deep }, { Source: 's', DetailType: 'u', Detail: '{}' }] }));

      expect(reply.status).toBe(200);
      expect(reply.body.FailedEntryCount).toBe(1);
      expect(reply.body.Entries[0]).toMatchObject({ ErrorCode: 'MalformedDetail' });
      expect(reply.body.Entries[1].EventId).toEqual(expect.any(String));
    });
  });

  describe('POST /events', () => {
    it('answers 400 naming properties for properties nested 5,000 deep', async () => {
      const nested = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const body = `{"type":"deep.event","identities":{"email":"deep@example.com"},"properties":{"nested":${nested}}}`;
      const reply = await call(ctx.stack, 'POST', '/events', body);

      expect({ status: reply.status, contentType: reply.contentType }).toEqual({ status: 400, contentType: 'application/problem+json' });
      expect(problemFields(reply)[0]).toMatch(/^properties\.nested(\.a)+$/);
    });

    it('answers 413 for a 900 KB body, and 413 for an event over EventBridge\'s 256 KB', async () => {
      const huge = await call(ctx.stack, 'POST', '/events', { type: 'big.event', identities: { email: 'big@example.com' }, properties: { blob: 'x'.repeat(900 * 1024) } });
      expectProblem(huge, 413, '(body)');
      // Under the body bound but over the bus's entry bound once the platform adds id, time and source.
      const near = await call(ctx.stack, 'POST', '/events', { type: 'big.event', identities: { email: 'big@example.com' }, properties: { a: 'x'.repeat(250 * 1024), b: 'y'.repeat(6 * 1024) } });
      expect([400, 413]).toContain(near.status);
      expect(await ctx.stack.profiles.get(newProfileId('email', 'big@example.com'))).toBeUndefined();
    });

    it('answers 400 naming the property for a number DynamoDB cannot store, and the bus keeps such an event as rejected', async () => {
      const reply = await call(ctx.stack, 'POST', '/events', { type: 'num.event', identities: { email: 'num@example.com' }, properties: { tiny: 1e-200, huge: 1e300 } });
      expectProblem(reply, 400, 'properties.tiny');
      expect(problemFields(reply)).toContain('properties.huge');

      await ctx.put('num.event', { id: 'num-on-bus', identities: { email: 'num@example.com' }, properties: { tiny: 4.6e-270 } });
      const rejected = (await call(ctx.stack, 'GET', '/events/rejected')).body.events as { raw: { detail: { id: string } }; errors: { field: string }[] }[];
      expect(rejected.find((r) => r.raw.detail.id === 'num-on-bus')?.errors.map((e) => e.field)).toEqual(['detail.properties.tiny']);
      expect(ctx.stack.bus.deadLetters).toEqual([]);
    });

    it('answers 400 naming the key for a property key longer than the bound', async () => {
      const reply = await call(ctx.stack, 'POST', '/events', { type: 'key.event', identities: { email: 'key@example.com' }, properties: { ['k'.repeat(1000)]: 1 } });

      expectProblem(reply, 400, 'properties');
    });
  });

  describe('path ids longer than the bound', () => {
    const long = 'x'.repeat(3000);
    it.each([
      ['GET', `/profiles/{long}`],
      ['DELETE', `/profiles/{long}`],
      ['PUT', `/profiles/{long}/attributes`],
      ['GET', `/profiles/{long}/export`],
      ['GET', `/profiles/{long}/consent`],
      ['PUT', `/profiles/{long}/consent`],
      ['GET', `/profiles/{long}/decisions`],
      ['GET', `/segments/{long}`],
      ['PUT', `/segments/{long}`],
      ['DELETE', `/segments/{long}`],
      ['POST', `/segments/{long}/evaluate`],
      ['GET', `/segments/{long}/estimate`],
      ['GET', `/offers/{long}`],
      ['PUT', `/offers/{long}`],
      ['DELETE', `/offers/{long}`],
      ['GET', `/placements/{long}`],
      ['POST', `/journeys/{long}/trigger`],
    ] as const)('%s %s answers 400 naming the id', async (method, path) => {
      const reply = await call(ctx.stack, method, path.replace('{long}', long), method === 'PUT' || method === 'POST' ? {} : undefined);

      expectProblem(reply, 400, 'id');
    });

    it('answers 400 naming snapshotId for a long snapshot id', async () => {
      const reply = await call(ctx.stack, 'GET', `/segments/vip/snapshots/${long}`);

      expectProblem(reply, 400, 'snapshotId');
    });

    it('accepts an id at the bound (404: there is no such profile)', async () => {
      const reply = await call(ctx.stack, 'GET', `/profiles/${'x'.repeat(MAX_PATH_ID_LENGTH)}`);

      expect(reply.status).toBe(404);
    });
  });

  it('answers 400 naming identity for an identity value longer than events take', async () => {
    const reply = await call(ctx.stack, 'GET', `/profiles?identity=email:${'x'.repeat(3000)}`);

    expectProblem(reply, 400, 'identity');
  });

  it('answers 400 naming identity for a decision request whose identity value is longer than events take', async () => {
    const reply = await call(ctx.stack, 'POST', '/decisions', { identity: `email:${'€'.repeat(1000)}`, placements: ['web-banner'] });

    expectProblem(reply, 400, 'identity');
  });

  describe('cursors', () => {
    it('answers 400 naming cursor for a snapshot cursor that is not base64', async () => {
      const started = await call(ctx.stack, 'POST', '/segments/loyalty-gold/evaluate');
      expect(started.status).toBe(202);
      const reply = await call(ctx.stack, 'GET', `/segments/loyalty-gold/snapshots/${started.body.id}?cursor=${encodeURIComponent('not base64 ~!')}`);

      expectProblem(reply, 400, 'cursor');
    });

    it('answers 400 naming cursor for a decision cursor that is not one the log returned', async () => {
      const reply = await call(ctx.stack, 'GET', `/profiles/anyone/decisions?cursor=${encodeURIComponent('not base64 ~!')}`);

      expectProblem(reply, 400, 'cursor');
    });
  });
});
