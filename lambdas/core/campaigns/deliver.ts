import { consentDecision } from '../consent/policy';
import { makeDecision, type DecisionServiceDeps } from '../decisions/service';
import { NotFoundError } from '../runtime/errors';
import {
  PROFILE_ERASED,
  recipientFor,
  renderSendMessage,
  unsubscribeHeaders,
  type PreparedMessage,
  type SendGuardDeps,
} from '../runtime/send';
import type { Clock, DeliveryLedger, LedgerEntry, Profile, ProfileStore } from '../runtime/ports';
import type { Suppression } from '../consent/ports';
import type { SendNode } from '../journey/schema';
import { PROVIDER_ERRORS, PUSH_NOT_DELIVERED } from '../journey/compile';
import { governSend, type GovernanceDeps } from '../governance/send-step';
import type { SendCapStore } from '../governance/ports';
import { sendTags } from '../engagement/tags';
import { TemplateRenderError, type TemplateScope } from '../templates/liquid';
import { own } from '../shared/records';
import { runBatch, type BatchPayload, type StepCount } from './batch';
import { campaignExecutionId, campaignJourneyId } from './keys';
import { stepVariant } from './conversions';
import { RUN_COUNTER } from './contract';
import type { AudienceRow, BatchResult, CampaignMessageSender, CampaignRegistry, CampaignRuns } from './contract';
import type { Campaign, DeliverStep } from './schema';

/**
 * The `deliver` step's batch: for each member, the journeys' pre-send guard (recipient, suppression list, consent with
 * the campaign's class and list, governance rules with its priority and tags), the template rendered with the
 * member's profile, row, forEach item and decided offer, the ledger keyed (run, step, member) so a retried batch never
 * sends twice, the provider call through `CampaignMessageSender`, and the outcome in the ledger and the run's counters.
 */

export interface DeliverDeps extends SendGuardDeps {
  campaigns: Pick<CampaignRegistry, 'get'>;
  runs: Pick<CampaignRuns, 'get' | 'add' | 'addOnce'>;
  /** `getMany`, when there, reads a window's profiles in one go (`get` one by one without it). */
  profiles: Pick<ProfileStore, 'get' | 'getMany'>;
  ledger: DeliveryLedger;
  sender: CampaignMessageSender;
  clock: Clock;
  /** Frequency caps and quiet hours; none without it. */
  governance?: GovernanceDeps;
  /** The decisioning service, for steps with `decide` (without it such a step fails its batch). */
  decisions?: DecisionServiceDeps;
  /** Waits between attempts of a throttled send. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Members worked on at once within a batch. @default BATCH_LIMITS.concurrency */
  concurrency?: number;
}

export type DeliverPayload = BatchPayload & { action?: 'deliver' };

/** Reasons a campaign adds to the journeys' (consent:…, no-address, frequency-cap:…, quiet-hours:…). */
export const CAMPAIGN_SUPPRESSION = {
  profileErased: PROFILE_ERASED,
  renderFailed: 'render-failed',
  /** forEach: the member's array is absent or empty, so there is nothing to send. */
  noItems: 'no-items',
} as const;

/** A throttled call is tried this many times in all, waiting `throttleBackoffMs` × 2^attempt between tries. */
export const SEND_RETRY = { attempts: 4, throttleBackoffMs: 250 } as const;

/** The outcome a rejected call records: `throttled` is tried again (then `failed`), `unknown` may have been sent. */
export type SendErrorKind = 'throttled' | 'failed' | 'unknown';

/** Refused before any message left: no permission to call the provider, no push application configured. */
const NOT_CALLED = new Set(['AccessDenied', 'Permissions', 'NoApplication']);

/** Error names without the service prefix and `Exception` suffix: SDK and Step Functions spell them differently. */
const bare = (name: string) => name.replace(/^[A-Za-z0-9]+\./, '').replace(/Exception$/, '');

/**
 * The journeys' classification (compile.ts PROVIDER_ERRORS) applied to the SDK's error names (`MessageRejected`,
 * `ThrottledException`) and the sender's `Pinpoint.<DeliveryStatus>`: refused before sending is `failed`, anything
 * else (a timeout, a 5xx, an unmodelled error) `unknown`. AccessDenied is the SDK's States.Permissions.
 */
export function classifySendError(channel: SendNode['channel'], name: string): SendErrorKind {
  const b = bare(name);
  const { throttled, rejected } = PROVIDER_ERRORS[channel];
  if (throttled.some((n) => bare(n) === b)) return 'throttled';
  if (channel === 'push' && (PUSH_NOT_DELIVERED.again as readonly string[]).includes(b)) return 'throttled';
  if (rejected.some((n) => bare(n) === b) || NOT_CALLED.has(b)) return 'failed';
  if (channel === 'push' && (PUSH_NOT_DELIVERED.failed as readonly string[]).includes(b)) return 'failed';
  return 'unknown';
}

