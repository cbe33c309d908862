import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';

/** What an unsubscribe link withdraws: the email channel, or one subscription list. */
export const UnsubscribeScope = z.union([z.literal('email'), z.string().regex(/^list:[A-Za-z0-9_.-]{1,64}$/)]);
export type UnsubscribeScope = 'email' | `list:${string}`;

export interface UnsubscribeClaims {
  profileId: string;
  scope: UnsubscribeScope;
  expiresAt: Date;
}

const Claims = { p: z.string().min(1).max(128), s: UnsubscribeScope, e: z.number().int().positive() };
/**
 * The token's payload, kept short because it travels in a URL and a mail header. `k`: the id of the key that signed
 * it. Version 1 (before key ids) is still accepted, checked against every key of the ring, until it expires.
 */
const Payload = z.union([
  z.strictObject({ v: z.literal(2), k: z.string(), ...Claims }),
  z.strictObject({ v: z.literal(1), ...Claims }),
]);

const KeyId = z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a key id is 1-32 letters, digits, _ . -');
const Key = z.strictObject({ id: KeyId, secret: z.string().min(16, 'a key secret has at least 16 characters').max(4096) });
/**
 * The HMAC keys of unsubscribe links, as the secret holds them: `current` signs, `current` and `previous` verify.
 * A secret that is not a JSON object is one key with id `default` (the format before rotation).
 */
export const UnsubscribeKeyRing = z.strictObject({ current: Key, previous: z.array(Key).max(5).default([]) });
export type UnsubscribeKeyRing = z.infer<typeof UnsubscribeKeyRing>;
export const UNSUBSCRIBE_DEFAULT_KEY_ID = 'default';

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

/** Reads the secret's text as a key ring; a misconfigured secret throws naming the field (it is not the client's fault). */
export function parseUnsubscribeKeys(secret: string): UnsubscribeKeyRing {
  if (!secret.trimStart().startsWith('{')) {
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`the unsubscribe secret must be at least ${MIN_SECRET_LENGTH} characters`);
    return { current: { id: UNSUBSCRIBE_DEFAULT_KEY_ID, secret }, previous: [] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(secret);
  } catch {
    throw new Error('the unsubscribe key ring is not JSON');
  }
  const parsed = UnsubscribeKeyRing.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid unsubscribe key ring: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(CONTEXT + payload).digest('base64url');
}

/** `<base64url JSON payload>.<base64url HMAC-SHA256 of it>`, signed with the ring's current key (named in `k`). */
export function signUnsubscribeToken(claims: UnsubscribeClaims, secret: string): string {
  const { current } = parseUnsubscribeKeys(secret);
  const body = { v: 2, k: current.id, p: claims.profileId, s: claims.scope, e: Math.floor(claims.expiresAt.getTime() / 1000) };
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${payload}.${mac(payload, current.secret)}`;
}

/** The keys a payload may have been signed with: the one it names (v2; none when retired), or any (v1). */
function candidateKeys(payload: unknown, ring: UnsubscribeKeyRing): UnsubscribeKeyRing['current'][] {
  const keys = [ring.current, ...ring.previous];
  const own = (name: string) =>
    typeof payload === 'object' && payload !== null && Object.hasOwn(payload, name) ? (payload as Record<string, unknown>)[name] : undefined;
  const v = own('v');
  const k = own('k');
  if (v === 1) return keys;
  if (v === 2 && typeof k === 'string') return keys.filter((key) => key.id === k);
  throw new UnsubscribeTokenError('malformed', 'the token payload is not an unsubscribe request');
}

/**
 * Checks the signature (constant time, over the payload text exactly as received, so no re-encoding of the payload
 * or the signature passes), then the payload, then the expiry. Throws UnsubscribeTokenError.
 */
export function verifyUnsubscribeToken(token: string, secret: string, now: Date): UnsubscribeClaims {
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) {
    throw new UnsubscribeTokenError('malformed', 'the token is not a Waymark unsubscribe token');
  }
  const ring = parseUnsubscribeKeys(secret);
  const [payload, signature] = token.split('.');
  // The payload names its key, so it is decoded (at most 1 KB) before the signature is checked with that key.
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new UnsubscribeTokenError('malformed', 'the token payload is not JSON');
  }
  const given = Buffer.from(signature);
  const signed = candidateKeys(decoded, ring).some((key) => {
    const expected = Buffer.from(mac(payload, key.secret));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) throw new UnsubscribeTokenError('signature', 'the token signature does not match a current or previous key');
  const parsed = Payload.safeParse(decoded);
  if (!parsed.success) throw new UnsubscribeTokenError('malformed', 'the token payload is not an unsubscribe request');
  const expiresAt = new Date(parsed.data.e * 1000);
  if (now.getTime() >= expiresAt.getTime()) throw new UnsubscribeTokenError('expired', `the token expired at ${expiresAt.toISOString()}`);
  return { profileId: parsed.data.p, scope: parsed.data.s as UnsubscribeScope, expiresAt };
}
