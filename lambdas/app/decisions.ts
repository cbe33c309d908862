import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { IdentityNamespace, type FieldError } from '../core/events/business-event';
import { checkCatalog, type DecisionCatalogSource } from '../core/decisions/catalog';
import { Offer, parseOffer, parsePlacement, Placement } from '../core/decisions/model';
import type { CapStore, CatalogRecord, CatalogStore, DecisionLog, DecisionRecord, OfferStore, PlacementStore } from '../core/decisions/ports';
import { makeDecision } from '../core/decisions/service';
import { ConflictError, NotFoundError, ValidationError } from '../core/runtime/errors';
import type { Clock, JourneyRegistry, ProfileStore } from '../core/runtime/ports';
import type { MembershipStore } from '../core/segments/ports';
import { fieldErrorsFromMessages, json, parseJsonBody, type ApiEvent, type ApiResult } from '../shared/http';
import { apiHandler } from './middleware';

/** What the decisioning API reads and writes (ports; the AWS and local stacks provide them). */
export interface DecisionApiDeps {
  offerStore: OfferStore;
  placementStore: PlacementStore;
  caps: CapStore;
  decisionLog: DecisionLog;
  /** The compiled catalog; `invalidate` (when there is one) is called after every successful catalog write. */
  decisions: DecisionCatalogSource & { invalidate?(): void };
  profiles: Pick<ProfileStore, 'get' | 'findByIdentity'>;
  memberships: Pick<MembershipStore, 'get'>;
  /** Deleting a placement a journey `decide` node uses is refused. */
  journeys: Pick<JourneyRegistry, 'list'>;
  clock: Clock;
  /** Decision ids; default random UUIDs. */
  newId?: () => string;
}

/** `placements[1]`, `caps.perProfile.period`: how the API names a field (the paths `parseOffer` reports). */
function fieldOf(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  return text;
}

/** zod issues as field errors; an unknown key is named by itself, so the client sees which field to remove. */
function issueErrors(error: z.ZodError, fallback = '(body)'): FieldError[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: fieldOf([...issue.path, key]), message: `unknown field "${key}"` }));
    return [{ field: fieldOf(issue.path) || fallback, message: issue.message }];
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

// --- Decisions -------------------------------------------------------------------------------------------------

const MAX_PLACEMENTS = 10;
const MAX_COUNT = 10;
const MAX_CONTEXT_KEYS = 50;
const IDENTITY_FORMAT = 'identity is "<namespace>:<value>" (e.g. "email:ann@example.com") or { "namespace": "email", "value": "ann@example.com" }';

const Identity = z.union(
  [
    z
      .string()
      .regex(/^[^:]+:.+$/)
      .transform((text) => ({ namespace: text.slice(0, text.indexOf(':')), value: text.slice(text.indexOf(':') + 1) })),
    z.strictObject({ namespace: z.string(), value: z.string().min(1).max(256) }),
  ],
  { error: IDENTITY_FORMAT },
  // Values are at most 256 characters, as events hold them (a longer one names no profile, and overflows the key).
).refine((i) => IdentityNamespace.safeParse(i.namespace).success && i.value.length <= 256, IDENTITY_FORMAT);

const DecideBody = z.strictObject({
  profileId: z.string({ error: 'profileId is a profile id (a string)' }).min(1, 'profileId is a profile id').max(256, 'profileId is at most 256 characters').optional(),
  identity: Identity.optional(),
  placements: z
    .array(z.string({ error: 'a placement id (a string)' }).min(1, 'a placement id').max(64, 'placement ids are at most 64 characters'), {
      error: `placements is a list of 1 to ${MAX_PLACEMENTS} placement ids`,
    })
    .min(1, `placements is a list of 1 to ${MAX_PLACEMENTS} placement ids`)
    .max(MAX_PLACEMENTS, `placements is a list of 1 to ${MAX_PLACEMENTS} placement ids`)
    .superRefine((ids, ctx) => {
      ids.forEach((id, i) => {
        const first = ids.indexOf(id);
        if (first !== i) ctx.addIssue({ code: 'custom', path: [i], message: `placement "${id}" is already placements[${first}]` });
      });
    }),
  count: z
    .number({ error: `count is a whole number from 1 to ${MAX_COUNT}` })
    .int(`count is a whole number from 1 to ${MAX_COUNT}`)
    .min(1, `count is a whole number from 1 to ${MAX_COUNT}`)
    .max(MAX_COUNT, `count is a whole number from 1 to ${MAX_COUNT}`)
    .default(1),
  context: z
    .record(z.string(), z.unknown(), { error: 'context is an object (name → value) the ranking formulas read' })
    .refine((c) => Object.keys(c).length <= MAX_CONTEXT_KEYS, `context has at most ${MAX_CONTEXT_KEYS} keys`)
    .default({}),
  /**
   * The profile's key for this request: a retry answers the first decision (no second cap reservation), another request
   * with it is 409; kept as long as the log (90 days). See offers/README.md.
   */
  idempotencyKey: z.string({ error: 'idempotencyKey is a string' }).min(1, 'idempotencyKey is 1 to 200 characters').max(200, 'idempotencyKey is 1 to 200 characters').optional(),
});

