import type { CampaignRegistry, CampaignRuns } from '../core/campaigns/contract';
import type { Clock, Executions } from '../core/runtime/ports';
import type { CampaignStepActions } from './campaign-step';

/**
 * What the campaign-step actions are built from, in both composition roots (lambdas/handlers/campaign-step.ts with the
 * AWS adapters, lambdas/local/stack.ts with the local ones). The other ports the actions take (audience files, message
 * sender, profiles, ledger…) arrive in the same object: the handler passes every store it builds.
 */
export interface CampaignStepDeps {
  runs: CampaignRuns;
  registry: CampaignRegistry;
  executions: Executions;
  clock: Clock;
}

/** An action whose function is not plugged in on this branch (see `campaignStepActions`). */
export class CampaignStepNotWiredError extends Error {
  override readonly name = 'CampaignStepNotWiredError';
}

/**
 * The actions bound to their dependencies: THE place where the functions of lambdas/core/campaigns (run.ts
 * `startRun`/`finishRun`, audience.ts `audiencePage`/`composeSet`, split.ts `splitBatch`, local-time.ts `groupByTime`,
 * deliver.ts `deliverBatch`, enter.ts `enterJourneyBatch`) are plugged in, as `(payload) => fn(deps, payload)`. Until
 * they are, each action fails with CampaignStepNotWiredError (the execution fails; nothing is sent).
 */
export function campaignStepActions(deps: CampaignStepDeps): CampaignStepActions {
  void deps;
  const notWired = (name: keyof CampaignStepActions) => async (): Promise<never> => {
    throw new CampaignStepNotWiredError(`the campaign-step action ${name} is not plugged in yet (lambdas/app/campaign-step-actions.ts)`);
  };
  return {
    startRun: notWired('startRun'),
    audiencePage: notWired('audiencePage'),
    composeSet: notWired('composeSet'),
    deliverBatch: notWired('deliverBatch'),
    splitBatch: notWired('splitBatch'),
    enterJourneyBatch: notWired('enterJourneyBatch'),
    groupByTime: notWired('groupByTime'),
    finishRun: notWired('finishRun'),
  };
}
