/**
 * The inputs of a simulation: the events script (what happens, when) and the starting profiles. Each entry mirrors
 * a way in: a business event (the bus / `POST /events`), an attribute change (`PUT /profiles/{id}/attributes`), a
 * consent change (`PUT /profiles/{id}/consent`) or an API trigger (`POST /journeys/{id}/trigger`), and is validated
 * by the same schemas. Every problem names the file's line and the field (statemachines/README.md#simulate-a-journey).
 */
import type * as z from 'zod';
import { AttributesUpdate } from '../app/profiles';
import { AWS_SOURCE_PREFIX, PLATFORM_SOURCE_PREFIX } from '../core/config/env-keys';
import { ConsentChanges } from '../core/consent/update';
import { BusinessEvent, CustomerIdentities, IdentityNamespace, type Identities } from '../core/events/business-event';
import { PUT_EVENTS_LIMITS, putEventsEntrySize } from '../core/events/entry-size';
import { checkEventTime, EARLIEST_EVENT_TIME } from '../core/events/event-time';
import { JourneyId } from '../core/journey/schema';
import type { AttributeValue } from '../core/profiles/model';
import { TriggerRequest } from '../core/runtime/trigger';
import { DURATION_PATTERN, parseDuration } from '../core/shared/duration';
import { jsonBoundsError, REQUEST_LIMITS } from '../shared/http';
import { JsonSyntaxError, scanJson, type JsonPath } from './json-lines';

export const SCRIPT_LIMITS = {
  /** Size of a script or profiles file, in UTF-8 bytes. */
  fileBytes: 5 * 1024 * 1024,
  entries: 10_000,
  profiles: 10_000,
  /** How far after the start an entry may be: a Step Functions Standard run lasts at most a year. */
  spanDays: 366,
  /** Problems listed before the rest are summed up. */
  problems: 50,
} as const;

/** When neither the caller nor an absolute `at` sets the start: a fixed time, so runs print the same every time. */
export const DEFAULT_START = '2026-01-01T00:00:00.000Z';
/** The `source` of a script's events that name none. */
export const DEFAULT_SOURCE = 'simulation';

/** One thing wrong in a script or profiles file: where (line in the file, entry 0-based, field path) and what. */
export interface ScriptProblem {
  line?: number;
  entry?: number;
  field: string;
  message: string;
}

/** A script or profiles file (or the helper's entries) that cannot be simulated; `problems` name each place. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  constructor(
    readonly file: string | undefined,
    readonly problems: ScriptProblem[],
  ) {
    super(problems.slice(0, SCRIPT_LIMITS.problems).map((p) => formatProblem(file, p)).join('\n'));
  }
}

/** `events.json:7: entry 3, identities: …` from a file; `events[2].identities: …` for the helper's entries. */
export function formatProblem(file: string | undefined, problem: ScriptProblem): string {
  const { entry, field, message } = problem;
  if (file !== undefined && problem.line !== undefined) {
    const where = [entry === undefined ? '' : `entry ${entry + 1}`, field].filter(Boolean).join(', ');
    return `${file}:${problem.line}: ${where === '' ? '' : `${where}: `}${message}`;
  }
  if (entry !== undefined) return `${file ?? 'events'}[${entry}]${field === '' ? '' : `.${field}`}: ${message}`;
  return `${field || file || 'events'}: ${message}`;
}

interface EntryBase {
  /** The virtual time it happens, ISO-8601 UTC. */
  at: string;
  /** 0-based position in the script. */
  index: number;
  /** 1-based line in the script file where the entry starts (absent for the helper's entries). */
  line?: number;
}

export type ScriptEntry =
  | (EntryBase & { kind: 'event'; event: BusinessEvent })
  | (EntryBase & {
      kind: 'attributes';
      identities: Identities;
      attributes: Record<string, AttributeValue>;
      source: string;
    })
  | (EntryBase & { kind: 'consent'; identities: Identities; consent: ConsentChanges })
  | (EntryBase & {
      kind: 'trigger';
      journeyId: string;
      identities: Identities;
      context: Record<string, unknown>;
      idempotencyKey?: string;
    });

/** A profile that exists before the script starts. */
export interface StartProfile {
  index: number;
  line?: number;
  identities: Identities;
  attributes: Record<string, AttributeValue>;
  /** Explicit decisions, as `PUT /profiles/{id}/consent` records them. */
  consent?: ConsentChanges;
}

export interface Script {
  start: Date;
  entries: ScriptEntry[];
}

type Locate = (path: JsonPath) => number | undefined;
type Issue = z.core.$ZodIssue;

