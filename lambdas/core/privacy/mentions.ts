import type { Profile } from '../runtime/ports';

/** Enough for any real event; a hostile one cannot make the walk or the marker writes unbounded. */
const MAX_MENTIONS = 50;
const MAX_DEPTH = 8;
const MAX_NODES = 5000;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

const mention = (namespace: string, value: string) => `${namespace}:${value.trim().toLowerCase()}`;

/**
 * The identities a rejected (so possibly malformed) event mentions, as `namespace:value` lowercased: every string
 * entry of any `identities` object in it, and every email address anywhere in it. Erasure finds the event by these.
 */
export function identityMentions(raw: unknown): string[] {
  const found = new Set<string>();
  let nodes = 0;
  const walk = (value: unknown, depth: number): void => {
    if (found.size >= MAX_MENTIONS || ++nodes > MAX_NODES || depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      for (const [address] of value.matchAll(EMAIL)) found.add(mention('email', address));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'identities' && typeof child === 'object' && child !== null && !Array.isArray(child)) {
        for (const [namespace, id] of Object.entries(child)) if (typeof id === 'string' && id.trim() !== '') found.add(mention(namespace, id));
      }
      walk(child, depth + 1);
    }
  };
  walk(raw, 0);
  return [...found].slice(0, MAX_MENTIONS);
}

/** The mentions that name a profile: each of its identity values, and every email address in its attributes. */
export function profileMentions(profile: Pick<Profile, 'identities' | 'identityValues' | 'attributes'>): string[] {
  const found = new Set<string>();
  for (const [namespace, value] of Object.entries(profile.identities)) found.add(mention(namespace, value));
  for (const [namespace, values] of Object.entries(profile.identityValues ?? {})) for (const value of values) found.add(mention(namespace, value));
  for (const value of Object.values(profile.attributes)) {
    if (typeof value === 'string') for (const [address] of value.matchAll(EMAIL)) found.add(mention('email', address));
  }
  return [...found];
}
