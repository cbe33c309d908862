import { EnvKey, TableEnvKey, type TableKey } from '../core/config/env-keys';
import { isTimeZone } from '../core/governance/local-time';

// Every variable is optional: a function gets only what its declaration names (lib/entry-points.ts), and a port whose
// variable is absent fails when used, naming it (MissingEnvironmentError). Hand-written rather than a zod schema: every
// function loads this at cold start, and zod alone is ~110 KB and ~100 ms of init (lambdas/handlers/README.md).

/** A checker returns the value or the reason it is invalid. */
type Check<T> = (value: string) => { ok: true; value: T } | { ok: false; message: string };

const text: Check<string> = (value) => (value.length > 0 ? { ok: true, value } : { ok: false, message: 'must not be empty' });
const url: Check<string> = (value) => (URL.canParse(value) ? { ok: true, value } : { ok: false, message: 'must be a URL' });
const timeZone: Check<string> = (value) => (isTimeZone(value) ? { ok: true, value } : { ok: false, message: 'an IANA time zone' });
const percent: Check<number> = (value) => {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  return n >= 0 && n <= 100 ? { ok: true, value: n } : { ok: false, message: 'must be a number from 0 to 100' };
};

const VARIABLES = {
  [EnvKey.profilesTable]: text,
  [EnvKey.journeysTable]: text,
  [EnvKey.runtimeTable]: text,
  [EnvKey.eventBusName]: text,
  [EnvKey.unsubscribeSecretArn]: text,
  [EnvKey.privacyKeySecretArn]: text,
  [EnvKey.publicUrl]: url,
  [EnvKey.audienceScanStateMachineArn]: text,
  [EnvKey.defaultTimeZone]: timeZone,
  [EnvKey.audienceBucketName]: text,
  [EnvKey.senderEmail]: text,
  [EnvKey.emailConfigurationSet]: text,
  [EnvKey.pushApplicationId]: text,
  [EnvKey.smsOriginationIdentity]: text,
  [EnvKey.smsConfigurationSet]: text,
  [EnvKey.campaignControlGroupPercent]: percent,
} satisfies Partial<Record<EnvKey, Check<unknown>>>;
type Variables = typeof VARIABLES;
type Parsed = { [K in keyof Variables]?: Variables[K] extends Check<infer T> ? T : never };

/** Each known variable checked; every invalid one named in one error (`invalid environment: NAME: reason; …`). */
function parseVariables(source: NodeJS.ProcessEnv): Parsed {
  const parsed: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, check] of Object.entries(VARIABLES) as [string, Check<unknown>][]) {
    const raw = Object.hasOwn(source, name) ? source[name] : undefined;
    if (raw === undefined) continue;
    const result = check(raw);
    if (result.ok) parsed[name] = result.value;
    else errors.push(`${name}: ${result.message}`);
  }
  if (errors.length > 0) throw new Error(`invalid environment: ${errors.join('; ')}`);
  return parsed as Parsed;
}

/** A variable this function was not given (its entry point does not declare what needs it). */
export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
  constructor(readonly variable: string) {
    super(`${variable} is not set for this function (declare what it uses in lib/entry-points.ts)`);
  }
}

/** Reads the handler environment once; a malformed variable fails the cold start with its name. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env) {
  const data = parseVariables(source);
  const tables: Readonly<Partial<Record<TableKey, string>>> = {
    profiles: data[EnvKey.profilesTable],
    journeys: data[EnvKey.journeysTable],
    runtime: data[EnvKey.runtimeTable],
  };
  return {
    /** The table names this function was given (those its entry point declares). */
    tables,
    /** A table's name; throws MissingEnvironmentError when this function was not given it. */
    table(name: TableKey): string {
      const value = tables[name];
      if (value === undefined) throw new MissingEnvironmentError(TableEnvKey[name]);
      return value;
    },
    eventBusName: data[EnvKey.eventBusName],
    unsubscribeSecretArn: data[EnvKey.unsubscribeSecretArn],
    privacyKeySecretArn: data[EnvKey.privacyKeySecretArn],
    publicUrl: data[EnvKey.publicUrl],
    audienceScanStateMachineArn: data[EnvKey.audienceScanStateMachineArn],
    defaultTimeZone: data[EnvKey.defaultTimeZone] ?? 'UTC',
    audienceBucketName: data[EnvKey.audienceBucketName],
    senderEmail: data[EnvKey.senderEmail],
    emailConfigurationSet: data[EnvKey.emailConfigurationSet],
    pushApplicationId: data[EnvKey.pushApplicationId],
    smsOriginationIdentity: data[EnvKey.smsOriginationIdentity],
    smsConfigurationSet: data[EnvKey.smsConfigurationSet],
    campaignControlGroupPercent: data[EnvKey.campaignControlGroupPercent],
  };
}
export type HandlerEnv = ReturnType<typeof loadEnv>;
