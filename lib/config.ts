import type { Node } from 'constructs';
import { z } from 'zod';

/** The context key holding the stage settings, as an object (`cdk.json` / `cdk.context.json`) or as flat `waymark:<field>` keys (`-c`). */
export const CONTEXT_KEY = 'waymark';

/** Used when no push application is configured; the push permission is still scoped to this one app ARN. */
export const NO_PUSH_APPLICATION = 'none';

/**
 * One deployment of Waymark (e.g. `dev`, `prod`). The stage name goes into physical names
 * (`waymark-<stage>` bus, `waymark-<stage>-<journeyId>` state machines), so it is short and lowercase.
 */
export const StageConfig = z.strictObject({
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'stage is lowercase letters, digits and hyphens, starting with a letter')
    .max(16, 'stage is at most 16 characters (it prefixes state machine names, limited to 80)')
    .default('dev'),
  /** The verified SES identity journeys send from (an address, or an address on a verified domain). */
  senderEmail: z.email('senderEmail must be an email address').default('no-reply@example.com'),
  /** The End User Messaging (Pinpoint) application id push messages go through. */
  pushApplicationId: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'pushApplicationId is a Pinpoint / End User Messaging application id')
    .default(NO_PUSH_APPLICATION),
  /** Where alarm notifications are emailed; without it the alarm topic has no subscription. */
  alarmEmail: z.email('alarmEmail must be an email address').optional(),
});
export type StageConfig = z.infer<typeof StageConfig>;

const FIELDS = Object.keys(StageConfig.shape) as (keyof StageConfig)[];

/** Thrown when the CDK context holds an invalid stage configuration; the message names each offending field. */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

/**
 * Reads the stage configuration from CDK context: the `waymark` object, overridden field by field by
 * `waymark:<field>` keys, e.g. `npx cdk synth -c waymark:stage=prod -c waymark:senderEmail=news@shop.example`.
 */
export function loadStageConfig(node: Node): StageConfig {
  const object: unknown = node.tryGetContext(CONTEXT_KEY);
  if (object !== undefined && (typeof object !== 'object' || object === null || Array.isArray(object))) {
    throw new StageConfigError(`context "${CONTEXT_KEY}" must be an object of stage settings (${FIELDS.join(', ')}), received ${JSON.stringify(object)}`);
  }
  const raw: Record<string, unknown> = { ...(object as Record<string, unknown> | undefined) };
  for (const field of FIELDS) {
    const value: unknown = node.tryGetContext(`${CONTEXT_KEY}:${field}`);
    if (value !== undefined) raw[field] = value;
  }
  return parseStageConfig(raw);
}

export function parseStageConfig(raw: unknown): StageConfig {
  const parsed = StageConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.join('.') || '(root)';
      const received = i.path.length > 0 && raw && typeof raw === 'object' ? ` (received ${JSON.stringify((raw as Record<string, unknown>)[String(i.path[0])])})` : '';
      return `${CONTEXT_KEY}.${field}: ${i.message}${received}`;
    });
    throw new StageConfigError(`invalid stage configuration in CDK context:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}
