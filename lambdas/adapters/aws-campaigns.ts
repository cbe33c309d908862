import type { CampaignExecutions } from '../core/campaigns/control';
import type { Executions } from '../core/runtime/ports';
import { awsTables } from './aws';
import { DynamoCampaignRegistry } from './dynamodb-campaign-registry';
import { DynamoCampaignRuns } from './dynamodb-campaign-runs';
import { onTable } from './dynamodb-ports';
import { parseCampaignDefinition } from '../core/campaigns/stored';

/** The campaign registry (journeys table) and run records (runtime table), for the campaign handlers. */
export function awsCampaignStores() {
  const { env, db, clock } = awsTables();
  return {
    registry: onTable(env.tables, 'journeys', (t) => new DynamoCampaignRegistry(db, t, parseCampaignDefinition)),
    runs: onTable(env.tables, 'runtime', (t) => new DynamoCampaignRuns(db, t)),
    clock,
  };
}

/**
 * Campaign executions through the Step Functions port (the same StartExecution/StopExecution calls as journeys: an
 * execution named by the run id, idempotent on its name). The input is a campaign's, not a journey's.
 */
export function campaignExecutions(executions: Pick<Executions, 'start' | 'stop'>): CampaignExecutions {
  return {
    start: (stateMachineArn, name, input) => executions.start(stateMachineArn, name, input as never),
    stop: (executionArn, cause) => executions.stop(executionArn, cause),
  };
}