export { campaignExecutionId, campaignJourneyId };

/** The variables a campaign template may use: the journeys' and `row`, `item`, `offer`, `offers`, `campaign`. */
export const CAMPAIGN_TEMPLATE_ROOTS = [
  'profile',
  'row',
  'item',
  'offer',
  'offers',
  'campaign',
  'unsubscribeUrl',
] as const;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The step's definition, or an error naming what is wrong (the definition and the payload disagree). */
async function deliverStep(deps: Pick<DeliverDeps, 'campaigns'>, campaignId: string, stepId: string) {
  const registered = await deps.campaigns.get(campaignId);
  if (!registered) throw new NotFoundError(`campaign "${campaignId}" is not registered`);
  const step = own(registered.campaign.steps, stepId);
  if (!step || step.kind !== 'deliver') {
    throw new NotFoundError(`campaign "${campaignId}" has no deliver step "${stepId}"`);
  }
  return { campaign: registered.campaign, version: registered.version, step };
}

/** `forEach.path` read from the profile's attributes or the row's data (own properties only); an array or undefined. */
export function forEachItems(
  step: DeliverStep,
  profile: Pick<Profile, 'attributes'>,
  row: AudienceRow,
): unknown[] | undefined {
  if (!step.forEach) return undefined;
  const [root, ...rest] = step.forEach.path.split('.');
  const names = root === 'row' ? rest : rest.slice(1);
  let value: unknown = root === 'row' ? (row.data ?? {}) : profile.attributes;
  for (const name of names) {
    const isRecord = value !== null && typeof value === 'object' && !Array.isArray(value);
    value = isRecord ? own(value as Record<string, unknown>, name) : undefined;
  }
  return Array.isArray(value) ? value.slice(0, step.forEach.max) : undefined;
}

/** A SendNode with the step's channel, template and list: what the shared guard and renderer take. */
const asSendNode = (step: DeliverStep, nodeId: string): SendNode =>
  ({ ...step, kind: 'send', id: nodeId, next: '' }) as unknown as SendNode;

/** Dry runs: caps are not reserved (a dry run takes no slot), so they are not estimated either. */
const DRY_CAPS: SendCapStore = {
  reserve: async () => ({ ok: true, taken: false }),
  release: async () => false,
  carryOver: async () => 0,
};

/**
 * One batch of the deliver step (contract.ts `BatchResult`). Quiet hours that would defer a message suppress it in a
 * campaign (`quiet-hours:<rule>`): the step sends its audience now, and `at` is how a campaign picks the member's hour.
 */
export async function deliverBatch(deps: DeliverDeps, payload: DeliverPayload): Promise<BatchResult> {
  const { run } = payload;
  const { campaign, version, step } = await deliverStep(deps, run.campaignId, payload.step);
  const governance = deps.governance && batchGovernance(deps.governance, run.dryRun);
  const claimed = new Set<string>();
  const context = { campaign, version, step, stepId: payload.step, runId: run.runId, dryRun: run.dryRun, claimed };
  const withGovernance = { ...deps, governance };
  // A dry run writes nothing that makes its counts facts: each is counted once per window (StepCount.once).
  const member = (row: AudienceRow, count: Count, reads: WindowReads | undefined) => {
    const counted: Count = run.dryRun ? (c) => count({ ...c, once: true }) : count;
    return deliverToMember(withGovernance, context, row, counted, reads);
  };
  return runBatch({ deps, payload, member, load: (rows) => readWindow(deps, context, rows) });
}

/**
 * The governance a batch uses: its rules read once per batch (not once per member; AWS caches them a minute anyway,
 * handlers/campaign-step.ts), and a dry run's caps reserve nothing.
 */
function batchGovernance(governance: GovernanceDeps, dryRun: boolean): GovernanceDeps {
  let rules: ReturnType<GovernanceDeps['rules']['list']> | undefined;
  const list = () => (rules ??= governance.rules.list());
  return { ...governance, rules: { ...governance.rules, list }, ...(dryRun ? { caps: DRY_CAPS } : {}) };
}

/**
 * What a window's members need, read before any of them starts, each kind in one batched request where the port
 * can (`getMany`, `areSuppressed`: BatchGetItem on DynamoDB) instead of one request per member. Absent: read one by
 * one. Each map holds every key asked for (undefined: none).
 */
