import type { CapClaim } from './evaluate';
import type { Rule } from './rules';

/** The governance rules in force (files and API); read by the send step for every message. */
export interface RuleSource {
  list(): Promise<Rule[]>;
}

/** `taken`: a new slot; false when the holder already had its slot (a retried step). */
/** One message's reservation: its holder (`<execution id>#<node id>`), the time, every cap that counts it. */
export interface ReserveRequest {
  holder: string;
  at: Date;
  claims: readonly CapClaim[];
}

export type ReserveOutcome = { ok: true; taken: boolean } | { ok: false; ruleId: string };

/**
 * The slots messages take of each profile's frequency caps. One item per profile holds every send that counts
 * towards a cap; a reservation checks every claim and adds the send in one conditional write (README.md).
 */
export interface SendCapStore {
  /**
   * Takes a slot of every claim for `holder` (`<execution id>#<node id>`), or none: refused with the first full
   * rule. A holder that already has its slot (a retried step) gets `ok` and nothing changes.
   */
  reserve(profileId: string, request: ReserveRequest): Promise<ReserveOutcome>;
  /** Gives the holder's slot back (a delivery that failed); false when it held none. Idempotent. */
  release(profileId: string, holder: string, at: Date): Promise<boolean>;
  /**
   * A merge: adds the absorbed profile's slots to the survivor's (a union by holder, so a repeat changes nothing).
   * Returns 1 when the survivor's item changed, else 0.
   */
  carryOver(fromProfileId: string, toProfileId: string): Promise<number>;
}

/** A run of a journey, as arbitration and exclusive groups see it. */
export interface ActiveRun {
  journeyId: string;
  executionArn: string;
}

/** The profile's running journey runs (only journeys that ask: `journeyIds`). */
export interface RunningJourneys {
  list(profileId: string, journeyIds: readonly string[]): Promise<ActiveRun[]>;
}
