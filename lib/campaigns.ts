import * as path from 'node:path';
import type { AslDefinition } from '../lambdas/core/journey/asl';
import { compileCampaign, type CampaignCompileOptions } from '../lambdas/core/campaigns/compile';
import { Campaign } from '../lambdas/core/campaigns/schema';
import { parseDefinitionFiles, type DefinitionParse } from '../lambdas/core/shared/definition-files';
import { PROJECT_ROOT, readDefinitionDir } from './definition-files';

/** The campaign files shipped with the platform, one campaign per `*.json` file. */
export const CAMPAIGNS_DIR = path.join(PROJECT_ROOT, 'campaigns');

/** Members per Distributed Map child (ItemBatcher MaxItemsPerBatch) of the deployed campaigns. */
export const CAMPAIGN_BATCH_SIZE = 100;

/** A campaign as CDK deploys it: the validated file and the state machine definition compiled from it. */
export interface DeployedCampaign {
  readonly campaign: Campaign;
  /** Compiled ASL whose `${CampaignStepFunctionArn}` and `${AudienceBucketName}` CDK substitutes. */
  readonly definition: AslDefinition;
}

/** Thrown at synth time when campaign files do not validate; the message lists every problem, each naming its file. */
export class CampaignCatalogError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`campaign files have problems:\n  ${problems.join('\n  ')}`);
    this.name = 'CampaignCatalogError';
  }
}

/**
 * The file check. Swap point: `validateCampaign` (lambdas/core/campaigns/validate.ts, graph and references) replaces
 * the schema-only parse once it is merged.
 */
export const parseCampaignFile: DefinitionParse<Campaign> = (input) => {
  const parsed = Campaign.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`) };
};

/** The compile step, kept behind one function so the deployment and its tests can pass another (a hand-written ASL). */
export type CampaignCompiler = (campaign: Campaign) => AslDefinition;

/** The deployment's compiler: `compileCampaign` with the deployed batch size. */
export const compileForDeploy: CampaignCompiler = (campaign) =>
  compileCampaign(campaign, { batchSize: CAMPAIGN_BATCH_SIZE } satisfies CampaignCompileOptions);

/**
 * Reads, validates and compiles every `*.json` campaign in `dir` (sorted; a missing folder has none). Synth fails
 * here, with every problem listed, before any resource is defined.
 */
export function loadCampaigns(dir: string = CAMPAIGNS_DIR, compile: CampaignCompiler = compileForDeploy): DeployedCampaign[] {
  const problems: string[] = [];
  const { definitions, fileOf } = parseDefinitionFiles(readDefinitionDir(dir), 'campaign', parseCampaignFile, problems);
  const deployed: DeployedCampaign[] = [];
  for (const campaign of definitions) {
    try {
      deployed.push({ campaign, definition: compile(campaign) });
    } catch (error) {
      problems.push(`${fileOf.get(campaign.id)}: does not compile: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new CampaignCatalogError(problems);
  return deployed;
}