interface WindowReads {
  profiles?: Map<string, Profile | undefined>;
  /** By `ledgerKey(executionId, nodeId)`. */
  ledger?: Map<string, LedgerEntry | undefined>;
  /** By recipient address, as the guard asks. */
  suppressed?: Map<string, Suppression | undefined>;
}

const ledgerKey = (executionId: string, nodeId: string) => `${executionId}\u0000${nodeId}`;

async function readWindow(deps: DeliverDeps, ctx: StepContext, rows: readonly AudienceRow[]): Promise<WindowReads> {
  if (!deps.profiles.getMany) return {};
  const ids = [...new Set(rows.map((r) => r.profileId))];
  const found = await deps.profiles.getMany(ids, { recentEvents: false });
  const profiles = new Map(ids.map((id, i) => [id, found[i]]));
  const targets: { executionId: string; nodeId: string }[] = [];
  const addresses = new Set<string>();
  const checksList = ctx.step.channel === 'email' && deps.suppression?.areSuppressed !== undefined;
  for (const row of rows) {
    const profile = profiles.get(row.profileId);
    if (!profile) continue;
    const executionId = campaignExecutionId(ctx.campaign.id, ctx.runId, profile.id);
    for (const { nodeId } of messageTargets(ctx, profile, row) ?? []) targets.push({ executionId, nodeId });
    const to = checksList ? recipientFor(ctx.step.channel, profile)?.to : undefined;
    if (to !== undefined) addresses.add(to);
  }
  const reads: WindowReads = { profiles };
  const [entries, suppressions] = await Promise.all([
    ctx.dryRun || !deps.ledger.getMany || targets.length === 0 ? undefined : deps.ledger.getMany(targets),
    addresses.size === 0 ? undefined : deps.suppression!.areSuppressed!([...addresses]),
  ]);
  if (entries) reads.ledger = new Map(targets.map((t, i) => [ledgerKey(t.executionId, t.nodeId), entries[i]]));
  if (suppressions) reads.suppressed = new Map([...addresses].map((a, i) => [a, suppressions[i]]));
  return reads;
}

/** A member's messages: one on the step's node, or one per forEach item (`<step>#<index>`); undefined: no items. */
function messageTargets(ctx: StepContext, profile: Profile, row: AudienceRow) {
  const items = forEachItems(ctx.step, profile, row);
  if (ctx.step.forEach && (!items || items.length === 0)) return undefined;
  return items === undefined
    ? [{ nodeId: ctx.stepId, item: undefined as unknown }]
    : items.map((item, i) => ({ nodeId: `${ctx.stepId}#${i}`, item }));
}

interface StepContext {
  /**
   * Profile ids a member of this call already took: a second row of one (repeated, or merged into it) would race the
   * first to the same ledger key.
   */
  claimed: Set<string>;
  campaign: Campaign;
  version: string;
  step: DeliverStep;
  stepId: string;
  runId: string;
  dryRun: boolean;
}

type Count = (c: StepCount) => void;

async function deliverToMember(
  deps: DeliverDeps,
  ctx: StepContext,
  row: AudienceRow,
  count: Count,
  reads: WindowReads | undefined,
): Promise<number> {
  const suppressed = (reason: string) => count({ name: RUN_COUNTER.suppressed, dim: reason });
  const profile = reads?.profiles
    ? reads.profiles.get(row.profileId)
    : await deps.profiles.get(row.profileId, { recentEvents: false });
  // Gone means erased since the audience was read: nothing is sent, nothing recorded under its id, so nothing makes
  // the count a fact either: it is counted once per window.
  if (!profile) {
    count({ name: RUN_COUNTER.suppressed, dim: CAMPAIGN_SUPPRESSION.profileErased, once: true });
    return 0;
  }
  // The same member twice in a batch: the first row deals with it (its ledger key is the same).
  if (ctx.claimed.has(profile.id)) return 0;
  ctx.claimed.add(profile.id);
  const executionId = campaignExecutionId(ctx.campaign.id, ctx.runId, profile.id);
  const targets = messageTargets(ctx, profile, row);
  if (!targets) {
    const reason = CAMPAIGN_SUPPRESSION.noItems;
    if (ctx.dryRun || (await recordSuppressed(deps, ctx, executionId, ctx.stepId, profile.id, reason))) {
      suppressed(CAMPAIGN_SUPPRESSION.noItems);
    }
    return 0;
  }
  // The offer is decided once per member, on its first message the guard lets through (no cap reserved for nothing).
  let offers: Promise<{ offer: unknown; offers: unknown[] }> | undefined;
  const decide = () => (offers ??= decideOffers(deps, ctx, executionId, profile.id));
  let sent = 0;
  for (const { nodeId, item } of targets) {
    sent += await deliverMessage(deps, ctx, { profile, row, item, nodeId, executionId, decide }, count, reads);
  }
  return sent;
}

