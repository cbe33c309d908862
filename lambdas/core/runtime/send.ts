import { consentDecision, type ConsentPolicy } from '../consent/policy';
import type { SuppressionList } from '../consent/ports';
import type { UnsubscribeLinks } from '../consent/links';
import type { StepPayload } from '../journey/asl';
import type { SendNode } from '../journey/schema';
import { assertNever } from '../shared/assert-never';
import { urlScheme } from '../templates/html';
import { renderTemplate, TemplateRenderError, type TemplateScope } from '../templates/liquid';
import { sendTags, type MessageTag } from '../engagement/tags';
import { smsContext } from '../engagement/sms-context';
import { jsonBytes, RUN_DATA_LIMITS } from './execution-data';
import type { Clock, Ledger, Profile, ProfileStore } from './ports';
import { governSend, releaseSendSlot, type GovernanceDeps, type GovernedSend } from '../governance/send-step';
import { COUNTER, utcDay, type JourneyCounters } from '../measure/counters';

/** An SES v2 `MessageHeader`. */
export interface MessageHeader {
  Name: string;
  Value: string;
}

export type PreparedMessage =
  | { channel: 'email'; to: string; subject: string; text: string; html?: string; unsubscribeUrl?: string; headers?: MessageHeader[]; tags?: MessageTag[] }
  | { channel: 'sms'; to: string; body: string; context?: Record<string, string> }
  | { channel: 'push'; to: string; title: string; body: string; url?: string; request: Record<string, unknown> };

/** What the send step's Choice reads: deliver or not, why not, and the rendered message. */
export interface PrepareResult {
  deliver: boolean;
  reason: string | null;
  message: PreparedMessage | Record<string, never>;
  /** Quiet hours: not now, check again at this time (the state machine waits, then runs the step again). */
  deferUntil?: string;
  /** When this message was first deferred (carried from check to check; `maxDeferral` counts from it). */
  deferredSince?: string;
}

/**
 * `settings`: the journey's priority and tags, which governance rules read (compiled into the step's payload).
 * `startedAt`: the run's `$$.Execution.StartTime` (its entry), the day its counters are bucketed by.
 */
export type PrepareSendPayload = StepPayload<SendNode> & {
  messageClass: 'marketing' | 'transactional';
  settings?: GovernedSend['settings'];
  startedAt?: string;
};

/** The reason a send step of a journey-holdout run gives (ledger `suppressed`). */
export const HOLDOUT_REASON = 'holdout';

/** The reason a send step gives for a profile that no longer exists. */
export const PROFILE_ERASED = 'profile-erased';

/** What the send step checks before rendering: the suppression list, consent, and the unsubscribe link it adds. */
export interface SendGuardDeps {
  /** Looked up for every email address. */
  suppression?: SuppressionList;
  /** The one-click unsubscribe link of marketing email (template variable `unsubscribeUrl` and the List-Unsubscribe header). */
  unsubscribeLinks?: UnsubscribeLinks;
  /** @default opt-out model on every channel and list */
  consentPolicy?: ConsentPolicy;
}

/** `governance`: frequency caps and quiet hours (lambdas/core/governance/README.md); none without it. */
export type PrepareSendDeps = {
  profiles: Pick<ProfileStore, 'get'>;
  ledger: Ledger;
  clock: Clock;
  counters?: JourneyCounters;
  governance?: GovernanceDeps;
} & SendGuardDeps;

