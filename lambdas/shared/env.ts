import * as z from 'zod';
import { EnvKey } from '../core/config/env-keys';
import { isTimeZone } from '../core/governance/local-time';

const Env = z.object({
  [EnvKey.profilesTable]: z.string().min(1),
  [EnvKey.journeysTable]: z.string().min(1),
  [EnvKey.runtimeTable]: z.string().min(1),
  [EnvKey.eventBusName]: z.string().min(1).optional(),
  [EnvKey.unsubscribeSecretArn]: z.string().min(1).optional(),
  [EnvKey.privacyKeySecretArn]: z.string().min(1).optional(),
  [EnvKey.publicUrl]: z.url().optional(),
  [EnvKey.audienceScanStateMachineArn]: z.string().min(1).optional(),
  [EnvKey.defaultTimeZone]: z.string().refine(isTimeZone, 'an IANA time zone').optional(),
});

/** Reads the handler environment once; a missing variable fails the cold start with its name. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return {
    profilesTable: parsed.data[EnvKey.profilesTable],
    journeysTable: parsed.data[EnvKey.journeysTable],
    runtimeTable: parsed.data[EnvKey.runtimeTable],
    eventBusName: parsed.data[EnvKey.eventBusName],
    unsubscribeSecretArn: parsed.data[EnvKey.unsubscribeSecretArn],
    privacyKeySecretArn: parsed.data[EnvKey.privacyKeySecretArn],
    publicUrl: parsed.data[EnvKey.publicUrl],
    audienceScanStateMachineArn: parsed.data[EnvKey.audienceScanStateMachineArn],
    defaultTimeZone: parsed.data[EnvKey.defaultTimeZone] ?? 'UTC',
  };
}
export type HandlerEnv = ReturnType<typeof loadEnv>;
