import { DEFAULT_PRIORITY } from '../journey/constants';
import type { Journey } from '../journey/schema';
import type { Executions, JourneyRegistry } from '../runtime/ports';
import { governanceReason } from './reasons';
import type { ActiveRun, RunningJourneys } from './ports';

export type ExclusiveVerdict =
  | { enter: true; preempted: ActiveRun[] }
  /** A run of a journey of the group with the same or a higher priority holds the profile. */
  | { enter: false; heldBy: ActiveRun };

const priorityOf = (journey: Journey) => journey.settings.priority ?? DEFAULT_PRIORITY;

/**
 * An entry into a journey of an exclusive group (README.md): refused while the profile runs in a journey of the group
 * with the same or a higher priority; otherwise the runs of lower-priority journeys of the group are stopped with the
 * cause `preempted` before this one starts.
 */
export async function arbitrateExclusive(
  deps: { journeys: Pick<JourneyRegistry, 'list'>; runs: RunningJourneys; executions: Pick<Executions, 'stop'> },
  journey: Journey,
  profileId: string,
): Promise<ExclusiveVerdict> {
  const group = journey.settings.exclusive;
  if (group === undefined) return { enter: true, preempted: [] };
  const members = new Map(
    (await deps.journeys.list())
      .filter((r) => r.journey.id !== journey.id && r.journey.settings.exclusive === group)
      .map((r) => [r.journey.id, r.journey]),
  );
  if (members.size === 0) return { enter: true, preempted: [] };
  const running = await deps.runs.list(profileId, [...members.keys()]);
  const mine = priorityOf(journey);
  const holder = running.find((run) => priorityOf(members.get(run.journeyId)!) >= mine);
  if (holder) return { enter: false, heldBy: holder };
  const preempted: ActiveRun[] = [];
  for (const run of running) {
    if (await deps.executions.stop(run.executionArn, governanceReason.preempted)) preempted.push(run);
  }
  return { enter: true, preempted };
}
