import type { JourneyCounters } from '../core/measure/counters';
import { countRunEnd, type OnceMarks, type RunEndResult } from '../core/measure/run-end';
import type { Clock } from '../core/runtime/ports';
import { logger } from '../shared/powertools';
import { withPowertools } from './middleware';

/** EventBridge rule target (RUN_END_EVENT_PATTERN, default bus): counts how journey runs ended. */
export function createCountRunEndHandler(deps: { counters: JourneyCounters; once: OnceMarks; clock: Clock }) {
  return withPowertools(async (raw: unknown): Promise<RunEndResult> => {
    const result = await countRunEnd(deps, raw);
    if (result.status === 'ignored') logger.info('run status change not counted', { reason: result.reason });
    return result;
  });
}
