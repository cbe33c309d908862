import { dict, type Dict } from '../shared/records';
import type { BusinessEvent, EventBridgeEvent, FieldError, ParseResult } from './business-event';
import { isStorableNumber, NUMBER_MESSAGE, unstorableNumberPaths } from './numbers';

/*
 * The router's check of a business event, written by hand: the same rules as the `BusinessEvent` schema
 * (business-event.ts, zod, which the API uses), so the router's bundle carries no zod. A property test holds the two
 * to the same verdicts, values and fields (test/unit/events/bus-event.test.ts).
 */

/** Per-event bounds of profile updates; with `ProfileLimits` they bound a profile item (lambdas/core/profiles/README.md). */
export const EventLimits = { attributes: 50, attributeValueBytes: 1024, consentKeys: 16 } as const;

// The name rules, shared with the schema.
export const IDENTITY_NAMESPACE = {
  pattern: /^[A-Za-z][A-Za-z0-9_]{0,31}$/,
  message: 'identity namespace must be a letter followed by up to 31 letters, digits or _',
};
export const EVENT_TYPE = {
  pattern: /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/,
  message: 'event type must start with a letter and use letters, digits, . _ : - (at most 128)',
};
export const CONSENT_LIST = { pattern: /^list:[A-Za-z0-9_.-]{1,64}$/, message: 'a subscription list is list:<id> (letters, digits, _ . -)' };
export const ATTRIBUTE_NAME = { pattern: /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, message: 'attribute names are identifiers of at most 64 characters' };
export const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

// RFC 3339 date-time with seconds and `Z` or an offset (zod's `z.iso.datetime({ offset: true })`).
const DATE = String.raw`(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))`;
const ISO_DATE_TIME = new RegExp(String.raw`^${DATE}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$`);

const CONSENT_CHANNELS = new Set(['email', 'sms', 'push']);
const CONSENT_STATUSES = new Set(['opted-in', 'opted-out']);

type Path = (string | number)[];
const isObject = (input: unknown): input is Record<string, unknown> =>
  typeof input === 'object' && input !== null && !Array.isArray(input);

/**
 * Collects the issues of one event, each at its path. As in the schema, a wrong type or a wrong record entry stops the
 * event-wide owner check (`aborted`); a bound or a pattern (a `refine`) does not, so both are reported.
 */
