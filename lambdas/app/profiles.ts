import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import { EventAttributeValue, EventLimits, formatIssues, IdentityNamespace } from '../core/events/business-event';
import { eraseProfile, exportProfile } from '../core/privacy/privacy';
import { ProfileLimits } from '../core/profiles/model';
import type { MembershipStore } from '../core/segments/ports';
import { updateSegments, type SegmentRuntimeDeps } from '../core/runtime/segments';
import { NotFoundError, ValidationError } from '../core/runtime/errors';
import type { Clock, Executions, IdentityGraphProfileStore, JourneyRegistry, ProfileRecords, RejectedEventEraser } from '../core/runtime/ports';
import { json, parseJsonBody, problem, type ApiEvent } from '../shared/http';
import { apiHandler } from './middleware';
import { own } from '../core/shared/records';
import type { JourneyCounters } from '../core/measure/counters';
import { ownRecord } from '../core/shared/own-record';

export interface ProfileApiDeps {
  profiles: IdentityGraphProfileStore;
  records: ProfileRecords;
  executions: Pick<Executions, 'stop'>;
  rejected: RejectedEventEraser;
  clock: Clock;
  /** Erasure counts `exited` (reason `erased`) for each run it stops. */
  counters?: JourneyCounters;
}

function profileId(event: ApiEvent): string {
  const id = event.pathParameters?.id;
  if (!id) throw new ValidationError('missing profile id', [{ field: 'id', message: 'the path names the profile: /profiles/{id}' }]);
  return id;
}

const notFound = (id: string) => new NotFoundError(`profile "${id}" does not exist`);

/** `GET /profiles/{id}`: the profile with its segment memberships (an id merged into another answers with the surviving profile). */
export function createGetProfileHandler(deps: Pick<ProfileApiDeps, 'profiles'> & { memberships: Pick<MembershipStore, 'get'> }) {
  return apiHandler(async (event) => {
    const id = profileId(event);
    const profile = await deps.profiles.get(id);
    if (!profile) throw notFound(id);
    const { segments } = await deps.memberships.get(profile.id);
    return json(200, { ...profile, segments });
  });
}

const IdentityQuery = z.object({
  identity: z
    .string({ error: 'identity is required, as <namespace>:<value>, e.g. email:ann@example.com' })
    .regex(/^[^:]+:.+$/, 'identity is <namespace>:<value>, e.g. email:ann@example.com')
    // As events hold identities: a namespace of up to 32 characters, a value of up to 256.
    .max(32 + 1 + 256, 'identity is <namespace>:<value>, a value of at most 256 characters')
    .transform((text) => ({ namespace: text.slice(0, text.indexOf(':')), value: text.slice(text.indexOf(':') + 1) }))
    .refine((i) => IdentityNamespace.safeParse(i.namespace).success, 'the identity namespace is a letter followed by letters, digits or _'),
});

/** `GET /profiles?identity=email:ann@example.com`: look a profile up by any of its identities. */
export function createFindProfileHandler(deps: Pick<ProfileApiDeps, 'profiles'>) {
  return apiHandler(async (event) => {
    const query = IdentityQuery.safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw new ValidationError('invalid query', formatIssues(query.error.issues));
    const { namespace, value } = query.data.identity;
    const profile = await deps.profiles.findByIdentity(namespace, value);
    if (!profile) throw new NotFoundError(`no profile has the identity ${namespace}:${value}`);
    return json(200, profile);
  });
}

export const AttributesUpdate = z.strictObject({
  attributes: ownRecord(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'attribute names are identifiers of at most 64 characters'),
    EventAttributeValue,
  )
    .refine((a) => Object.keys(a).length > 0, 'at least one attribute')
    .refine((a) => Object.keys(a).length <= EventLimits.attributes, `at most ${EventLimits.attributes} attributes`),
  /** Recorded as the attributes' source (merge policy may rank sources). */
  source: z.string().min(1).max(256).default('api'),
});

/**
 * `PUT /profiles/{id}/attributes`: attribute updates, applied as an event of the profile (so the merge policy, latest
 * time wins, holds for them like for any event).
 */
export function createUpdateProfileAttributesHandler(deps: Pick<ProfileApiDeps, 'profiles' | 'clock'> & SegmentRuntimeDeps & { journeys: JourneyRegistry }) {
  return apiHandler(async (event) => {
    const id = profileId(event);
    const body = AttributesUpdate.safeParse(parseJsonBody(event) ?? {});
    if (!body.success) throw new ValidationError('invalid attribute update', formatIssues(body.error.issues));
    const profile = await deps.profiles.get(id);
    if (!profile) throw notFound(id);
    // A profile keeps at most ProfileLimits.attributes names: answer what would not be stored instead of a success.
    const added = Object.keys(body.data.attributes).filter((name) => !Object.hasOwn(profile.attributes, name));
    const room = ProfileLimits.attributes - Object.keys(profile.attributes).length;
    if (added.length > room) {
      const message = `the profile holds ${ProfileLimits.attributes - room} attribute names, the most it keeps`;
      const fields = added.slice(Math.max(room, 0)).map((name) => ({ field: `attributes.${name}`, message }));
      throw new ValidationError('attribute limit reached', fields);
    }
    const [namespace, value] = Object.entries(profile.identities)[0];
    const update = {
      id: `attributes-${event.requestContext.requestId}`,
      type: 'profile.attributes-updated',
      source: body.data.source,
      time: deps.clock.now().toISOString(),
      identities: { [namespace]: value },
      attributes: body.data.attributes,
      properties: {},
    };
    const { profile: updated } = await deps.profiles.ingest(update);
    // A profile change like any other: the segments reading these attributes are evaluated now, with their journeys.
    const scope = { changed: { attributes: Object.keys(body.data.attributes), eventTypes: [] } };
    const segments = await updateSegments(deps, await deps.journeys.list(), updated, scope, { id: update.id, type: update.type });
    const reply = { ...updated, segments: segments.memberships ?? (await deps.memberships.get(updated.id)).segments };
    // Latest write wins per attribute: a value dated after this update (an event up to the accepted skew ahead) is
    // kept. Answer what is true: 409 naming each attribute not in force, with the profile as it now is.
    const kept = Object.entries(body.data.attributes).filter(([name, value]) => !isDeepStrictEqual(own(updated.attributes, name), value));
    if (kept.length === 0) return json(200, reply);
    const errors = kept.map(([name]) => ({ field: `attributes.${name}`, message: 'a value dated after this update is held; it was kept' }));
    const conflict = problem(409, 'Conflict', 'some attribute changes did not take effect: later-dated values are held', errors);
    return { ...conflict, body: JSON.stringify({ ...JSON.parse(conflict.body), ...reply }) };
  });
}

/** `DELETE /profiles/{id}`: erases the profile everywhere and stops its journeys. */
export function createEraseProfileHandler(deps: ProfileApiDeps) {
  return apiHandler(async (event) => {
    const id = profileId(event);
    const report = await eraseProfile(deps, id);
    if (!report) throw notFound(id);
    return json(200, report);
  });
}

/** `GET /profiles/{id}/export`: everything held about the profile. */
export function createExportProfileHandler(deps: Omit<ProfileApiDeps, 'executions'> & { memberships: Pick<MembershipStore, 'get'> }) {
  return apiHandler(async (event) => {
    const id = profileId(event);
    const data = await exportProfile(deps, id, deps.clock.now().toISOString());
    if (!data) throw notFound(id);
    return json(200, data);
  });
}
