import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCampaignRegistry } from '../adapters/dynamodb-campaign-registry';
import { DynamoCampaignRuns } from '../adapters/dynamodb-campaign-runs';
import {
  createControlCampaignRunHandler,
  createGetCampaignHandler,
  createGetCampaignRunHandler,
  createListCampaignRunsHandler,
  createListCampaignsHandler,
  createStartCampaignRunHandler,
  type CampaignApiDeps,
} from '../app/campaigns';
import { compileCampaign } from '../core/campaigns/compile';
import type { AudienceFiles, CampaignRegistry, CampaignRuns, RegisteredCampaign } from '../core/campaigns/contract';
import type { CampaignExecutions } from '../core/campaigns/control';
import { memoryCampaignRuns } from '../core/campaigns/memory';
import { Campaign } from '../core/campaigns/schema';
import type { AslDefinition } from '../core/journey/asl';
import type { LiveVersion } from '../core/journey/registry-item';
import type { Clock } from '../core/runtime/ports';
import type { Route } from './server';
import { parseCampaignDefinition } from '../core/campaigns/stored';

/**
 * Campaigns in the local stack: the files of `campaigns/` registered as CDK registers them (the registry item of
 * contract.ts), each compiled definition deployed on the local Step Functions as `waymark-local-campaign-<id>`, and the
 * campaigns API on the same factories as the Lambdas.
 */

/** The local audience bucket's name (`${AudienceBucketName}` of campaign definitions). */
export { LOCAL_AUDIENCE_BUCKET } from './s3';

/** `campaigns/*.json`, each checked against the campaign schema; a bad file fails the start naming it and its field. */
export function loadCampaignDir(dir: string): Campaign[] {
  if (!existsSync(dir)) return [];
  const campaigns: Campaign[] = [];
  const problems: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    let input: unknown;
    try {
      input = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: not JSON (${(error as Error).message})`);
      continue;
    }
    const parsed = Campaign.safeParse(input);
    if (parsed.success) campaigns.push(parsed.data);
    else problems.push(...parsed.error.issues.map((i) => `${file}: ${i.path.map(String).join('.') || '(file)'}: ${i.message}`));
  }
  const ids = campaigns.map((c) => c.id);
  for (const id of new Set(ids.filter((x, i) => ids.indexOf(x) !== i))) problems.push(`campaign id "${id}" is used by more than one file`);
  if (problems.length > 0) throw new Error(`invalid campaign files in ${dir}:\n${problems.join('\n')}`);
  return campaigns;
}

/** What the local stack's Step Functions offers campaigns. */
export interface LocalCampaignRunner {
  /** Deploys as CDK does: a new version behind the `live` alias when the definition changed (executions.ts). */
  deployJourney(name: string, asl: AslDefinition): { stateMachineArn: string; aliasArn: string; live: LiveVersion };
  stateMachineArn(name: string): string;
  start(arn: string, name: string, input: never): Promise<{ executionArn: string; started: boolean }>;
  stop(executionArn: string, cause: string): Promise<boolean>;
}

export interface LocalCampaignsOptions {
  campaigns: readonly Campaign[];
  /** dynalite's document client and tables, or nothing: in memory. */
  dynamo?: { db: DynamoDBDocumentClient; journeysTable: string; runtimeTable: string };
  clock: Clock;
  /** The compiler (tests); default `compileCampaign`. */
  compile?: (campaign: Campaign) => AslDefinition;
}

/** The registry and run stores of the local stack (dynalite or memory), before the runner exists. */
export function localCampaignStores(options: LocalCampaignsOptions) {
  const { dynamo } = options;
  const byId = new Map<string, RegisteredCampaign>();
  const registry: CampaignRegistry & { put(record: RegisteredCampaign): Promise<void> } = dynamo
    ? new DynamoCampaignRegistry(dynamo.db, dynamo.journeysTable, parseCampaignDefinition)
    : {
        list: async () => [...byId.values()].sort((a, b) => (a.campaign.id < b.campaign.id ? -1 : 1)),
        get: async (id) => byId.get(id),
        put: async (record) => void byId.set(record.campaign.id, record),
      };
  const runs: CampaignRuns = dynamo ? new DynamoCampaignRuns(dynamo.db, dynamo.runtimeTable) : memoryCampaignRuns();
  return { registry, runs };
}

/**
 * Registers every campaign and deploys its compiled definition. A campaign that does not compile is still registered
 * (the API lists it) and its problem kept: starting a run of it fails, naming the problem, and marks the run failed.
 */
export async function deployLocalCampaigns(
  options: LocalCampaignsOptions,
  stores: ReturnType<typeof localCampaignStores>,
  runner: LocalCampaignRunner,
): Promise<{ executions: CampaignExecutions; problems: ReadonlyMap<string, string> }> {
  const problems = new Map<string, string>();
  const deployed = new Set<string>();
  for (const campaign of options.campaigns) {
    const name = `campaign-${campaign.id}`;
    let stateMachineArn = runner.stateMachineArn(name);
    let version = 'not-compiled';
    let versioned: Pick<RegisteredCampaign, 'aliasArn' | 'live'> = {};
    try {
      const asl = (options.compile ?? compileCampaign)(campaign);
      // Versions behind the `live` alias, as CDK deploys them: runs start on the alias and keep their version.
      const deployment = runner.deployJourney(name, asl);
      stateMachineArn = deployment.stateMachineArn;
      versioned = { aliasArn: deployment.aliasArn, live: deployment.live };
      version = createHash('sha256').update(JSON.stringify(asl)).digest('hex').slice(0, 16);
      deployed.add(stateMachineArn).add(deployment.aliasArn);
    } catch (error) {
      problems.set(campaign.id, (error as Error).message);
    }
    await stores.registry.put({ campaign, stateMachineArn, version, ...versioned });
  }
  const executions: CampaignExecutions = {
    start: async (arn, name, input) => {
      if (!deployed.has(arn)) {
        const problem = problems.get(input.campaignId) ?? 'no such state machine';
        throw Object.assign(new Error(`campaign "${input.campaignId}" is not deployed locally: ${problem}`), { name: 'StateMachineDoesNotExist' });
      }
      return runner.start(arn, name, input as never);
    },
    stop: (executionArn, cause) => runner.stop(executionArn, cause),
  };
  return { executions, problems };
}

/** The campaigns API routes, as declared in lib/entry-points.ts. */
export function localCampaignRoutes(deps: CampaignApiDeps): Route[] {
  return [
    { method: 'GET', path: '/campaigns', handler: createListCampaignsHandler(deps) },
    { method: 'GET', path: '/campaigns/{id}', handler: createGetCampaignHandler(deps) },
    { method: 'POST', path: '/campaigns/{id}/runs', handler: createStartCampaignRunHandler(deps) },
    { method: 'GET', path: '/campaigns/{id}/runs', handler: createListCampaignRunsHandler(deps) },
    { method: 'GET', path: '/campaigns/{id}/runs/{runId}', handler: createGetCampaignRunHandler(deps) },
    { method: 'POST', path: '/campaigns/{id}/runs/{runId}/{action}', handler: createControlCampaignRunHandler(deps) },
  ];
}

/** The audience files of a local stack started without s3rver: a campaign run fails at its first set, saying why. */
export function noAudienceBucket(): AudienceFiles {
  const fail = (): never => {
    throw new Error('campaign runs need the local audience bucket: start the local stack with `s3: true`');
  };
  return {
    writeRows: async () => fail(),
    readRows: () => fail(),
    list: async () => fail(),
    compose: async () => fail(),
  };
}
