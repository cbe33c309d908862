import { classifySendError, deliverBatch, type DeliverDeps } from '../../../lambdas/core/campaigns/deliver';
import { inPool, paceSeconds } from '../../../lambdas/core/campaigns/batch';
import { memoryCampaignRuns } from '../../../lambdas/core/campaigns/memory';
import { Campaign, type CampaignInput } from '../../../lambdas/core/campaigns/schema';
import type { AudienceRow, CampaignMessageOrigin, RunContext } from '../../../lambdas/core/campaigns/contract';
import type { PreparedMessage } from '../../../lambdas/core/runtime/send';
import type { Profile } from '../../../lambdas/core/runtime/ports';
import type { SuppressionList } from '../../../lambdas/core/consent/ports';
import { decodeTagValue } from '../../../lambdas/core/engagement/tags';
import { MemoryLedger } from '../../../lambdas/local/memory/runtime';
import { MemorySendCapStore, staticRules } from '../../../lambdas/local/memory/governance';
import { MemoryTable } from '../../../lambdas/local/memory/table';
import { FakeClock, MemoryProfileStore } from '../runtime/fakes';
import { DecisionCatalog } from '../../../lambdas/core/decisions/catalog';
import { Offer, Placement } from '../../../lambdas/core/decisions/model';
import { memoryPorts } from '../../../lambdas/local/memory-ports';

const RUN: RunContext = { campaignId: 'promo', runId: 'r1', prefix: 'runs/promo/r1/', startedAt: '2026-12-03T09:00:00.000Z', dryRun: false };

function campaign(step: Record<string, unknown>, extra: Partial<CampaignInput> = {}) {
  return Campaign.parse({
    schemaVersion: 1,
    id: 'promo',
    name: 'Promo',
    audience: { segment: 'everyone' },
    schedule: { type: 'on-demand' },
    start: 'mail',
    steps: { mail: { kind: 'deliver', channel: 'email', template: { subject: 'Hi {{ profile.attributes.name }}', text: 'Code {{ row.code }}' }, ...step } },
    ...extra,
  });
}

type Sent = { message: PreparedMessage; origin?: CampaignMessageOrigin };

function setup(options: { campaign?: Campaign; profiles?: (Partial<Profile> & { id: string })[]; fail?: (n: number, m: PreparedMessage) => string | undefined } = {}) {
  const clock = new FakeClock('2026-12-03T12:00:00.000Z');
  const profiles = new MemoryProfileStore(clock);
  for (const p of options.profiles ?? people(3)) profiles.add(p);
  const runtime = new MemoryTable('runtime', { profileIndex: true });
  const ledger = new MemoryLedger(runtime);
  const runs = memoryCampaignRuns();
  runs.records.set('promo\u0000r1', { campaignId: 'promo', runId: 'r1', status: 'running', trigger: 'api', createdAt: RUN.startedAt, version: 1 });
  const sent: Sent[] = [];
  let calls = 0;
  const sender = {
    async send(message: PreparedMessage, origin?: CampaignMessageOrigin) {
      const error = options.fail?.(calls++, message);
      if (error) throw Object.assign(new Error(error), { name: error });
      sent.push({ message, origin });
      return { messageId: `m-${sent.length}` };
    },
  };
  const registered = { campaign: options.campaign ?? campaign({}), stateMachineArn: 'arn:sm', version: 'v7' };
  const deps: DeliverDeps = {
    campaigns: { get: async (id) => (id === 'promo' ? registered : undefined) },
    runs,
    profiles,
    ledger,
    sender,
    clock,
    sleep: async () => undefined,
  };
  const counts = async () =>
    Object.fromEntries((await runs.counts('promo', 'r1')).map((c) => [`${c.step}/${c.name}/${c.dim}`, c.value]));
  const setStatus = (status: 'running' | 'paused' | 'cancelling') => {
    const record = runs.records.get('promo\u0000r1')!;
    runs.records.set('promo\u0000r1', { ...record, status, version: record.version + 1 });
  };
  return { clock, deps, ledger, runs, sent, counts, setStatus, profiles };
}

