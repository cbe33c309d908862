import { Placeholder, Resource, ref, type AslDefinition, type AslState } from '../journey/asl';
import { DEFAULT_SCAN_SEGMENTS } from './batch';

/**
 * The audience-scan state machine (Standard, JSONPath): its input is an `AudienceScanInput`. An inline Map runs one
 * iteration per parallel-scan segment (`parts`); each iteration calls the scan function for a page until the segment's
 * cursor runs out. Then `Finish` completes the job; a failure that survives the retries goes to `Fail`, which marks the
 * job failed, and the execution fails.
 *
 * Limit: an inline Map shares the execution's 25,000-event history; a page costs about 7 events, so one execution
 * covers about 3,500 pages (1.7 M profiles at 500 a page). Beyond that, raise the page size or move the iterations
 * to a distributed Map (child executions).
 */

const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
const RETRY = [
  { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 1, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' },
  // Every step is idempotent, so failures inside the function (throttled reads, a timeout) are retried too, fewer times.
  { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' },
];

/** The state names: tests and alarms refer to them. */
export const AudienceScanState = {
  map: 'ScanSegments',
  page: 'ScanPage',
  more: 'MorePages',
  segmentDone: 'SegmentDone',
  finish: 'Finish',
  fail: 'Fail',
  failed: 'Failed',
} as const;

/** The error the execution ends with when the job failed (the snapshot header holds the cause). */
export const AUDIENCE_SCAN_FAILED = 'AudienceScanFailed';

function invoke(payload: Record<string, unknown>): Pick<AslState, 'Resource' | 'Parameters' | 'OutputPath' | 'Retry'> {
  return {
    Resource: Resource.lambdaInvoke,
    Parameters: { FunctionName: ref(Placeholder.scanProfilesFunction), Payload: payload },
    OutputPath: '$.Payload',
    Retry: RETRY,
  };
}

export interface AudienceScanOptions {
  /** Iterations run at once: the number of parts jobs are started with (default 8). */
  maxConcurrency?: number;
  /** Whole-execution timeout (default one day). */
  timeoutSeconds?: number;
}

export function audienceScanDefinition(options: AudienceScanOptions = {}): AslDefinition {
  const S = AudienceScanState;
  return {
    Comment: 'Waymark audience scan: a batch job over all profiles, one parallel-scan segment per Map iteration',
    StartAt: S.map,
    TimeoutSeconds: options.timeoutSeconds ?? 86_400,
    States: {
      [S.map]: {
        Type: 'Map',
        ItemsPath: '$.parts',
        MaxConcurrency: options.maxConcurrency ?? DEFAULT_SCAN_SEGMENTS,
        ItemSelector: { 'job.$': '$.job', 'segment.$': '$$.Map.Item.Value', 'totalSegments.$': '$.totalSegments' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: S.page,
          States: {
            // The whole iteration state goes in (its cursor is absent on the first page), the function's result comes out.
            [S.page]: { Type: 'Task', ...invoke({ action: 'page', 'input.$': '$' }), Next: S.more },
            [S.more]: { Type: 'Choice', Choices: [{ Variable: '$.cursor', IsPresent: true, Next: S.page }], Default: S.segmentDone },
            [S.segmentDone]: { Type: 'Succeed' },
          },
        },
        ResultPath: '$.results',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.fail }],
        Next: S.finish,
      },
      [S.finish]: {
        Type: 'Task',
        ...invoke({ action: 'finish', 'job.$': '$.job', 'results.$': '$.results' }),
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: S.fail }],
        End: true,
      },
      [S.fail]: { Type: 'Task', ...invoke({ action: 'fail', 'job.$': '$.job', 'error.$': '$.error' }), Next: S.failed },
      [S.failed]: { Type: 'Fail', Error: AUDIENCE_SCAN_FAILED, Cause: 'the audience scan failed; the snapshot header holds the error' },
    },
  };
}
