import { createHmac, timingSafeEqual } from 'node:crypto';
// Checked by hand, not with zod: prepare-send signs links on its hot path, and its bundle carries no zod.

/** What an unsubscribe link withdraws: the email channel, or one subscription list. */
export type UnsubscribeScope = 'email' | `list:${string}`;
const LIST_SCOPE = /^list:[A-Za-z0-9_.-]{1,64}$/;
const isScope = (s: unknown): s is UnsubscribeScope => s === 'email' || (typeof s === 'string' && LIST_SCOPE.test(s));

export interface UnsubscribeClaims {
  profileId: string;
  scope: UnsubscribeScope;
  expiresAt: Date;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Exactly these keys, each own (a strict object). */
const hasExactly = (v: Json, keys: readonly string[]) => Object.keys(v).length === keys.length && keys.every((k) => Object.hasOwn(v, k));

/**
 * The token's payload, kept short because it travels in a URL and a mail header: `{ v: 2, k, p, s, e }`. `k`: the id
 * of the key that signed it. Version 1 (`{ v: 1, p, s, e }`, before key ids) is still accepted, checked against every
 * key of the ring, until it expires.
 */
function payloadClaims(payload: unknown): { p: string; s: UnsubscribeScope; e: number } | undefined {
  if (!isObject(payload)) return undefined;
  const keys = payload.v === 2 ? ['v', 'k', 'p', 's', 'e'] : payload.v === 1 ? ['v', 'p', 's', 'e'] : undefined;
  if (keys === undefined || !hasExactly(payload, keys) || (payload.v === 2 && typeof payload.k !== 'string')) return undefined;
  const { p, s, e } = payload;
  if (typeof p !== 'string' || p.length < 1 || p.length > 128 || !isScope(s)) return undefined;
  if (typeof e !== 'number' || !Number.isSafeInteger(e) || e <= 0) return undefined;
  return { p, s, e };
}

/** One key of the ring: `{ id, secret }`. */
export interface UnsubscribeKey {
  id: string;
  secret: string;
}
/**
 * The HMAC keys of unsubscribe links, as the secret holds them: `current` signs, `current` and `previous` verify.
 * A secret that is not a JSON object is one key with id `default` (the format before rotation).
 */
export interface UnsubscribeKeyRing {
  current: UnsubscribeKey;
  previous: UnsubscribeKey[];
}
const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
const MIN_SECRET_LENGTH = 16;
const MAX_PREVIOUS_KEYS = 5;

/** The ring's issues, each `<field>: <reason>` (empty when it is a ring). */
function keyRingIssues(raw: unknown): string[] {
  if (!isObject(raw)) return ['(root): expected an object'];
  const issues: string[] = [];
  const key = (value: unknown, at: string) => {
    if (!isObject(value)) return void issues.push(`${at}: expected an object with id and secret`);
    for (const name of Object.keys(value)) if (name !== 'id' && name !== 'secret') issues.push(`${at}.${name}: unknown field`);
    if (typeof value.id !== 'string' || !KEY_ID.test(value.id)) issues.push(`${at}.id: a key id is 1-32 letters, digits, _ . -`);
    if (typeof value.secret !== 'string' || value.secret.length < MIN_SECRET_LENGTH || value.secret.length > 4096) {
      issues.push(`${at}.secret: a key secret has at least ${MIN_SECRET_LENGTH} characters (at most 4096)`);
    }
  };
  for (const name of Object.keys(raw)) if (name !== 'current' && name !== 'previous') issues.push(`${name}: unknown field`);
  key(raw.current, 'current');
  if (raw.previous !== undefined) {
    if (!Array.isArray(raw.previous) || raw.previous.length > MAX_PREVIOUS_KEYS) {
      issues.push(`previous: a list of at most ${MAX_PREVIOUS_KEYS} keys`);
    } else {
      raw.previous.forEach((k, i) => key(k, `previous.${i}`));
    }
  }
  return issues;
}
export const UNSUBSCRIBE_DEFAULT_KEY_ID = 'default';

export const DEFAULT_TOKEN_TTL_DAYS = 90;
const MAX_TOKEN_LENGTH = 1024;
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
  const issues = keyRingIssues(raw);
  if (issues.length > 0) throw new Error(`invalid unsubscribe key ring: ${issues.join('; ')}`);
  const ring = raw as { current: UnsubscribeKey; previous?: UnsubscribeKey[] };
  const copy = (k: UnsubscribeKey) => ({ id: k.id, secret: k.secret });
  return { current: copy(ring.current), previous: (ring.previous ?? []).map(copy) };
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
function candidateKeys(payload: unknown, ring: UnsubscribeKeyRing): UnsubscribeKey[] {
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
  const parsed = payloadClaims(decoded);
  if (!parsed) throw new UnsubscribeTokenError('malformed', 'the token payload is not an unsubscribe request');
  const expiresAt = new Date(parsed.e * 1000);
  if (now.getTime() >= expiresAt.getTime()) throw new UnsubscribeTokenError('expired', `the token expired at ${expiresAt.toISOString()}`);
  return { profileId: parsed.p, scope: parsed.s, expiresAt };
}
