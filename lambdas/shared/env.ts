import * as z from 'zod';
import { EnvKey, TableEnvKey, type TableKey } from '../core/config/env-keys';
import { isTimeZone } from '../core/governance/local-time';

// Every variable is optional: a function gets only what its declaration names (lib/entry-points.ts), and a port whose
// variable is absent fails when used, naming it (MissingEnvironmentError).
const Env = z.object({
  [EnvKey.profilesTable]: z.string().min(1).optional(),
  [EnvKey.journeysTable]: z.string().min(1).optional(),
  [EnvKey.runtimeTable]: z.string().min(1).optional(),
  [EnvKey.eventBusName]: z.string().min(1).optional(),
  [EnvKey.unsubscribeSecretArn]: z.string().min(1).optional(),
  [EnvKey.privacyKeySecretArn]: z.string().min(1).optional(),
  [EnvKey.publicUrl]: z.url().optional(),
  [EnvKey.audienceScanStateMachineArn]: z.string().min(1).optional(),
  [EnvKey.defaultTimeZone]: z.string().refine(isTimeZone, 'an IANA time zone').optional(),
  [EnvKey.audienceBucketName]: z.string().min(1).optional(),
  [EnvKey.senderEmail]: z.string().min(1).optional(),
  [EnvKey.emailConfigurationSet]: z.string().min(1).optional(),
  [EnvKey.pushApplicationId]: z.string().min(1).optional(),
  [EnvKey.smsOriginationIdentity]: z.string().min(1).optional(),
  [EnvKey.smsConfigurationSet]: z.string().min(1).optional(),
  [EnvKey.campaignControlGroupPercent]: z.coerce.number().min(0).max(100).optional(),
});

/** A variable this function was not given (its entry point does not declare what needs it). */
export class MissingEnvironmentError extends Error {
  override readonly name = 'MissingEnvironmentError';
  constructor(readonly variable: string) {
    super(`${variable} is not set for this function (declare what it uses in lib/entry-points.ts)`);
  }
}

/** Reads the handler environment once; a malformed variable fails the cold start with its name. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const tables: Readonly<Partial<Record<TableKey, string>>> = {
    profiles: parsed.data[EnvKey.profilesTable],
    journeys: parsed.data[EnvKey.journeysTable],
    runtime: parsed.data[EnvKey.runtimeTable],
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
    eventBusName: parsed.data[EnvKey.eventBusName],
    unsubscribeSecretArn: parsed.data[EnvKey.unsubscribeSecretArn],
    privacyKeySecretArn: parsed.data[EnvKey.privacyKeySecretArn],
    publicUrl: parsed.data[EnvKey.publicUrl],
    audienceScanStateMachineArn: parsed.data[EnvKey.audienceScanStateMachineArn],
    defaultTimeZone: parsed.data[EnvKey.defaultTimeZone] ?? 'UTC',
    audienceBucketName: parsed.data[EnvKey.audienceBucketName],
    senderEmail: parsed.data[EnvKey.senderEmail],
    emailConfigurationSet: parsed.data[EnvKey.emailConfigurationSet],
    pushApplicationId: parsed.data[EnvKey.pushApplicationId],
    smsOriginationIdentity: parsed.data[EnvKey.smsOriginationIdentity],
    smsConfigurationSet: parsed.data[EnvKey.smsConfigurationSet],
    campaignControlGroupPercent: parsed.data[EnvKey.campaignControlGroupPercent],
  };
}
export type HandlerEnv = ReturnType<typeof loadEnv>;
