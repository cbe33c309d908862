import type { EnrollmentStore, Executions } from '../runtime/ports';
import type { ActiveRun, RunningJourneys } from './ports';

/**
 * The profile's running runs, from the latest enrollment of each journey and its execution's status. Journeys with
 * re-entrance `always` keep no enrollment (their parallel runs are not seen here: README.md, limits).
 */
export function enrollmentRuns(deps: {
  enrollments: Pick<EnrollmentStore, 'get'>;
  executions: Pick<Executions, 'isRunning'>;
}): RunningJourneys {
  return {
    async list(profileId, journeyIds) {
      const runs: ActiveRun[] = [];
      for (const journeyId of journeyIds) {
        const enrollment = await deps.enrollments.get(journeyId, profileId);
        if (!enrollment || !(await deps.executions.isRunning(enrollment.executionArn))) continue;
        runs.push({ journeyId, executionArn: enrollment.executionArn });
      }
      return runs;
    },
  };
}
