import * as z from 'zod';
import { dict } from '../shared/records';
import { ownRecord } from '../shared/own-record';
import { isStorableNumber, NUMBER_MESSAGE, unstorableNumberPaths } from './numbers';
import { ATTRIBUTE_NAME, CONSENT_LIST, EVENT_TYPE, EventLimits, IDENTITY_NAMESPACE, utf8Bytes } from './bus-event';

export { EventLimits, parseBusEvent, parseEventBridgeEvent } from './bus-event';

const StorableNumber = z.number().refine(isStorableNumber, NUMBER_MESSAGE);
/** Flags each number in a JSON value outside the storable range, with its path. */
function refineStorableNumbers(value: unknown, ctx: z.RefinementCtx): void {
  for (const path of unstorableNumberPaths(value)) ctx.addIssue({ code: 'custom', message: NUMBER_MESSAGE, path });
}

/** Identity namespaces are open (email, phone, crmId, deviceId, or custom), but must be simple names. */
export const IdentityNamespace = z.string().regex(IDENTITY_NAMESPACE.pattern, IDENTITY_NAMESPACE.message);
export type IdentityNamespace = z.infer<typeof IdentityNamespace>;

/** At least one, except on a catalog event, which has none (checked with the envelope). */
// Records keyed by the sender are null-prototype and keep every key, `__proto__` and `constructor` included.
export const Identities = ownRecord(IdentityNamespace, z.string().min(1).max(256))
  .refine((ids) => Object.keys(ids).length <= 20, 'at most 20 identities per event');
export type Identities = z.infer<typeof Identities>;
/** The identities of a customer (a trigger request): at least one. */
export const CustomerIdentities = Identities.refine(
  (ids) => Object.keys(ids).length > 0,
  'at least one identity is required',
);

export const EventType = z.string().regex(EVENT_TYPE.pattern, EVENT_TYPE.message);

/** Consent is kept per channel and per subscription list (`list:<id>`). */
export const ConsentKey = z.union([z.enum(['email', 'sms', 'push']), z.string().regex(CONSENT_LIST.pattern, CONSENT_LIST.message)]);
export type ConsentKey = z.infer<typeof ConsentKey>;
export const ConsentStatus = z.enum(['opted-in', 'opted-out']);
export type ConsentStatus = z.infer<typeof ConsentStatus>;

const attributeName = z.string().regex(ATTRIBUTE_NAME.pattern, ATTRIBUTE_NAME.message);
export const EventAttributeValue = z.union([
  // A string never has more UTF-16 units than UTF-8 bytes: the length check spares encoding a huge one.
  z
    .string()
    .refine(
      (text) => text.length <= EventLimits.attributeValueBytes && utf8Bytes(text) <= EventLimits.attributeValueBytes,
      `an attribute string is at most ${EventLimits.attributeValueBytes} bytes (UTF-8)`,
    ),
  StorableNumber,
  z.boolean(),
  z.null(),
]);
const AttributeValue = EventAttributeValue;

/**
 * The business-event envelope. On the bus it travels as `detail` (with `detail-type` = type and `source` = source);
 * over the API it is the request body. `attributes` are profile attribute updates, `properties` describe the event.
 */
const EventEnvelope = z.object({
  id: z.string().min(1).max(128),
  type: EventType,
  source: z.string().min(1).max(256),
  time: z.iso.datetime({ offset: true }),
  /**
   * `true`: a catalog event (a price drop, a restock) that belongs to no customer. It carries no identities, attributes
   * or consent, updates no profile, enters no journey, counts in no segment: it only resumes catalog-scoped waits.
   */
  catalog: z.literal(true).optional(),
  identities: Identities.default(() => dict<string>()),
  attributes: ownRecord(attributeName, AttributeValue)
    .refine((a) => Object.keys(a).length <= EventLimits.attributes, `at most ${EventLimits.attributes} attributes`)
    .optional(),
  properties: ownRecord(z.string(), z.unknown()).superRefine(refineStorableNumbers).default(() => dict()),
  /** Consent changes carried by the event (a sign-up form, a preference centre); each takes effect at the event's time. */
  consent: ownRecord(ConsentKey, ConsentStatus)
    .refine((c) => Object.keys(c).length <= EventLimits.consentKeys, `at most ${EventLimits.consentKeys} consent keys`)
    .optional(),
});

function checkOwner(event: z.infer<typeof EventEnvelope>, ctx: z.core.$RefinementCtx): void {
  const hasIdentities = Object.keys(event.identities).length > 0;
  if (!event.catalog) {
    const message = 'at least one identity is required (or "catalog": true for an event of no customer)';
    if (!hasIdentities) ctx.addIssue({ code: 'custom', path: ['identities'], message });
    return;
  }
  for (const field of ['identities', 'attributes', 'consent'] as const) {
    if (field === 'identities' ? hasIdentities : event[field] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `a catalog event belongs to no customer: it has no ${field}` });
    }
  }
}

export const BusinessEvent = EventEnvelope.superRefine(checkOwner);
export type BusinessEvent = z.infer<typeof BusinessEvent>;

/** What a client sends in `detail` (or as the API body); id and time may be left to the platform. */
export const BusinessEventDetail = EventEnvelope.omit({ type: true, source: true }).superRefine((e, ctx) =>
  checkOwner({ ...e, type: '', source: '' }, ctx),
);

/** The EventBridge event shape the router receives (checked by hand there: `parseEventBridgeEvent`). */
export interface EventBridgeEvent {
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  detail: unknown;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
export interface FieldError {
  field: string;
  message: string;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  return issues.flatMap((issue) => {
    const at = [prefix, ...issue.path.map(String)].filter((p) => p !== '');
    // An unknown key is named by itself, so the client sees which field to remove.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: [...at, key].join('.'), message: `unknown field "${key}"` }));
    return [{ field: at.join('.') || '(root)', message: issue.message }];
  });
}

/** Validates an event posted to the API; `id` and `time` default to the request's id and time. */
export function parseApiEvent(body: unknown, defaults: { id: string; time: string; source: string }): ParseResult<BusinessEvent> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(body)', message: 'expected a JSON object' }] };
  }
  const parsed = BusinessEvent.safeParse({ ...defaults, ...(body as object) });
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: formatIssues(parsed.error.issues) };
}
