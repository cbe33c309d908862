import { deliverBatch } from '../../../lambdas/core/campaigns/deliver';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import type { RunContext } from '../../../lambdas/core/campaigns/contract';
import { recordEmailEvent, type EngagementDeps } from '../../../lambdas/core/engagement/record';
import { localCampaignSender } from '../../../lambdas/local/campaign-sender';
import { sesEventEntry, type LocalEngagementRequest } from '../../../lambdas/local/engagement-events';
import { memoryPorts, memorySuppressionList, recordingJourneyCounters } from '../../../lambdas/local/memory-ports';
import { Outbox } from '../../../lambdas/local/outbox';
import { FakeClock } from '../runtime/fakes';

const RUN: RunContext = { campaignId: 'news', runId: 'r1', prefix: 'runs/news/r1/', startedAt: '2026-12-03T09:00:00.000Z', dryRun: false };
const campaign = Campaign.parse({
  schemaVersion: 1,
  id: 'news',
  name: 'Newsletter',
  audience: { segment: 'everyone' },
  schedule: { type: 'on-demand' },
  start: 'mail',
  steps: {
    mail: { kind: 'deliver', channel: 'email', template: { subject: 'News', text: 'Hello' } },
    sms: { kind: 'deliver', channel: 'sms', template: { body: 'Hello' } },
  },
});

