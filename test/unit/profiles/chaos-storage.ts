import type fc from 'fast-check';
import type { ProfileStorage } from '../../../lambdas/core/profiles/storage';

/** A storage call that failed: before it reached the store, or after (the write happened, the caller never heard). */
export class TransientStorageError extends Error {
  override readonly name = 'TransientStorageError';
}

export type Fault = 'before' | 'after';

const METHODS = [
  'readIdentity',
  'claimIdentity',
  'repointIdentity',
  'readProfile',
  'createProfile',
  'replaceProfile',
  'applyIncrement',
  'freeze',
  'markMerged',
  'recordEvent',
  'markApplied',
  'readEvent',
  'listEvents',
] as const satisfies readonly (keyof ProfileStorage)[];

/**
 * Wraps a storage so that fast-check's scheduler decides the order in which concurrent calls reach it (each call is one
 * atomic step, as in DynamoDB), and the n-th call (in the order they run) fails as `faults` says.
 */
export function chaosStorage(storage: ProfileStorage, scheduler: fc.Scheduler | undefined, faults: ReadonlyMap<number, Fault>): ProfileStorage & { calls(): number } {
  let calls = 0;
  const wrapped: Record<string, unknown> = { calls: () => calls };
  for (const method of METHODS) {
    const step = async (...args: unknown[]) => {
      const fault = faults.get(calls++);
      if (fault === 'before') throw new TransientStorageError(`${method} failed before reaching the store`);
      const result = await (storage[method] as (...a: unknown[]) => Promise<unknown>).apply(storage, args);
      if (fault === 'after') throw new TransientStorageError(`${method} reached the store, its answer was lost`);
      return result;
    };
    wrapped[method] = scheduler ? scheduler.scheduleFunction(step) : step;
  }
  return wrapped as unknown as ProfileStorage & { calls(): number };
}

/** Delivers an event the way Lambda does: again after a retryable failure (at most `attempts` times). */
export async function deliver<T>(attempt: () => Promise<T>, attempts = 20, retryable: new (...args: never[]) => Error = TransientStorageError): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof retryable) || i >= attempts) throw error;
    }
  }
}
