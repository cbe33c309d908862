import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryCatalog } from '../../../bin/campaigns';
import type { CampaignCatalog } from '../../../lambdas/core/campaigns/validate';

export const ROOT = join(__dirname, '../../..');

/** A campaign touching every step kind: deliver → wait → engagement split → (sms | enter-journey), exit. */
export function baseCampaign() {
  return {
    schemaVersion: 1,
    id: 'win-back-test',
    name: 'Win-back (test)',
    audience: { segment: 'loyalty-members', exclude: { segments: ['loyalty-gold'] } },
    schedule: { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/Paris' },
    goal: { event: 'order_completed', within: '7d' },
    start: 'email',
    steps: {
      email: { kind: 'deliver', channel: 'email', template: { subject: 'We miss you', text: 'Hi {{ profile.attributes.firstName }}' }, next: 'pause' },
      pause: { kind: 'wait', duration: '3d', next: 'opened' },
      opened: { kind: 'split', by: 'engagement', step: 'email', engagement: 'opened', yes: 'welcome-back', no: 'nudge' },
      'welcome-back': { kind: 'enter-journey', journey: 'manual-outreach', next: 'done' },
      nudge: { kind: 'deliver', channel: 'sms', template: { body: 'Come back!' } },
      done: { kind: 'exit' },
    },
  } as Record<string, unknown> & { steps: Record<string, Record<string, unknown>>; schedule: Record<string, unknown> };
}

/** The repository's catalog: the ids of its segment, journey, placement and campaign files (as the CLI reads them). */
export const repoCatalog = (): Required<CampaignCatalog> => repositoryCatalog(ROOT);

export function campaignFiles(): string[] {
  return readdirSync(join(ROOT, 'campaigns'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(ROOT, 'campaigns', f));
}
