import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What an unsubscribe link withdraws: the email channel, or one subscription list. */
export const UnsubscribeScope = z.union([z.literal('email'), z.string().regex(/^list:[A-Za-z0-9_.-]{1,64}$/)]);
export type UnsubscribeScope = 'email' | `list:${string}`;

export interface UnsubscribeClaims {
  profileId: string;
  scope: UnsubscribeScope;
  expiresAt: Date;
}

/** The token's payload, kept short because it travels in a URL and a mail header. */
const Payload = z.strictObject({
  v: z.literal(1),
  p: z.string().min(1).max(128),
  s: UnsubscribeScope,
  e: z.number().int().positive(),
});

export const DEFAULT_TOKEN_TTL_DAYS = 90;
const MAX_TOKEN_LENGTH = 1024;
const MIN_SECRET_LENGTH = 16;
// Domain separation: a MAC made for anything else with the same secret is never a valid unsubscribe token.
const CONTEXT = 'waymark-unsubscribe.v1.';

export type UnsubscribeTokenProblem = 'malformed' | 'signature' | 'expired';

export class UnsubscribeTokenError extends Error {
  override readonly name = 'UnsubscribeTokenError';
  constructor(
    readonly problem: UnsubscribeTokenProblem,
    message: string,
  ) {
    super(message);
  }
}

function mac(payload: string, secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`the unsubscribe secret must be at least ${MIN_SECRET_LENGTH} characters`);
  return createHmac('sha256', secret).update(CONTEXT + payload).digest('base64url');
}

/** `<base64url JSON payload>.<base64url HMAC-SHA256 of it>`. */
export function signUnsubscribeToken(claims: UnsubscribeClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, p: claims.profileId, s: claims.scope, e: Math.floor(claims.expiresAt.getTime() / 1000) })).toString('base64url');
  return `${payload}.${mac(payload, secret)}`;
}

/**
 * Checks the signature (constant time, over the payload text exactly as received, so no re-encoding of the payload
 * or the signature passes), then the payload, then the expiry. Throws UnsubscribeTokenError.
 */
export function verifyUnsubscribeToken(token: string, secret: string, now: Date): UnsubscribeClaims {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
    throw new UnsubscribeTokenError('malformed', 'the token is not a Waymark unsubscribe token');
  }
  const [payload, signature] = token.split('.');
  const expected = Buffer.from(mac(payload, secret));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnsubscribeTokenError('signature', 'the token signature does not match');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new UnsubscribeTokenError('malformed', 'the token payload is not JSON');
  }
  const parsed = Payload.safeParse(decoded);
  if (!parsed.success) throw new UnsubscribeTokenError('malformed', 'the token payload is not an unsubscribe request');
  const expiresAt = new Date(parsed.data.e * 1000);
  if (now.getTime() >= expiresAt.getTime()) throw new UnsubscribeTokenError('expired', `the token expired at ${expiresAt.toISOString()}`);
  return { profileId: parsed.data.p, scope: parsed.data.s as UnsubscribeScope, expiresAt };
}
