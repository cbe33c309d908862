import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CampaignState, compileCampaign } from '../../../lambdas/core/campaigns/compile';
import {
  campaignCost,
  childTransitions,
  LAMBDA_USD_PER_GB_SECOND,
  loopTransitions,
  LAMBDA_USD_PER_REQUEST,
  S3_USD_PER_GET,
  S3_USD_PER_PUT,
  STANDARD_USD_PER_TRANSITION,
} from '../../../lambdas/core/campaigns/cost';
import type { Campaign } from '../../../lambdas/core/campaigns/schema';
import { validateCampaign } from '../../../lambdas/core/campaigns/validate';
import { baseCampaign, ROOT } from './fixtures';

function valid(input: unknown): Campaign {
  const result = validateCampaign(input);
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.campaign;
}
const file = (name: string) => valid(JSON.parse(readFileSync(join(ROOT, 'campaigns', `${name}.json`), 'utf8')));
const costOf = (campaign: Campaign, recipients: number, batchSize?: number) =>
  campaignCost(campaign, compileCampaign(campaign, batchSize === undefined ? {} : { batchSize }), { recipients });

/** A campaign of one email to everyone. */
const oneEmail = () => {
  const draft = baseCampaign();
  draft.steps = { email: { kind: 'deliver', channel: 'email', template: { subject: 's', text: 't' } } };
  return valid(draft);
};

describe('campaignCost', () => {
  it('prices at the list prices of us-east-1', () => {
    expect(STANDARD_USD_PER_TRANSITION).toBeCloseTo(0.000025, 12);
    expect(LAMBDA_USD_PER_REQUEST).toBeCloseTo(0.0000002, 12);
    expect(LAMBDA_USD_PER_GB_SECOND).toBeCloseTo(0.0000166667, 12);
    expect(S3_USD_PER_PUT).toBeCloseTo(0.000005, 12);
    expect(S3_USD_PER_GET).toBeCloseTo(0.0000004, 12);
  });

  it('counts one child execution per batch and the child\'s transitions from the definition', () => {
    const campaign = oneEmail();
    const asl = compileCampaign(campaign);
    const email = campaignCost(campaign, asl, { recipients: 1_000_000 }).steps.find((s) => s.step === 'email')!;
    expect(email).toMatchObject({ members: 1_000_000, batches: 10_000, childExecutions: 10_000, invocations: 10_000 });
    // Each child's start (billed one transition), its batch, result and pace, plus the Map state itself.
    expect(email.transitions).toBe(10_000 * (1 + 3) + 1);
    const map = (asl.States.Run.Branches as { States: Record<string, { ItemProcessor: never }> }[])[0].States.email;
    expect(childTransitions(map.ItemProcessor)).toBe(3);
  });

  it('counts the audience as one child execution per scan segment, each paging through its share of the profiles', () => {
    const campaign = oneEmail();
    const asl = compileCampaign(campaign);
    const processor = asl.States[CampaignState.audience].ItemProcessor as never;
    // Page, more, next round the loop; page, more, done for the last page.
    expect(loopTransitions(processor)).toBe(3);
    expect(childTransitions(processor)).toBe(3);
    const cost = campaignCost(campaign, asl, { recipients: 1_000_000, audiencePageSize: 1000, scanSegments: 8 });
    const audience = cost.steps.find((s) => s.kind === 'audience')!;
    // 125 pages per segment: the child's start, then 3 transitions a page; plus the run's 6 fixed states.
    expect(audience).toMatchObject({ batches: 1000, childExecutions: 8, transitions: 6 + 8 * (1 + 125 * 3), invocations: 1003 });
    expect(cost.stepFunctions.childExecutions).toBe(8 + 10_000);
    // Every segment pages at least once, however small the audience.
    const tiny = campaignCost(campaign, asl, { recipients: 10, scanSegments: 16 }).steps.find((s) => s.kind === 'audience')!;
    expect(tiny).toMatchObject({ batches: 16, childExecutions: 16, transitions: 6 + 16 * 4 });
  });

  it('counts each child execution a Distributed Map starts as one more transition', () => {
    const campaign = oneEmail();
    const cost = costOf(campaign, 1_000_000);
    const fixedAndAudience = cost.steps.find((s) => s.kind === 'audience')!.transitions;
    const email = cost.steps.find((s) => s.step === 'email')!;
    expect(cost.stepFunctions.transitions).toBe(fixedAndAudience + email.transitions);
    expect(email.transitions - email.childExecutions).toBe(10_000 * 3 + 1);
  });

  it('costs less per member with bigger batches, and scales linearly with the audience', () => {
    const campaign = oneEmail();
    expect(costOf(campaign, 1_000_000, 500).usd).toBeLessThan(costOf(campaign, 1_000_000, 100).usd);
    const million = costOf(campaign, 1_000_000);
    expect(costOf(campaign, 2_000_000).usd / million.usd).toBeCloseTo(2, 1);
    expect(million.usdPerMillion).toBeCloseTo(million.usd, 6);
    expect(million.usd).toBeCloseTo(million.stepFunctions.usd + million.lambda.usd + million.s3.usd, 9);
  });

  it('passes each percent variant its share and nothing to the holdout', () => {
    const steps = costOf(file('win-back'), 1_000_000).steps;
    expect(steps.find((s) => s.step === 'holdout')!.members).toBe(1_000_000);
    expect(steps.find((s) => s.step === 'offer-email')!.members).toBe(900_000);
  });

  it('sends all of a rule or engagement split\'s members down its costliest branch', () => {
    const steps = costOf(file('win-back'), 1_000_000).steps.map((s) => s.step);
    // Clicked → welcome-back (a split and a journey entry) costs more than the SMS alone.
    expect(steps).toEqual(expect.arrayContaining(['not-opened', 'clicked', 'welcome-back']));
    expect(steps).not.toContain('nudge-sms');
  });

  it('counts one message per forEach item and one round of the local-time loop per send-time group', () => {
    const plain = costOf(oneEmail(), 100_000).steps.find((s) => s.step === 'email')!;
    const draft = baseCampaign();
    draft.steps = { email: { kind: 'deliver', channel: 'email', template: { subject: 's', text: '{{ item.x }}' }, at: '09:00', forEach: { path: 'row.bookings', max: 5 } } };
    const local = campaignCost(valid(draft), compileCampaign(valid(draft)), { recipients: 100_000, timeGroups: 24 }).steps.find((s) => s.step === 'email')!;
    expect(local.batches).toBe(plain.batches + 24);
    expect(local.gbSeconds).toBeGreaterThan(plain.gbSeconds * 4);
  });

  it('keeps every shipped campaign at or under $5 of orchestration per million recipients with the default batch', () => {
    for (const name of ['newsletter', 'win-back', 'booking-reminders', 'winter-sale']) {
      const cost = costOf(file(name), 1_000_000);
      expect(cost.batchSize).toBe(100);
      expect(cost.usdPerMillion).toBeLessThanOrEqual(5);
    }
  });
});
