import type { SuppressionList } from '../consent/ports';
import { recordDeliveryEvent } from '../consent/ses-events';
import { COUNTER, utcDay, type CounterDimensions, type CounterName, type JourneyCounters } from '../measure/counters';
import { executionArnFor } from '../runtime/enter';
import type { Clock, JourneyRegistry, ProfileStore } from '../runtime/ports';
import { CLASSIFY_DEFAULTS, classifyEngagement, type ClassifyOptions, type Classification } from './classify';
import { outcomeAttribute, type EngagementLedger, type LedgerOutcome, type OutcomeKey } from './ports';
import { occurredAt, SES_EMAIL_EVENTS, SesEmailEvent, type SesEmailEventKind } from './ses-events';
import { SMS_CONTEXT, SMS_EVENT_SOURCE, smsOccurredAt, smsStatusMeaning, SmsStatusEvent } from './sms-events';
import { decodeTagValue, NO_VARIANT, TAG, tagValue } from './tags';
import type { CampaignRuns, RunCounterName } from '../campaigns/contract';
import { campaignExecutionId, campaignJourneyId, stepOfNode } from '../campaigns/keys';

export interface EngagementDeps {
  suppression: SuppressionList;
  ledger: EngagementLedger;
  journeys: Pick<JourneyRegistry, 'get'>;
  profiles: Pick<ProfileStore, 'get' | 'ingest'>;
  /** Receipt time: bounds the events' own times. */
  clock: Clock;
  /** null: no counters store configured (the counts are then not kept; everything else is). */
  counters: JourneyCounters | null;
  classify?: ClassifyOptions;
  /** Campaign messages (tag `campaign`) are counted on their run (per step) instead of a journey's counters. */
  campaignRuns?: Pick<CampaignRuns, 'add'>;
}

/** What an event reported: an SES email event kind, or an SMS delivery (`sms-delivery`) or non-delivery (`sms-failure`). */
export type EngagementKind = SesEmailEventKind | 'sms-delivery' | 'sms-failure';

export type EngagementResult =
  | { status: 'ignored'; reason: string; suppressed?: string[] }
  | { status: 'unattributed'; kind: EngagementKind; reason: string; suppressed?: string[] }
  | {
      status: 'recorded' | 'duplicate';
      kind: EngagementKind;
      outcome: OutcomeKey;
      journeyId: string;
      nodeId: string;
      executionArn: string;
      agent?: Classification;
      counted: boolean;
      suppressed?: string[];
      /** A campaign message: its campaign and run (`journeyId` is `campaign:<id>`, `executionArn` its ledger key). */
      campaign?: { campaignId: string; runId: string };
    };

/** What each event kind means for the ledger, the counters and the profile (event type of `computed`). */
const MEANING: Record<Exclude<SesEmailEventKind, 'send'>, { outcome: OutcomeKey | 'by-agent'; counter?: CounterName; profileEvent?: string }> = {
  delivery: { outcome: 'delivered', counter: COUNTER.delivered, profileEvent: 'email.delivered' },
  bounce: { outcome: 'bounced', counter: COUNTER.bounced, profileEvent: 'email.bounced' },
  complaint: { outcome: 'complained', counter: COUNTER.complained, profileEvent: 'email.complained' },
  reject: { outcome: 'rejected' },
  'rendering-failure': { outcome: 'rendering-failed' },
  open: { outcome: 'by-agent', counter: COUNTER.opened, profileEvent: 'email.opened' },
  click: { outcome: 'by-agent', counter: COUNTER.clicked, profileEvent: 'email.clicked' },
};

const MAX_LINK = 2048;

/**
 * Handles one SES email event: a permanent bounce or a complaint suppresses the address (whatever the message); then
 * the event is attributed through its tags to the ledger entry of its message (`messageId` must match), the outcome
 * is recorded there once (a conditional write), counted only when that write took place, and applied to the
 * profile as an `email.*` event whose id is fixed per message and outcome (so a redelivery changes nothing).
 */
