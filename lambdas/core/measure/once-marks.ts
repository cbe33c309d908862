/** The first-time mark of a run's end (kept 7 days): erasure removes it with the run's other records. */
export const runEndKey = (executionArn: string) => `RUN-END#${executionArn}`;
/** Where `OnceMarks` adapters keep a mark (runtime table): pk `ONCE#<key>`, sk `ONCE`. */
export const onceMarkItemKey = (key: string) => ({ pk: `ONCE#${key}`, sk: 'ONCE' });

/** Answers true once per key: the first caller of a fact counts it (a conditional write, kept `expiresAt`). */
export interface OnceMarks {
  first(key: string, expiresAt: number): Promise<boolean>;
}
