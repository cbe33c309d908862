import * as z from 'zod';
import type { FieldError } from '../core/events/business-event';
import type { CampaignRunRecord, RegisteredCampaign } from '../core/campaigns/contract';
import {
  controlCampaignRun,
  ENDED_STATUSES,
  existingRun,
  groupCounts,
  IDEMPOTENCY_KEY_FIELD,
  IDEMPOTENCY_KEY_PATTERN,
  registeredCampaign,
  RUN_ACTIONS,
  RUN_ID_PATTERN,
  startCampaignRun,
  startKeyedCampaignRun,
  type CampaignControlDeps,
  type RunAction,
} from '../core/campaigns/control';
import { nextOccurrences } from '../core/campaigns/occurrences';
import { CampaignId, type Campaign } from '../core/campaigns/schema';
import { campaignRunConversions } from '../core/campaigns/run-report';
import { ValidationError } from '../core/runtime/errors';
import type { StateMachineVersions } from '../core/runtime/ports';
import { LIVE_ALIAS } from '../core/journey/registry-item';
import { json, parseJsonBody, PayloadTooLargeError, type ApiEvent } from '../shared/http';
import { apiHandler } from './middleware';

/** What the campaigns API reads and writes (ports; the AWS and local stacks provide them). */
export interface CampaignApiDeps extends CampaignControlDeps {
  /**
   * Waits between two looks at a dry run (AWS: a short real sleep; the local stack: until its runs are quiet). A dry
   * run is looked at most `dryRunLooks` times before the answer is 202 (API Gateway ends a request after 29 s).
   */
  waitForRun?: () => Promise<void>;
  dryRunLooks?: number;
  /** Asked when the live version was published if the registry item does not say (AWS); none: `publishedAt` null. */
  versions?: StateMachineVersions;
}

/** A run request's body, in UTF-8 bytes: `{"dryRun": true}` and some room. */
export const MAX_RUN_BODY_BYTES = 1024;
/** The runs `GET /campaigns/{id}` shows. */
export const LAST_RUNS = 5;
export const RUNS_PAGE = { default: 20, max: 100 } as const;
/** AWS: 40 looks 500 ms apart (20 s, inside API Gateway's 29 s). */
export const DEFAULT_DRY_RUN_LOOKS = 40;
const DRY_RUN_LOOK_MS = 500;

function campaignIdOf(event: ApiEvent): string {
  const id = event.pathParameters?.id;
  const parsed = CampaignId.safeParse(id);
  if (!parsed.success) throw new ValidationError('invalid campaign id', [{ field: 'id', message: id ? parsed.error.issues[0].message : 'the path names it: /campaigns/{id}' }]);
  return parsed.data;
}

function runIdOf(event: ApiEvent): string {
  const runId = event.pathParameters?.runId;
  if (!runId || !RUN_ID_PATTERN.test(runId)) {
    throw new ValidationError('invalid run id', [{ field: 'runId', message: 'a run id is 1 to 80 letters, digits, - and _ (as returned when the run started)' }]);
  }
  return runId;
}

function actionOf(event: ApiEvent): RunAction {
  const action = event.pathParameters?.action;
  if (!(RUN_ACTIONS as readonly (string | undefined)[]).includes(action)) {
    throw new ValidationError('unknown run action', [{ field: 'action', message: `one of ${RUN_ACTIONS.join(', ')}` }]);
  }
  return action as RunAction;
}

const runUrl = (run: Pick<CampaignRunRecord, 'campaignId' | 'runId'>) => `/campaigns/${run.campaignId}/runs/${run.runId}`;

function summary(registered: RegisteredCampaign) {
  const { campaign } = registered;
  return {
    id: campaign.id,
    name: campaign.name,
    ...(campaign.description === undefined ? {} : { description: campaign.description }),
    schedule: campaign.schedule,
    messageClass: campaign.messageClass,
    ...(campaign.tags === undefined ? {} : { tags: campaign.tags }),
    version: registered.version,
    ...(registered.scheduleName === undefined ? {} : { scheduleName: registered.scheduleName }),
  };
}

const RunBody = z.strictObject({ dryRun: z.boolean({ error: 'dryRun is true or false' }).optional() });

