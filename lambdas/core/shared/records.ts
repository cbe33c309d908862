import * as z from 'zod';

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

const isRecord = (input: unknown): input is Dict<unknown> =>
  typeof input === 'object' && input !== null && !Array.isArray(input);

/**
 * `z.record` for outside keys: the result is a null-prototype record that keeps every own key of the input,
 * `__proto__` included (JSON.parse makes it an own property; `z.record` drops it silently). Key and value issues
 * are reported at `<path>.<key>` like `z.record`'s.
 */
export function ownRecord<V extends z.ZodType>(key: z.ZodType<string>, value: V) {
  return z.custom<Dict<z.input<V>>>(isRecord, { message: 'expected an object' }).transform((input, ctx) => {
    const output = dict<z.output<V>>();
    for (const name of Object.keys(input)) {
      const checkedKey = key.safeParse(name);
      if (!checkedKey.success) {
        for (const issue of checkedKey.error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, path: [name], input: name });
        }
        continue;
      }
      const checked = value.safeParse(input[name]);
      if (!checked.success) {
        for (const issue of checked.error.issues) {
          ctx.addIssue({ code: 'custom', message: issue.message, path: [name, ...issue.path], input: input[name] });
        }
        continue;
      }
      output[name] = checked.data;
    }
    return output;
  });
}
