import { ValidationError } from '../core/runtime/errors';
import { RUN_DATA_LIMITS } from '../core/runtime/execution-data';
import { triggerJourney, type TriggerDeps } from '../core/runtime/trigger';
import { ConflictError } from '../core/runtime/errors';
import { json, parseJsonBody } from '../shared/http';
import { apiHandler } from './middleware';

/** `POST /journeys/{id}/trigger`: starts an API-triggered journey for one profile. */
export function createTriggerJourneyHandler(deps: TriggerDeps) {
  return apiHandler(async (event) => {
    const journeyId = event.pathParameters?.id;
    if (!journeyId) throw new ValidationError('missing journey id', [{ field: 'id', message: 'the path names the journey: /journeys/{id}/trigger' }]);
    const outcome = await triggerJourney(deps, journeyId, parseJsonBody(event), event.requestContext.requestId);
    if (outcome.status === 'skipped' && outcome.reason === 'input-too-large') {
      const message = `the run's start data would be ${outcome.bytes} bytes; at most ${RUN_DATA_LIMITS.maxInputBytes}`;
      throw new ValidationError('trigger too large', [{ field: 'context', message }]);
    }
    if (outcome.status === 'skipped') throw new ConflictError(`the profile cannot enter "${journeyId}" now: ${outcome.reason}`);
    return json(outcome.status === 'started' ? 202 : 200, outcome);
  });
}
