import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULT_SCAN_SEGMENTS } from '../../lambdas/core/segments/batch';
import type { AudienceScanInput } from '../../lambdas/core/segments/ports';
import { AudienceScanStateMachine } from '../constructs/audience-scan-state-machine';
import { deadLetterQueue, Feature } from './feature';

/** The audience-scan state machine is `waymark-<stage>-<this>`, so no journey may have this id. */
export const AUDIENCE_SCAN_NAME = 'audience-scan';

/** Parallel-scan segments (Map iterations) of the scheduled re-check of time-based segments. */
export const RECHECK_SCAN_SEGMENTS = DEFAULT_SCAN_SEGMENTS;

export interface SegmentsFeatureProps {
  readonly stage: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Segments: the segment API, audience snapshots (evaluate-segment starts the audience scan, whose Map invokes
 * scan-profiles) and the hourly re-check of time-based segments (a default-bus schedule, with its dead-letter queue).
 */
export class SegmentsFeature extends Feature {
  public readonly audienceScan: AudienceScanStateMachine;
  /** Hourly (default bus schedule): starts the audience scan with a re-check job, with its dead-letter queue. */
  public readonly audienceRecheckRule: events.Rule;
  public readonly audienceRecheckRuleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SegmentsFeatureProps) {
    super(scope, id, { feature: 'segments', logRetention: props.logRetention });
    this.audienceRecheckRuleDeadLetterQueue = deadLetterQueue(this, 'AudienceRecheckRuleDeadLetterQueue');
    this.createFunctions();

    this.audienceScan = new AudienceScanStateMachine(this, 'AudienceScan', {
      stateMachineName: `waymark-${props.stage}-${AUDIENCE_SCAN_NAME}`,
      scanProfiles: this.fn('scanProfiles').function,
      logRetention: props.logRetention,
    });

    // The job id, the seed of the SegmentEntered/SegmentExited event ids, comes from the scheduled event's id, so it is
    // unique per run.
    this.audienceRecheckRule = new events.Rule(this, 'AudienceRecheckRule', {
      description: 'Hourly: re-checks the time-based segments of every profile (audience-scan state machine, recheck job)',
      schedule: events.Schedule.rate(Duration.hours(1)),
    });
    const recheck: AudienceScanInput = {
      job: { kind: 'recheck', jobId: `recheck-${events.EventField.eventId}` },
      totalSegments: RECHECK_SCAN_SEGMENTS,
      parts: Array.from({ length: RECHECK_SCAN_SEGMENTS }, (_, i) => i),
    };
    this.audienceRecheckRule.addTarget(
      new targets.SfnStateMachine(this.audienceScan.stateMachine, {
        input: events.RuleTargetInput.fromObject(recheck),
        deadLetterQueue: this.audienceRecheckRuleDeadLetterQueue,
        retryAttempts: 8,
        // The next run comes an hour later and re-checks everything anyway.
        maxEventAge: Duration.hours(1),
      }),
    );
  }
}
