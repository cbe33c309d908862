import { LIVE_ALIAS } from '../core/journey/registry-item';
import { NotFoundError, ValidationError } from '../core/runtime/errors';
import type { JourneyRegistry, StateMachineVersions } from '../core/runtime/ports';
import { json } from '../shared/http';
import { apiHandler } from './middleware';

export interface GetJourneyDeps {
  journeys: Pick<JourneyRegistry, 'get'>;
  /** Asked for the publication time of the live version when the registry item does not hold it (on AWS). */
  versions: StateMachineVersions;
}

/**
 * `GET /journeys/{id}`: a journey as deployed — its definition in summary, the hash of its compiled definition, and the
 * state-machine version new runs start on (through the `live` alias) with the time it was published. `live` is null for
 * a journey registered before versions. Rolling back is deploying the previous file: that publishes a new version.
 */
export function createGetJourneyHandler(deps: GetJourneyDeps) {
  return apiHandler(async (event) => {
    const journeyId = event.pathParameters?.id;
    if (!journeyId) {
      throw new ValidationError('missing journey id', [{ field: 'id', message: 'the path names the journey: /journeys/{id}' }]);
    }
    const record = await deps.journeys.get(journeyId);
    if (!record) throw new NotFoundError(`journey "${journeyId}" does not exist`);
    const { journey, live } = record;
    const publishedAt = live && (live.publishedAt ?? (await deps.versions.publishedAt(live.arn)));
    return json(200, {
      id: journey.id,
      name: journey.name,
      description: journey.description,
      entry: journey.entry,
      settings: journey.settings,
      start: journey.start,
      nodes: journey.nodes.map((n) => ({ id: n.id, kind: n.kind })),
      version: record.version,
      stateMachineArn: record.stateMachineArn,
      live:
        live === undefined || record.aliasArn === undefined
          ? null
          : {
              alias: LIVE_ALIAS,
              aliasArn: record.aliasArn,
              version: Number(live.number),
              versionArn: live.arn,
              publishedAt: publishedAt ?? null,
            },
    });
  });
}
