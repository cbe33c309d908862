import type { CampaignDefinitionReader } from './contract';
import type { Campaign } from './schema';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The router's reading of a registry item, without zod (lambdas/handlers/README.md, "No zod in the router"): the
 * item was written by the deployment from the file as parsed at synth, so only the shape of what the router reads
 * (id, steps, goal) is checked. The campaign handlers read items with the schema (`parseCampaignDefinition`).
 */
export const deployedCampaignShape: CampaignDefinitionReader = (definition) => {
  if (!isObject(definition)) throw new Error('expected an object');
  if (typeof definition.id !== 'string') throw new Error('id: expected a string');
  const steps = definition.steps;
  if (!isObject(steps) || !Object.values(steps).every(isObject)) throw new Error('steps: expected an object of steps');
  const goal = definition.goal;
  if (goal !== undefined && !(isObject(goal) && typeof goal.event === 'string' && typeof goal.within === 'string')) {
    throw new Error('goal: expected {event, within}');
  }
  return definition as unknown as Campaign;
};
