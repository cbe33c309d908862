import { audiencePage, composeSet } from '../core/campaigns/audience';
import type { AudienceFiles, CampaignMessageSender, CampaignRegistry, CampaignRuns } from '../core/campaigns/contract';
import { deliverBatch } from '../core/campaigns/deliver';
import { enterJourneyBatch } from '../core/campaigns/enter';
import { groupByTime } from '../core/campaigns/local-time';
import { finishRun, startRun } from '../core/campaigns/run';
import { splitBatch } from '../core/campaigns/split';
import type { DecisionServiceDeps } from '../core/decisions/service';
import type { GovernanceDeps } from '../core/governance/send-step';
import type { ConversionStore } from '../core/measure/conversions';
import type { CampaignConversionStore } from '../core/campaigns/conversions';
import type { JourneyCounters } from '../core/measure/counters';
import type {
  Clock,
  DeliveryLedger,
  EnrollmentStore,
  Executions,
  JourneyRegistry,
  ProfileRuns,
  ProfileStore,
} from '../core/runtime/ports';
import type { SendGuardDeps } from '../core/runtime/send';
import type { MembershipStore, ProfileScanner, SegmentStore } from '../core/segments/ports';
import type { CampaignStepActions } from './campaign-step';

/**
 * What the campaign-step actions are built from, in both composition roots (lambdas/handlers/campaign-step.ts with the
 * AWS adapters, lambdas/local/stack.ts with the local ones).
 */
export interface CampaignStepDeps extends SendGuardDeps {
  runs: CampaignRuns;
  registry: CampaignRegistry;
  executions: Executions;
  clock: Clock;
  /** The audience bucket (S3 on AWS, s3rver locally). */
  files: AudienceFiles;
  /** How a `deliver` batch sends (SES v2 / SMS / push on AWS, the outbox locally). */
  sender: CampaignMessageSender;
  profiles: ProfileStore;
  profileScanner: ProfileScanner;
  segmentStore: Pick<SegmentStore, 'get'>;
  memberships: Pick<MembershipStore, 'get'>;
  profileRuns: Pick<ProfileRuns, 'messagedBy'>;
  ledger: DeliveryLedger;
  enrollments: EnrollmentStore;
  journeys: Pick<JourneyRegistry, 'get' | 'list'>;
  counters?: JourneyCounters;
  conversions?: ConversionStore;
  /** Campaign runs' conversion windows (audience and percent splits write them). */
  campaignConversions?: CampaignConversionStore;
  /** Stage `defaultTimezone`: members without a valid zone, `in: stage`. */
  stageTimeZone: string;
  /** Stage `campaignControlGroupPercent` (0–100); none when absent. */
  controlGroupPercent?: number;
  governance?: GovernanceDeps;
  decisions?: DecisionServiceDeps;
}

/**
 * The actions bound to their dependencies: the functions of lambdas/core/campaigns (run.ts, audience.ts, split.ts,
 * local-time.ts, deliver.ts, enter.ts), each as `(payload) => fn(deps, payload)`.
 */
export function campaignStepActions(deps: CampaignStepDeps): CampaignStepActions {
  const campaigns = deps.registry;
  return {
    startRun: (payload) => startRun(deps, payload),
    audiencePage: (payload) => audiencePage({ ...deps, campaigns }, payload),
    composeSet: (payload) => composeSet(deps, payload),
    deliverBatch: (payload) => deliverBatch({ ...deps, campaigns }, payload),
    splitBatch: (payload) => splitBatch({ ...deps, campaigns }, payload),
    enterJourneyBatch: (payload) => enterJourneyBatch({ ...deps, campaigns }, payload),
    groupByTime: (payload) => groupByTime({ ...deps, campaigns }, payload),
    finishRun: (payload) => finishRun(deps, payload),
  };
}
