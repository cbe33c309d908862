import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { compileCampaign } from '../../../lambdas/core/campaigns/compile';
import { STEP_KINDS, type Campaign } from '../../../lambdas/core/campaigns/schema';
import { validateCampaign } from '../../../lambdas/core/campaigns/validate';
import { aslProblems } from '../../../lambdas/core/journey/asl-check';
import { campaignFiles, repoCatalog } from './fixtures';

const parse = (file: string): Campaign => {
  const result = validateCampaign(JSON.parse(readFileSync(file, 'utf8')), repoCatalog());
  if (!result.ok) throw new Error(`${basename(file)}:\n${result.violations.map((v) => `${v.path}: ${v.message}`).join('\n')}`);
  return result.campaign;
};

describe('the campaigns/ folder', () => {
  it.each(campaignFiles().map((f) => [basename(f), f]))('%s validates against the repository catalog and compiles to valid ASL', (_name, file) => {
    const campaign = parse(file);
    expect(`${campaign.id}.json`).toBe(basename(file));
    expect(aslProblems(compileCampaign(campaign))).toEqual([]);
  });

  it('has an example of every step kind, split kind and schedule type, and of local time, forEach and decide', () => {
    const campaigns = campaignFiles().map(parse);
    const steps = campaigns.flatMap((c) => Object.values(c.steps));
    expect(new Set(steps.map((s) => s.kind))).toEqual(new Set(STEP_KINDS));
    expect(new Set(steps.flatMap((s) => (s.kind === 'split' ? [s.by] : [])))).toEqual(new Set(['percent', 'rule', 'engagement']));
    expect(new Set(campaigns.map((c) => c.schedule.type))).toEqual(new Set(['once', 'recurring']));
    expect(steps.some((s) => s.kind === 'deliver' && s.at !== undefined && s.in === 'member')).toBe(true);
    expect(steps.some((s) => s.kind === 'deliver' && s.forEach !== undefined)).toBe(true);
    expect(steps.some((s) => s.kind === 'deliver' && s.decide !== undefined)).toBe(true);
    expect(steps.some((s) => s.kind === 'split' && s.by === 'percent' && s.holdout !== undefined)).toBe(true);
  });

  it('ships the two playbooks of issue 14: a weekly newsletter on list:news and the win-back', () => {
    const byId = new Map(campaignFiles().map(parse).map((c) => [c.id, c]));
    const newsletter = byId.get('newsletter')!;
    expect(newsletter.schedule).toMatchObject({ type: 'recurring', cron: '0 9 ? * MON *' });
    expect(newsletter.steps[newsletter.start]).toMatchObject({ kind: 'deliver', channel: 'email', list: 'news' });
    const winBack = byId.get('win-back')!;
    expect(winBack.steps['offer-email']).toMatchObject({ kind: 'deliver', channel: 'email', decide: { placement: 'email-hero' }, next: 'three-days' });
    expect(winBack.steps['not-opened']).toMatchObject({ by: 'engagement', engagement: 'not-opened', yes: 'nudge-sms' });
    expect(winBack.steps.clicked).toMatchObject({ by: 'engagement', engagement: 'clicked', yes: 'welcome-back' });
  });
});
