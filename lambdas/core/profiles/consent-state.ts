import type { ConsentChange, ConsentState, ConsentVia } from './model';

/** The changes kept per consent key (newest first); older ones drop off. */
export const CONSENT_HISTORY_SIZE = 20;

/** Ways a person states a decision directly (not through a business event). */
export type ExplicitConsentVia = Exclude<ConsentVia, 'event'>;

/**
 * Firm decisions: an explicit one (API, unsubscribe link, SMS STOP), or any opt-out. Soft: an event-borne opt-in.
 * A soft decision never replaces a firm one, whatever the times: a sign-up event (even one dated in the future)
 * cannot undo an unsubscribe; re-subscribing after an opt-out takes an explicit opt-in.
 */
function firm(decision: Pick<ConsentState, 'status' | 'via'>): number {
  return (decision.via ?? 'event') !== 'event' || decision.status === 'opted-out' ? 1 : 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Positive when decision `a` wins over `b`: firm over soft; then the later `at`; then opted-out (a tie never
 * re-subscribes anyone); then the greater source and via. A total order, so folding profiles stays a maximum.
 */
export function compareConsent(a: ConsentState, b: ConsentState): number {
  const outFirst = (c: ConsentState) => (c.status === 'opted-out' ? 1 : 0);
  return firm(a) - firm(b) || compare(a.at, b.at) || outFirst(a) - outFirst(b) || compare(a.source, b.source) || compare(a.via ?? 'event', b.via ?? 'event');
}

const changeKey = (c: ConsentChange) => JSON.stringify([c.recordedAt, c.at, c.via, c.source, c.status, c.eventId ?? '']);

/** Union of two histories, newest received first, at most `CONSENT_HISTORY_SIZE`: commutative and associative. */
export function mergeConsentHistory(a: readonly ConsentChange[], b: readonly ConsentChange[]): ConsentChange[] {
  const byKey = new Map<string, ConsentChange>();
  for (const change of [...a, ...b]) byKey.set(changeKey(change), change);
  return [...byKey.entries()]
    .sort(([x], [y]) => compare(y, x))
    .slice(0, CONSENT_HISTORY_SIZE)
    .map(([, change]) => change);
}

function decisionOf(change: ConsentChange): ConsentState {
  return { status: change.status, at: change.at, source: change.source, via: change.via };
}

function withHistory(decision: ConsentState, history: ConsentChange[]): ConsentState {
  const { history: _old, ...rest } = decision;
  return { ...rest, history };
}

/** Applies one change to the state held for a key; `applied` says whether it is now the decision in force. */
export function applyConsentChange(held: ConsentState | undefined, change: ConsentChange): { state: ConsentState; applied: boolean } {
  const candidate = decisionOf(change);
  const applied = !held || compareConsent(candidate, held) > 0;
  const history = mergeConsentHistory(held?.history ?? [], [change]);
  return { state: withHistory(applied ? candidate : held, history), applied };
}

/** Merges the states two profiles hold for one key (a merge of profiles): the winning decision, both histories. */
export function mergeConsentStates(a: ConsentState, b: ConsentState): ConsentState {
  return withHistory(compareConsent(a, b) >= 0 ? a : b, mergeConsentHistory(a.history ?? [], b.history ?? []));
}

/** Why `change` did not take effect over `held` (a sentence for the API answer). */
export function consentNotAppliedReason(held: ConsentState, change: Pick<ConsentChange, 'status' | 'via'>): string {
  const holding = `${held.status === 'opted-out' ? 'an opt-out' : 'an opt-in'} (${held.via ?? 'event'}, source ${held.source}, at ${held.at})`;
  if (firm(held) > firm(change)) return `${holding} holds: an event cannot re-subscribe after an opt-out; an explicit opt-in (PUT /profiles/{id}/consent) can`;
  return `${holding} holds: it is later`;
}
