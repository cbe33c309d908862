import type { ConsentStatus } from '../events/business-event';

// Types only: a profile is built by the platform's own code and never parsed, so no schema (and no zod in the bundles
// of the functions that read profiles).

/**
 * The profile as the identity graph stores it. `merging` is the frozen state between "absorbed" and "folded":
 * the profile no longer accepts writes and its data is on its way into `mergedInto`; `merged` means it has arrived.
 */
export type ProfileStatus = 'active' | 'merging' | 'merged';

export type AttributeValue = string | number | boolean | null;

/** Computed attributes of one event type. Times are normalized ISO-8601 UTC (`toISOString`), so they order as strings. */
export interface ComputedStats {
  /** A non-negative integer. */
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** Totals of the event type's numeric properties (e.g. `order.placed` `total` → lifetime value). */
  sums: Record<string, number>;
}

/**
 * How a consent decision arrived: carried by a business event, or taken explicitly by the person (the consent API,
 * an unsubscribe link, an SMS STOP reply). Explicit decisions are dated by the platform's clock on receipt.
 */
export type ConsentVia = 'event' | 'api' | 'unsubscribe-link' | 'sms-stop';

/** One consent decision received (applied or not): what, when, who (`source`), how (`via`), and which event. */
export interface ConsentChange {
  status: ConsentStatus;
  /** When it was decided: the event's time, or the receipt time of an explicit decision. */
  at: string;
  source: string;
  via: ConsentVia;
  /** When the platform received it (ingestion clock). */
  recordedAt: string;
  eventId?: string;
}

/**
 * The decision in force for one consent key (see consent-state.ts for the rule), and the last changes received
 * for the key, newest first. `via` absent: carried by an event (records written before `via` existed).
 */
export interface ConsentState {
  status: ConsentStatus;
  at: string;
  source: string;
  via?: ConsentVia;
  history?: ConsentChange[];
}

/** One entry of the recent-events window (and, in storage, the record that dedupes the event id on its profile). */
export interface RecentEvent {
  id: string;
  type: string;
  time: string;
  source: string;
  /** Scalar top-level properties only (see `windowEntry`). */
  properties: Record<string, AttributeValue>;
  /** When the platform first recorded it (ingestion clock). */
  receivedAt: string;
}

/**
 * Bounds of one profile item (DynamoDB items hold at most 400 KB; see lambdas/core/profiles/README.md for the budget).
 * Beyond a bound a profile degrades as documented there: an event is never failed because of them, its consent
 * always applies, and so do its updates of the attribute names the profile holds.
 */
export const ProfileLimits = {
  /** Attribute names; beyond them a new name is not stored (the names held keep taking updates). */
  attributes: 50,
  /** Event types with computed attributes (count, first/last seen, sums); later new types are not counted. */
  computedTypes: 50,
  /** Summed numeric properties per event type (identifier names of at most 64 characters, first by name). */
  sumsPerType: 5,
  /** Event ids applied to the profile whose event record is not yet marked applied (see `pending`). */
  pending: 64,
  /** A profile write after which this many pending ids are settled flushes them (marks their records, drops them). */
  pendingFlushAt: 16,
  /** Age of its record after which a pending id is settled: dropping it makes no increment in flight read instead. */
  pendingSettleMs: 120_000,
} as const;

export interface ProfileState {
  id: string;
  status: ProfileStatus;
  mergedInto?: string;
  /** namespace → value → first linked (receipt time, so an old-dated event cannot become the primary). Several values per namespace: people have several devices, and merges bring two emails. */
  identities: Record<string, Record<string, string>>;
  attributes: Record<string, AttributeValue>;
  attributeTimes: Record<string, string>;
  attributeSources: Record<string, string>;
  computed: Record<string, ComputedStats>;
  consent: Record<string, ConsentState>;
  /**
   * [event id, its record's receivedAt] of events applied to this profile whose record is not yet marked `applied` (by id, at most
   * `ProfileLimits.pending`): with the records' flag, what makes an event apply once for as long as its record lives.
   */
  pending: [string, string][];
  /** The latest record time (`receivedAt`) of an id a flush dropped from `pending` (see ingest.ts). */
  flushedAt?: string;
  /** Every profile folded into this one, directly or through another (sorted): the merge record, and what makes folds idempotent. */
  absorbed: string[];
  /** When the event that created the profile was received (ingestion clock, not the event's time, which the sender sets); never changes (the survivor rule orders by it). */
  createdAt: string;
  updatedAt: string;
  /** A non-negative integer. */
  version: number;
}

export interface ProfilePolicy {
  /**
   * Sources ranked highest first. When set, an attribute value from a higher-ranked source wins over a lower-ranked one
   * regardless of time; sources not listed rank below all listed ones.
   * @default [] (off: the latest event time wins)
   */
  readonly sourcePriority: readonly string[];
  /**
   * Which numeric properties are summed per event type: `numeric` sums every finite numeric top-level property;
   * a map names them per event type (unlisted types sum nothing).
   * @default 'numeric'
   */
  readonly sums: 'numeric' | Readonly<Record<string, readonly string[]>>;
  /** The recent-events window: at most `size` entries, none older than `days` (by event time). @default { size: 50, days: 30 } */
  readonly window: { readonly size: number; readonly days: number };
}

export const defaultProfilePolicy: ProfilePolicy = { sourcePriority: [], sums: 'numeric', window: { size: 50, days: 30 } };
