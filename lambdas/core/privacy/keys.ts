import { createHmac } from 'node:crypto';

/**
 * The per-stage secret that keys every pseudonym Waymark derives from personal data: profile ids, suppression-list
 * keys and the identity hashes of rejected events. On AWS it is a Secrets Manager secret that must never be rotated
 * (a new key changes the id of every new profile and forgets every suppression); locally and in tests, this fixed one.
 */
export const LOCAL_PRIVACY_KEY = 'waymark-local-privacy-key';

/** Reads the privacy key (from Secrets Manager on AWS, cached per container). */
export type PrivacyKey = () => Promise<string>;

export const localPrivacyKey: PrivacyKey = async () => LOCAL_PRIVACY_KEY;

/**
 * HMAC-SHA256 of `<purpose>:<value>` under the privacy key, hex. Without the key nobody can recompute it from an email
 * address (an unkeyed sha256 of `email:ann@example.com` is a pseudonym anyone can re-identify); `purpose` keeps the
 * pseudonyms of one use from matching another's.
 */
export function keyedHash(key: string, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}:${value}`).digest('hex');
}
