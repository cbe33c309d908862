import * as z from 'zod';
import { dict, type Dict } from './records';

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
