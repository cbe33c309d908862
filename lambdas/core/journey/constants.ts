// Constants of the journey language, apart from its schema (schema.ts, zod), for the readers that bundle no zod.

/** The journey file format's version (`schemaVersion`). */
export const SCHEMA_VERSION = 1;
/** A journey's `settings.priority` when it sets none (governance: arbitration, preemption). */
export const DEFAULT_PRIORITY = 50;
