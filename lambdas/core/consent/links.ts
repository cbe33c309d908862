import type { Clock } from '../runtime/ports';
import { DEFAULT_TOKEN_TTL_DAYS, signUnsubscribeToken, type UnsubscribeScope } from './token';

/** Makes the one-click unsubscribe link a marketing message carries. */
export interface UnsubscribeLinks {
  urlFor(profileId: string, scope: UnsubscribeScope): Promise<string>;
}

export interface UnsubscribeLinkOptions {
  /** The HMAC secret (from Secrets Manager on AWS, cached by the adapter). */
  getSecret(): Promise<string>;
  /** Where `GET/POST /unsubscribe` is served, e.g. `https://api.shop.example/prod`. */
  publicUrl(): string;
  clock: Clock;
  /** @default 90 */
  ttlDays?: number;
}

export function createUnsubscribeLinks(options: UnsubscribeLinkOptions): UnsubscribeLinks {
  const ttlMs = (options.ttlDays ?? DEFAULT_TOKEN_TTL_DAYS) * 86_400_000;
  return {
    async urlFor(profileId, scope) {
      const token = signUnsubscribeToken({ profileId, scope, expiresAt: new Date(options.clock.now().getTime() + ttlMs) }, await options.getSecret());
      return `${options.publicUrl().replace(/\/+$/, '')}/unsubscribe?token=${token}`;
    },
  };
}
