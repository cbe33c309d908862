import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { FieldError } from '../core/events/business-event';
import { ConflictError, NotFoundError, ValidationError } from '../core/runtime/errors';
import type { Clock, JourneyRegistry } from '../core/runtime/ports';
import { estimateSegment, runScanAction, startSnapshot, type EstimateDeps, type ScanPageDeps } from '../core/segments/batch';
import type { SegmentCatalog } from '../core/segments/cached-catalog';
import type { AudienceJobs, MembershipStore, ProfileScanner, SegmentRecord, SegmentStore, SnapshotStore } from '../core/segments/ports';
import { parseSegment, type Rule, type SegmentDefinition } from '../core/segments/rule';
import { fieldErrorsFromMessages, json, parseJsonBody, type ApiEvent, type ApiResult } from '../shared/http';
import { apiHandler, withPowertools } from './middleware';

/** What the segments API reads and writes (ports; the AWS and local stacks provide them). */
export interface SegmentApiDeps {
  segmentStore: SegmentStore;
  snapshots: SnapshotStore;
  profileScanner: ProfileScanner;
  memberships: Pick<MembershipStore, 'get'>;
  audienceJobs: AudienceJobs;
  segments: SegmentCatalog;
  /** Deleting a segment a journey uses (entry, exit criterion, membership branch) is refused. */
  journeys: Pick<JourneyRegistry, 'list'>;
  clock: Clock;
  /** Snapshot ids; default random UUIDs. */
  newId?: () => string;
  /** Parallel-scan segments of a snapshot job; default 8. */
  scanSegments?: number;
  /** Sizes the estimate's scan segments (see `estimateSegment`); without it 16 are used. */
  approximateProfileCount?: EstimateDeps['approximateProfileCount'];
}

function pathId(event: ApiEvent, name: 'id' | 'snapshotId' = 'id'): string {
  const id = event.pathParameters?.[name];
  if (!id) throw new ValidationError(`missing ${name}`, [{ field: name, message: `the path names it: /segments/{id}${name === 'snapshotId' ? '/snapshots/{snapshotId}' : ''}` }]);
  return id;
}

const segmentNotFound = (id: string) => new NotFoundError(`segment "${id}" does not exist`);

function parseDefinition(body: unknown): SegmentDefinition {
  const parsed = parseSegment(body);
  if (!parsed.ok) throw new ValidationError('invalid segment', fieldErrorsFromMessages(parsed.errors));
  return parsed.value;
}

/** Every `segment` condition of a rule with its path (`rule.rules[1].id`). */
function segmentReferences(rule: Rule, path = 'rule'): { id: string; field: string }[] {
  switch (rule.kind) {
    case 'segment':
      return [{ id: rule.id, field: `${path}.id` }];
    case 'all':
    case 'any':
      return rule.rules.flatMap((r, i) => segmentReferences(r, `${path}.rules[${i}]`));
    case 'not':
      return segmentReferences(rule.rule, `${path}.rule`);
    default:
      return [];
  }
}

/**
 * The references of `candidate` checked against the other stored segments: each names a segment that exists, and
 * none leads back to the candidate (a cycle). Each problem names the reference's rule path.
 */
export function referenceErrors(candidate: SegmentDefinition, stored: readonly SegmentDefinition[]): FieldError[] {
  const byId = new Map(stored.filter((d) => d.id !== candidate.id).map((d) => [d.id, d]));
  byId.set(candidate.id, candidate);
  const refsOf = (id: string) => segmentReferences(byId.get(id)!.rule).map((r) => r.id).filter((r) => byId.has(r));
  /** A path of references from `from` to the candidate, if any. */
  const pathBack = (from: string): string[] | undefined => {
    const previous = new Map<string, string | undefined>([[from, undefined]]);
    const queue = [from];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (id === candidate.id) {
        const path: string[] = [];
        for (let at: string | undefined = id; at !== undefined; at = previous.get(at)) path.unshift(at);
        return path;
      }
      for (const next of refsOf(id)) {
        if (previous.has(next)) continue;
        previous.set(next, id);
        queue.push(next);
      }
    }
    return undefined;
  };
  const errors: FieldError[] = [];
  for (const ref of segmentReferences(candidate.rule)) {
    if (!byId.has(ref.id)) {
      errors.push({ field: ref.field, message: `references unknown segment "${ref.id}"` });
      continue;
    }
    const back = pathBack(ref.id);
    if (back) errors.push({ field: ref.field, message: `references "${ref.id}", which leads back to this segment: a cycle ${[candidate.id, ...back].join(' → ')}` });
  }
  return errors;
}

