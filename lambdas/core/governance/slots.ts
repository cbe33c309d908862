import type { CapClaim } from './evaluate';
import type { ReserveOutcome, ReserveRequest } from './ports';

/**
 * One send that counts towards caps, as the cap item stores it: holder (`<execution id>#<node id>`), time (ms),
 * when every rule it counts for is done with it (ms), and the period key per rule id (`''` for a rolling rule).
 */
export interface Slot {
  h: string;
  t: number;
  x: number;
  r: Record<string, string>;
}

/** Slots an item holds at most (400 KB items): past it the oldest are dropped (README.md, limits). */
export const MAX_SLOTS = 1000;

export const holderOf = (executionId: string, nodeId: string) => `${executionId}#${nodeId}`;

/** Does the slot count towards the claim's rule in its current period? */
export function slotCounts(slot: Slot, claim: CapClaim, now: number): boolean {
  if (!Object.hasOwn(slot.r, claim.ruleId)) return false;
  const period = claim.period;
  return 'rolling' in period ? slot.t > now - period.rolling * 1000 : slot.r[claim.ruleId] === period.key;
}

/** Slots as read from storage: anything else (a hand-edited item) is dropped, never trusted. */
export function readSlots(raw: unknown): Slot[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((s: unknown) => {
    if (typeof s !== 'object' || s === null) return [];
    const { h, t, x, r } = s as Record<string, unknown>;
    if (typeof h !== 'string' || typeof t !== 'number' || typeof x !== 'number') return [];
    if (typeof r !== 'object' || r === null) return [];
    const rules: Record<string, string> = Object.create(null);
    for (const [id, key] of Object.entries(r)) if (typeof key === 'string') rules[id] = key;
    return [{ h, t, x, r: rules }];
  });
}

/** `taken`: a new slot (not the holder's earlier one). */
export type Reservation =
  | (ReserveOutcome & { ok: false })
  | { ok: true; slots: Slot[]; changed: boolean; taken: boolean };

/**
 * The check and the new slot list of one reservation, pure: the adapters write `slots` conditionally on the version
 * they read, so the check and the write are one atomic step.
 */
export function reserveSlot(stored: readonly Slot[], request: ReserveRequest): Reservation {
  const now = request.at.getTime();
  const live = stored.filter((s) => s.x > now);
  const unchanged = { ok: true, slots: live, changed: live.length !== stored.length, taken: false } as const;
  if (live.some((s) => s.h === request.holder) || request.claims.length === 0) return unchanged;
  for (const claim of request.claims) {
    const used = live.filter((s) => slotCounts(s, claim, now)).length;
    // A higher-priority run that has not sent in this period yet keeps one slot free.
    const hasSent = (run: string) => live.some((s) => s.h.startsWith(`${run}#`) && slotCounts(s, claim, now));
    const heldBack = (claim.higherRuns ?? []).filter((run) => !hasSent(run)).length;
    if (used + 1 + heldBack > claim.limit) return { ok: false, ruleId: claim.ruleId };
  }
  const rules: Record<string, string> = Object.create(null);
  for (const claim of request.claims) rules[claim.ruleId] = 'rolling' in claim.period ? '' : claim.period.key;
  const keep = Math.max(...request.claims.map((c) => c.keepSeconds));
  const slots = [...live, { h: request.holder, t: now, x: now + keep * 1000, r: rules }];
  slots.sort((a, b) => a.t - b.t);
  return { ok: true, slots: slots.slice(Math.max(0, slots.length - MAX_SLOTS)), changed: true, taken: true };
}

/** The survivor's slots with the absorbed profile's added (by holder; the item's bound applies). */
export function mergeSlots(survivor: readonly Slot[], absorbed: readonly Slot[], at: Date): { slots: Slot[]; added: number } {
  const live = survivor.filter((s) => s.x > at.getTime());
  const held = new Set(live.map((s) => s.h));
  const extra = absorbed.filter((s) => s.x > at.getTime() && !held.has(s.h));
  const slots = [...live, ...extra].sort((a, b) => a.t - b.t);
  return { slots: slots.slice(Math.max(0, slots.length - MAX_SLOTS)), added: extra.length };
}

/** The slot list without the holder's slot (and without expired ones); `released` when it held one. */
export function releaseSlot(stored: readonly Slot[], holder: string, at: Date): { slots: Slot[]; released: boolean } {
  const slots = stored.filter((s) => s.x > at.getTime() && s.h !== holder);
  return { slots, released: stored.some((s) => s.h === holder) };
}