function parseRunBody(event: ApiEvent): { dryRun: boolean } {
  if (event.body && Buffer.byteLength(event.body, 'utf8') > MAX_RUN_BODY_BYTES) throw new PayloadTooLargeError(`a run request body is at most ${MAX_RUN_BODY_BYTES} bytes`);
  const body = parseJsonBody(event) ?? {};
  const parsed = RunBody.safeParse(body);
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((i) => ({
      field: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || '(body)',
      message: i.code === 'unrecognized_keys' ? 'unknown field: the body is {"dryRun"?: boolean}' : i.path.length === 0 ? 'the body is a JSON object {"dryRun"?: boolean}' : i.message,
    }));
    throw new ValidationError('invalid run request', errors);
  }
  return { dryRun: parsed.data.dryRun === true };
}

/**
 * The request's `Idempotency-Key` header, any case (API Gateway passes names as sent), or undefined without one. The
 * IETF draft's structured-field form `"…"` is read without its quotes. Sent twice, it arrives joined by a comma (the
 * local server) or as two names: both are refused.
 */
function idempotencyKeyOf(event: ApiEvent): string | undefined {
  const headers = event.headers ?? {};
  const names = Object.keys(headers).filter((name) => name.toLowerCase() === 'idempotency-key');
  const raw = names.length === 1 ? headers[names[0]] : undefined;
  if (names.length === 0 || (names.length === 1 && raw === undefined)) return undefined;
  const value = (raw ?? '').trim();
  const key = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (names.length > 1 || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ValidationError(`invalid ${IDEMPOTENCY_KEY_FIELD} header`, [
      { field: IDEMPOTENCY_KEY_FIELD, message: 'one header of 1 to 128 letters, digits and - _ . : ~ + / = (a UUID)' },
    ]);
  }
  return key;
}

const RunsQuery = z.object({
  limit: z.coerce
    .number({ error: `limit is a whole number from 1 to ${RUNS_PAGE.max}` })
    .int(`limit is a whole number from 1 to ${RUNS_PAGE.max}`)
    .min(1, `limit is a whole number from 1 to ${RUNS_PAGE.max}`)
    .max(RUNS_PAGE.max, `limit is a whole number from 1 to ${RUNS_PAGE.max}`)
    .default(RUNS_PAGE.default),
  cursor: z.string().min(1, 'cursor is the value returned with the previous page').max(1024, 'cursor is the value returned with the previous page').optional(),
});

async function runWithCounts(deps: Pick<CampaignApiDeps, 'runs'>, run: CampaignRunRecord, campaign?: Campaign) {
  const counts = await deps.runs.counts(run.campaignId, run.runId);
  // With the campaign: its goal's conversions, revenue and uplift against the control group and split holdouts.
  const conversions = campaign === undefined ? {} : { conversions: campaignRunConversions(campaign, run, counts) };
  return { ...run, counts: groupCounts(counts), ...conversions };
}

/** `GET /campaigns`: every deployed campaign, by id. */
export function createListCampaignsHandler(deps: Pick<CampaignApiDeps, 'registry'>) {
  return apiHandler(async () => {
    const campaigns = (await deps.registry.list()).sort((a, b) => (a.campaign.id < b.campaign.id ? -1 : 1));
    return json(200, { campaigns: campaigns.map(summary) });
  });
}

/**
 * The version new runs start on (through the `live` alias) and when it was published; null for an item registered
 * before campaign versions. Runs in flight stay on the version they started on.
 */
async function liveOf(deps: Pick<CampaignApiDeps, 'versions'>, registered: RegisteredCampaign) {
  const { live, aliasArn } = registered;
  if (live === undefined || aliasArn === undefined) return null;
  const publishedAt = live.publishedAt ?? (await deps.versions?.publishedAt(live.arn));
  return { alias: LIVE_ALIAS, aliasArn, version: Number(live.number), versionArn: live.arn, publishedAt: publishedAt ?? null };
}