function people(n: number): (Partial<Profile> & { id: string })[] {
  return Array.from({ length: n }, (_, i) => ({ id: `p-${i}`, attributes: { name: `N${i}` }, identities: { email: `p${i}@example.com` } }));
}
const rows = (n: number, data?: (i: number) => Record<string, unknown>): AudienceRow[] =>
  Array.from({ length: n }, (_, i) => ({ profileId: `p-${i}`, ...(data ? { data: data(i) } : {}) }));
const batch = (items: AudienceRow[], extra: Record<string, unknown> = {}) => ({ run: RUN, step: 'mail', items, ...extra });

describe('deliverBatch', () => {
  it('sends each member the rendered email, records it sent in the ledger and counts it once', async () => {
    const { deps, sent, ledger, counts } = setup();
    const result = await deliverBatch(deps, batch(rows(3, (i) => ({ code: `C${i}` }))));
    expect(result).toMatchObject({ status: 'done', paceSeconds: 0, step: 'mail' });
    expect(sent.map((s) => s.message)).toEqual(
      [0, 1, 2].map((i) => expect.objectContaining({ channel: 'email', to: `p${i}@example.com`, subject: `Hi N${i}`, text: `Code C${i}` })),
    );
    expect(await ledger.get('campaign:promo:r1:p-0', 'mail')).toMatchObject({ status: 'sent', journeyId: 'campaign:promo', profileId: 'p-0', messageId: expect.any(String) });
    expect(sent[0].origin).toEqual({ campaignId: 'promo', runId: 'r1', nodeId: 'mail', profileId: 'p-0', executionId: 'campaign:promo:r1:p-0', messageClass: 'marketing' });
    expect(await counts()).toEqual({ 'mail/sent/': 3 });
  });

  it('tags an email so its SES events find the ledger entry (campaign, run as execution, profile, node)', async () => {
    const { deps, sent } = setup();
    await deliverBatch(deps, batch(rows(1)));
    const tags = Object.fromEntries(((sent[0].message as { tags: { Name: string; Value: string }[] }).tags).map((t) => [t.Name, decodeTagValue(t.Value)]));
    expect(tags).toMatchObject({ campaign: 'promo', execution: 'r1', profile: 'p-0', node: 'mail', journey: 'campaign:promo', version: 'v7', class: 'marketing' });
  });

  it('never sends twice when the batch is retried, and counts nothing the second time', async () => {
    const { deps, sent, counts } = setup();
    await deliverBatch(deps, batch(rows(3)));
    await deliverBatch(deps, batch(rows(3)));
    expect(sent).toHaveLength(3);
    expect(await counts()).toEqual({ 'mail/sent/': 3 });
  });

  it('does not send again a message an interrupted attempt prepared: it is recorded unknown and counted failed once', async () => {
    const { deps, sent, ledger, counts } = setup();
    await ledger.prepare({ executionId: 'campaign:promo:r1:p-1', nodeId: 'mail', status: 'prepared', journeyId: 'campaign:promo', profileId: 'p-1', channel: 'email', preparedAt: '2026-12-03T11:59:00.000Z' });
    await deliverBatch(deps, batch(rows(3)));
    await deliverBatch(deps, batch(rows(3)));
    expect(sent.map((s) => s.origin?.profileId)).toEqual(['p-0', 'p-2']);
    expect(await ledger.get('campaign:promo:r1:p-1', 'mail')).toMatchObject({ status: 'unknown', error: 'Waymark.BatchInterrupted' });
    expect(await counts()).toEqual({ 'mail/sent/': 2, 'mail/failed/unknown': 1 });
  });

  it('suppresses by reason through the same guard as journeys: address, suppression list, consent, erased profile', async () => {
    const profiles: (Partial<Profile> & { id: string })[] = [
      { id: 'p-0', identities: { email: 'ok@example.com' } },
      { id: 'p-1', identities: {} },
      { id: 'p-2', identities: { email: 'bounced@example.com' } },
      { id: 'p-3', identities: { email: 'out@example.com' }, consent: { 'list:news': { status: 'opted-out' as const, at: '2026-01-01T00:00:00Z', source: 'test' } } },
    ];
    const { deps, sent, counts, ledger } = setup({ profiles, campaign: campaign({ list: 'news' }) });
    const suppression: SuppressionList = {
      isSuppressed: async (a) => (a === 'bounced@example.com' ? { address: a, reason: 'bounce', at: '2026-01-01T00:00:00Z', source: 'ses' } : undefined),
      suppress: async () => undefined,
    };
    await deliverBatch({ ...deps, suppression }, batch([...rows(4), { profileId: 'gone' }]));
    expect(sent.map((s) => s.origin?.profileId)).toEqual(['p-0']);
    const all = await counts();
    expect(all['mail/sent/']).toBe(1);
    expect(all['mail/suppressed/no-address']).toBe(1);
    expect(all['mail/suppressed/profile-erased']).toBe(1);
    expect(Object.keys(all).filter((k) => k.startsWith('mail/suppressed/')).length).toBe(4);
    expect(await ledger.get('campaign:promo:r1:p-3', 'mail')).toMatchObject({ status: 'suppressed', reason: expect.stringContaining('list:news') });
    expect(await ledger.get('campaign:promo:r1:gone', 'mail')).toBeUndefined();
  });

  it('records a refused message failed, an unanswered one unknown, and retries a throttled one', async () => {
    const errors = ['MessageRejected', 'TooManyRequestsException', undefined, 'TimeoutError'];
    const { deps, ledger, counts, sent } = setup({ profiles: people(3), fail: (n) => errors[n] });
    await deliverBatch({ ...deps, concurrency: 1 }, batch(rows(3)));
    expect(await ledger.get('campaign:promo:r1:p-0', 'mail')).toMatchObject({ status: 'failed', error: 'MessageRejected' });
    expect(await ledger.get('campaign:promo:r1:p-1', 'mail')).toMatchObject({ status: 'sent' });
    expect(await ledger.get('campaign:promo:r1:p-2', 'mail')).toMatchObject({ status: 'unknown', error: 'TimeoutError' });
    expect(sent).toHaveLength(1);
    expect(await counts()).toEqual({ 'mail/failed/failed': 1, 'mail/sent/': 1, 'mail/failed/unknown': 1 });
  });

  it('records failed a message throttled on every attempt (nothing went out)', async () => {
    const { deps, ledger } = setup({ profiles: people(1), fail: () => 'TooManyRequestsException' });
    await deliverBatch(deps, batch(rows(1)));
    expect(await ledger.get('campaign:promo:r1:p-0', 'mail')).toMatchObject({ status: 'failed', error: 'TooManyRequestsException' });
  });

  it('returns paused with the cursor of the first member not done, and resumes from it without re-sending anyone', async () => {
    const { deps, sent, setStatus, clock, counts } = setup({ profiles: people(60) });
    // Paused after the 30th send: the batch notices at its next look (every 25 members, status cached up to 2 s).
    deps.sender = {
      send: async (message, origin) => {
        sent.push({ message, origin });
        if (sent.length === 30) {
          setStatus('paused');
          clock.set('2026-12-03T12:00:03.000Z');
        }
        return { messageId: `m-${sent.length}` };
      },
    };
    const items = rows(60);
    const paused = await deliverBatch(deps, batch(items));
    expect(paused).toMatchObject({ status: 'paused', cursor: 50 });
    expect(sent).toHaveLength(50);
    expect(await deliverBatch(deps, batch(items, { cursor: 50 }))).toMatchObject({ status: 'paused', cursor: 50 });
    setStatus('running');
    expect(await deliverBatch(deps, batch(items, { cursor: 50 }))).toMatchObject({ status: 'done' });
    expect(new Set(sent.map((s) => s.origin?.profileId)).size).toBe(60);
    expect(sent).toHaveLength(60);
    expect(await counts()).toEqual({ 'mail/sent/': 60 });
  });

  it('sends nothing once the run is cancelled', async () => {
    const { deps, sent, setStatus } = setup();
    setStatus('cancelling');
    expect(await deliverBatch(deps, batch(rows(3)))).toMatchObject({ status: 'cancelled' });
    expect(sent).toEqual([]);
  });

  it('dry run: runs the guard and renders, sends nothing, writes no ledger entry, counts would-send and suppressions', async () => {
    const { deps, sent, ledger, counts } = setup({ profiles: [...people(2), { id: 'p-2', identities: {} }] });
    const result = await deliverBatch(deps, { ...batch(rows(3)), run: { ...RUN, dryRun: true }, rate: 1, concurrency: 1 });
    expect(result).toMatchObject({ status: 'done', paceSeconds: 0 });
    expect(sent).toEqual([]);
    expect(await ledger.get('campaign:promo:r1:p-0', 'mail')).toBeUndefined();
    expect(await counts()).toEqual({ 'mail/would-send/': 2, 'mail/suppressed/no-address': 1 });
  });

  it('counts erased members and a dry run (would-send, suppressions) once when the batch is retried', async () => {
    const { deps, counts } = setup({ profiles: [...people(2), { id: 'p-2', identities: {} }] });
    const items = [...rows(3), { profileId: 'gone' }];
    await deliverBatch(deps, batch(items));
    await deliverBatch(deps, batch(items));
    expect(await counts()).toEqual({ 'mail/sent/': 2, 'mail/suppressed/no-address': 1, 'mail/suppressed/profile-erased': 1 });
    const dry = setup({ profiles: [...people(2), { id: 'p-2', identities: {} }] });
    const dryBatch = { ...batch(items), run: { ...RUN, dryRun: true } };
    await deliverBatch(dry.deps, dryBatch);
    await deliverBatch(dry.deps, dryBatch);
    expect(await dry.counts()).toEqual({ 'mail/would-send/': 2, 'mail/suppressed/no-address': 1, 'mail/suppressed/profile-erased': 1 });
  });

  it('forEach: one message per item (at most max), each with its own ledger key and the item in the template', async () => {
    const step = { forEach: { path: 'row.bookings', max: 2 }, template: { subject: 'Trip {{ item.to }}', text: '{{ item.ref }}' } };
    const { deps, sent, ledger, counts } = setup({ campaign: campaign(step) });
    const items: AudienceRow[] = [
      { profileId: 'p-0', data: { bookings: [{ to: 'Rome', ref: 'A' }, { to: 'Oslo', ref: 'B' }, { to: 'Lima', ref: 'C' }] } },
      { profileId: 'p-1', data: { bookings: [] } },
    ];
    await deliverBatch(deps, batch(items));
    await deliverBatch(deps, batch(items));
    expect(sent.map((s) => [s.origin?.nodeId, (s.message as { subject: string }).subject])).toEqual([
      ['mail#0', 'Trip Rome'],
      ['mail#1', 'Trip Oslo'],
    ]);
    expect(await ledger.get('campaign:promo:r1:p-0', 'mail#1')).toMatchObject({ status: 'sent' });
    expect(await counts()).toEqual({ 'mail/sent/': 2, 'mail/suppressed/no-items': 1 });
  });

  it('forEach reads an array of the profile attributes too', async () => {
    const step = { forEach: { path: 'profile.attributes.orders', max: 5 }, template: { subject: 'Order {{ item }}', text: 'x' } };
    const { deps, sent } = setup({ campaign: campaign(step), profiles: [{ id: 'p-0', attributes: { orders: ['o1', 'o2'] }, identities: { email: 'a@example.com' } }] });
    await deliverBatch(deps, batch(rows(1)));
    expect(sent.map((s) => (s.message as { subject: string }).subject)).toEqual(['Order o1', 'Order o2']);
  });

  it('adds the one-click unsubscribe link and headers to marketing email', async () => {
    const { deps, sent } = setup({ campaign: campaign({ list: 'news', template: { subject: 's', text: 'Bye: {{ unsubscribeUrl }}' } }) });
    const unsubscribeLinks = { urlFor: async (id: string, scope: string) => `https://u.example/${id}/${scope}` };
    await deliverBatch({ ...deps, unsubscribeLinks }, batch(rows(1)));
    expect(sent[0].message).toMatchObject({
      text: 'Bye: https://u.example/p-0/list:news',
      headers: [
        { Name: 'List-Unsubscribe', Value: '<https://u.example/p-0/list:news>' },
        { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
      ],
    });
  });

  it('suppresses with the quiet-hours reason a message a rule would defer (a campaign has no later pass)', async () => {
    const { deps, sent, counts } = setup();
    const governance = {
      rules: staticRules([{ id: 'night', kind: 'quiet-hours', channel: 'any', from: '11:00', to: '13:00', action: 'defer' }]),
      caps: new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true })),
      defaultTimeZone: 'UTC',
    };
    await deliverBatch({ ...deps, governance }, batch(rows(2)));
    expect(sent).toEqual([]);
    expect(await counts()).toEqual({ 'mail/suppressed/quiet-hours:night': 2 });
  });

  it('reads the governance rules once per batch, not once per member', async () => {
    const { deps, sent } = setup({ profiles: people(30) });
    let reads = 0;
    const rules = staticRules([{ id: 'night', kind: 'quiet-hours', channel: 'any', from: '01:00', to: '02:00', action: 'defer' }]);
    const governance = {
      rules: { list: () => (reads++, rules.list()) },
      caps: new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true })),
      defaultTimeZone: 'UTC',
    };
    await deliverBatch({ ...deps, governance }, batch(rows(30)));
    expect(sent).toHaveLength(30);
    expect(reads).toBe(1);
  });

  it('sends once to a member whose row appears twice in a batch', async () => {
    const { deps, sent, counts } = setup({ profiles: people(2) });
    await deliverBatch(deps, batch([...rows(2), ...rows(2), ...rows(1)]));
    expect(sent.map((s) => s.origin?.profileId).sort()).toEqual(['p-0', 'p-1']);
    expect(await counts()).toEqual({ 'mail/sent/': 2 });
  });

  it('works on no more members at once than the child may send in a second (its share of the step rate)', async () => {
    const { deps } = setup({ profiles: people(20) });
    let running = 0;
    let most = 0;
    deps.sender = {
      send: async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return { messageId: 'm' };
      },
    };
    await deliverBatch(deps, batch(rows(20), { rate: 30, concurrency: 10 }));
    expect(most).toBe(3);
  });

  it('applies frequency caps by the campaign, and a dry run reserves no slot', async () => {
    const { deps, sent, counts } = setup({ profiles: people(1) });
    const caps = new MemorySendCapStore(new MemoryTable('runtime', { profileIndex: true }));
    const governance = { rules: staticRules([{ id: 'daily', kind: 'frequency-cap', channel: 'email', limit: 1, period: { calendar: 'day' } }]), caps, defaultTimeZone: 'UTC' };
    await deliverBatch({ ...deps, governance }, { ...batch(rows(1)), run: { ...RUN, dryRun: true } });
    await deliverBatch({ ...deps, governance }, batch(rows(1)));
    expect(sent).toHaveLength(1);
    const other = { ...RUN, runId: 'r2' };
    deps.runs = { ...deps.runs, get: async () => ({ campaignId: 'promo', runId: 'r2', status: 'running', trigger: 'api', createdAt: '', version: 1 }) };
    await deliverBatch({ ...deps, governance }, { ...batch(rows(1)), run: other });
    expect(sent).toHaveLength(1);
    expect(await counts()).toEqual({ 'mail/would-send/': 1, 'mail/sent/': 1 });
  });

  it('sends SMS and push through the same path', async () => {
    const sms = campaign({ channel: 'sms', template: { body: 'Hi {{ profile.attributes.name }}' } });
    const profiles = [{ id: 'p-0', attributes: { name: 'Ann', pushToken: 'tok' }, identities: { phone: '+4915100000000' } }];
    const a = setup({ campaign: sms, profiles });
    await deliverBatch(a.deps, batch(rows(1)));
    expect(a.sent[0].message).toEqual({ channel: 'sms', to: '+4915100000000', body: 'Hi Ann' });
    const push = campaign({ channel: 'push', template: { title: 'T {{ profile.attributes.name }}', body: 'B' } });
    const b = setup({ campaign: push, profiles });
    await deliverBatch(b.deps, batch(rows(1)));
    expect(b.sent[0].message).toMatchObject({ channel: 'push', to: 'tok', title: 'T Ann', request: { Addresses: { tok: { ChannelType: 'GCM' } } } });
  });

  it('decides the best offer per member for the placement, once, and renders it as offer', async () => {
    const step = { decide: { placement: 'email-hero', count: 1 }, template: { subject: '{{ offer.content.title }}', text: '{{ offers.size }}' } };
    const { deps, sent, clock, profiles } = setup({ campaign: campaign(step), profiles: people(2) });
    const ports = memoryPorts(clock);
    const placement = Placement.parse({ schemaVersion: 1, id: 'email-hero', name: 'Hero', requiredContent: ['title'] });
    const offer = Offer.parse({ schemaVersion: 1, id: 'ten-off', name: 'Ten off', placements: { 'email-hero': { title: 'Ten percent off' } } });
    const catalog = DecisionCatalog.create([offer], [placement]);
    let ids = 0;
    const decisions = { decisions: { catalog: async () => catalog }, caps: ports.caps, decisionLog: ports.decisionLog, profiles, memberships: ports.memberships, clock, newId: () => `d-${++ids}` };
    await deliverBatch({ ...deps, decisions }, batch(rows(2)));
    await deliverBatch({ ...deps, decisions }, batch(rows(2)));
    expect(sent.map((s) => [(s.message as { subject: string }).subject, (s.message as { text: string }).text])).toEqual([
      ['Ten percent off', '1'],
      ['Ten percent off', '1'],
    ]);
    expect(ids).toBe(2);
  });

  it('paces a batch to its share of the step rate', async () => {
    const { deps } = setup({ profiles: people(10) });
    const result = await deliverBatch(deps, { ...batch(rows(10)), rate: 10, concurrency: 4 });
    // 10 messages × 4 children / 10 per second = 4 s, none of which passed on the fake clock.
    expect(result.paceSeconds).toBe(4);
  });

  it('fails the batch for a step the campaign does not have', async () => {
    const { deps } = setup();
    await expect(deliverBatch(deps, { ...batch(rows(1)), step: 'nope' })).rejects.toThrow('no deliver step "nope"');
  });
});

