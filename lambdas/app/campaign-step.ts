import * as z from 'zod';
import type { AudiencePageResult, BatchResult, CampaignStepPayload, SetRef, StartResult, TimeGroup } from '../core/campaigns/contract';
import { MAX_ROW_BYTES } from '../core/campaigns/contract';
import { withPowertools } from './middleware';

/** The payload of one action (the batch payloads share one type whose `action` is a union). */
type Payload<A extends CampaignStepPayload['action'], P = CampaignStepPayload> = P extends { action: infer X }
  ? A extends X
    ? Omit<P, 'action'> & { action: A }
    : never
  : never;

/**
 * One function per action of the `campaign-step` Lambda (lambdas/core/campaigns: run.ts, audience.ts, split.ts,
 * local-time.ts, deliver.ts, enter.ts), their dependencies already bound by the composition root
 * (`campaignStepActions` in campaign-step-actions.ts).
 */
export interface CampaignStepActions {
  startRun(payload: Payload<'start'>): Promise<StartResult>;
  audiencePage(payload: Payload<'audience-page'>): Promise<AudiencePageResult>;
  composeSet(payload: Payload<'compose'>): Promise<SetRef>;
  deliverBatch(payload: Payload<'deliver'>): Promise<BatchResult>;
  splitBatch(payload: Payload<'split'>): Promise<BatchResult>;
  enterJourneyBatch(payload: Payload<'enter-journey'>): Promise<BatchResult>;
  groupByTime(payload: Payload<'group-by-time'>): Promise<{ groups: TimeGroup[] }>;
  finishRun(payload: Payload<'finish'>): Promise<unknown>;
}

/** A payload the state machine could not have sent (a wrong definition, or a hand-started call): not retried usefully. */
export class CampaignStepPayloadError extends Error {
  override readonly name = 'CampaignStepPayloadError';
}

/** Members per batch at most (ItemBatcher's MaxItemsPerBatch is bounded lower by the compiler). */
export const MAX_BATCH_ITEMS = 10_000;

const id = z.string().min(1).max(256);
const key = z.string().min(1).max(1024);
const RunContext = z.looseObject({ campaignId: id, runId: id, prefix: key, startedAt: z.string().max(64), dryRun: z.boolean() });
const Row = z.looseObject({ profileId: id, timeZone: z.string().max(64).optional() }).refine((row) => JSON.stringify(row).length <= MAX_ROW_BYTES, {
  message: `an audience row is at most ${MAX_ROW_BYTES} bytes`,
});
const batch = <A extends string>(action: A) =>
  z.looseObject({
    action: z.literal(action),
    run: RunContext,
    step: id,
    items: z.array(Row).max(MAX_BATCH_ITEMS),
    cursor: z.number().int().min(0).optional(),
    rate: z.number().positive().optional(),
    concurrency: z.number().int().positive().optional(),
  });

/** The payloads of contract.ts, checked structurally (each action's own function checks what it reads further). */
export const CampaignStepPayloadSchema = z.discriminatedUnion('action', [
  z.looseObject({
    action: z.literal('start'),
    input: z.looseObject({ campaignId: id, runId: id.optional(), trigger: z.enum(['api', 'schedule']), occurrence: z.string().max(64).optional(), dryRun: z.boolean().optional() }),
    executionArn: key,
    startedAt: z.string().max(64),
  }),
  z.looseObject({
    action: z.literal('audience-page'),
    run: RunContext,
    segment: z.number().int().min(0),
    totalSegments: z.number().int().min(1).max(1_000_000),
    cursor: z.string().max(4096).optional(),
    page: z.number().int().min(0).optional(),
    counts: z.looseObject({}).optional(),
  }),
  z.looseObject({ action: z.literal('compose'), run: RunContext, parts: key, key }),
  batch('deliver'),
  batch('split'),
  batch('enter-journey'),
  z.looseObject({ action: z.literal('group-by-time'), run: RunContext, step: id, set: key }),
  z.looseObject({ action: z.literal('finish'), run: RunContext, status: z.enum(['succeeded', 'failed']), error: z.unknown().optional() }),
]);

/** Checks a payload and calls its action's function. */
export async function dispatchCampaignStep(actions: CampaignStepActions, payload: unknown): Promise<unknown> {
  const parsed = CampaignStepPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`);
    throw new CampaignStepPayloadError(`invalid campaign-step payload: ${issues.join('; ')}`);
  }
  const p = parsed.data as CampaignStepPayload;
  switch (p.action) {
    case 'start':
      return actions.startRun(p);
    case 'audience-page':
      return actions.audiencePage(p);
    case 'compose':
      return actions.composeSet(p);
    case 'deliver':
      return actions.deliverBatch({ ...p, action: 'deliver' });
    case 'split':
      return actions.splitBatch({ ...p, action: 'split' });
    case 'enter-journey':
      return actions.enterJourneyBatch({ ...p, action: 'enter-journey' });
    case 'group-by-time':
      return actions.groupByTime(p);
    case 'finish':
      return actions.finishRun(p);
    default:
      return assertNever(p);
  }
}

function assertNever(value: never): never {
  throw new CampaignStepPayloadError(`unknown campaign-step action ${JSON.stringify((value as { action?: unknown }).action)}`);
}

/** The `campaign-step` function: every Task of a campaign's state machine invokes it with a payload naming its action. */
export function createCampaignStepHandler(actions: CampaignStepActions) {
  return withPowertools(async (payload: unknown) => dispatchCampaignStep(actions, payload));
}