/** What a caller sees of a decision (the stored record keeps the context and origin too). */
function decisionView(record: DecisionRecord) {
  return {
    decisionId: record.id,
    profileId: record.profileId,
    at: record.at,
    placements: Object.fromEntries(
      Object.entries(record.placements).map(([placementId, decision]) => [
        placementId,
        {
          offers: decision.offers.map(({ offerId, name, content, score, tags, fallback }) => ({ offerId, name, content, score, tags, fallback })),
          fallback: decision.fallback,
          explanation: decision.explanation,
        },
      ]),
    ),
  };
}

/**
 * `POST /decisions`: the best offers per placement for one profile, by id or by identity (exactly one). 200 with the
 * offers and an explanation per considered offer; 400 naming the field (unknown placement: `placements[i]`); 404 when
 * no such profile; 409 naming `idempotencyKey` when the key came with another request, or its first request is
 * still deciding. The decision is appended to the profile's decision log (origin `api`).
 */
export function createDecideHandler(deps: Pick<DecisionApiDeps, 'decisions' | 'caps' | 'decisionLog' | 'profiles' | 'memberships' | 'clock' | 'newId'>) {
  return apiHandler(async (event) => {
    const body = parseJsonBody(event);
    if (!isObject(body)) throw new ValidationError('invalid decision request', [{ field: '(body)', message: 'the body is a JSON object: { "profileId" or "identity", "placements", "count"?, "context"? }' }]);
    const parsed = DecideBody.safeParse(body);
    if (!parsed.success) throw new ValidationError('invalid decision request', issueErrors(parsed.error));
    const { profileId, identity, placements, count, context, idempotencyKey } = parsed.data;
    if ((profileId === undefined) === (identity === undefined)) {
      const message = profileId === undefined ? 'give the profile by profileId or by identity' : 'give profileId or identity, not both';
      throw new ValidationError('the profile is named by exactly one of profileId and identity', [
        { field: 'profileId', message },
        { field: 'identity', message },
      ]);
    }
    const record = await makeDecision(
      { ...deps, newId: deps.newId ?? randomUUID },
      {
        ...(profileId !== undefined ? { profileId } : {}),
        ...(identity !== undefined ? { identity } : {}),
        placements,
        count,
        context,
        origin: 'api',
        // Its own namespace, apart from the keys journey steps use.
        ...(idempotencyKey !== undefined ? { idempotencyKey: `api:${idempotencyKey}` } : {}),
      },
    );
    return json(200, decisionView(record));
  });
}

const PageQuery = z.object({
  limit: z.coerce
    .number({ error: 'limit is a whole number from 1 to 100' })
    .int('limit is a whole number from 1 to 100')
    .min(1, 'limit is a whole number from 1 to 100')
    .max(100, 'limit is a whole number from 1 to 100')
    .default(20),
  cursor: z.string().min(1, 'cursor is the value returned with the previous page').max(4096, 'cursor is the value returned with the previous page').optional(),
});

