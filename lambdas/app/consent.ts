import type { ConsentStore } from '../core/consent/ports';
import { UnsubscribeTokenError, verifyUnsubscribeToken } from '../core/consent/token';
import { readConsent, unsubscribe, updateConsent } from '../core/consent/update';
import { ValidationError } from '../core/runtime/errors';
import type { Clock, ProfileStore } from '../core/runtime/ports';
import { json, parseJsonBody, type ApiEvent, type ApiResult } from '../shared/http';
import { apiHandler } from './middleware';

function profileId(event: ApiEvent): string {
  const id = event.pathParameters?.id;
  if (!id) throw new ValidationError('missing profile id', [{ field: 'id', message: 'the path names the profile: /profiles/{id}/consent' }]);
  return id;
}

/** `GET /profiles/{id}/consent`: the consent held per channel and list, with time and source. */
export function createGetConsentHandler(deps: { profiles: Pick<ProfileStore, 'get'> }) {
  return apiHandler(async (event) => json(200, await readConsent(deps, profileId(event))));
}

/** `PUT /profiles/{id}/consent` with `{ "email": "opted-out", "list:news": "opted-in" }`: decisions taken now, source `api`. */
export function createUpdateConsentHandler(deps: { profiles: Pick<ProfileStore, 'get'>; consent: ConsentStore; clock: Clock }) {
  return apiHandler(async (event) => json(200, await updateConsent(deps, profileId(event), parseJsonBody(event), 'api')));
}

const wantsJson = (event: ApiEvent) => Object.entries(event.headers ?? {}).some(([name, value]) => name.toLowerCase() === 'accept' && /json/.test(value ?? ''));

function page(title: string, body: string): ApiResult {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${title}</title></head><body>${body}</body></html>`,
  };
}

const what = (scope: string) => (scope === 'email' ? 'marketing email' : `the "${scope.slice('list:'.length)}" list`);

function tokenOf(event: ApiEvent): string {
  const token = event.queryStringParameters?.token;
  if (!token) throw new ValidationError('the unsubscribe link is not valid', [{ field: 'token', message: 'the link carries ?token=…' }]);
  return token;
}

async function verified<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // Tampered, expired or malformed: 400 naming the token, and nothing has changed.
    if (error instanceof UnsubscribeTokenError) throw new ValidationError('the unsubscribe link is not valid', [{ field: 'token', message: error.message }]);
    throw error;
  }
}

/**
 * `GET /unsubscribe?token=…`: checks the link and shows a one-button confirmation. It changes nothing: mail scanners
 * follow links. A tampered, expired or malformed token: 400 naming `token`.
 */
export function createConfirmUnsubscribeHandler(deps: { clock: Clock; getSecret(): Promise<string> }) {
  return apiHandler(async (event) => {
    const token = tokenOf(event);
    const claims = await verified(async () => verifyUnsubscribeToken(token, await deps.getSecret(), deps.clock.now()));
    if (wantsJson(event)) return json(200, { status: 'confirm', scope: claims.scope, expiresAt: claims.expiresAt.toISOString() });
    return page('Unsubscribe', `<form method="post" action="?token=${token}"><p>Unsubscribe from ${what(claims.scope)}?</p><button type="submit">Unsubscribe</button></form>`);
  });
}

/**
 * `POST /unsubscribe?token=…`: the RFC 8058 one-click request (its body, `List-Unsubscribe=One-Click`, is not needed)
 * and the confirmation page's button: opts the token's profile out of its scope (source `unsubscribe-link`). A
 * tampered, expired or malformed token: 400 naming `token`, and nothing changes. With the confirmation, the only
 * routes without authentication: the signed token is the authority.
 */
export function createUnsubscribeProfileHandler(deps: { consent: ConsentStore; clock: Clock; getSecret(): Promise<string> }) {
  return apiHandler(async (event) => {
    const done = await verified(() => unsubscribe(deps, tokenOf(event)));
    if (wantsJson(event)) return json(200, { status: 'unsubscribed', scope: done.scope });
    return page('Unsubscribed', `<p>You will receive no more ${what(done.scope)} from us.</p>`);
  });
}
