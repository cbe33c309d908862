import * as z from 'zod';
import { dict } from '../shared/records';
import { ownRecord } from '../shared/own-record';
import { DURATION_PATTERN } from '../shared/duration';
import { Rule, SegmentId, describeIssues, ruleDepth, MAX_RULE_DEPTH, type ParseResult } from '../segments/rule';

/**
 * The offer catalog (D1): placements (where an offer can appear) and offers (content per placement, validity,
 * eligibility in the segment rule language or a segment reference, priority or a ranking formula, tags, caps).
 */

export const SCHEMA_VERSION = 1;

const Id = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'ids are kebab-case: lowercase letters and digits separated by single hyphens, starting with a letter').max(64, 'ids are at most 64 characters');
export const PlacementId = Id;
export const OfferId = Id;
const Duration = z.string().regex(DURATION_PATTERN, 'expected a duration: groups of <integer><s|m|h|d|w>, e.g. "7d"');
const Instant = z.iso.datetime({ offset: true, error: 'expected an ISO-8601 time with a zone, e.g. 2026-12-01T00:00:00Z' });

export const Placement = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: PlacementId,
  name: z.string().min(1).max(200),
  description: z.string().max(1000).optional(),
  channel: z.enum(['email', 'sms', 'push', 'web', 'in-app']).optional(),
  /** Content fields every offer must provide for this placement (e.g. `title`, `imageUrl`). */
  requiredContent: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'content field names are identifiers')).max(20).default([]),
});
export type Placement = z.infer<typeof Placement>;

/** Content of an offer for one placement: flat fields templates render (`{{ steps.pick.offer.content.title }}`). */
const MAX_CONTENT_BYTES = 8 * 1024;

export const Content = ownRecord(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'content field names are identifiers'),
  z.union([z.string().max(10_000), z.number(), z.boolean()]),
)
  // A chosen offer travels in the journey run's data (Step Functions keeps at most 256 KB; see runtime/execution-data.ts).
  .refine((content) => Buffer.byteLength(JSON.stringify(content)) <= MAX_CONTENT_BYTES, {
    message: `content for a placement is at most ${MAX_CONTENT_BYTES / 1024} KB of JSON`,
  });
export type Content = z.infer<typeof Content>;

/** Eligibility: a rule in the segment rule language, or membership of a stored segment. */
// One object with exactly one of the two keys (not a union), so a mistake inside the rule is reported at its path.
export const Eligibility = z
  .strictObject({ segment: SegmentId.optional(), rule: Rule.optional() })
  .refine((e) => (e.segment === undefined) !== (e.rule === undefined), { message: 'eligibility is { "rule": <segment rule> } or { "segment": "<segment id>" }' }) as unknown as z.ZodType<
  { segment: string; rule?: undefined } | { rule: Rule; segment?: undefined }
>;
export type Eligibility = { segment: string; rule?: undefined } | { rule: Rule; segment?: undefined };

export const Caps = z
  .strictObject({
    /** Proposals of this offer, ever, across all profiles. */
    total: z.number().int().min(1).max(1_000_000_000).optional(),
    /** Proposals to one profile within a sliding period. */
    perProfile: z.strictObject({ count: z.number().int().min(1).max(1000), period: Duration }).optional(),
  })
  .refine((c) => c.total !== undefined || c.perProfile !== undefined, { message: 'caps need total, perProfile or both' });
export type Caps = z.infer<typeof Caps>;

export const Offer = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    id: OfferId,
    name: z.string().min(1).max(200),
    description: z.string().max(1000).optional(),
    /** Placement id → content for it; the offer can only be proposed in these placements. */
    placements: ownRecord(PlacementId, Content).refine((p) => Object.keys(p).length > 0, {
      message: 'an offer has content for at least one placement',
    }),
    validFrom: Instant.optional(),
    validUntil: Instant.optional(),
    /** Omitted: everyone is eligible. */
    eligibility: Eligibility.optional(),
    /** Higher first; also the tie-breaker after the formula's score. */
    priority: z.number().int().min(0).max(1_000_000).default(0),
    /** A ranking formula (EXPRESSIONS.md) over profile, context and offer; omitted: the priority is the score. */
    score: z.string().min(1).max(2000).optional(),
    tags: z.array(z.string().min(1).max(64)).max(20).default([]),
    /** Free attributes the formula can read as `offer.attributes.*` (margin, stock, …). */
    attributes: ownRecord(z.string(), z.union([z.string(), z.number(), z.boolean()])).default(() =>
      dict<string | number | boolean>(),
    ),
    caps: Caps.optional(),
    /** A fallback is proposed only when no other offer qualifies for the placement; it has no eligibility and no caps. */
    fallback: z.boolean().default(false),
  })
  .refine((o) => o.validFrom === undefined || o.validUntil === undefined || Date.parse(o.validFrom) < Date.parse(o.validUntil), {
    message: 'validFrom must be before validUntil',
    path: ['validUntil'],
  })
  .refine((o) => !o.fallback || (o.eligibility === undefined && o.caps === undefined), {
    message: 'a fallback offer has no eligibility and no caps (it is what is left when nothing else qualifies)',
    path: ['fallback'],
  });
export type Offer = z.infer<typeof Offer>;
export type OfferInput = z.input<typeof Offer>;

function parseWith<T>(schema: z.ZodType<T>, input: unknown, depthOf?: (value: T) => number): ParseResult<T> {
  const result = schema.safeParse(input);
  if (!result.success) return { ok: false, errors: describeIssues(result.error) };
  if (depthOf && depthOf(result.data) > MAX_RULE_DEPTH) return { ok: false, errors: [`eligibility.rule: rules nest at most ${MAX_RULE_DEPTH} levels deep (all / any / not)`] };
  return { ok: true, value: result.data };
}

export const parsePlacement = (input: unknown): ParseResult<Placement> => parseWith(Placement, input);
export const parseOffer = (input: unknown): ParseResult<Offer> =>
  parseWith(Offer as z.ZodType<Offer>, input, (o) => (o.eligibility?.rule !== undefined ? ruleDepth(o.eligibility.rule) : 0));
