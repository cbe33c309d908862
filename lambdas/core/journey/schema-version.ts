/** The journey file format's version (`schemaVersion`); apart from the schema, for readers without zod. */
export const SCHEMA_VERSION = 1;
