import type { LedgerEntry } from '../runtime/ports';
import type { Agent, AgentReason } from './classify';

/** What the ledger entry of a message learns from its provider's events, one attribute per outcome key. */
export type OutcomeKey =
  | 'delivered'
  | 'bounced'
  | 'complained'
  | 'rejected'
  | 'rendering-failed'
  | 'opened-human'
  | 'opened-machine'
  | 'clicked-human'
  | 'clicked-machine'
  /** An SMS the carrier did not deliver (`detail`: its status, e.g. BLOCKED). */
  | 'undelivered';

export interface LedgerOutcome {
  /** When it happened (the provider's timestamp). */
  at: string;
  agent?: Agent;
  agentReason?: AgentReason;
  link?: string;
  /** Bounce type, reject reason. */
  detail?: string;
}

/** The item attribute an outcome is stored under (top level, so a conditional write can test it). */
export const outcomeAttribute = (key: OutcomeKey): string => `outcome#${key}`;

/**
 * The time attribute a person-level outcome also sets on the entry, the first time (`deliveredAt`, `openedAt`,
 * `clickedAt`…): conversions read `clickedAt` (click-through) and "why" reads them all. Machine opens and clicks set
 * none: a proxy fetching images is not a person opening, a scanner following links is not a click-through.
 */
export function outcomeTimeAttribute(
  key: OutcomeKey,
): 'deliveredAt' | 'bouncedAt' | 'complainedAt' | 'openedAt' | 'clickedAt' | 'undeliveredAt' | undefined {
  switch (key) {
    case 'delivered':
      return 'deliveredAt';
    case 'bounced':
      return 'bouncedAt';
    case 'complained':
      return 'complainedAt';
    case 'opened-human':
      return 'openedAt';
    case 'clicked-human':
      return 'clickedAt';
    case 'undelivered':
      return 'undeliveredAt';
    default:
      return undefined;
  }
}

/** The outcomes recorded on a ledger item, by key. */
export function ledgerOutcomes(item: Readonly<Record<string, unknown>>): Map<OutcomeKey, LedgerOutcome> {
  const out = new Map<OutcomeKey, LedgerOutcome>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('outcome#') && value !== null && typeof value === 'object') out.set(name.slice(8) as OutcomeKey, value as LedgerOutcome);
  }
  return out;
}

/** The ledger as engagement events use it: a sent entry carries its provider's `messageId`. */
export type SentLedgerEntry = LedgerEntry & { messageId?: string } & Record<string, unknown>;

export interface EngagementLedger {
  get(executionId: string, nodeId: string): Promise<SentLedgerEntry | undefined>;
  /**
   * Records an outcome on the entry of this message once: false when the entry already has it, or is not (or no
   * longer) the entry of `messageId`. A conditional single-item write.
   */
  recordOutcome(executionId: string, nodeId: string, messageId: string, key: OutcomeKey, outcome: LedgerOutcome): Promise<boolean>;
}
