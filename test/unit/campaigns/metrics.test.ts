import { Metrics } from '@aws-lambda-powertools/metrics';
import type { RegisteredCampaign } from '../../../lambdas/core/campaigns/contract';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { campaignMessageMetrics, countingCampaignMessages, type CampaignMessageMetric } from '../../../lambdas/core/campaigns/metrics';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import { emitCampaignMessageMetric } from '../../../lambdas/shared/campaign-metrics';

const campaign = Campaign.parse({
  schemaVersion: 1,
  id: 'win-back',
  name: 'Win back',
  audience: { segment: 'vip' },
  schedule: { type: 'on-demand' },
  start: 'email',
  steps: {
    email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' }, next: 'nudge' },
    nudge: { kind: 'deliver', channel: 'sms', template: { body: 'Hello' } },
  },
});
const registered: RegisteredCampaign = { campaign, stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m', version: 'v1' };

describe('campaign message metrics (CampaignMessages by campaign, channel and outcome)', () => {
  it("sums a batch's sent, failed and suppressed counts per channel, whatever their reason, and leaves other counters out", () => {
    const metrics = campaignMessageMetrics(campaign, [
      { step: 'email', name: 'sent', dim: '', value: 40 },
      { step: 'email', name: 'suppressed', dim: 'unsubscribed', value: 3 },
      { step: 'email', name: 'suppressed', dim: 'quiet-hours', value: 2 },
      { step: 'nudge', name: 'failed', dim: 'unknown', value: 1 },
      { step: 'email', name: 'would-send', dim: '', value: 9 },
      { step: '', name: 'audience', dim: '', value: 100 },
      { step: '__proto__', name: 'sent', dim: '', value: 5 },
    ]);
    expect(metrics).toEqual([
      { campaignId: 'win-back', channel: 'email', outcome: 'sent', value: 40 },
      { campaignId: 'win-back', channel: 'email', outcome: 'suppressed', value: 5 },
      { campaignId: 'win-back', channel: 'sms', outcome: 'failed', value: 1 },
    ]);
  });

  it('emits after the run store accepted the counts, reading the campaign once per container', async () => {
    const runs = memoryCampaignRuns();
    let lookups = 0;
    const emitted: CampaignMessageMetric[] = [];
    const counted = countingCampaignMessages(runs, { get: async () => (lookups++, registered) }, (m) => emitted.push(m));
    await counted.add('win-back', 'r1', [{ step: 'email', name: 'sent', dim: '', value: 2 }]);
    await counted.add('win-back', 'r1', [{ step: 'nudge', name: 'sent', dim: '', value: 1 }]);
    expect(emitted).toEqual([
      { campaignId: 'win-back', channel: 'email', outcome: 'sent', value: 2 },
      { campaignId: 'win-back', channel: 'sms', outcome: 'sent', value: 1 },
    ]);
    expect(lookups).toBe(1);
    expect(await runs.counts('win-back', 'r1')).toEqual(expect.arrayContaining([expect.objectContaining({ step: 'email', name: 'sent', value: 2 })]));
  });

  it('emits nothing when the counts were not written, and never fails a batch for a metric', async () => {
    const runs = memoryCampaignRuns();
    const failing = { ...runs, add: async () => Promise.reject(new Error('throttled')) };
    const emitted: CampaignMessageMetric[] = [];
    const counted = countingCampaignMessages(failing, { get: async () => registered }, (m) => emitted.push(m));
    await expect(counted.add('win-back', 'r1', [{ step: 'email', name: 'sent', dim: '', value: 1 }])).rejects.toThrow('throttled');
    expect(emitted).toEqual([]);

    const errors: unknown[] = [];
    const unreadable = countingCampaignMessages(runs, { get: async () => Promise.reject(new Error('registry down')) }, (m) => emitted.push(m), (e) => errors.push(e));
    await expect(unreadable.add('win-back', 'r1', [{ step: 'email', name: 'sent', dim: '', value: 1 }])).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(emitted).toEqual([]);
  });

  it('passes every other method of the run store through', async () => {
    const runs = memoryCampaignRuns();
    const counted = countingCampaignMessages(runs, { get: async () => registered }, () => {});
    const record = { campaignId: 'win-back', runId: 'r1', status: 'starting' as const, trigger: 'api' as const, createdAt: '2026-12-03T09:00:00.000Z', version: 1 };
    expect(await counted.create(record)).toBe(true);
    expect(await runs.get('win-back', 'r1')).toEqual(record);
    expect(await counted.addOnce('win-back', 'r1', 'page-1', [{ step: '', name: 'audience', dim: '', value: 3 }])).toBe(true);
  });
});

describe('emitCampaignMessageMetric (Powertools EMF)', () => {
  it('writes one EMF record whose one dimension set is [service, Campaign, Channel, Outcome]', () => {
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const metrics = new Metrics({ namespace: 'Waymark/test', serviceName: 'waymark' });
      emitCampaignMessageMetric({ campaignId: 'win-back', channel: 'sms', outcome: 'suppressed', value: 3 }, metrics);
    } finally {
      write.mockRestore();
      if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ Campaign: 'win-back', Channel: 'sms', Outcome: 'suppressed', service: 'waymark', CampaignMessages: 3 });
    expect(record._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'Waymark/test', Dimensions: [['service', 'Campaign', 'Channel', 'Outcome']], Metrics: [{ Name: 'CampaignMessages', Unit: 'Count' }] },
    ]);
  });
});
