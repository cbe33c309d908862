import type { JourneyRegistry } from '../core/runtime/ports';
import { json } from '../shared/http';
import { apiHandler } from './middleware';

/** `GET /journeys`: the deployed journeys with their entry, version, state machine and live state-machine version. */
export function createListJourneysHandler(deps: { journeys: JourneyRegistry }) {
  return apiHandler(async () => {
    const records = await deps.journeys.list();
    return json(200, {
      journeys: records.map((r) => ({
        id: r.journey.id,
        name: r.journey.name,
        description: r.journey.description,
        entry: r.journey.entry,
        settings: r.journey.settings,
        nodes: r.journey.nodes.length,
        version: r.version,
        stateMachineArn: r.stateMachineArn,
        // The version new runs start on (its publication time: GET /journeys/{id}); null before versions.
        liveVersion: r.live === undefined ? null : Number(r.live.number),
      })),
    });
  });
}
