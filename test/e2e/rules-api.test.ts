import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_RULES } from '../../lambdas/core/governance/files';
import type { LocalStack } from '../../lambdas/local/stack';
import { MAX_RULE_BODY_BYTES } from '../../lambdas/app/rules';
import { problemFields, type HttpReply } from './http';
import { openVirtualStack } from './local-stack';

/** A request to the local REST API over HTTP, with headers (If-Match); the reply's ETag and Location too. */
async function send(stack: LocalStack, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  const reply: HttpReply & { etag: string | null; location: string | null } = {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text === '' ? undefined : JSON.parse(text),
    etag: response.headers.get('etag'),
    location: response.headers.get('location'),
  };
  return reply;
}

const FILE_RULES = readdirSync(join(__dirname, '..', '..', 'rules')).filter((n) => n.endsWith('.json')).length;
const promoCap = { kind: 'frequency-cap', channel: 'push', limit: 2, period: { calendar: 'day' }, journeyTags: ['promo'] };

describe('rules API (local stack, dynalite)', () => {
  let ctx: Awaited<ReturnType<typeof openVirtualStack>>;
  beforeAll(async () => {
    ctx = await openVirtualStack();
  });
  afterAll(async () => {
    await ctx.clock.runUntilIdle();
    await ctx.stack.stop();
  });

  it('lists the file rules with their origin and version, and answers one with its version as the ETag', async () => {
    const list = await send(ctx.stack, 'GET', '/rules');
    expect(list.status).toBe(200);
    expect(list.body.limit).toBe(MAX_RULES);
    expect(list.body.rules.filter((r: { origin: string }) => r.origin === 'file')).toHaveLength(FILE_RULES);
    const one = await send(ctx.stack, 'GET', '/rules/sms-daily');
    expect(one).toMatchObject({ status: 200, etag: '"1"' });
    expect(one.body).toMatchObject({ origin: 'file', version: 1, definition: { id: 'sms-daily', kind: 'frequency-cap', channel: 'sms', limit: 1, messageClass: ['marketing'] } });
    const none = await send(ctx.stack, 'GET', '/rules/no-such-rule');
    expect(none.status).toBe(404);
    expect(none.contentType).toContain('application/problem+json');
  });

  it('refuses to change or delete a file rule (409, saying it is deployed from a file) and leaves it as it was', async () => {
    const put = await send(ctx.stack, 'PUT', '/rules/sms-daily', { ...promoCap, channel: 'sms' });
    expect(put.status).toBe(409);
    expect(put.body.detail).toMatch(/deployed from a file \(rules\/\*\.json\) and is read-only/);
    const del = await send(ctx.stack, 'DELETE', '/rules/sms-daily');
    expect(del.status).toBe(409);
    expect((await send(ctx.stack, 'GET', '/rules/sms-daily')).body).toMatchObject({ origin: 'file', version: 1, definition: { limit: 1 } });
  });

  it('creates an API rule with PUT (201, Location, version 1), replaces it at the version read, and refuses a stale If-Match', async () => {
    const created = await send(ctx.stack, 'PUT', '/rules/promo-push-daily', promoCap);
    expect(created).toMatchObject({ status: 201, etag: '"1"', location: '/rules/promo-push-daily' });
    expect(created.body).toMatchObject({ origin: 'api', version: 1, definition: { id: 'promo-push-daily', ...promoCap, messageClass: ['marketing'] } });

    const replaced = await send(ctx.stack, 'PUT', '/rules/promo-push-daily', { ...promoCap, limit: 3 }, { 'If-Match': '"1"' });
    expect(replaced).toMatchObject({ status: 200, etag: '"2"' });
    const stale = await send(ctx.stack, 'PUT', '/rules/promo-push-daily', { ...promoCap, limit: 9 }, { 'If-Match': '"1"' });
    expect(stale.status).toBe(409);
    expect(problemFields(stale)).toEqual(['If-Match']);
    // Without If-Match, a PUT replaces whatever version is there.
    expect(await send(ctx.stack, 'PUT', '/rules/promo-push-daily', { ...promoCap, limit: 4 })).toMatchObject({ status: 200, etag: '"3"' });
    expect((await send(ctx.stack, 'GET', '/rules/promo-push-daily')).body).toMatchObject({ version: 3, definition: { limit: 4 } });
    const absent = await send(ctx.stack, 'PUT', '/rules/never-made', promoCap, { 'If-Match': '"1"' });
    expect(absent.status).toBe(409);
    expect((await send(ctx.stack, 'GET', '/rules/never-made')).status).toBe(404);
  });

  it('answers 400 problem+json naming each field, and writes nothing', async () => {
    const cases: [unknown, string[]][] = [
      [{ ...promoCap, limit: 0 }, ['limit']],
      [{ ...promoCap, channel: 'fax', surprise: 1 }, ['channel', 'surprise']],
      [{ ...promoCap, period: { rolling: '10s' } }, ['period.rolling']],
      [{ kind: 'quiet-hours', channel: 'sms', from: '22:00', to: '22:00', action: 'defer' }, ['to']],
      [{ ...promoCap, id: 'another-id' }, ['id']],
      [[promoCap], ['(body)']],
      ['{ not json', ['(body)']],
    ];
    for (const [body, fields] of cases) {
      const reply = await send(ctx.stack, 'PUT', '/rules/bad-rule', body);
      expect({ body, status: reply.status, type: reply.contentType, fields: problemFields(reply) }).toEqual({ body, status: 400, type: expect.stringContaining('application/problem+json'), fields });
    }
    const badId = await send(ctx.stack, 'PUT', '/rules/Not_Kebab', promoCap);
    expect(badId.status).toBe(400);
    expect(problemFields(badId)).toEqual(['id']);
    expect(problemFields(await send(ctx.stack, 'PUT', '/rules/bad-rule', promoCap, { 'If-Match': 'soon' }))).toEqual(['If-Match']);
    expect((await send(ctx.stack, 'GET', '/rules/bad-rule')).status).toBe(404);
  });

  it(`refuses a body over ${MAX_RULE_BODY_BYTES / 1024} KB with 413`, async () => {
    const reply = await send(ctx.stack, 'PUT', '/rules/big-rule', { ...promoCap, description: 'x'.repeat(MAX_RULE_BODY_BYTES) });
    expect(reply.status).toBe(413);
    expect(problemFields(reply)).toEqual(['(body)']);
  });

  it('deletes an API rule (204), after which it is gone (404)', async () => {
    await send(ctx.stack, 'PUT', '/rules/short-lived', promoCap);
    expect((await send(ctx.stack, 'DELETE', '/rules/short-lived')).status).toBe(204);
    expect((await send(ctx.stack, 'GET', '/rules/short-lived')).status).toBe(404);
    expect((await send(ctx.stack, 'DELETE', '/rules/short-lived')).status).toBe(404);
  });

  it(`keeps at most ${MAX_RULES} rules: creating one more is 409, replacing one still works`, async () => {
    const held = (await send(ctx.stack, 'GET', '/rules')).body.rules.length;
    for (let i = held; i < MAX_RULES; i++) expect((await send(ctx.stack, 'PUT', `/rules/filler-${i}`, promoCap)).status).toBe(201);
    const over = await send(ctx.stack, 'PUT', '/rules/one-too-many', promoCap);
    expect(over.status).toBe(409);
    expect(over.body.detail).toContain(`(${MAX_RULES})`);
    expect((await send(ctx.stack, 'PUT', `/rules/filler-${MAX_RULES - 1}`, { ...promoCap, limit: 5 })).status).toBe(200);
    for (let i = held; i < MAX_RULES; i++) await send(ctx.stack, 'DELETE', `/rules/filler-${i}`);
  });
});