/** `GET /profiles/{id}/decisions?limit=&cursor=`: the profile's decisions, newest first (an unknown profile has none). */
export function createListDecisionsHandler(deps: Pick<DecisionApiDeps, 'decisionLog'>) {
  return apiHandler(async (event) => {
    const profileId = event.pathParameters?.id;
    if (!profileId) throw new ValidationError('missing profile id', [{ field: 'id', message: 'the path names the profile: /profiles/{id}/decisions' }]);
    const query = PageQuery.safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw new ValidationError('invalid query', issueErrors(query.error, '(query)'));
    // A cursor the log never returned (or another profile's) throws InvalidCursorError: 400 (shared/http.ts).
    const page = await deps.decisionLog.list(profileId, { limit: query.data.limit, ...(query.data.cursor !== undefined ? { cursor: query.data.cursor } : {}) });
    return json(200, { decisions: page.decisions, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) });
  });
}

// --- Offers and placements -----------------------------------------------------------------------------------

type Kind = 'offer' | 'placement';
const collection = (kind: Kind) => `${kind}s`;

function pathId(event: ApiEvent, kind: Kind): string {
  const id = event.pathParameters?.id;
  if (!id) throw new ValidationError(`missing ${kind} id`, [{ field: 'id', message: `the path names it: /${collection(kind)}/{id}` }]);
  return id;
}

const notFound = (kind: Kind, id: string) => new NotFoundError(`${kind} "${id}" does not exist`);

function withVersion<T>(statusCode: number, record: CatalogRecord<T>, extra: Record<string, string> = {}): ApiResult {
  const result = json(statusCode, record);
  return { ...result, headers: { ...result.headers, etag: `"${record.version}"`, ...extra } };
}

/** `If-Match: "3"` (or `3`): the version the client read. */
function ifMatchVersion(event: ApiEvent, kind: Kind): number | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'if-match')?.[1];
  if (header === undefined || header === null || header.trim() === '') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!match) throw new ValidationError('invalid If-Match header', [{ field: 'If-Match', message: `the ${kind} version as returned in the ETag, e.g. "3"` }]);
  return Number(match[1]);
}

/** The body with the path's id filled in; a body naming another id is refused. */
function bodyForPath(event: ApiEvent, id: string, kind: Kind): unknown {
  const body = parseJsonBody(event);
  if (!isObject(body)) return body;
  if ('id' in body && body.id !== id) throw new ValidationError(`the body names another ${kind}`, [{ field: 'id', message: `must be "${id}" (the path's id) or omitted` }]);
  return { ...body, id };
}

function parseOfferBody(body: unknown): Offer {
  const parsed = parseOffer(body);
  if (parsed.ok) return parsed.value;
  // Structured issues where the schema reports them (unknown fields named by themselves); the depth check is a message.
  const structured = Offer.safeParse(body);
  throw new ValidationError('invalid offer', structured.success ? fieldErrorsFromMessages(parsed.errors) : issueErrors(structured.error));
}

function parsePlacementBody(body: unknown): Placement {
  const parsed = parsePlacement(body);
  if (parsed.ok) return parsed.value;
  const structured = Placement.safeParse(body);
  throw new ValidationError('invalid placement', structured.success ? fieldErrorsFromMessages(parsed.errors) : issueErrors(structured.error));
}

/** The offer checked against the stored placements: known placements, required content, a formula that parses. */
async function checkOffer(deps: Pick<DecisionApiDeps, 'placementStore'>, offer: Offer): Promise<void> {
  const placements = (await deps.placementStore.list()).map((r) => r.definition);
  const prefix = `offer "${offer.id}": `;
  const problems = checkCatalog([offer], placements).map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p));
  if (problems.length > 0) throw new ValidationError('the offer does not fit the catalog', fieldErrorsFromMessages(problems));
}

const originConflict = (kind: Kind, id: string, change: 'change' | 'remove') =>
  new ConflictError(`${kind} "${id}" is deployed from a file (${collection(kind)}/*.json); ${change} the file and deploy`);

interface CatalogHandlers<T extends { id: string }> {
  kind: Kind;
  store: (deps: DecisionApiDeps) => CatalogStore<T>;
  parse: (body: unknown) => T;
  /** Checks against the rest of the catalog before a write (throws ValidationError). */
  check: (deps: DecisionApiDeps, definition: T) => Promise<void>;
  /** Why the entry cannot be deleted (a ConflictError), if it cannot. */
  inUse?: (deps: DecisionApiDeps, id: string) => Promise<ConflictError | undefined>;
}