interface MessageTarget {
  profile: Profile;
  row: AudienceRow;
  item: unknown;
  nodeId: string;
  executionId: string;
  decide: () => Promise<{ offer: unknown; offers: unknown[] }>;
}

/** Writes a `suppressed` entry; true when this write made it so (a retried batch finds it and counts nothing). */
async function recordSuppressed(
  deps: DeliverDeps,
  ctx: StepContext,
  executionId: string,
  nodeId: string,
  profileId: string,
  reason: string,
) {
  return deps.ledger.prepare({ ...entryBase(deps, ctx, executionId, nodeId, profileId), status: 'suppressed', reason });
}

type Clocked = Pick<DeliverDeps, 'clock'>;

function entryBase(deps: Clocked, ctx: StepContext, executionId: string, nodeId: string, profileId: string) {
  const journeyId = campaignJourneyId(ctx.campaign.id);
  const preparedAt = deps.clock.now().toISOString();
  return { executionId, nodeId, journeyId, profileId, channel: ctx.step.channel, preparedAt };
}

async function decideOffers(deps: DeliverDeps, ctx: StepContext, executionId: string, profileId: string) {
  const decide = ctx.step.decide;
  if (!decide || ctx.dryRun) return { offer: null, offers: [] };
  if (!deps.decisions) {
    throw new Error(`deliver step "${ctx.stepId}" decides offers, but no decision service is configured`);
  }
  try {
    const record = await makeDecision(deps.decisions, {
      profileId,
      placements: [decide.placement],
      count: decide.count,
      context: {},
      origin: `campaign:${ctx.campaign.id}:${ctx.stepId}`,
      // A retried batch gets the decision of its first attempt: offer caps are not reserved twice.
      idempotencyKey: `${executionId}#${ctx.stepId}`,
    });
    const offers = record.placements[decide.placement]?.offers ?? [];
    return { offer: offers[0] ?? null, offers };
  } catch (error) {
    // Erased between the guard and here: no offer (the member's message then is not sent: its profile is gone).
    if (error instanceof NotFoundError) return { offer: null, offers: [] };
    throw error;
  }
}