/** RFC 2369 and RFC 8058 (one-click) headers; none without a link. */
export function unsubscribeHeaders(url: string | undefined): MessageHeader[] {
  return url === undefined
    ? []
    : [
        { Name: 'List-Unsubscribe', Value: `<${url}>` },
        { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
      ];
}

type Recipient = { to: string; platform?: string } | undefined;

/** Where a message goes: identities first, then attributes of the same name. */
export function recipientFor(channel: SendNode['channel'], profile: Pick<Profile, 'attributes' | 'identities'>): Recipient {
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  switch (channel) {
    case 'email': {
      const to = text(profile.identities.email) ?? text(profile.attributes.email);
      return to ? { to } : undefined;
    }
    case 'sms': {
      const to = text(profile.identities.phone) ?? text(profile.attributes.phone);
      return to ? { to } : undefined;
    }
    case 'push': {
      const to = text(profile.attributes.pushToken);
      return to ? { to, platform: text(profile.attributes.pushPlatform) === 'APNS' ? 'APNS' : 'GCM' } : undefined;
    }
    default:
      return assertNever(channel, 'channel');
  }
}

const SCRIPT_SCHEMES = new Set(['javascript', 'vbscript', 'data', 'file']);
const isSafePushUrl = (url: string) => !SCRIPT_SCHEMES.has(urlScheme(url) ?? '');

function render(node: SendNode, to: string, platform: string | undefined, scope: TemplateScope): PreparedMessage {
  switch (node.channel) {
    case 'email': {
      const html = node.template.html === undefined ? undefined : renderTemplate(node.template.html, scope, 'html');
      const subject = renderTemplate(node.template.subject, scope, 'line');
      return { channel: 'email', to, subject, text: renderTemplate(node.template.text, scope), ...(html === undefined ? {} : { html }) };
    }
    case 'sms':
      return { channel: 'sms', to, body: renderTemplate(node.template.body, scope) };
    case 'push': {
      const title = renderTemplate(node.template.title, scope);
      const body = renderTemplate(node.template.body, scope);
      const rendered = node.template.url === undefined ? undefined : renderTemplate(node.template.url, scope, 'line').trim();
      // An app link (`app://cart`) is fine; a script or data URL is not: the notification then opens the app.
      const url = rendered !== undefined && isSafePushUrl(rendered) ? rendered : undefined;
      const notification = { Title: title, Body: body, ...(url ? { Action: 'URL', Url: url } : { Action: 'OPEN_APP' }) };
      const request = {
        Addresses: { [to]: { ChannelType: platform ?? 'GCM' } },
        MessageConfiguration: platform === 'APNS' ? { APNSMessage: notification } : { GCMMessage: notification },
      };
      return { channel: 'push', to, title, body, ...(url ? { url } : {}), request };
    }
    default:
      return assertNever(node, 'send node');
  }
}

/** The rendering of a send node's templates into the message its provider takes (campaign batches reuse it). */
export { render as renderSendMessage };

/**
 * The step before a delivery: skips a message already sent by this execution and node (a retried or redriven step),
 * sends nothing to an erased profile (`profile-erased`), finds the recipient, checks suppression and consent (a blocked message is recorded as `suppressed` with the reason),
 * renders the templates and records the attempt in the ledger.
 */
export async function prepareSend(deps: PrepareSendDeps, payload: PrepareSendPayload): Promise<PrepareResult> {
  const { executionId, state, node, messageClass } = payload;
  // The ledger write is conditional (first attempt, or a retry of one not yet sent), so no read is needed up front.
  const skipped = async (): Promise<PrepareResult> => {
    const existing = await deps.ledger.get(executionId, node.id);
    return { deliver: false, reason: existing?.status === 'sent' || !existing ? 'already-sent' : (existing.reason ?? existing.status), message: {} };
  };
  const profile = await deps.profiles.get(state.profileId, { recentEvents: false });
  // Gone means erased (a run a stop raced with): its entry snapshot holds no consent and must not be mailed. Nothing
  // is recorded either, or the ledger would write the erased profile's id back.
  if (!profile) return { deliver: false, reason: PROFILE_ERASED, message: {} };
  const base = { executionId, nodeId: node.id, journeyId: state.journey.id, profileId: state.profileId, channel: node.channel, preparedAt: deps.clock.now().toISOString() };
  // A cap slot taken below is given back when the message is not sent after all.
  let release: (() => Promise<unknown>) | undefined;
  const suppress = async (reason: string): Promise<PrepareResult> => {
    await release?.();
    if (!(await deps.ledger.prepare({ ...base, status: 'suppressed', reason }))) return skipped();
    // Counted once: only the write that made the entry `suppressed` counts (a retry finds it so and skips).
    const entered = payload.startedAt !== undefined && Number.isFinite(Date.parse(payload.startedAt)) ? payload.startedAt : base.preparedAt;
    await deps.counters?.add([{ journeyId: base.journeyId, day: utcDay(entered), name: COUNTER.suppressed, dims: { node: node.id, channel: node.channel, reason } }]);
    return { deliver: false, reason, message: {} };
  };
  // The journey's holdout runs the journey without its messages (its conversions are measured against the others'),
  // before any governance: a holdout run takes no cap slot and is never deferred.
  if (state.holdout === true) return suppress(HOLDOUT_REASON);
  const recipient = recipientFor(node.channel, profile);
  if (!recipient) return suppress('no-address');
  const suppressed = node.channel === 'email' && deps.suppression ? await deps.suppression.isSuppressed(recipient.to) : undefined;
  const decision = consentDecision(profile, node.channel, messageClass, node.list, suppressed, deps.consentPolicy);
  if (!decision.allowed) return suppress(decision.reason);
  if (deps.governance) {
    const governed = await governSend(deps.governance, { ...payload, profile, now: deps.clock.now() });
    if (governed.outcome === 'defer') return { deliver: false, reason: governed.reason, message: {}, deferUntil: governed.until, deferredSince: governed.since };
    if (governed.outcome === 'suppress') return suppress(governed.reason);
    release = governed.release;
  }
  const marketingEmail = node.channel === 'email' && messageClass === 'marketing';
  const unsubscribeUrl = marketingEmail && deps.unsubscribeLinks ? await deps.unsubscribeLinks.urlFor(profile.id, node.list === undefined ? 'email' : `list:${node.list}`) : undefined;
  const scope: TemplateScope = {
    profile: { id: profile.id, attributes: profile.attributes, identities: profile.identities },
    event: state.event,
    context: state.context,
    steps: state.steps,
    journey: { id: state.journey.id },
    ...(unsubscribeUrl === undefined ? {} : { unsubscribeUrl }),
  };
  let rendered: PreparedMessage;
  try {
    rendered = render(node, recipient.to, recipient.platform, scope);
  } catch (error) {
    // Data past the template limits (or a filter failing on it): not sent, recorded with the reason; the run goes on.
    if (error instanceof TemplateRenderError) return suppress('render-failed');
    throw error;
  }
  // A marketing email always carries `headers` (the compiled SES step reads them), empty only without a link.
  const plain = marketingEmail ? { ...rendered, ...(unsubscribeUrl === undefined ? {} : { unsubscribeUrl }), headers: unsubscribeHeaders(unsubscribeUrl) } : rendered;
  // Every email carries the tags its SES events come back with (the compiled SES step reads `tags`).
  // An SMS carries the context its End User Messaging status events come back with (lambdas/core/engagement/sms-events.ts).
  const message =
    plain.channel === 'email'
      ? { ...plain, tags: emailTags(payload) }
      : plain.channel === 'sms'
        ? { ...plain, context: smsContextOf(payload) }
        : plain;
  // The message travels in the run's data to the delivery task (Step Functions' 256 KB): an oversized one is not sent.
  if (jsonBytes(message) > RUN_DATA_LIMITS.maxMessageBytes) return suppress('message-too-large');
  if (!(await deps.ledger.prepare({ ...base, status: 'prepared' }))) return skipped();
  return { deliver: true, reason: null, message };
}

/** What the failed path of a delivery names: the run, its profile and the send node (the slot's holder). */
export interface ReleaseSendPayload {
  executionId: string;
  profileId: string;
  nodeId: string;
}

/** The failed path of a delivery: gives back the cap slot the message took (idempotent by execution and node). */
export async function releaseSend(
  deps: Pick<PrepareSendDeps, 'profiles' | 'clock' | 'governance'>,
  { executionId, profileId, nodeId }: ReleaseSendPayload,
): Promise<{ released: boolean }> {
  if (!deps.governance) return { released: false };
  // The profile as it is now (a merge moved the slots to the survivor's item).
  const profile = await deps.profiles.get(profileId, { recentEvents: false });
  if (!profile) return { released: false };
  const slot = { profileId: profile.id, executionId, nodeId };
  return { released: await releaseSendSlot(deps.governance, slot, deps.clock.now()) };
}

/**
 * The SES tags of a journey email (lambdas/core/engagement/tags.ts). The variant is the run's `variant` field, set by
 * a split step; a run without one is tagged `none`.
 */
export function emailTags({ executionId, state, node, messageClass }: PrepareSendPayload): MessageTag[] {
  const variant = (state as { variant?: unknown }).variant;
  return sendTags({
    journeyId: state.journey.id,
    version: state.journey.version,
    nodeId: node.id,
    variant: typeof variant === 'string' ? variant : undefined,
    executionArn: executionId,
    profileId: state.profileId,
    messageClass,
  });
}

/** The SMS context of a journey SMS: journey, node, variant (`none` without a split) and execution name. */
export function smsContextOf({ executionId, state, node }: PrepareSendPayload): Record<string, string> {
  const variant = (state as { variant?: unknown }).variant;
  return smsContext({
    journeyId: state.journey.id,
    nodeId: node.id,
    variant: typeof variant === 'string' ? variant : undefined,
    executionArn: executionId,
  });
}
