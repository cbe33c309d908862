import { SFNClient } from '@aws-sdk/client-sfn';
import type { AudienceJobs } from '../core/segments/ports';
import { loadEnv } from '../shared/env';
import { traced } from '../shared/powertools';
import { StepFunctionsExecutions } from './step-functions';
import { StepFunctionsExecutionHistory } from './step-functions-history';
import { StepFunctionsAudienceJobs } from './step-functions-audience';

/** Step Functions ports (journey executions, the audience scan), for the handlers that start or resume executions. */
export function awsExecutions() {
  const env = loadEnv();
  const sfn = traced(new SFNClient({}));
  let audienceJobs: StepFunctionsAudienceJobs | undefined;
  const getAudienceJobs = () => {
    if (!env.audienceScanStateMachineArn) throw new Error('WAYMARK_AUDIENCE_SCAN_STATE_MACHINE_ARN is not set for this function');
    audienceJobs ??= new StepFunctionsAudienceJobs(sfn, env.audienceScanStateMachineArn);
    return audienceJobs;
  };
  return {
    executions: new StepFunctionsExecutions(sfn),
    history: new StepFunctionsExecutionHistory(sfn),
    // Built on first use: only evaluate-segment has the audience-scan state machine. A plain object that delegates,
    // not a getter, so spreading the dependencies is safe.
    audienceJobs: { start: async (input) => getAudienceJobs().start(input) } satisfies AudienceJobs,
  };
}