/** One message: guard, render, ledger, send, outcome. Returns 1 when the provider was called. */
async function deliverMessage(
  deps: DeliverDeps,
  ctx: StepContext,
  target: MessageTarget,
  count: Count,
  reads: WindowReads | undefined,
) {
  const { profile, nodeId, executionId } = target;
  const { campaign, step, dryRun } = ctx;
  const base = entryBase(deps, ctx, executionId, nodeId, profile.id);
  if (!dryRun) {
    const key = ledgerKey(executionId, nodeId);
    const existing = reads?.ledger?.has(key) ? reads.ledger.get(key) : await deps.ledger.get(executionId, nodeId);
    if (existing) {
      // `prepared` is a send an earlier attempt of this batch started and never recorded: it may have gone out.
      const interrupted = { status: 'unknown', error: 'Waymark.BatchInterrupted' } as const;
      if (existing.status === 'prepared' && (await deps.ledger.settle(executionId, nodeId, interrupted))) {
        count({ name: RUN_COUNTER.failed, dim: 'unknown' });
      }
      return 0;
    }
  }
  let release: (() => Promise<unknown>) | undefined;
  const suppress = async (reason: string): Promise<number> => {
    await release?.();
    const made = dryRun || (await deps.ledger.prepare({ ...base, status: 'suppressed', reason }));
    if (made) count({ name: RUN_COUNTER.suppressed, dim: reason });
    return 0;
  };
  const recipient = recipientFor(step.channel, profile);
  if (!recipient) return suppress('no-address');
  const checksList = step.channel === 'email' && deps.suppression;
  const listed = reads?.suppressed;
  const onList = !checksList
    ? undefined
    : listed?.has(recipient.to)
      ? listed.get(recipient.to)
      : await deps.suppression!.isSuppressed(recipient.to);
  const decision = consentDecision(profile, step.channel, campaign.messageClass, step.list, onList, deps.consentPolicy);
  if (!decision.allowed) return suppress(decision.reason);
  const node = asSendNode(step, nodeId);
  if (deps.governance) {
    const settings = {
      ...(campaign.priority === undefined ? {} : { priority: campaign.priority }),
      ...(campaign.tags === undefined ? {} : { tags: campaign.tags }),
    };
    const governed = await governSend(deps.governance, {
      executionId,
      node,
      messageClass: campaign.messageClass,
      settings,
      state: { journey: { id: base.journeyId }, steps: {} },
      profile,
      now: deps.clock.now(),
    });
    // A deferral has no later pass in a campaign: the message is suppressed with the quiet-hours reason.
    if (governed.outcome !== 'send') return suppress(governed.reason);
    release = governed.release;
  }
  const marketingEmail = step.channel === 'email' && campaign.messageClass === 'marketing';
  const scopeName = step.list === undefined ? 'email' : (`list:${step.list}` as const);
  const links = marketingEmail ? deps.unsubscribeLinks : undefined;
  const unsubscribeUrl = links ? await links.urlFor(profile.id, scopeName) : undefined;
  const { offer, offers } = await target.decide();
  const scope = {
    profile: { id: profile.id, attributes: profile.attributes, identities: profile.identities },
    event: null,
    context: {},
    steps: {},
    journey: { id: base.journeyId, name: campaign.name },
    campaign: { id: campaign.id, name: campaign.name, runId: ctx.runId, step: ctx.stepId },
    row: row(target.row),
    ...(target.item === undefined ? {} : { item: target.item }),
    offer,
    offers,
    ...(unsubscribeUrl === undefined ? {} : { unsubscribeUrl }),
  } satisfies TemplateScope & Record<string, unknown>;
  let rendered: PreparedMessage;
  try {
    rendered = renderSendMessage(node, recipient.to, recipient.platform, scope);
  } catch (error) {
    if (error instanceof TemplateRenderError) return suppress(CAMPAIGN_SUPPRESSION.renderFailed);
    throw error;
  }
  if (dryRun) {
    count({ name: RUN_COUNTER.wouldSend, dim: '' });
    return 0;
  }
  const link = unsubscribeUrl === undefined ? {} : { unsubscribeUrl };
  const withHeaders = marketingEmail ? { ...rendered, ...link, headers: unsubscribeHeaders(unsubscribeUrl) } : rendered;
  const message: PreparedMessage =
    withHeaders.channel === 'email'
      ? {
          ...withHeaders,
          // With `campaign` and the run id as `execution`, an SES event finds this ledger entry (engagement/record.ts).
          tags: sendTags({
            journeyId: base.journeyId,
            version: ctx.version,
            nodeId,
            variant: stepVariant(campaign, ctx.stepId),
            executionArn: ctx.runId,
            profileId: profile.id,
            messageClass: campaign.messageClass,
            campaignId: campaign.id,
          }),
        }
      : withHeaders;
  if (!(await deps.ledger.prepare({ ...base, status: 'prepared' }))) {
    await release?.();
    return 0;
  }
  const origin = { campaignId: campaign.id, runId: ctx.runId, nodeId, profileId: profile.id, executionId };
  const from = { ...origin, messageClass: campaign.messageClass };
  const outcome = await sendWithRetry(deps, step.channel, () => deps.sender.send(message, from));
  if (outcome.status === 'sent') {
    if (await deps.ledger.settle(executionId, nodeId, outcome)) count({ name: RUN_COUNTER.sent, dim: '' });
    return 1;
  }
  // Refused: nothing went out, so the cap slot is given back. Unknown: it may have, so the slot stays taken.
  if (outcome.status === 'failed') await release?.();
  if (await deps.ledger.settle(executionId, nodeId, outcome)) count({ name: RUN_COUNTER.failed, dim: outcome.status });
  return 1;
}

/** The row's data as templates see it (`row.<name>`), with the member's id and zone. */
function row(r: AudienceRow): Record<string, unknown> {
  return { ...(r.data ?? {}), profileId: r.profileId, ...(r.timeZone === undefined ? {} : { timeZone: r.timeZone }) };
}

async function sendWithRetry(
  deps: Pick<DeliverDeps, 'sleep'>,
  channel: SendNode['channel'],
  send: () => Promise<{ messageId: string }>,
): Promise<{ status: 'sent'; messageId: string } | { status: 'failed' | 'unknown'; error: string }> {
  const sleep = deps.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      const { messageId } = await send();
      return { status: 'sent', messageId };
    } catch (error) {
      const name = String((error as { name?: unknown })?.name ?? 'Error').slice(0, 256);
      const kind = classifySendError(channel, name);
      if (kind === 'throttled' && attempt + 1 < SEND_RETRY.attempts) {
        await sleep(SEND_RETRY.throttleBackoffMs * 2 ** attempt);
        continue;
      }
      // Throttled after every attempt: still nothing sent.
      return { status: kind === 'unknown' ? 'unknown' : 'failed', error: name };
    }
  }
}
