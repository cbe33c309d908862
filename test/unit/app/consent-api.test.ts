import './quiet-powertools';
import type { Context } from 'aws-lambda';
import { createUnsubscribeProfileHandler, createUpdateConsentHandler } from '../../../lambdas/app/consent';
import { signUnsubscribeToken } from '../../../lambdas/core/consent/token';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';
import { clockAt, MemoryConsentProfiles } from '../consent/fakes';

const SECRET = 'unit-test-unsubscribe-secret';
const context = { functionName: 'consent-api', awsRequestId: 'req' } as unknown as Context;

function request(options: { body?: unknown; path?: Record<string, string>; query?: Record<string, string>; headers?: Record<string, string> }): ApiEvent {
  return {
    body: options.body === undefined ? null : JSON.stringify(options.body),
    headers: options.headers ?? {},
    pathParameters: options.path ?? null,
    queryStringParameters: options.query ?? null,
    requestContext: { requestId: 'req-1' },
  };
}

function setup() {
  const clock = clockAt('2026-03-01T12:00:00.000Z');
  const store = new MemoryConsentProfiles(() => clock.now());
  // An explicit opt-in dated a minute ahead (another writer's clock): it outranks what is decided now.
  store.add('p-1', { consent: { email: { status: 'opted-in', at: '2026-03-01T12:01:00.000Z', source: 'api', via: 'api' } } });
  const deps = { profiles: store, consent: store, clock, getSecret: async () => SECRET };
  const token = signUnsubscribeToken({ profileId: 'p-1', scope: 'email', expiresAt: new Date('2026-05-01T00:00:00Z') }, SECRET);
  return { deps, token };
}

const call = async (handler: (event: ApiEvent, context: Context) => Promise<ApiResult>, event: ApiEvent) => {
  const reply = await handler(event, context);
  return { status: reply.statusCode, type: reply.headers?.['content-type'], text: reply.body, body: reply.body.startsWith('{') ? JSON.parse(reply.body) : undefined };
};

describe('consent handlers answer what is true', () => {
  it('answers an unsubscribe that did not take effect with 409 and the reason, not the success page', async () => {
    const { deps, token } = setup();
    const page = await call(createUnsubscribeProfileHandler(deps), request({ query: { token } }));
    expect(page.status).toBe(409);
    expect(page.text).not.toContain('no more marketing email');
    expect(page.text).toContain('did not take effect');
    const asJson = await call(createUnsubscribeProfileHandler(deps), request({ query: { token }, headers: { Accept: 'application/json' } }));
    expect([asJson.status, asJson.body]).toEqual([409, { status: 'not-unsubscribed', scope: 'email', consent: 'opted-in', reason: expect.stringContaining('later') }]);
  });

  it('answers a consent change that did not take effect with 409 problem+json naming the key', async () => {
    const { deps } = setup();
    const reply = await call(createUpdateConsentHandler(deps), request({ path: { id: 'p-1' }, body: { email: 'opted-out', sms: 'opted-out' } }));
    expect([reply.status, reply.type]).toEqual([409, 'application/problem+json']);
    expect(reply.body.errors).toEqual([{ field: 'email', message: expect.stringContaining('later') }]);
    expect(reply.body.changes.sms).toEqual({ requested: 'opted-out', status: 'opted-out', applied: true });
    expect(reply.body.consent.email).toMatchObject({ status: 'opted-in' });
  });
});