const invalidate = (deps: Pick<DecisionApiDeps, 'decisions'>) => deps.decisions.invalidate?.();

function listHandler<T extends { id: string }>(spec: CatalogHandlers<T>, deps: DecisionApiDeps) {
  return apiHandler(async () => json(200, { [collection(spec.kind)]: await spec.store(deps).list() }));
}

function getHandler<T extends { id: string }>(spec: CatalogHandlers<T>, deps: DecisionApiDeps) {
  return apiHandler(async (event) => {
    const id = pathId(event, spec.kind);
    const record = await spec.store(deps).get(id);
    if (!record) throw notFound(spec.kind, id);
    return withVersion(200, record);
  });
}

function createHandler<T extends { id: string }>(spec: CatalogHandlers<T>, deps: DecisionApiDeps) {
  return apiHandler(async (event) => {
    const definition = spec.parse(parseJsonBody(event));
    const store = spec.store(deps);
    const existing = await store.get(definition.id);
    if (existing) {
      throw new ConflictError(
        `${spec.kind} "${definition.id}" already exists (${existing.origin === 'file' ? 'deployed from a file' : 'created through the API'}); PUT /${collection(spec.kind)}/${definition.id} changes it`,
      );
    }
    await spec.check(deps, definition);
    const record: CatalogRecord<T> = { definition, origin: 'api', version: 1, updatedAt: deps.clock.now().toISOString() };
    if (!(await store.put(record, {}))) throw new ConflictError(`${spec.kind} "${definition.id}" was created by another request at the same time`);
    invalidate(deps);
    return withVersion(201, record, { location: `/${collection(spec.kind)}/${definition.id}` });
  });
}

function putHandler<T extends { id: string }>(spec: CatalogHandlers<T>, deps: DecisionApiDeps) {
  return apiHandler(async (event) => {
    const id = pathId(event, spec.kind);
    const expected = ifMatchVersion(event, spec.kind);
    const definition = spec.parse(bodyForPath(event, id, spec.kind));
    const store = spec.store(deps);
    const existing = await store.get(id);
    if (!existing) throw notFound(spec.kind, id);
    if (existing.origin === 'file') throw originConflict(spec.kind, id, 'change');
    if (expected !== undefined && expected !== existing.version) throw new ConflictError(`${spec.kind} "${id}" is at version ${existing.version}, not ${expected}; read it again`);
    await spec.check(deps, definition);
    const record: CatalogRecord<T> = { definition, origin: 'api', version: existing.version + 1, updatedAt: deps.clock.now().toISOString() };
    if (!(await store.put(record, { expectedVersion: existing.version }))) throw new ConflictError(`${spec.kind} "${id}" was changed by another request; read it again`);
    invalidate(deps);
    return withVersion(200, record);
  });
}

function deleteHandler<T extends { id: string }>(spec: CatalogHandlers<T>, deps: DecisionApiDeps) {
  return apiHandler(async (event) => {
    const id = pathId(event, spec.kind);
    const store = spec.store(deps);
    const existing = await store.get(id);
    if (!existing) throw notFound(spec.kind, id);
    if (existing.origin === 'file') throw originConflict(spec.kind, id, 'remove');
    const conflict = await spec.inUse?.(deps, id);
    if (conflict) throw conflict;
    if (!(await store.delete(id))) throw notFound(spec.kind, id);
    invalidate(deps);
    return { statusCode: 204, headers: {}, body: '' };
  });
}

const offers: CatalogHandlers<Offer> = {
  kind: 'offer',
  store: (deps) => deps.offerStore,
  parse: parseOfferBody,
  check: checkOffer,
};

const quoted = (ids: readonly string[]) => ids.map((id) => `"${id}"`).join(', ');

/** The `decide` nodes of the stored journeys that use a placement, as `journey/node`. */
async function decideNodesUsing(deps: Pick<DecisionApiDeps, 'journeys'>, placementId: string): Promise<string[]> {
  return (await deps.journeys.list()).flatMap((r) =>
    (r.journey.nodes as readonly { id: string; kind: string; placement?: unknown }[]).filter((n) => n.kind === 'decide' && n.placement === placementId).map((n) => `${r.journey.id}/${n.id}`),
  );
}

