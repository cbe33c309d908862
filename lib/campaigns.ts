import * as path from 'node:path';
import type { AslDefinition } from '../lambdas/core/journey/asl';
import { compileCampaign, type CampaignCompileOptions } from '../lambdas/core/campaigns/compile';
import type { Campaign } from '../lambdas/core/campaigns/schema';
import { validateCampaign, type CampaignCatalog } from '../lambdas/core/campaigns/validate';
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
 * The file check: `validateCampaign` (lambdas/core/campaigns/validate.ts), the schema, the step graph and, with a
 * catalog, the segments, journeys (API entry for enter-journey) and placements the campaign names.
 */
export function campaignFileParser(catalog?: CampaignCatalog): DefinitionParse<Campaign> {
  return (input) => {
    const result = validateCampaign(input, catalog);
    if (result.ok) return { ok: true, value: result.campaign };
    const where = (path: string) => (path === '(root)' ? '(file)' : path);
    return { ok: false, errors: result.violations.map((v) => `${where(v.path)}: ${v.message}`) };
  };
}

/** The file check without a catalog (references unchecked). */
export const parseCampaignFile: DefinitionParse<Campaign> = campaignFileParser();

/** The ids a stage deploys, for the campaigns' references (as the CLI and the tests build it). */
export function campaignCatalogOf(files: {
  journeys: readonly { journey: { id: string; entry: { kind: string } } }[];
  segments: readonly { id: string }[];
  placements: readonly { id: string }[];
}): CampaignCatalog {
  return {
    segments: new Set(files.segments.map((s) => s.id)),
    journeys: new Set(files.journeys.map((j) => j.journey.id)),
    apiJourneys: new Set(files.journeys.filter((j) => j.journey.entry.kind === 'api').map((j) => j.journey.id)),
    placements: new Set(files.placements.map((p) => p.id)),
  };
}

/** The compile step, kept behind one function so the deployment and its tests can pass another (a hand-written ASL). */
export type CampaignCompiler = (campaign: Campaign) => AslDefinition;

/** The deployment's compiler: `compileCampaign` with the deployed batch size. */
export const compileForDeploy: CampaignCompiler = (campaign) =>
  compileCampaign(campaign, { batchSize: CAMPAIGN_BATCH_SIZE } satisfies CampaignCompileOptions);

/**
 * Reads, validates (references against `catalog` when given) and compiles every `*.json` campaign in `dir` (sorted; a
 * missing folder has none). Synth fails here, with every problem listed, before any resource is defined.
 */
export function loadCampaigns(
  dir: string = CAMPAIGNS_DIR,
  compile: CampaignCompiler = compileForDeploy,
  catalog?: CampaignCatalog,
): DeployedCampaign[] {
  const problems: string[] = [];
  const { definitions, fileOf } = parseDefinitionFiles(readDefinitionDir(dir), 'campaign', campaignFileParser(catalog), problems);
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
