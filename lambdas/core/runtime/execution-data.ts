import type { BusinessEvent } from '../events/business-event';
import type { ExecutionInput } from '../journey/asl';
import { membershipKey } from '../segments/catalog';
import type { Profile } from './ports';

/**
 * What a journey run carries in its execution data, and how much. Step Functions fails a run whose state data passes
 * 256 KiB ("Maximum input or output size for a task, state, or execution", Step Functions service quotas:
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), and keeps it in the execution history.
 * So a run holds ids rather than copies: the profile is read by each step that needs it, the entry event travels
 * without its identities, attributes and consent, and every step result has a budget (checked per journey at build
 * time by `runDataBudget`).
 */
export const RUN_DATA_LIMITS = {
  /** Step Functions' limit on a run's state data. */
  maxStateBytes: 256 * 1024,
  /** The start input: the entry event's properties or a trigger's context (at most 64 KB, J4), and segment ids. */
  maxInputBytes: 80 * 1024,
  /** A rendered message lives in the run between its send step and its ledger update only. */
  maxMessageBytes: 80 * 1024,
  /** An event that resumed a wait-for-event (larger ones keep their scalar properties, as the recent-events window). */
  maxResumedEventBytes: 6 * 1024,
  /** The profile a condition reloads: only the attributes, identities and segments it reads, each value bounded. */
  maxProfileValueBytes: 4 * 1024,
  /** One offer's content for a placement (decisions/model.ts enforces it on the catalog). */
  maxOfferContentBytes: 8 * 1024,
} as const;

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

/** The entry event as a run sees it: no identities, attributes or consent (they are the profile's, read from it). */
export function runEvent(event: unknown): unknown {
  if (!isBusinessEventLike(event)) return event;
  const { id, type, source, time, properties } = event;
  return { id, type, source, time, properties };
}

const MAX_SCALAR_PROPERTIES = 16;
const MAX_SCALAR_STRING = 256;

/**
 * The event handed to a resumed wait-for-event: like `runEvent`, and when its properties are large, only its scalar
 * properties (strings up to 256 characters, at most 16, by name), marked `truncated`.
 */
export function resumedEvent(event: BusinessEvent): Record<string, unknown> {
  const compact = runEvent(event) as Record<string, unknown>;
  if (jsonBytes(compact) <= RUN_DATA_LIMITS.maxResumedEventBytes) return compact;
  const properties: Record<string, unknown> = Object.create(null);
  let kept = 0;
  for (const name of Object.keys(event.properties).sort()) {
    if (kept >= MAX_SCALAR_PROPERTIES || name.length > MAX_SCALAR_STRING) continue;
    const value = event.properties[name];
    const scalar = value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (scalar || (typeof value === 'string' && value.length <= MAX_SCALAR_STRING)) {
      properties[name] = value;
      kept++;
    }
  }
  return { ...compact, properties: { ...properties }, truncated: true };
}

/** The profile part of a start input: its id and segment memberships; steps read attributes and identities fresh. */
export function runProfile(profile: Pick<Profile, 'id' | 'segments'>): ExecutionInput['profile'] {
  const snapshot: ExecutionInput['profile'] = { id: profile.id, attributes: {}, identities: {} };
  if (profile.segments !== undefined) {
    snapshot.segments = Object.fromEntries(Object.entries(profile.segments).map(([id, at]) => [membershipKey(id), at]));
  }
  return snapshot;
}

/**
 * The profile a condition reloads, projected to the paths it reads (`profile.attributes.tier`,
 * `profile.segments.gold`): what the Choice state needs and nothing more. Values over the budget are left out.
 */
export function projectProfile(profile: ExecutionInput['profile'], paths: readonly string[]): ExecutionInput['profile'] {
  const out = { id: profile.id, attributes: {} as Record<string, unknown>, identities: {} as Record<string, string>, segments: {} as Record<string, string> };
  for (const path of paths) {
    const [root, part, name] = path.split('.');
    if (root !== 'profile' || name === undefined) continue;
    const source = part === 'attributes' ? profile.attributes : part === 'identities' ? profile.identities : part === 'segments' ? profile.segments : undefined;
    if (!source || !Object.hasOwn(source, name)) continue;
    const value = (source as Record<string, unknown>)[name];
    if (jsonBytes(value) > RUN_DATA_LIMITS.maxProfileValueBytes) continue;
    Object.defineProperty(out[part as 'attributes'], name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isBusinessEventLike(event: unknown): event is Pick<BusinessEvent, 'id' | 'type' | 'source' | 'time' | 'properties'> {
  return !!event && typeof event === 'object' && !Array.isArray(event) && 'type' in event && 'properties' in event;
}
