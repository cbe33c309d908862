import { JourneyItem } from '../config/env-keys';
import type { Journey } from './schema';
import { validateJourney } from './validate';

export interface RegisteredJourney {
  journey: Journey;
  stateMachineArn: string;
  version: string;
}

/** The journeys-table item for a journey (all journeys share one partition, so listing them is one Query). CDK writes the same shape at deploy time. */
export function journeyItem(record: RegisteredJourney): Record<string, string | boolean> {
  return {
    pk: 'JOURNEYS',
    sk: `JOURNEY#${record.journey.id}`,
    [JourneyItem.definition]: JSON.stringify(record.journey),
    [JourneyItem.stateMachineArn]: record.stateMachineArn,
    [JourneyItem.version]: record.version,
    [JourneyItem.apiTriggered]: record.journey.entry.kind === 'api',
  };
}

export function fromJourneyItem(item: Record<string, unknown>): RegisteredJourney {
  const result = validateJourney(JSON.parse(item[JourneyItem.definition] as string));
  if (!result.ok) throw new Error(`journey item ${String(item.sk)} holds an invalid definition: ${result.violations[0]?.message}`);
  return { journey: result.journey, stateMachineArn: item[JourneyItem.stateMachineArn] as string, version: item[JourneyItem.version] as string };
}
