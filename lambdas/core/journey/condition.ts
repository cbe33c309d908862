import * as z from 'zod';
import { DATA_PATH_PATTERN } from '../shared/paths';
import { SegmentId } from '../segments/rule';

const DataPath = z.string().regex(DATA_PATH_PATTERN, 'path must be event|profile|context|steps followed by .identifier segments other than .length, e.g. "event.properties.total"');
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

export const Comparison = z
  .object({
    path: DataPath,
    op: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte']),
    value: Scalar,
  })
  // ASL has no BooleanGreaterThan and the like: such a rule would make the state machine invalid.
  .refine((c) => typeof c.value !== 'boolean' || c.op === 'eq' || c.op === 'ne', { message: 'gt, gte, lt and lte compare numbers or strings, not booleans', path: ['value'] });
export type Comparison = z.infer<typeof Comparison>;

export const Membership = z.object({
  path: DataPath,
  op: z.literal('in'),
  values: z.array(z.union([z.string(), z.number()])).min(1).max(50),
});
export type Membership = z.infer<typeof Membership>;

export const Existence = z.object({ path: DataPath, op: z.enum(['exists', 'missing']) });
export type Existence = z.infer<typeof Existence>;

/** The profile is a member of the segment (read from the profile, refreshed before the branch). */
export const SegmentMembership = z.object({ segment: SegmentId });
export type SegmentMembership = z.infer<typeof SegmentMembership>;

export type Condition = Comparison | Membership | Existence | SegmentMembership | { all: Condition[] } | { any: Condition[] } | { not: Condition };

/** A condition over the journey's data: comparisons combined with all / any / not. */
export const Condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(Condition).min(1).max(20) }),
    z.strictObject({ any: z.array(Condition).min(1).max(20) }),
    z.strictObject({ not: Condition }),
    Membership.strict(),
    Existence.strict(),
    SegmentMembership.strict(),
    Comparison.strict(),
  ]),
);

// What a condition means lives apart from its schema, so the router and the steps evaluate without zod.
export { conditionPaths, evaluateCondition, segmentPath, toChoiceRule, type ChoiceRule } from './condition-eval';
