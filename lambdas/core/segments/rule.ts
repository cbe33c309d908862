import * as z from 'zod';
import { DURATION_PATTERN } from '../shared/duration';

/**
 * The segment rule language (S1): a JSON tree discriminated by `kind`.
 * Leaves compare one field of the profile (an attribute or a computed attribute of an event type),
 * test a date relative to "now", count events in the recent-events window, or test membership of another segment;
 * `all` / `any` / `not` combine them. See segments/README.md (repository root) for one example per kind.
 */

export const SCHEMA_VERSION = 1;

const Name = z.string().min(1).max(200);
export const Scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, a number or a boolean' });
export type Scalar = z.infer<typeof Scalar>;
const Ordered = z.union([z.string(), z.number()], { error: 'expected a number or a string' });
const Duration = z.string().regex(DURATION_PATTERN, 'expected a duration: groups of <integer><s|m|h|d|w>, e.g. "7d" or "24h"');

/** A profile attribute by name (`attributes[name]`, so names may contain dots). */
export const AttributeField = z.strictObject({ kind: z.literal('attribute'), name: Name });
export type AttributeField = z.infer<typeof AttributeField>;

/**
 * A computed attribute of one event type (`computed[event]`): `count`, `firstSeen`, `lastSeen`, or `sum` of a numeric
 * property (`property` names it). The event type is its own string, so `order.placed` needs no escaping.
 */
export const ComputedField = z
  .strictObject({
    kind: z.literal('computed'),
    event: Name,
    stat: z.enum(['count', 'firstSeen', 'lastSeen', 'sum']),
    property: Name.optional(),
  })
  .refine((f) => (f.stat === 'sum') === (f.property !== undefined), {
    message: 'property is required with stat "sum" and only with it',
    path: ['property'],
  });
export type ComputedField = z.infer<typeof ComputedField>;

export const Field = z.discriminatedUnion('kind', [AttributeField, ComputedField]);
export type Field = z.infer<typeof Field>;

/** Predicates on one value; shared by profile conditions (`field`) and event `where` clauses (`property`). */
const predicates = {
  equals: { value: Scalar },
  notEquals: { value: Scalar },
  greater: { value: Ordered },
  less: { value: Ordered },
  between: { min: Ordered, max: Ordered },
  in: { values: z.array(Scalar).min(1).max(1000) },
  contains: { value: z.string().min(1), ignoreCase: z.boolean().optional() },
  startsWith: { value: z.string().min(1), ignoreCase: z.boolean().optional() },
  exists: {},
} as const;

function betweenIsOrdered(c: { kind: string; min?: unknown; max?: unknown }, ctx: z.RefinementCtx): void {
  if (c.kind !== 'between') return;
  if (typeof c.min !== typeof c.max) ctx.addIssue({ code: 'custom', message: 'min and max must both be numbers or both be strings', path: ['max'] });
  else if ((c.min as number) > (c.max as number)) ctx.addIssue({ code: 'custom', message: 'min must not exceed max', path: ['max'] });
}

function predicateUnion<K extends string, S extends z.ZodType>(key: K, subject: S) {
  const make = <T extends keyof typeof predicates>(kind: T) => z.strictObject({ kind: z.literal(kind), [key]: subject, ...predicates[kind] } as { kind: z.ZodLiteral<T> } & Record<K, S> & (typeof predicates)[T]);
  return [make('equals'), make('notEquals'), make('greater'), make('less'), make('between'), make('in'), make('contains'), make('startsWith'), make('exists')] as const;
}

const comparisons = predicateUnion('field', Field);
export const Comparison = z.discriminatedUnion('kind', comparisons).superRefine(betweenIsOrdered);
export type Comparison = z.infer<typeof Comparison>;

/** A condition on one property of an event (`properties[property]`). */
export const PropertyCondition = z.discriminatedUnion('kind', predicateUnion('property', Name)).superRefine(betweenIsOrdered);
export type PropertyCondition = z.infer<typeof PropertyCondition>;

/** The field holds a time (ISO-8601 with `Z` or an offset, `YYYY-MM-DD`, or epoch milliseconds) in [now - duration, now]. */
export const WithinLast = z.strictObject({ kind: z.literal('withinLast'), field: Field, duration: Duration });
export type WithinLast = z.infer<typeof WithinLast>;

/** The field holds a time in [now, now + duration]. */
export const WithinNext = z.strictObject({ kind: z.literal('withinNext'), field: Field, duration: Duration });
export type WithinNext = z.infer<typeof WithinNext>;

/**
 * The field's month and day (UTC), ignoring the year, fall on one of the `days` + 1 UTC calendar days from today
 * forwards (`next`) or backwards (`last`). A 29 February anniversary falls on 28 February in common years.
 */
