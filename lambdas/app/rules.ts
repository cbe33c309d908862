import { MAX_RULES, parseRule } from '../core/governance/files';
import type { Rule } from '../core/governance/rules';
import type { RuleRecord, RuleStore } from '../core/governance/store';
import { ConflictError, NotFoundError, ValidationError } from '../core/runtime/errors';
import type { Clock } from '../core/runtime/ports';
import { fieldErrorsFromMessages, json, parseJsonBody, PayloadTooLargeError, type ApiEvent, type ApiResult } from '../shared/http';
import { apiHandler } from './middleware';

/** What the rules API reads and writes (ports; the AWS and local stacks provide them). */
export interface RuleApiDeps {
  ruleStore: RuleStore;
  clock: Clock;
}

/** A rule body, in UTF-8 bytes: the largest valid rule is about 1 KB (a 500-character description, 10 tags). */
export const MAX_RULE_BODY_BYTES = 16 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function pathId(event: ApiEvent): string {
  const id = event.pathParameters?.id;
  if (!id) throw new ValidationError('missing rule id', [{ field: 'id', message: 'the path names it: /rules/{id}' }]);
  return id;
}

const notFound = (id: string) => new NotFoundError(`rule "${id}" does not exist`);

const fileRule = (id: string, change: 'change' | 'remove') =>
  new ConflictError(`rule "${id}" is deployed from a file (rules/*.json) and is read-only here; ${change} the file and deploy`);

function withVersion(statusCode: number, record: RuleRecord, extra: Record<string, string> = {}): ApiResult {
  const result = json(statusCode, record);
  return { ...result, headers: { ...result.headers, etag: `"${record.version}"`, ...extra } };
}

/** `If-Match: "3"` (or `3`, or `W/"3"`): the version the client read. */
function ifMatchVersion(event: ApiEvent): number | undefined {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'if-match')?.[1];
  if (header === undefined || header === null || header.trim() === '') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!match) throw new ValidationError('invalid If-Match header', [{ field: 'If-Match', message: 'the rule version as returned in the ETag, e.g. "3"' }]);
  return Number(match[1]);
}

/** The body as a rule, with the path's id filled in; a body naming another id is refused. */
function parseBody(event: ApiEvent, id: string): Rule {
  if (event.body && Buffer.byteLength(event.body, 'utf8') > MAX_RULE_BODY_BYTES) {
    throw new PayloadTooLargeError(`a rule body is at most ${MAX_RULE_BODY_BYTES / 1024} KB`);
  }
  const body = parseJsonBody(event);
  if (!isObject(body)) {
    throw new ValidationError('invalid rule', [{ field: '(body)', message: 'the body is a JSON object: a rule (see rules/README.md)' }]);
  }
  if ('id' in body && body.id !== id) throw new ValidationError('the body names another rule', [{ field: 'id', message: `must be "${id}" (the path's id) or omitted` }]);
  const parsed = parseRule({ ...body, id });
  if (!parsed.ok) throw new ValidationError('invalid rule', fieldErrorsFromMessages(parsed.errors));
  return parsed.value;
}

/** `GET /rules`: every rule, files and API ones, by id, each with its origin and version. */
export function createListRulesHandler(deps: Pick<RuleApiDeps, 'ruleStore'>) {
  return apiHandler(async () => json(200, { rules: await deps.ruleStore.records(), limit: MAX_RULES }));
}

/** `GET /rules/{id}`: the rule with its origin and version (also as the ETag); 404 when there is none. */
export function createGetRuleHandler(deps: Pick<RuleApiDeps, 'ruleStore'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const record = await deps.ruleStore.get(id);
    if (!record) throw notFound(id);
    return withVersion(200, record);
  });
}

/**
 * `PUT /rules/{id}`: creates an API rule (201, Location) or replaces one (200). 400 naming the field; 413 past
 * MAX_RULE_BODY_BYTES; 409 for a file rule (read-only), when `If-Match` names another version (or a rule that does not
 * exist), when another request wrote it meanwhile, and when creating it would pass MAX_RULES.
 */
export function createPutRuleHandler(deps: RuleApiDeps) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const expected = ifMatchVersion(event);
    const definition = parseBody(event, id);
    const existing = await deps.ruleStore.get(id);
    const updatedAt = deps.clock.now().toISOString();
    if (existing?.origin === 'file') throw fileRule(id, 'change');
    if (expected !== undefined && expected !== existing?.version) {
      const message = existing
        ? `rule "${id}" is at version ${existing.version}, not ${expected}; read it again`
        : `rule "${id}" does not exist, so it is at no version ${expected}; PUT without If-Match creates it`;
      throw new ConflictError(message, [{ field: 'If-Match', message: existing ? `the current version is "${existing.version}"` : 'no such rule' }]);
    }
    if (existing) {
      const record: RuleRecord = { definition, origin: 'api', version: existing.version + 1, updatedAt };
      if (!(await deps.ruleStore.put(record, { expectedVersion: existing.version }))) throw new ConflictError(`rule "${id}" was changed by another request; read it again`);
      return withVersion(200, record);
    }
    // Checked before the write: concurrent creations may pass the bound by their number, never by more.
    const count = (await deps.ruleStore.records()).length;
    if (count >= MAX_RULES) throw new ConflictError(`there are ${count} rules, the most a stage keeps (${MAX_RULES}); delete one first`);
    const record: RuleRecord = { definition, origin: 'api', version: 1, updatedAt };
    if (!(await deps.ruleStore.put(record, {}))) throw new ConflictError(`rule "${id}" was created by another request at the same time; read it again`);
    return withVersion(201, record, { location: `/rules/${id}` });
  });
}

/** `DELETE /rules/{id}`: 204; 404 when there is none; 409 for a file rule (read-only). */
export function createDeleteRuleHandler(deps: Pick<RuleApiDeps, 'ruleStore'>) {
  return apiHandler(async (event) => {
    const id = pathId(event);
    const existing = await deps.ruleStore.get(id);
    if (!existing) throw notFound(id);
    if (existing.origin === 'file') throw fileRule(id, 'remove');
    if (!(await deps.ruleStore.delete(id))) throw notFound(id);
    return { statusCode: 204, headers: {}, body: '' };
  });
}