describe('paceSeconds', () => {
  it.each([
    [0, 10, 2, 0, 0],
    [10, 10, 2, 0, 2],
    [10, 10, 2, 1500, 1],
    [10, 10, 2, 5000, 0],
    [10, undefined, 2, 0, 0],
  ])('%i sent at rate %s with %i children after %i ms waits %i s', (sent, rate, concurrency, elapsed, expected) => {
    expect(paceSeconds(sent, rate, concurrency, elapsed)).toBe(expected);
  });
});

describe('classifySendError', () => {
  it.each([
    ['email', 'MessageRejected', 'failed'],
    ['email', 'SesV2.MessageRejectedException', 'failed'],
    ['email', 'TooManyRequestsException', 'throttled'],
    ['email', 'AccessDeniedException', 'failed'],
    ['email', 'InternalServiceErrorException', 'unknown'],
    ['email', 'States.Timeout', 'unknown'],
    ['sms', 'ThrottlingException', 'throttled'],
    ['sms', 'ValidationException', 'failed'],
    ['push', 'Pinpoint.TEMPORARY_FAILURE', 'throttled'],
    ['push', 'Pinpoint.PERMANENT_FAILURE', 'failed'],
    ['push', 'Pinpoint.UNKNOWN_FAILURE', 'unknown'],
    ['push', 'PayloadTooLargeException', 'failed'],
  ] as const)('%s %s is %s', (channel, name, kind) => {
    expect(classifySendError(channel, name)).toBe(kind);
  });
});

describe('inPool', () => {
  it('starts nothing after an error, lets the work under way finish, then rejects with the first error', async () => {
    const started: number[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const run = inPool([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      if (item === 0) return slow;
      throw new Error(`boom ${item}`);
    });
    let settled = false;
    run.catch(() => undefined).finally(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    // Item 0 is still under way: the pool has not answered yet, and started nothing after the error.
    expect(settled).toBe(false);
    release();
    await expect(run).rejects.toThrow('boom 1');
    expect(started).toEqual([0, 1]);
  });
});