/** Collects problems with their place; `at(path)` names the field and finds its line. */
class Problems {
  readonly list: ScriptProblem[] = [];
  constructor(private readonly locate: Locate) {}

  add(entry: number | undefined, path: readonly (string | number)[], message: string): void {
    const line = this.locate(entry === undefined ? path : [entry, ...path]);
    const where = { ...(line === undefined ? {} : { line }), ...(entry === undefined ? {} : { entry }) };
    this.list.push({ ...where, field: fieldName(path), message });
  }

  /** zod issues of a value found at `prefix` in entry `entry`. */
  addIssues(entry: number | undefined, prefix: readonly (string | number)[], issues: readonly Issue[]): void {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      // An unknown key is named by itself, so the author sees which field to remove.
      if (issue.code !== 'unrecognized_keys') this.add(entry, path, issue.message);
      else for (const k of issue.keys) this.add(entry, [...path, k], `unknown field "${k}"`);
    }
  }
}

const fieldName = (path: readonly (string | number)[]) =>
  path.reduce<string>((at, k) => (typeof k === 'number' ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`), '');

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const has = (record: Record<string, unknown>, name: string) => Object.hasOwn(record, name);

/** Reads a file's text as JSON with lines; a syntax error or a file too large is a ScriptError naming the line. */
function scan(text: string, file: string | undefined): { value: unknown; locate: Locate } {
  if (Buffer.byteLength(text, 'utf8') > SCRIPT_LIMITS.fileBytes) {
    const message = `the file is larger than ${SCRIPT_LIMITS.fileBytes / 1024 / 1024} MB`;
    throw new ScriptError(file, [{ line: 1, field: '', message }]);
  }
  try {
    // The entries array, then each entry within the API's nesting bound.
    const scanned = scanJson(text, REQUEST_LIMITS.jsonDepth + 1);
    return { value: scanned.value, locate: (path) => scanned.lineOf(path) };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const message = `not valid JSON: ${error.message} (column ${error.column})`;
    throw new ScriptError(file, [{ line: error.line, field: '', message }]);
  }
}

function asArray(value: unknown, what: string, max: number, problems: Problems): unknown[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(undefined, [], `expected a JSON array of ${what}`);
    return undefined;
  }
  if (value.length > max) {
    const count = (n: number) => n.toLocaleString('en-US');
    problems.add(undefined, [], `at most ${count(max)} ${what} (got ${count(value.length)})`);
    return undefined;
  }
  return value;
}

function unknownFields(entry: number, record: Record<string, unknown>, allowed: readonly string[], problems: Problems) {
  for (const name of Object.keys(record)) {
    if (allowed.includes(name)) continue;
    problems.add(entry, [name], `unknown field "${name}" (expected ${allowed.join(', ')})`);
  }
}

/** `identities` (an object) or `profile` ("email:ann@example.com"): the customer an API-like entry is about. */
function customer(entry: number, record: Record<string, unknown>, problems: Problems): Identities | undefined {
  const byIdentities = has(record, 'identities');
  if (byIdentities === has(record, 'profile')) {
    const message = 'name the customer with exactly one of "identities" ({"email": "…"}) or "profile" ("email:…")';
    problems.add(entry, [], message);
    return undefined;
  }
  let candidate: unknown = record.identities;
  let field = 'identities';
  if (!byIdentities) {
    field = 'profile';
    const text = record.profile;
    const colon = typeof text === 'string' ? text.indexOf(':') : -1;
    const namespace = typeof text === 'string' ? text.slice(0, colon) : '';
    if (colon < 1 || !IdentityNamespace.safeParse(namespace).success) {
      const message = 'a profile is named by one identity, <namespace>:<value>, e.g. "email:ann@example.com"';
      problems.add(entry, ['profile'], message);
      return undefined;
    }
    candidate = { [namespace]: (text as string).slice(colon + 1) };
  }
  const parsed = CustomerIdentities.safeParse(candidate);
  if (!parsed.success) {
    const { issues } = parsed.error;
    problems.addIssues(entry, [field], field === 'profile' ? issues.map((i) => ({ ...i, path: [] })) : issues);
    return undefined;
  }
  return parsed.data;
}

const boundsMessage = (bounds: { field: string; message: string }) =>
  `${bounds.field === '(body)' ? '' : `${bounds.field}: `}${bounds.message}`;

const KINDS = { type: 'event', setAttributes: 'attributes', setConsent: 'consent', trigger: 'trigger' } as const;
const FIELDS = {
  event: ['at', 'type', 'id', 'source', 'time', 'catalog', 'identities', 'attributes', 'properties', 'consent'],
  attributes: ['at', 'setAttributes', 'identities', 'profile', 'source'],
  consent: ['at', 'setConsent', 'identities', 'profile'],
  trigger: ['at', 'trigger', 'identities', 'profile', 'context', 'idempotencyKey'],
} as const;

type Timed = { index: number; raw: Record<string, unknown>; kind: ScriptEntry['kind'] };

function readEvent(entry: Timed, at: Date, problems: Problems, checkTime: boolean): ScriptEntry | undefined {
  const { raw, index } = entry;
  const { at: _at, ...rest } = raw;
  const defaults = { id: `event-${index + 1}`, source: DEFAULT_SOURCE, time: at.toISOString() };
  const parsed = BusinessEvent.safeParse({ ...defaults, ...rest });
  if (!parsed.success) {
    problems.addIssues(index, [], parsed.error.issues);
    return undefined;
  }
  const event = parsed.data;
  if (checkTime && has(raw, 'time')) {
    // As on receipt: not more than 5 minutes after the entry's time, not before 2000.
    const error = checkEventTime(event.time, at);
    if (error) return void problems.add(index, ['time'], error.message);
  }
  const reserved = [PLATFORM_SOURCE_PREFIX, AWS_SOURCE_PREFIX].find((prefix) => event.source.startsWith(prefix));
  if (reserved) {
    return void problems.add(index, ['source'], `sources starting with "${reserved}" are reserved (the router ignores them)`);
  }
  // As POST /events measures it: what the bus would refuse never enters the simulation either.
  const { type, source, time, ...detail } = event;
  const sized = { Source: source, DetailType: type, Time: time, Detail: JSON.stringify({ ...detail, time }) };
  if (putEventsEntrySize(sized) > PUT_EVENTS_LIMITS.requestBytes) {
    const kb = PUT_EVENTS_LIMITS.requestBytes / 1024;
    return void problems.add(index, [], `the event is larger than the bus takes (${kb} KB)`);
  }
  return { kind: 'event', at: at.toISOString(), index, event };
}

function readApiEntry(entry: Timed, at: Date, problems: Problems): ScriptEntry | undefined {
  const { raw, index, kind } = entry;
  const identities = customer(index, raw, problems);
  const base = { at: at.toISOString(), index };
  switch (kind) {
    case 'attributes': {
      const source = has(raw, 'source') ? { source: raw.source } : {};
      const parsed = AttributesUpdate.safeParse({ attributes: raw.setAttributes, ...source });
      if (!parsed.success) {
        // Named as the script names them: `attributes` is `setAttributes` there.
        const rename = (i: Issue) => (i.path[0] === 'attributes' ? { ...i, path: ['setAttributes', ...i.path.slice(1)] } : i);
        const issues = parsed.error.issues.map(rename);
        problems.addIssues(index, [], issues);
        return undefined;
      }
      const attributes = parsed.data.attributes as Record<string, AttributeValue>;
      return identities && { ...base, kind, identities, attributes, source: parsed.data.source };
    }
    case 'consent': {
      const parsed = ConsentChanges.safeParse(raw.setConsent);
      if (!parsed.success) return void problems.addIssues(index, ['setConsent'], parsed.error.issues);
      return identities && { ...base, kind, identities, consent: parsed.data };
    }
    case 'trigger': {
      const journeyId = JourneyId.safeParse(raw.trigger);
      if (!journeyId.success) problems.addIssues(index, ['trigger'], journeyId.error.issues);
      const { at: _at, trigger: _trigger, profile: _profile, ...request } = raw;
      const parsed = TriggerRequest.safeParse({ ...request, identities: identities ?? { unknown: 'customer' } });
      if (!parsed.success) return void problems.addIssues(index, [], parsed.error.issues);
      if (!identities || !journeyId.success) return undefined;
      const { context, idempotencyKey } = parsed.data;
      const key = idempotencyKey === undefined ? {} : { idempotencyKey };
      return { ...base, kind, journeyId: journeyId.data, identities, context, ...key };
    }
    default:
      return undefined;
  }
}

/** Reads `at`: "+<duration>" after the start, or an ISO-8601 UTC time ("…Z"); undefined (a problem) otherwise. */
type When = { offsetMs: number } | { absolute: Date };

function readAt(index: number, value: unknown, problems: Problems): When | undefined {
  const expected =
    'at is "+<duration>" after the start ("+0s", "+90m", "+1d12h") or an ISO-8601 UTC time ("2026-12-01T10:00:00Z")';
  if (typeof value !== 'string') return void problems.add(index, ['at'], expected);
  if (value.startsWith('+')) {
    if (!DURATION_PATTERN.test(value.slice(1))) {
      return void problems.add(index, ['at'], `${expected}; got ${JSON.stringify(value)}`);
    }
    return { offsetMs: parseDuration(value.slice(1)) * 1000 };
  }
  const absolute = utcTime(value);
  if (absolute === undefined) return void problems.add(index, ['at'], `${expected}; got ${JSON.stringify(value)}`);
  return { absolute };
}

/** An ISO-8601 UTC time (`2026-12-01T10:00:00Z`, seconds and fractions optional) that names a real date. */
function utcTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/.test(text)) return undefined;
  const at = new Date(text);
  // Date rolls 2026-02-30 over into March: a date that does not come back the same is not one.
  return Number.isNaN(at.getTime()) || at.toISOString().slice(0, 16) !== text.slice(0, 16) ? undefined : at;
}

/**
 * Resolves `--until` ("+<duration>" after the start, or an ISO-8601 UTC time, as an entry's `at`): the simulation lets
 * time run at least until then. ScriptError naming `until` when it is not a time within the simulation's span.
 */
export function parseUntil(text: string, start: Date): Date {
  const problems = new Problems(() => undefined);
  const when = readAt(0, text, problems);
  const at = when === undefined ? NaN : 'absolute' in when ? when.absolute.getTime() : start.getTime() + when.offsetMs;
  const last = start.getTime() + SCRIPT_LIMITS.spanDays * 86_400_000;
  if (when === undefined || at < start.getTime() || at > last) {
    const within = `within ${SCRIPT_LIMITS.spanDays} days from the start (${start.toISOString()})`;
    const message = `until is "+<duration>" after the start or an ISO-8601 UTC time, ${within}; got ${JSON.stringify(text)}`;
    throw new ScriptError(undefined, [{ field: 'until', message }]);
  }
  return new Date(at);
}

/** Parses an ISO-8601 UTC start time (`--start`), or throws ScriptError naming `start`. */
export function parseStart(text: string): Date {
  const at = utcTime(text)?.getTime() ?? NaN;
  if (Number.isNaN(at) || at < Date.parse(EARLIEST_EVENT_TIME)) {
    const message = `the start is an ISO-8601 UTC time from ${EARLIEST_EVENT_TIME} on (got ${JSON.stringify(text)})`;
    throw new ScriptError(undefined, [{ field: 'start', message }]);
  }
  return new Date(at);
}

/**
 * Validates script entries (already parsed JSON) and resolves their times. The start is `options.start`, else the
 * first absolute `at`, else DEFAULT_START. Entries never go back in time; those at the same time keep their order.
 */
export function readScript(value: unknown, options: { start?: Date; file?: string; locate?: Locate } = {}): Script {
  const problems = new Problems(options.locate ?? (() => undefined));
  const items = asArray(value, 'entries', SCRIPT_LIMITS.entries, problems) ?? [];
  const timed: (Timed & { when: ReturnType<typeof readAt> })[] = [];
  items.forEach((raw, index) => {
    if (!isObject(raw)) return problems.add(index, [], 'an entry is a JSON object');
    const kinds = Object.keys(KINDS).filter((k) => has(raw, k)) as (keyof typeof KINDS)[];
    if (kinds.length !== 1) {
      const message =
        'an entry is one of: an event ("type"), an attribute change ("setAttributes"), a consent change ("setConsent"), ' +
        'a journey trigger ("trigger")';
      const found = kinds.map((k) => `"${k}"`).join(' and ');
      return problems.add(index, [], kinds.length === 0 ? message : `${message}; this one has ${found}`);
    }
    const kind = KINDS[kinds[0]];
    unknownFields(index, raw, FIELDS[kind], problems);
    const bounds = jsonBoundsError(raw);
    if (bounds) return problems.add(index, [], boundsMessage(bounds));
    timed.push({ index, raw, kind, when: readAt(index, raw.at, problems) });
  });
  const firstAbsolute = timed.find((t) => t.when && 'absolute' in t.when)?.when;
  const fromScript = firstAbsolute && 'absolute' in firstAbsolute ? firstAbsolute.absolute : undefined;
  const start = options.start ?? fromScript ?? new Date(DEFAULT_START);
  const end = start.getTime() + SCRIPT_LIMITS.spanDays * 86_400_000;
  const entries: ScriptEntry[] = [];
  let previous: { at: number; index: number } | undefined;
  for (const entry of timed) {
    const { when } = entry;
    const at = !when ? start.getTime() : 'absolute' in when ? when.absolute.getTime() : start.getTime() + when.offsetMs;
    let wrong: string | undefined;
    if (!when) wrong = undefined;
    else if (at < start.getTime()) {
      wrong = `${new Date(at).toISOString()} is before the simulation's start, ${start.toISOString()}`;
    } else if (at > end) {
      wrong = `the simulation spans at most ${SCRIPT_LIMITS.spanDays} days from its start (${start.toISOString()})`;
    }
    else if (previous && at < previous.at) {
      const before = `entry ${previous.index + 1} (${new Date(previous.at).toISOString()})`;
      wrong = `${new Date(at).toISOString()} is before ${before}: entries never go back in time`;
    }
    if (wrong !== undefined) problems.add(entry.index, ['at'], wrong);
    const timeOk = when !== undefined && wrong === undefined;
    if (timeOk) previous = { at, index: entry.index };
    // The rest of the entry is checked too, so one run lists every problem (at the start when its time is wrong).
    const moment = new Date(timeOk ? at : start.getTime());
    const read =
      entry.kind === 'event' ? readEvent(entry, moment, problems, timeOk) : readApiEntry(entry, moment, problems);
    if (!read || !timeOk) continue;
    const line = options.locate?.([entry.index]);
    entries.push(line === undefined ? read : { ...read, line });
  }
  if (problems.list.length > 0) throw new ScriptError(options.file, sortProblems(problems.list));
  return { start, entries };
}