export async function recordEmailEvent(deps: EngagementDeps, raw: unknown): Promise<EngagementResult> {
  const parsed = SesEmailEvent.safeParse(raw);
  if (!parsed.success) {
    return { status: 'ignored', reason: `not an SES email event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  }
  const event = parsed.data;
  const kind = SES_EMAIL_EVENTS[event['detail-type']];
  let suppressed: string[] | undefined;
  if (kind === 'bounce' || kind === 'complaint') {
    const outcome = await recordDeliveryEvent(deps, raw);
    if (outcome.status === 'suppressed') suppressed = outcome.addresses;
  }
  const extra = suppressed ? { suppressed } : {};
  // The ledger says `sent` from the send step itself; SES's own Send event adds nothing.
  if (kind === 'send') return { status: 'ignored', reason: 'Email Sent: the ledger records the send', ...extra };
  const unattributed = (reason: string): EngagementResult => ({ status: 'unattributed', kind, reason, ...extra });

  const tags = event.detail.mail.tags;
  const nodeId = tagValue(tags, TAG.node);
  const executionName = tagValue(tags, TAG.execution);
  const campaignId = tagValue(tags, TAG.campaign);
  let journeyId = tagValue(tags, TAG.journey);
  let executionArn: string;
  let campaign: { campaignId: string; runId: string } | undefined;
  if (campaignId !== undefined) {
    // A campaign message: `execution` is the run, and the ledger key is (campaign, run, profile) with the node.
    const profileId = tagValue(tags, TAG.profile);
    if (nodeId === undefined || executionName === undefined || profileId === undefined) {
      return unattributed('no node, run or profile tag');
    }
    campaign = { campaignId, runId: executionName };
    journeyId = campaignJourneyId(campaignId);
    executionArn = campaignExecutionId(campaignId, executionName, profileId);
  } else {
    if (journeyId === undefined || nodeId === undefined || executionName === undefined) return unattributed('no journey, node or execution tag');
    const record = await deps.journeys.get(journeyId);
    if (!record) return unattributed(`journey ${journeyId} is not deployed`);
    executionArn = executionArnFor(record.stateMachineArn, executionName);
  }
  const messageId = event.detail.mail.messageId;
  const entry = await deps.ledger.get(executionArn, nodeId);
  // Erased with its profile, or never ours: nothing to attribute it to.
  if (!entry) return unattributed('no ledger entry for the message');
  if (entry.messageId !== messageId) return unattributed('the ledger entry holds another message');

  const at = occurredAt(event, kind, deps.clock.now());
  const meaning = MEANING[kind];
  let agent: Classification | undefined;
  let outcomeKey: OutcomeKey;
  const outcome: LedgerOutcome = { at };
  if (meaning.outcome === 'by-agent') {
    const signal = kind === 'open' ? event.detail.open : event.detail.click;
    const delivered = entry[outcomeAttribute('delivered')] as LedgerOutcome | undefined;
    agent = classifyEngagement(
      {
        kind: kind as 'open' | 'click',
        userAgent: signal?.userAgent,
        ip: signal?.ipAddress,
        at,
        deliveredAt: delivered?.at ?? event.detail.mail.timestamp,
      },
      deps.classify ?? CLASSIFY_DEFAULTS,
    );
    outcomeKey = `${kind === 'open' ? 'opened' : 'clicked'}-${agent.agent}`;
    Object.assign(outcome, { agent: agent.agent, agentReason: agent.reason });
    const link = event.detail.click?.link;
    if (link !== undefined) outcome.link = link.slice(0, MAX_LINK);
  } else {
    outcomeKey = meaning.outcome;
    const detail = event.detail.bounce?.bounceType ?? event.detail.reject?.reason ?? event.detail.failure?.errorMessage;
    if (detail !== undefined) outcome.detail = detail.slice(0, 256);
  }

  const recorded = await deps.ledger.recordOutcome(executionArn, nodeId, messageId, outcomeKey, outcome);
  const variant = tagValue(tags, TAG.variant);
  let counted = false;
  if (campaign) {
    if (recorded && meaning.counter && deps.campaignRuns) {
      // Once per message and outcome (the conditional write above), on the run, by step; opens and clicks by agent.
      const name = CAMPAIGN_COUNTER[meaning.counter];
      if (name) {
        const count = { step: stepOfNode(nodeId), name, dim: agent?.agent ?? '' };
        await deps.campaignRuns.add(campaign.campaignId, campaign.runId, [count]);
        counted = true;
      }
    }
  } else if (recorded && meaning.counter && deps.counters) {
    const dims: CounterDimensions = { node: nodeId, channel: 'email' };
    if (variant !== undefined && variant !== NO_VARIANT) dims.variant = variant;
    if (agent) dims.agent = agent.agent;
    await deps.counters.add([{ journeyId, day: utcDay(at), name: meaning.counter, dims }]);
    counted = true;
  }
  // Applied on every delivery of the event: the fixed id makes it once, and a retry after a crash completes it.
  if (meaning.profileEvent) await applyToProfile(deps, entry.profileId, meaning.profileEvent, `ses-${messageId}-${outcomeKey}`, at, {
    journeyId,
    ...(campaign ? { campaignId: campaign.campaignId, runId: campaign.runId } : {}),
    nodeId,
    messageId,
    ...(agent ? { agent: agent.agent } : {}),
    ...(outcome.link !== undefined ? { link: outcome.link } : {}),
  });
  return {
    status: recorded ? 'recorded' : 'duplicate',
    kind,
    outcome: outcomeKey,
    journeyId,
    nodeId,
    executionArn,
    ...(agent ? { agent } : {}),
    counted,
    ...(campaign ? { campaign } : {}),
    ...extra,
  };
}

/** The run counter of each engagement counter. */
const CAMPAIGN_COUNTER: Partial<Record<CounterName, RunCounterName>> = {
  [COUNTER.delivered]: 'delivered',
  [COUNTER.opened]: 'opened',
  [COUNTER.clicked]: 'clicked',
  [COUNTER.bounced]: 'bounced',
  [COUNTER.complained]: 'complained',
};

/** The profile's computed attributes (`computed["email.opened"]` …) move as for any event of that type. */
async function applyToProfile(deps: EngagementDeps, profileId: string, type: string, id: string, time: string, properties: Record<string, string>) {
  const profile = await deps.profiles.get(profileId, { recentEvents: false });
  const identity = profile ? Object.entries(profile.identities)[0] : undefined;
  if (!identity) return;
  await deps.profiles.ingest({ id, type, source: 'waymark.engagement', time, identities: { [identity[0]]: identity[1] }, attributes: {}, properties });
}

/** Every provider event the engagement rules deliver: SMS status events by their source, the rest as SES email events. */
export async function recordEngagementEvent(deps: EngagementDeps, raw: unknown): Promise<EngagementResult> {
  const source = raw !== null && typeof raw === 'object' ? (raw as { source?: unknown }).source : undefined;
  return source === SMS_EVENT_SOURCE ? recordSmsEvent(deps, raw) : recordEmailEvent(deps, raw);
}

/** A context value as prepare-send escaped it (smsContext); undefined when absent or not ours. */
function contextValue(context: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  const value = context !== undefined && Object.hasOwn(context, name) ? context[name] : undefined;
  return value === undefined ? undefined : decodeTagValue(value);
}

const MAX_DETAIL = 256;

/**
 * Handles one End User Messaging SMS status event: a delivery or a final non-delivery is attributed through the
 * message's context (journey, node, execution) to its ledger entry (`messageId` must match), recorded there once (a
 * conditional write: `delivered`, or `undelivered` with the carrier's status) and counted only when that write took
 * place (`delivered`, or `undelivered` with reason = the status). Statuses on the way, UNKNOWN and unknown ones are
 * ignored with their reason. Nothing is applied to the profile (no `sms.*` computed events).
 */
export async function recordSmsEvent(deps: EngagementDeps, raw: unknown): Promise<EngagementResult> {
  const parsed = SmsStatusEvent.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return { status: 'ignored', reason: `not an SMS status event: ${issues}` };
  }
  const event = parsed.data;
  const meaning = smsStatusMeaning(event.detail);
  if (meaning.kind === 'ignored') return { status: 'ignored', reason: meaning.reason };
  const kind: EngagementKind = meaning.kind === 'delivered' ? 'sms-delivery' : 'sms-failure';
  const unattributed = (reason: string): EngagementResult => ({ status: 'unattributed', kind, reason });

  const context = event.detail.context;
  const journeyId = contextValue(context, SMS_CONTEXT.journey);
  const nodeId = contextValue(context, SMS_CONTEXT.node);
  const executionName = contextValue(context, SMS_CONTEXT.execution);
  if (journeyId === undefined || nodeId === undefined || executionName === undefined) {
    return unattributed('no journey, node or execution in the context');
  }
  const record = await deps.journeys.get(journeyId);
  if (!record) return unattributed(`journey ${journeyId} is not deployed`);
  const executionArn = executionArnFor(record.stateMachineArn, executionName);
  const messageId = event.detail.messageId;
  const entry = await deps.ledger.get(executionArn, nodeId);
  if (!entry) return unattributed('no ledger entry for the message');
  if (entry.messageId !== messageId) return unattributed('the ledger entry holds another message');

  const at = smsOccurredAt(event, deps.clock.now());
  const outcome: LedgerOutcome = { at };
  if (meaning.kind === 'undelivered') {
    const description = event.detail.messageStatusDescription;
    outcome.detail = (description ? `${meaning.status}: ${description}` : meaning.status).slice(0, MAX_DETAIL);
  }
  const outcomeKey: OutcomeKey = meaning.kind;
  const recorded = await deps.ledger.recordOutcome(executionArn, nodeId, messageId, outcomeKey, outcome);
  let counted = false;
  if (recorded && deps.counters) {
    const dims: CounterDimensions = { node: nodeId, channel: 'sms' };
    const variant = contextValue(context, SMS_CONTEXT.variant);
    if (variant !== undefined && variant !== NO_VARIANT) dims.variant = variant;
    if (meaning.kind === 'undelivered') dims.reason = meaning.status;
    const name = meaning.kind === 'delivered' ? COUNTER.delivered : COUNTER.undelivered;
    await deps.counters.add([{ journeyId, day: utcDay(at), name, dims }]);
    counted = true;
  }
  return { status: recorded ? 'recorded' : 'duplicate', kind, outcome: outcomeKey, journeyId, nodeId, executionArn, counted };
}
