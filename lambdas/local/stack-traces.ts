/**
 * Runs `work` with `Error.stackTraceLimit` at 0, restoring it after. Only for a process that does nothing but simulate
 * (`waymark simulate`, the simulation bench), never on a code path that runs on AWS or in a shared test process:
 * aws-local-stepfunctions calls jsonpath-plus's `JSONPath()` without `new`, which throws and catches an Error for every
 * scalar path result; capturing those stacks took a fifth of a simulation's time. Errors keep their name and message
 * (all a simulation reports of them); only their stack is lost, for the time `work` runs.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
