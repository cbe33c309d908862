import * as z from 'zod';
import { CustomerIdentities, formatIssues } from '../events/business-event';
import { enterJourney, type EnterDeps, type EntryOutcome } from './enter';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { ownRecord } from '../shared/own-record';
import type { JourneyRegistry, ProfileStore } from './ports';

/** Trigger payloads are capped like Step Functions inputs leave room for: 64 KB of context. */
export const MAX_TRIGGER_CONTEXT_BYTES = 64 * 1024;

export const TriggerRequest = z
  .strictObject({
    profileId: z.string().min(1).max(128).optional(),
    identities: CustomerIdentities.optional(),
    /** Data for the journey's templates and conditions, under `context`. */
    context: ownRecord(z.string(), z.unknown()).default({}),
    /** Makes the trigger idempotent: the same key never starts the journey twice for the profile. */
    idempotencyKey: z.string().min(1).max(128).optional(),
  })
  .refine((r) => (r.profileId === undefined) !== (r.identities === undefined), { message: 'give exactly one of profileId or identities', path: ['profileId'] })
  .refine((r) => Buffer.byteLength(JSON.stringify(r.context)) <= MAX_TRIGGER_CONTEXT_BYTES, { message: 'context is at most 64 KB of JSON', path: ['context'] });
export type TriggerRequest = z.infer<typeof TriggerRequest>;

export interface TriggerDeps extends EnterDeps {
  profiles: ProfileStore;
  journeys: JourneyRegistry;
}

/** Starts an API-triggered journey for one profile (found by id, or by identities, created if new). */
export async function triggerJourney(deps: TriggerDeps, journeyId: string, body: unknown, requestId: string): Promise<EntryOutcome> {
  const parsed = TriggerRequest.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError('invalid trigger request', formatIssues(parsed.error.issues));
  const request = parsed.data;
  const record = await deps.journeys.get(journeyId);
  if (!record) throw new NotFoundError(`journey "${journeyId}" does not exist`);
  if (record.journey.entry.kind !== 'api') throw new ConflictError(`journey "${journeyId}" starts on ${record.journey.entry.kind === 'event' ? 'events' : 'segment entry'}, not by API trigger`);
  const now = deps.clock.now().toISOString();
  const entryId = request.idempotencyKey ?? requestId;
  const event = { id: entryId, type: 'journey.triggered', source: 'waymark.api', time: now, identities: request.identities ?? {}, properties: {} };
  let profile;
  if (request.profileId !== undefined) {
    profile = await deps.profiles.get(request.profileId);
    if (!profile) throw new NotFoundError(`profile "${request.profileId}" does not exist`);
  } else {
    profile = await deps.profiles.upsertFromEvent({ ...event, identities: request.identities! });
  }
  return enterJourney(deps, record, profile, { id: entryId, event, context: request.context });
}