async function checkReferences(deps: Pick<SegmentApiDeps, 'segmentStore'>, definition: SegmentDefinition): Promise<void> {
  const stored = (await deps.segmentStore.list()).map((r) => r.definition);
  const errors = referenceErrors(definition, stored);
  if (errors.length > 0) throw new ValidationError('the segment references segments it cannot', errors);
}

function withVersion(statusCode: number, record: SegmentRecord, extra: Record<string, string> = {}): ApiResult {
  const result = json(statusCode, record);
  return { ...result, headers: { ...result.headers, etag: `"${record.version}"`, ...extra } };
}

/** `GET /segments`: every segment, files and API-created ones. */
export function createListSegmentsHandler(deps: Pick<SegmentApiDeps, 'segmentStore'>) {
  return apiHandler(async () => json(200, { segments: await deps.segmentStore.list() }));
}

/** `GET /segments/{id}`: the segment with its origin and version (also as the ETag). */
export function createGetSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const record = await deps.segmentStore.get(id);
    if (!record) throw segmentNotFound(id);
    return withVersion(200, record);
  });
}

/** `POST /segments`: a new segment (body: the definition). 400 naming the rule path; 409 when the id is taken. */
export function createCreateSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore' | 'clock'>) {
  return apiHandler(async (event) => {
    const definition = parseDefinition(parseJsonBody(event));
    const existing = await deps.segmentStore.get(definition.id);
    if (existing) throw new ConflictError(`segment "${definition.id}" already exists (${existing.origin === 'file' ? 'deployed from a file' : 'created through the API'}); PUT /segments/${definition.id} changes it`);
    await checkReferences(deps, definition);
    const record: SegmentRecord = { definition, origin: 'api', version: 1, updatedAt: deps.clock.now().toISOString() };
    if (!(await deps.segmentStore.put(record, {}))) throw new ConflictError(`segment "${definition.id}" was created by another request at the same time`);
    return withVersion(201, record, { location: `/segments/${definition.id}` });
  });
}

/** `If-Match: "3"` (or `3`): the version the client read. */
function ifMatchVersion(event: ApiEvent): number | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'if-match')?.[1];
  if (header === undefined || header === null || header.trim() === '') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!match) throw new ValidationError('invalid If-Match header', [{ field: 'If-Match', message: 'the segment version as returned in the ETag, e.g. "3"' }]);
  return Number(match[1]);
}

/**
 * `PUT /segments/{id}`: replaces an API-created segment (404 when there is none: creating is POST's job). The body's id
 * may be omitted and otherwise must match the path. 409 for file segments (deployments manage them) and when the
 * segment changed since the version in `If-Match` (or since it was read).
 */
export function createPutSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore' | 'clock'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const expected = ifMatchVersion(event);
    const body = parseJsonBody(event);
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'id' in body && body.id !== id) {
      throw new ValidationError('the body names another segment', [{ field: 'id', message: `must be "${id}" (the path's id) or omitted` }]);
    }
    const definition = parseDefinition(body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body, id } : body);
    const existing = await deps.segmentStore.get(id);
    if (!existing) throw segmentNotFound(id);
    if (existing.origin === 'file') throw new ConflictError(`segment "${id}" is deployed from a file; change the file and deploy`);
    if (expected !== undefined && expected !== existing.version) throw new ConflictError(`segment "${id}" is at version ${existing.version}, not ${expected}; read it again`);
    await checkReferences(deps, definition);
    const record: SegmentRecord = { definition, origin: 'api', version: existing.version + 1, updatedAt: deps.clock.now().toISOString() };
    if (!(await deps.segmentStore.put(record, { expectedVersion: existing.version }))) throw new ConflictError(`segment "${id}" was changed by another request; read it again`);
    return withVersion(200, record);
  });
}

/** Does this value (a journey definition) hold `segment: id` anywhere (entry, exit criterion, membership condition)? */
function mentionsSegment(value: unknown, id: string): boolean {
  if (Array.isArray(value)) return value.some((v) => mentionsSegment(v, id));
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => (key === 'segment' && v === id) || mentionsSegment(v, id));
}