/** A campaign email sent through the local sender into the outbox, and the SES events the outbox simulates. */
async function setUp() {
  const clock = new FakeClock('2026-12-03T12:00:00.000Z');
  const ports = memoryPorts(clock);
  const { profile } = await ports.profiles.ingest({ id: 'e-1', type: 'member.signed-up', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { email: 'ann@example.com', phone: '+4915100000000' }, properties: {} });
  const runs = memoryCampaignRuns();
  await runs.create({ campaignId: 'news', runId: 'r1', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
  const outbox = new Outbox(() => clock.now());
  const deps = { campaigns: { get: async () => ({ campaign, stateMachineArn: 'arn:sm', version: 'v1' }) }, runs, profiles: ports.profiles, ledger: ports.ledger, sender: localCampaignSender(outbox), clock };
  await deliverBatch(deps, { run: RUN, step: 'mail', items: [{ profileId: profile.id }] });
  const journeyCounters = recordingJourneyCounters();
  const engagement: EngagementDeps = {
    suppression: memorySuppressionList(ports),
    ledger: ports.ledger,
    journeys: { get: async () => undefined },
    profiles: ports.profiles,
    counters: journeyCounters,
    clock,
    campaignRuns: runs,
  };
  const message = outbox.list({ channel: 'email' })[0];
  const event = (request: LocalEngagementRequest) => {
    clock.set(new Date(clock.now().getTime() + 3_600_000));
    const entry = sesEventEntry(message, request, clock.now(), 'waymark-local');
    return { version: '0', id: `evt-${request.type}`, 'detail-type': entry.DetailType, source: entry.Source, account: '0', time: entry.Time, region: 'local', resources: [], detail: JSON.parse(entry.Detail!) };
  };
  const counts = async () => Object.fromEntries((await runs.counts('news', 'r1')).map((c) => [`${c.step}/${c.name}/${c.dim}`, c.value]));
  const entry = () => ports.ledger.get(`campaign:news:r1:${profile.id}`, 'mail');
  return { deps, engagement, outbox, message, event, counts, entry, journeyCounters, profile, ports };
}

describe('engagement of campaign messages', () => {
  it('writes the outbox like a journey send, with the tags that lead back to the campaign ledger entry', async () => {
    const { message, profile } = await setUp();
    expect(message).toMatchObject({ channel: 'email', recipient: 'ann@example.com', journeyId: 'campaign:news', nodeId: 'mail', profileId: profile.id, executionId: `campaign:news:r1:${profile.id}` });
    expect(message.tags).toMatchObject({ campaign: 'news', execution: 'r1', node: 'mail' });
  });

  it('records delivery, open and click on the campaign ledger entry and counts them on the run once each, not on journeys', async () => {
    const t = await setUp();
    for (const request of [{ type: 'delivery' }, { type: 'open' }, { type: 'click', link: 'https://shop.example/a' }] as LocalEngagementRequest[]) {
      const event = t.event(request);
      expect(await recordEmailEvent(t.engagement, event)).toMatchObject({ status: 'recorded', counted: true, campaign: { campaignId: 'news', runId: 'r1' } });
      expect(await recordEmailEvent(t.engagement, event)).toMatchObject({ status: 'duplicate', counted: false });
    }
    expect(await t.entry()).toMatchObject({ status: 'sent', deliveredAt: expect.any(String), openedAt: expect.any(String), clickedAt: expect.any(String) });
    expect(await t.counts()).toEqual({ 'mail/sent/': 1, 'mail/delivered/': 1, 'mail/opened/human': 1, 'mail/clicked/human': 1 });
    expect(t.journeyCounters.increments).toEqual([]);
    expect((await t.ports.profiles.get(t.profile.id))!.computed?.['email.opened']?.count).toBe(1);
  });

  it('counts bounces and complaints per step', async () => {
    const t = await setUp();
    await recordEmailEvent(t.engagement, t.event({ type: 'bounce' }));
    await recordEmailEvent(t.engagement, t.event({ type: 'complaint' }));
    expect(await t.counts()).toMatchObject({ 'mail/bounced/': 1, 'mail/complained/': 1 });
    expect(await t.entry()).toMatchObject({ bouncedAt: expect.any(String), complainedAt: expect.any(String) });
  });

  it('leaves unattributed an event whose campaign tags name no ledger entry', async () => {
    const t = await setUp();
    const event = t.event({ type: 'open' });
    event.detail.mail.tags.execution = ['r9'];
    expect(await recordEmailEvent(t.engagement, event)).toMatchObject({ status: 'unattributed', reason: 'no ledger entry for the message' });
    expect(await t.counts()).toEqual({ 'mail/sent/': 1 });
  });

  it('fails a campaign send as injected into the outbox, and keeps a message sent before its error', async () => {
    const t = await setUp();
    t.outbox.inject({ channel: 'sms', error: 'PinpointSmsVoiceV2.ValidationException' });
    t.outbox.inject({ channel: 'sms', error: 'States.Timeout', sent: true });
    const other = await t.ports.profiles.ingest({ id: 'e-2', type: 'member.signed-up', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { phone: '+4915100000001' }, properties: {} });
    await deliverBatch({ ...t.deps, concurrency: 1 }, { run: RUN, step: 'sms', items: [{ profileId: t.profile.id }, { profileId: other.profile.id }] });
    expect(await t.ports.ledger.get(`campaign:news:r1:${t.profile.id}`, 'sms')).toMatchObject({ status: 'failed', error: 'PinpointSmsVoiceV2.ValidationException' });
    expect(await t.ports.ledger.get(`campaign:news:r1:${other.profile.id}`, 'sms')).toMatchObject({ status: 'unknown', error: 'States.Timeout' });
    expect(t.outbox.list({ channel: 'sms' })).toHaveLength(1);
  });

  it('takes back a push whose injected DeliveryStatus is not SUCCESSFUL and records it failed', async () => {
    const t = await setUp();
    const push = Campaign.parse({ ...campaign, steps: { ...campaign.steps, mail: { kind: 'deliver', channel: 'push', template: { title: 'T', body: 'B' } } } });
    const other = await t.ports.profiles.ingest({ id: 'e-3', type: 'member.signed-up', source: 'test', time: '2026-12-01T08:00:00.000Z', identities: { email: 'bo@example.com' }, attributes: { pushToken: 'tok-1' }, properties: {} });
    t.outbox.inject({ channel: 'push', deliveryStatus: 'PERMANENT_FAILURE' });
    await deliverBatch({ ...t.deps, campaigns: { get: async () => ({ campaign: push, stateMachineArn: 'arn:sm', version: 'v1' }) } }, { run: { ...RUN, runId: 'r1' }, step: 'mail', items: [{ profileId: other.profile.id }] });
    expect(await t.ports.ledger.get(`campaign:news:r1:${other.profile.id}`, 'mail')).toMatchObject({ status: 'failed', error: 'Pinpoint.PERMANENT_FAILURE' });
    expect(t.outbox.list({ channel: 'push' })).toEqual([]);
  });
});