const sortProblems = (list: ScriptProblem[]) =>
  [...list].sort((a, b) => (a.entry ?? -1) - (b.entry ?? -1) || (a.line ?? 0) - (b.line ?? 0));

/** Parses a script file's text; ScriptError (every problem with its line) when it is not a valid script. */
export function parseScript(text: string, options: { file: string; start?: Date }): Script {
  const { value, locate } = scan(text, options.file);
  return readScript(value, { ...options, locate });
}

const PROFILE_FIELDS = ['identities', 'attributes', 'consent'] as const;

/** Validates starting profiles (already parsed JSON): no identity may belong to two of them. */
export function readProfiles(value: unknown, options: { file?: string; locate?: Locate } = {}): StartProfile[] {
  const problems = new Problems(options.locate ?? (() => undefined));
  const items = asArray(value, 'profiles', SCRIPT_LIMITS.profiles, problems) ?? [];
  const owners = new Map<string, number>();
  const profiles: StartProfile[] = [];
  items.forEach((raw, index) => {
    if (!isObject(raw)) {
      return problems.add(index, [], 'a profile is a JSON object: {"identities": {…}, "attributes": {…}, "consent": {…}}');
    }
    unknownFields(index, raw, PROFILE_FIELDS, problems);
    const bounds = jsonBoundsError(raw);
    if (bounds) return problems.add(index, [], boundsMessage(bounds));
    const identities = CustomerIdentities.safeParse(raw.identities);
    if (!identities.success) problems.addIssues(index, ['identities'], identities.error.issues);
    const attributes = has(raw, 'attributes') ? AttributesUpdate.shape.attributes.safeParse(raw.attributes) : undefined;
    if (attributes && !attributes.success) problems.addIssues(index, ['attributes'], attributes.error.issues);
    const consent = has(raw, 'consent') ? ConsentChanges.safeParse(raw.consent) : undefined;
    if (consent && !consent.success) problems.addIssues(index, ['consent'], consent.error.issues);
    if (!identities.success || (attributes && !attributes.success) || (consent && !consent.success)) return;
    for (const [namespace, id] of Object.entries(identities.data)) {
      const name = `${namespace}:${id}`;
      const owner = owners.get(name);
      if (owner !== undefined) problems.add(index, ['identities', namespace], `${name} is already profile ${owner + 1}'s`);
      else owners.set(name, index);
    }
    const line = options.locate?.([index]);
    profiles.push({
      index,
      ...(line === undefined ? {} : { line }),
      identities: identities.data,
      attributes: (attributes?.data ?? {}) as Record<string, AttributeValue>,
      ...(consent ? { consent: consent.data } : {}),
    });
  });
  if (problems.list.length > 0) throw new ScriptError(options.file, sortProblems(problems.list));
  return profiles;
}

/** Parses a profiles file's text; ScriptError (every problem with its line) when it is not valid. */
export function parseProfiles(text: string, options: { file: string }): StartProfile[] {
  const { value, locate } = scan(text, options.file);
  return readProfiles(value, { ...options, locate });
}