const placements: CatalogHandlers<Placement> = {
  kind: 'placement',
  store: (deps) => deps.placementStore,
  parse: parsePlacementBody,
  // A changed placement must still fit every offer with content for it (e.g. a newly required content field).
  check: async (deps, placement) => {
    const [storedOffers, storedPlacements] = await Promise.all([deps.offerStore.list(), deps.placementStore.list()]);
    const users = storedOffers.map((r) => r.definition).filter((o) => placement.id in o.placements);
    const problems = checkCatalog(users, [...storedPlacements.map((r) => r.definition).filter((p) => p.id !== placement.id), placement]).filter((p) =>
      p.includes(`: placements.${placement.id}.`),
    );
    if (problems.length > 0) {
      throw new ValidationError(
        'offers do not fit the placement',
        problems.map((p) => ({ field: 'requiredContent', message: p })),
      );
    }
  },
  inUse: async (deps, id) => {
    const offerUsers = (await deps.offerStore.list()).filter((r) => id in r.definition.placements).map((r) => r.definition.id);
    if (offerUsers.length > 0) return new ConflictError(`placement "${id}" has content in offer${offerUsers.length > 1 ? 's' : ''} ${quoted(offerUsers)}`);
    const nodes = await decideNodesUsing(deps, id);
    if (nodes.length > 0) return new ConflictError(`placement "${id}" is used by the decide node${nodes.length > 1 ? 's' : ''} ${quoted(nodes)} (journey/node)`);
    return undefined;
  },
};

type OfferDeps = Pick<DecisionApiDeps, 'offerStore' | 'placementStore' | 'decisions' | 'clock'>;
type PlacementDeps = Pick<DecisionApiDeps, 'offerStore' | 'placementStore' | 'decisions' | 'clock' | 'journeys'>;
// The generic handlers take the full deps; each only touches the ports its Pick names.
const full = (deps: object) => deps as DecisionApiDeps;

/** `GET /offers`: every offer, files and API-created ones. */
export const createListOffersHandler = (deps: Pick<DecisionApiDeps, 'offerStore'>) => listHandler(offers, full(deps));
/** `GET /offers/{id}`: the offer with its origin and version (also as the ETag). */
export const createGetOfferHandler = (deps: Pick<DecisionApiDeps, 'offerStore'>) => getHandler(offers, full(deps));
/** `POST /offers`: 201; 400 naming the field (schema, unknown placement, missing content, bad formula); 409 if the id is taken. */
export const createCreateOfferHandler = (deps: OfferDeps) => createHandler(offers, full(deps));
/** `PUT /offers/{id}`: replaces an API-created offer; 404 if absent; 409 for file offers and when `If-Match` is stale. */
export const createPutOfferHandler = (deps: OfferDeps) => putHandler(offers, full(deps));
/** `DELETE /offers/{id}`: 204; 409 for file offers. */
export const createDeleteOfferHandler = (deps: Pick<DecisionApiDeps, 'offerStore' | 'decisions'>) => deleteHandler(offers, full(deps));

/** `GET /placements`. */
export const createListPlacementsHandler = (deps: Pick<DecisionApiDeps, 'placementStore'>) => listHandler(placements, full(deps));
/** `GET /placements/{id}`. */
export const createGetPlacementHandler = (deps: Pick<DecisionApiDeps, 'placementStore'>) => getHandler(placements, full(deps));
/** `POST /placements`: 201; 400 naming the field; 409 if the id is taken. */
export const createCreatePlacementHandler = (deps: PlacementDeps) => createHandler(placements, full(deps));
/** `PUT /placements/{id}`: as PUT /offers/{id}; 400 (`requiredContent`) when an offer with content for it would no longer fit. */
export const createPutPlacementHandler = (deps: PlacementDeps) => putHandler(placements, full(deps));
/** `DELETE /placements/{id}`: 204; 409 for file placements, while an offer has content for it or a journey `decide` node uses it. */
export const createDeletePlacementHandler = (deps: PlacementDeps) => deleteHandler(placements, full(deps));