export const Anniversary = z.strictObject({
  kind: z.literal('anniversary'),
  field: Field,
  direction: z.enum(['next', 'last']),
  days: z.number().int().min(0).max(366),
});
export type Anniversary = z.infer<typeof Anniversary>;

/**
 * Events of `type` in the recent-events window, with event time in [now - within, now] (the whole window when
 * `within` is absent) and every `where` condition true: their number is at least `atLeast` (default 1) and at most `atMost`.
 */
export const EventCondition = z
  .strictObject({
    kind: z.literal('event'),
    type: Name,
    within: Duration.optional(),
    where: z.array(PropertyCondition).max(20).optional(),
    atLeast: z.number().int().min(0).optional(),
    atMost: z.number().int().min(0).optional(),
  })
  .refine((e) => e.atLeast === undefined || e.atMost === undefined || e.atLeast <= e.atMost, { message: 'atLeast must not exceed atMost', path: ['atMost'] });
export type EventCondition = z.infer<typeof EventCondition>;

/** The profile is a member of another segment (memberships are passed in with the profile). */
export const SegmentReference = z.strictObject({ kind: z.literal('segment'), id: Name });
export type SegmentReference = z.infer<typeof SegmentReference>;

export type Rule =
  | Comparison
  | WithinLast
  | WithinNext
  | Anniversary
  | EventCondition
  | SegmentReference
  | { kind: 'all'; rules: Rule[] }
  | { kind: 'any'; rules: Rule[] }
  | { kind: 'not'; rule: Rule };

export const Rule: z.ZodType<Rule> = z.lazy(() =>
  z
    .discriminatedUnion('kind', [
      ...comparisons,
      WithinLast,
      WithinNext,
      Anniversary,
      EventCondition,
      SegmentReference,
      z.strictObject({ kind: z.literal('all'), rules: z.array(Rule).min(1).max(100) }),
      z.strictObject({ kind: z.literal('any'), rules: z.array(Rule).min(1).max(100) }),
      z.strictObject({ kind: z.literal('not'), rule: Rule }),
    ])
    .superRefine(betweenIsOrdered),
);

export const SegmentId = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'segment ids are kebab-case: lowercase letters and digits separated by single hyphens, starting with a letter').max(64, 'segment ids are at most 64 characters');

export const SegmentDefinition = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: SegmentId,
  name: z.string().min(1).max(200),
  description: z.string().max(1000).optional(),
  rule: Rule,
});
export type SegmentDefinition = z.infer<typeof SegmentDefinition>;

export class SegmentRuleError extends Error {
  override readonly name = 'SegmentRuleError';
  constructor(readonly issues: string[]) {
    super(`invalid segment: ${issues.join('; ')}`);
  }
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  let text = root;
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return text;
}

/** Validation messages naming where in the rule each problem is, e.g. `rule.rules[2].where[0].value: expected a number`. */
export function describeIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.flatMap((issue) => {
    // An unknown field is named by its own path, not its parent's (which is empty at the top).
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${formatPath(root, [...issue.path, key])}: unknown field`.replace(/^\./, ''));
    return [`${formatPath(root, issue.path) || '(root)'}: ${issue.message}`.replace(/^\./, '')];
  });
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** How deeply `all` / `any` / `not` may nest (a segment is stored as a DynamoDB map, which nests at most 32 levels). */
export const MAX_RULE_DEPTH = 10;

export function ruleDepth(rule: Rule): number {
  if (rule.kind === 'all' || rule.kind === 'any') return 1 + Math.max(...rule.rules.map(ruleDepth));
  if (rule.kind === 'not') return 1 + ruleDepth(rule.rule);
  return 1;
}

const tooDeep = (root: string) => `${root}: rules nest at most ${MAX_RULE_DEPTH} levels deep (all / any / not)`;

export function parseRule(input: unknown): ParseResult<Rule> {
  const result = Rule.safeParse(input);
  if (!result.success) return { ok: false, errors: describeIssues(result.error, 'rule') };
  return ruleDepth(result.data) > MAX_RULE_DEPTH ? { ok: false, errors: [tooDeep('rule')] } : { ok: true, value: result.data };
}

export function parseSegment(input: unknown): ParseResult<SegmentDefinition> {
  const result = SegmentDefinition.safeParse(input);
  if (!result.success) return { ok: false, errors: describeIssues(result.error) };
  return ruleDepth(result.data.rule) > MAX_RULE_DEPTH ? { ok: false, errors: [tooDeep('rule')] } : { ok: true, value: result.data };
}
