import { createHash } from 'node:crypto';
import { PLATFORM_SOURCE_PREFIX } from '../config/env-keys';
import type { BusinessEvent } from '../events/business-event';

export const SEGMENT_EVENT_SOURCE = `${PLATFORM_SOURCE_PREFIX}segments`;
export const SegmentEventType = { entered: 'SegmentEntered', exited: 'SegmentExited' } as const;

/** What caused an evaluation: a business event (its id and type), or a scheduled re-check run. */
export interface EvaluationCause {
  id: string;
  type: string;
}

/**
 * The platform event announcing a membership change. Its id is derived from (transition, segment, profile, cause), so a
 * retried evaluation announces with the same id and a journey entered on it starts once.
 */
export function segmentTransitionEvent(
  transition: 'entered' | 'exited',
  segmentId: string,
  profile: { id: string; identities: Record<string, string> },
  cause: EvaluationCause,
  at: string,
): BusinessEvent {
  const digest = createHash('sha256').update(`${transition}\n${segmentId}\n${profile.id}\n${cause.id}`).digest('hex').slice(0, 32);
  return {
    id: `segment-${transition}-${digest}`,
    type: SegmentEventType[transition],
    source: SEGMENT_EVENT_SOURCE,
    time: at,
    identities: profile.identities,
    properties: { segmentId, profileId: profile.id, causedBy: { id: cause.id, type: cause.type } },
  };
}
