import type { Node } from 'constructs';
import { z } from 'zod';
import type { CompiledJourney } from '../lambdas/core/journey';
import { isTimeZone } from '../lambdas/core/governance/local-time';

/** The context key holding the stage settings, as an object (`cdk.json` / `cdk.context.json`) or as flat `waymark:<field>` keys (`-c`). */
export const CONTEXT_KEY = 'waymark';

/** Used when no push application is configured; the push permission is still scoped to this one app ARN. */
export const NO_PUSH_APPLICATION = 'none';

/** Used when no SMS origination identity is configured: SMS sends then fail (refused), nothing goes out. */
export const NO_SMS_ORIGINATION = 'none';

/** The one stage that may keep the placeholders (sender, push application), so a first `cdk synth` works as cloned. */
export const DEV_STAGE = 'dev';

/** Domains reserved for examples and tests (RFC 2606 / RFC 6761): no mail from them reaches anyone. */
const PLACEHOLDER_DOMAINS = ['example.com', 'example.net', 'example.org'];
const PLACEHOLDER_TLDS = ['example', 'test', 'invalid', 'localhost'];

/** Whether an address is on a reserved example/test domain (the default sender is one). */
export function isPlaceholderAddress(address: string): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  return PLACEHOLDER_TLDS.includes(tld) || PLACEHOLDER_DOMAINS.some((d) => domain === d || domain.endsWith(`.${d}`));
}

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
  /**
   * What journey SMS are sent from with End User Messaging SMS `SendTextMessage` (`OriginationIdentity`): a phone
   * number (E.164 or its id), a pool id, a sender ID, or the ARN of one (an ARN for a shared resource:
   * https://docs.aws.amazon.com/pinpoint/latest/apireference_smsvoicev2/API_SendTextMessage.html). Needed by a stage
   * other than dev that has an SMS step (`requireSmsOrigination`).
   */
  smsOriginationIdentity: z
    .string()
    .max(256, 'smsOriginationIdentity is at most 256 characters')
    .regex(/^[A-Za-z0-9_:/+.-]+$/, 'smsOriginationIdentity is a phone number (+E.164), a phone number, pool or sender id, or an sms-voice ARN')
    .default(NO_SMS_ORIGINATION),
  /** Where alarm notifications are emailed; without it the alarm topic has no subscription. */
  alarmEmail: z.email('alarmEmail must be an email address').optional(),
  /**
   * The IANA time zone of profiles without a valid `attributes.timezone`: their quiet hours and calendar-day caps
   * (lambdas/core/governance/README.md). @default UTC
   */
  defaultTimezone: z
    .string()
    .refine(isTimeZone, 'defaultTimezone must be an IANA time zone name, e.g. "Europe/Berlin" or "UTC"')
    .default('UTC'),
  /**
   * The global control group of campaigns: this percent of all profiles (a stable hash of the profile id) never
   * receives a campaign and is counted as excluded `control-group` (lambdas/core/campaigns/README.md). @default 0
   */
  campaignControlGroupPercent: z.coerce
    .number('campaignControlGroupPercent must be a number of percent, e.g. 5')
    .min(0, 'campaignControlGroupPercent is at least 0')
    .max(100, 'campaignControlGroupPercent is at most 100')
    .optional(),
  /**
   * Bundle the Powertools tracer and the X-Ray SDK into every function, so each AWS SDK call shows as a subsegment of
   * its invocation's trace (~140 KB and 20–30 ms of cold init a function). Without it, Lambda's active tracing still
   * records each invocation and the service map (lib/README.md, "Bundling"). `-c waymark:traceAwsCalls=true`.
   * @default false
   */
  traceAwsCalls: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')], {
      error: 'traceAwsCalls must be true or false',
    })
    .optional(),
});
export type StageConfig = z.infer<typeof StageConfig>;

const FIELDS = Object.keys(StageConfig.shape) as (keyof StageConfig)[];

/** The settings a stage other than dev must give real values (the push one needs the journeys: `requirePushApplication`). */
const DeployableStageConfig = StageConfig.superRefine((config, context) => {
  if (config.stage !== DEV_STAGE && isPlaceholderAddress(config.senderEmail)) {
    context.addIssue({
      code: 'custom',
      path: ['senderEmail'],
      message: `senderEmail is a placeholder address; stage "${config.stage}" sends real email, so give the verified SES identity journeys send from`,
    });
  }
});

/**
 * On a stage other than dev, a journey with a push step needs a push application: without one every push send fails.
 * Throws a `StageConfigError` naming the setting and the journeys.
 */
export function requirePushApplication(config: Pick<StageConfig, 'stage' | 'pushApplicationId'>, journeys: readonly CompiledJourney[]): void {
  if (config.stage === DEV_STAGE || config.pushApplicationId !== NO_PUSH_APPLICATION) return;
  const pushing = journeys.filter((j) => j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'push')).map((j) => `journey "${j.journey.id}"`);
  if (pushing.length === 0) return;
  throw new StageConfigError(
    `invalid stage configuration in CDK context:\n  ${CONTEXT_KEY}.pushApplicationId: ${pushing.join(', ')} ${pushing.length === 1 ? 'has' : 'have'} a push step, so stage "${config.stage}" needs the End User Messaging (Pinpoint) application id push messages go through (-c ${CONTEXT_KEY}:pushApplicationId=<app id>)`,
  );
}

/**
 * On a stage other than dev, a journey with an SMS step needs an origination identity: without one every SMS is
 * refused. Throws a `StageConfigError` naming the setting and the journeys.
 */
export function requireSmsOrigination(config: Pick<StageConfig, 'stage' | 'smsOriginationIdentity'>, journeys: readonly CompiledJourney[]): void {
  if (config.stage === DEV_STAGE || config.smsOriginationIdentity !== NO_SMS_ORIGINATION) return;
  const texting = journeys
    .filter((j) => j.journey.nodes.some((n) => n.kind === 'send' && n.channel === 'sms'))
    .map((j) => `journey "${j.journey.id}"`);
  if (texting.length === 0) return;
  const who = `${texting.join(', ')} ${texting.length === 1 ? 'has' : 'have'} an SMS step`;
  throw new StageConfigError(
    `invalid stage configuration in CDK context:\n  ${CONTEXT_KEY}.smsOriginationIdentity: ${who}, so stage "${config.stage}" ` +
      `needs the End User Messaging SMS phone number, pool or sender ID SMS are sent from ` +
      `(-c ${CONTEXT_KEY}:smsOriginationIdentity=<id or ARN>)`,
  );
}

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
  const parsed = DeployableStageConfig.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const field = i.path.join('.') || '(root)';
      const given = i.path.length > 0 && raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[String(i.path[0])] : undefined;
      const received = i.path.length === 0 ? '' : given === undefined ? ' (not set: the default applies)' : ` (received ${JSON.stringify(given)})`;
      return `${CONTEXT_KEY}.${field}: ${i.message}${received}`;
    });
    throw new StageConfigError(`invalid stage configuration in CDK context:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}
