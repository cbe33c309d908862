/**
 * Records keyed by outside data (identity namespaces, event types, attribute, property and consent names).
 * They are null-prototype objects, read as own properties: a key such as `constructor`, `toString` or `__proto__`
 * is data like any other, never `Object.prototype`'s member (reading `{}.constructor` yields `Object`, and writing
 * into it replaces `Object.keys` for the whole process).
 */
export type Dict<T> = Record<string, T>;

/** A null-prototype record, optionally filled from entries (later entries win). */
export function dict<T>(entries: Iterable<readonly [string, T]> = []): Dict<T> {
  const record = Object.create(null) as Dict<T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

/** `record[key]` when it is an own property; never a member inherited from `Object.prototype`. */
export function own<T>(record: Readonly<Dict<T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

// `ownRecord` (the zod schema of such records) is in ./own-record: this module stays free of zod for every bundle.
