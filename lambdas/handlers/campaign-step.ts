/**
 * PLACEHOLDER so the app synthesizes (the function's bundle entry must exist): the api engineer's composition root
 * (issue 14) replaces this file, dispatching each `CampaignStepPayload` action (lambdas/core/campaigns/contract.ts).
 * Until then every invocation fails, so no campaign runs half-built.
 */
export const handler = async (event: { action?: unknown }): Promise<never> => {
  throw new Error(`campaign-step is not wired yet (action ${JSON.stringify(event?.action)})`);
};
