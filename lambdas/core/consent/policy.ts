import type { ConsentRecord } from '../runtime/ports';

export type Channel = 'email' | 'sms' | 'push';
export type MessageClass = 'marketing' | 'transactional';
export type SuppressionReason = 'bounce' | 'complaint';

/** Why a message was not sent; recorded in the send ledger as the `suppressed` entry's reason. */
export type BlockReason = `consent:${Channel}` | `consent:list:${string}` | `suppressed:${SuppressionReason}`;

export type ConsentDecision = { allowed: true } | { allowed: false; reason: BlockReason };

export interface ConsentPolicy {
  /**
   * Channels whose marketing messages need an explicit opt-in (no record = no message).
   * @default [] (opt-out model: no record = allowed)
   */
  readonly requireOptIn?: readonly Channel[];
  /**
   * A send node that names a subscription list needs an explicit opt-in to it.
   * @default false
   */
  readonly listsRequireOptIn?: boolean;
}

export const defaultConsentPolicy: ConsentPolicy = { requireOptIn: [], listsRequireOptIn: false };

const ALLOWED: ConsentDecision = { allowed: true };

/**
 * May this message go out? Pure; the rules (see README.md):
 * 1. a suppressed address (bounce, complaint) receives nothing, whatever the message class;
 * 2. marketing: an explicit opt-out of the channel blocks it (or no opt-in, where the policy requires one);
 * 3. any class: a send node that names a list is blocked by an opt-out of that list (or no opt-in, where required);
 * 4. otherwise allowed: transactional messages ignore channel opt-outs.
 */
export function consentDecision(
  profile: { consent?: Readonly<Record<string, ConsentRecord>> },
  channel: Channel,
  messageClass: MessageClass,
  list?: string,
  suppressed?: { reason: SuppressionReason },
  policy: ConsentPolicy = defaultConsentPolicy,
): ConsentDecision {
  if (suppressed) return { allowed: false, reason: `suppressed:${suppressed.reason}` };
  const status = (key: string) => profile.consent?.[key]?.status;
  const blocks = (key: string, optInRequired: boolean) => status(key) === 'opted-out' || (optInRequired && status(key) !== 'opted-in');
  if (messageClass === 'marketing' && blocks(channel, policy.requireOptIn?.includes(channel) ?? false)) return { allowed: false, reason: `consent:${channel}` };
  if (list !== undefined && blocks(`list:${list}`, policy.listsRequireOptIn ?? false)) return { allowed: false, reason: `consent:list:${list}` };
  return ALLOWED;
}
