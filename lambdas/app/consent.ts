import type { ConsentStore } from '../core/consent/ports';
import { UnsubscribeTokenError, verifyUnsubscribeToken } from '../core/consent/token';
import { readConsent, unsubscribe, updateConsent } from '../core/consent/update';
import { ValidationError } from '../core/runtime/errors';
import type { Clock, ProfileStore } from '../core/runtime/ports';
import { json, parseJsonBody, problem, type ApiEvent, type ApiResult } from '../shared/http';
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

/**
 * `PUT /profiles/{id}/consent` with `{ "email": "opted-out", "list:news": "opted-in" }`: decisions taken now, source
 * `api`. 200 when every change is in force afterwards; 409 problem+json naming each key whose change is not (a later
 * decision outranks it), with the reason, the consent held and every change's outcome.
 */
export function createUpdateConsentHandler(deps: { profiles: Pick<ProfileStore, 'get'>; consent: ConsentStore; clock: Clock }) {
  return apiHandler(async (event) => {
    const result = await updateConsent(deps, profileId(event), parseJsonBody(event), 'api');
    const refused = Object.entries(result.changes).filter(([, change]) => !change.applied);
    if (refused.length === 0) return json(200, result);
    const errors = refused.map(([key, change]) => ({ field: key, message: change.reason ?? 'not applied' }));
    const reply = problem(409, 'Conflict', 'some consent changes did not take effect: a decision held outranks them', errors);
    return { ...reply, body: JSON.stringify({ ...JSON.parse(reply.body), ...result }) };
  });
}

const wantsJson = (event: ApiEvent) => Object.entries(event.headers ?? {}).some(([name, value]) => name.toLowerCase() === 'accept' && /json/.test(value ?? ''));

function page(title: string, body: string, statusCode = 200): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>${title}</title></head><body>${body}</body></html>`,
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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
    // Answers what is true afterwards: an unsubscribe that a later decision outranks is not reported as done.
    if (done.applied) {
      if (wantsJson(event)) return json(200, { status: 'unsubscribed', scope: done.scope });
      return page('Unsubscribed', `<p>You will receive no more ${what(done.scope)} from us.</p>`);
    }
    if (done.status === 'no-profile') {
      if (wantsJson(event)) return json(404, { status: 'not-found', scope: done.scope, reason: done.reason });
      return page('Nothing to unsubscribe', '<p>We hold no data for this link any more: nothing will be sent to it.</p>', 404);
    }
    if (wantsJson(event)) return json(409, { status: 'not-unsubscribed', scope: done.scope, consent: done.status, reason: done.reason });
    return page('Not unsubscribed', `<p>Your unsubscribe from ${what(done.scope)} did not take effect: ${escapeHtml(done.reason)}. Please try again.</p>`, 409);
  });
}