/** `DELETE /segments/{id}`: 204; 409 for file segments, and while another segment or a journey uses it. */
export function createDeleteSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore' | 'journeys'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const existing = await deps.segmentStore.get(id);
    if (!existing) throw segmentNotFound(id);
    if (existing.origin === 'file') throw new ConflictError(`segment "${id}" is deployed from a file; remove the file and deploy`);
    const users = (await deps.segmentStore.list()).filter((r) => r.definition.id !== id && segmentReferences(r.definition.rule).some((ref) => ref.id === id)).map((r) => r.definition.id);
    if (users.length > 0) throw new ConflictError(`segment "${id}" is referenced by segment${users.length > 1 ? 's' : ''} ${users.map((u) => `"${u}"`).join(', ')}`);
    const journeys = (await deps.journeys.list()).filter((r) => mentionsSegment(r.journey, id)).map((r) => r.journey.id);
    if (journeys.length > 0) throw new ConflictError(`segment "${id}" is used by journey${journeys.length > 1 ? 's' : ''} ${journeys.map((j) => `"${j}"`).join(', ')}`);
    if (!(await deps.segmentStore.delete(id))) throw segmentNotFound(id);
    return { statusCode: 204, headers: {}, body: '' };
  });
}

/** `POST /segments/{id}/evaluate`: starts an audience snapshot; 202 with its header and Location. */
export function createEvaluateSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore' | 'snapshots' | 'audienceJobs' | 'clock' | 'newId' | 'scanSegments'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const header = await startSnapshot({ ...deps, newId: deps.newId ?? randomUUID }, id);
    const result = json(202, header);
    return { ...result, headers: { ...result.headers, location: `/segments/${id}/snapshots/${header.id}` } };
  });
}

const SnapshotQuery = z.object({
  limit: z.coerce
    .number({ error: 'limit is a whole number from 1 to 1000' })
    .int('limit is a whole number from 1 to 1000')
    .min(1, 'limit is a whole number from 1 to 1000')
    .max(1000, 'limit is a whole number from 1 to 1000')
    .default(100),
  cursor: z.string().min(1, 'cursor is the value returned with the previous page').max(4096, 'cursor is the value returned with the previous page').optional(),
});

function queryErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(query)', message: i.message }));
}

/** `GET /segments/{id}/snapshots/{snapshotId}?limit=&cursor=`: the snapshot's header and a page of its members. */
export function createGetSnapshotHandler(deps: Pick<SegmentApiDeps, 'snapshots'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const snapshotId = pathId(event, 'snapshotId');
    const query = SnapshotQuery.safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw new ValidationError('invalid query', queryErrors(query.error));
    const header = await deps.snapshots.get(snapshotId);
    if (!header || header.segmentId !== id) throw new NotFoundError(`segment "${id}" has no snapshot "${snapshotId}"`);
    const page = await deps.snapshots.members(snapshotId, { limit: query.data.limit, ...(query.data.cursor ? { cursor: query.data.cursor } : {}) });
    return json(200, { ...header, members: page.profileIds, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) });
  });
}

const EstimateQuery = z.object({
  sample: z.coerce
    .number({ error: 'sample is a whole number from 100 to 100000' })
    .int('sample is a whole number from 100 to 100000')
    .min(100, 'sample is a whole number from 100 to 100000')
    .max(100_000, 'sample is a whole number from 100 to 100000')
    .default(1000),
});

/** `GET /segments/{id}/estimate?sample=`: the segment's size estimated from a sample of profiles (exact on small tables). */
export function createEstimateSegmentHandler(deps: Pick<SegmentApiDeps, 'segmentStore' | 'profileScanner' | 'memberships' | 'segments' | 'clock' | 'approximateProfileCount'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const query = EstimateQuery.safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw new ValidationError('invalid query', queryErrors(query.error));
    return json(200, await estimateSegment(deps, id, query.data.sample));
  });
}

/** The audience-scan state machine's function: `page`, `finish` or `fail` (see core/segments/scan-asl.ts). */
export function createScanProfilesHandler(deps: ScanPageDeps) {
  return withPowertools(async (payload: unknown) => runScanAction(deps, payload));
}