/** `GET /campaigns/{id}`: the definition, the schedule with its next occurrence, the live version, the last runs. */
export function createGetCampaignHandler(deps: Pick<CampaignApiDeps, 'registry' | 'runs' | 'clock' | 'versions'>) {
  return apiHandler(async (event) => {
    const registered = await registeredCampaign(deps, campaignIdOf(event));
    const next = nextOccurrences(registered.campaign.schedule, deps.clock.now());
    const { runs } = await deps.runs.list(registered.campaign.id, { limit: LAST_RUNS });
    return json(200, {
      ...summary(registered),
      schedule: { ...registered.campaign.schedule, ...(next === undefined ? {} : { next }) },
      live: await liveOf(deps, registered),
      definition: registered.campaign,
      lastRuns: runs,
    });
  });
}

/**
 * `POST /campaigns/{id}/runs` body `{"dryRun"?: boolean}`: creates the run and starts its execution; 202 with the run
 * and its Location. A dry run is waited for (bounded) and answered 200 with its counts when it ended in time. With an
 * `Idempotency-Key` header, a repeat of the key answers the run it started, 200 with its counts (a dry run still
 * running: 202), the Location and `Idempotent-Replayed: true`, and starts nothing; the key with another body is 409.
 */
export function createStartCampaignRunHandler(deps: CampaignApiDeps) {
  const wait = deps.waitForRun ?? (() => new Promise<void>((resolve) => setTimeout(resolve, DRY_RUN_LOOK_MS)));
  const looks = deps.dryRunLooks ?? DEFAULT_DRY_RUN_LOOKS;
  return apiHandler(async (event) => {
    const campaignId = campaignIdOf(event);
    const idempotencyKey = idempotencyKeyOf(event);
    const { dryRun } = parseRunBody(event);
    let { run, replayed } =
      idempotencyKey === undefined
        ? { run: await startCampaignRun(deps, campaignId, { dryRun }), replayed: false }
        : await startKeyedCampaignRun(deps, campaignId, { dryRun, idempotencyKey });
    for (let look = 0; dryRun && look < looks && !ENDED_STATUSES.includes(run.status); look++) {
      await wait();
      run = await existingRun(deps, campaignId, run.runId);
    }
    const ended = dryRun && ENDED_STATUSES.includes(run.status);
    const answered = ended || (replayed && !dryRun);
    const result = json(answered ? 200 : 202, answered ? await runWithCounts(deps, run) : run);
    const replay: Record<string, string> = replayed ? { 'idempotent-replayed': 'true' } : {};
    return { ...result, headers: { ...result.headers, location: runUrl(run), ...replay } };
  });
}

/** `GET /campaigns/{id}/runs?limit=&cursor=`: a page of the campaign's runs, newest first. */
export function createListCampaignRunsHandler(deps: Pick<CampaignApiDeps, 'registry' | 'runs'>) {
  return apiHandler(async (event) => {
    const campaignId = campaignIdOf(event);
    const query = RunsQuery.safeParse({ ...(event.queryStringParameters ?? {}) });
    if (!query.success) {
      const errors = query.error.issues.map((i) => ({ field: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.map(String).join('.') || '(query)', message: i.code === 'unrecognized_keys' ? 'unknown query parameter: limit and cursor are' : i.message }));
      throw new ValidationError('invalid query', errors);
    }
    await registeredCampaign(deps, campaignId);
    const page = await deps.runs.list(campaignId, { limit: query.data.limit, ...(query.data.cursor === undefined ? {} : { cursor: query.data.cursor }) });
    return json(200, page);
  });
}

/** `GET /campaigns/{id}/runs/{runId}`: the run's status, its counts (run-level and per step) and conversions. */
export function createGetCampaignRunHandler(deps: Pick<CampaignApiDeps, 'registry' | 'runs'>) {
  return apiHandler(async (event) => {
    const campaignId = campaignIdOf(event);
    const runId = runIdOf(event);
    const { campaign } = await registeredCampaign(deps, campaignId);
    return json(200, await runWithCounts(deps, await existingRun(deps, campaignId, runId), campaign));
  });
}

/** `POST /campaigns/{id}/runs/{runId}/{action}`: pause, resume or cancel; 200 with the run as changed, 409 otherwise. */
export function createControlCampaignRunHandler(deps: CampaignApiDeps) {
  return apiHandler(async (event) => {
    const campaignId = campaignIdOf(event);
    const runId = runIdOf(event);
    const action = actionOf(event);
    return json(200, await controlCampaignRun(deps, campaignId, runId, action));
  });
}