class Issues {
  readonly list: { path: Path; message: string }[] = [];
  aborted = false;
  add(path: Path, message: string, continues = false): void {
    this.list.push({ path, message });
    if (!continues) this.aborted = true;
  }
  /** `value` when a string of `min`..`max` characters; else an issue at `path`. */
  text(value: unknown, path: Path, min: number, max: number): string | undefined {
    if (typeof value !== 'string') return void this.add(path, `expected a string, received ${describe(value)}`);
    if (value.length < min) return void this.add(path, `must have at least ${min} character${min === 1 ? '' : 's'}`, true);
    if (value.length > max) return void this.add(path, `must have at most ${max} characters`, true);
    return value;
  }
  /** A null-prototype copy of an object keyed by outside data, each key and value checked (`ownRecord`'s rules). */
  record<V>(value: unknown, path: Path, check: (key: string, item: unknown, at: Path) => V | undefined): Dict<V> | undefined {
    if (!isObject(value)) return void this.add(path, 'expected an object');
    const before = this.list.length;
    const output = dict<V>();
    for (const key of Object.keys(value)) {
      const checked = check(key, value[key], [...path, key]);
      if (checked !== undefined) output[key] = checked;
    }
    if (this.list.length === before) return output;
    this.aborted = true; // a record's entry issues are reported through its transform: they stop the owner check
    return undefined;
  }
  /** At most `max` keys (checked once its entries are valid, as a refinement is). */
  bounded<V>(record: Dict<V> | undefined, path: Path, max: number, message: string): Dict<V> | undefined {
    if (record !== undefined && Object.keys(record).length > max) this.add(path, message, true);
    return record;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function named(issues: Issues, key: string, at: Path, rule: { pattern: RegExp; message: string }): boolean {
  if (rule.pattern.test(key)) return true;
  issues.add(at, rule.message);
  return false;
}

function attributeValue(issues: Issues, value: unknown, at: Path): string | number | boolean | null | undefined {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return isStorableNumber(value) ? value : void issues.add(at, NUMBER_MESSAGE);
  if (typeof value === 'string') {
    // A string never has more UTF-16 units than UTF-8 bytes: the length check spares encoding a huge one.
    const { attributeValueBytes: max } = EventLimits;
    if (value.length <= max && utf8Bytes(value) <= max) return value;
    return void issues.add(at, `an attribute string is at most ${max} bytes (UTF-8)`);
  }
  return void issues.add(at, 'an attribute is a string, a number, true, false or null');
}

/** The business event a candidate envelope holds (`BusinessEvent`'s rules: unknown fields are dropped), or its issues. */
function checkBusinessEvent(input: Record<string, unknown>): { ok: true; value: BusinessEvent } | { ok: false; issues: Issues } {
  const issues = new Issues();
  const id = issues.text(input.id, ['id'], 1, 128);
  const type = issues.text(input.type, ['type'], 0, Infinity);
  if (type !== undefined && !EVENT_TYPE.pattern.test(type)) issues.add(['type'], EVENT_TYPE.message, true);
  const source = issues.text(input.source, ['source'], 1, 256);
  const time = issues.text(input.time, ['time'], 0, Infinity);
  if (time !== undefined && !ISO_DATE_TIME.test(time)) issues.add(['time'], 'not an ISO-8601 date-time with seconds and Z or an offset', true);
  if (input.catalog !== undefined && input.catalog !== true) issues.add(['catalog'], 'catalog is true or absent');

  const identities =
    input.identities === undefined
      ? dict<string>()
      : issues.bounded(
          issues.record(input.identities, ['identities'], (key, value, at) =>
            named(issues, key, at, IDENTITY_NAMESPACE) ? issues.text(value, at, 1, 256) : undefined,
          ),
          ['identities'],
          20,
          'at most 20 identities per event',
        );
  const attributes =
    input.attributes === undefined
      ? undefined
      : issues.bounded(
          issues.record(input.attributes, ['attributes'], (key, value, at) =>
            named(issues, key, at, ATTRIBUTE_NAME) ? attributeValue(issues, value, at) : undefined,
          ),
          ['attributes'],
          EventLimits.attributes,
          `at most ${EventLimits.attributes} attributes`,
        );
  let properties: Dict<unknown> | undefined = dict();
  if (input.properties !== undefined) {
    // Any JSON under any name; only its numbers are bounded.
    properties = isObject(input.properties) ? dict(Object.entries(input.properties)) : void issues.add(['properties'], 'expected an object');
    for (const path of properties === undefined ? [] : unstorableNumberPaths(properties)) issues.add(['properties', ...path], NUMBER_MESSAGE, true);
  }
  const consent =
    input.consent === undefined
      ? undefined
      : issues.bounded(
          issues.record(input.consent, ['consent'], (key, value, at) => {
            if (!CONSENT_CHANNELS.has(key) && !CONSENT_LIST.pattern.test(key)) return void issues.add(at, CONSENT_LIST.message);
            if (typeof value === 'string' && CONSENT_STATUSES.has(value)) return value as 'opted-in' | 'opted-out';
            return void issues.add(at, 'consent is "opted-in" or "opted-out"');
          }),
          ['consent'],
          EventLimits.consentKeys,
          `at most ${EventLimits.consentKeys} consent keys`,
        );
  if (issues.aborted) return { ok: false, issues };

  const event = { id, type, source, time, identities, properties } as BusinessEvent;
  if (input.catalog === true) event.catalog = true;
  if (attributes !== undefined) event.attributes = attributes;
  if (consent !== undefined) event.consent = consent;
  // Who the event belongs to (the schema's `checkOwner`).
  const hasIdentities = Object.keys(event.identities).length > 0;
  if (!event.catalog) {
    if (!hasIdentities) issues.add(['identities'], 'at least one identity is required (or "catalog": true for an event of no customer)');
  } else {
    for (const field of ['identities', 'attributes', 'consent'] as const) {
      if (field === 'identities' ? hasIdentities : event[field] !== undefined) {
        issues.add([field], `a catalog event belongs to no customer: it has no ${field}`);
      }
    }
  }
  return issues.list.length > 0 ? { ok: false, issues } : { ok: true, value: event };
}

/** Validates an event as it arrives on the bus: the envelope sits in `detail`, type and source come from the bus. */
export function parseBusEvent(event: EventBridgeEvent): ParseResult<BusinessEvent> {
  const detail = event.detail && typeof event.detail === 'object' ? (event.detail as Record<string, unknown>) : {};
  const checked = checkBusinessEvent({ id: event.id, time: event.time, ...detail, type: event['detail-type'], source: event.source });
  if (checked.ok) return { ok: true, value: checked.value };
  // Type and source come from the bus event itself, not from detail: name them as the sender set them.
  const busField: Record<string, string> = { 'detail.type': 'detail-type', 'detail.source': 'source' };
  return {
    ok: false,
    errors: checked.issues.list.map(({ path, message }) => {
      // As the schema's `formatIssues`: an empty key adds no segment.
      const field = ['detail', ...path.map(String)].filter((p) => p !== '').join('.');
      return { field: busField[field] ?? field, message };
    }),
  };
}

/** The fields of an EventBridge event the router reads, each a string (`detail` any JSON), or the fields that are not. */
export function parseEventBridgeEvent(raw: unknown): { ok: true; value: EventBridgeEvent } | { ok: false; errors: FieldError[] } {
  if (!isObject(raw)) return { ok: false, errors: [{ field: '(event)', message: `expected an object, received ${describe(raw)}` }] };
  const errors: FieldError[] = [];
  for (const field of ['id', 'detail-type', 'source', 'time'] as const) {
    if (typeof raw[field] !== 'string') errors.push({ field, message: `expected a string, received ${describe(raw[field])}` });
  }
  if (errors.length > 0) return { ok: false, errors };
  const { id, source, time, detail } = raw as unknown as EventBridgeEvent;
  return { ok: true, value: { id, 'detail-type': raw['detail-type'] as string, source, time, detail } };
}
