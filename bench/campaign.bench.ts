import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toItem } from '../lambdas/adapters/dynamodb-profiles';
import { ENDED_STATUSES, groupCounts } from '../lambdas/core/campaigns/control';
import { MemoryProfileStorage } from '../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy } from '../lambdas/core/profiles/model';
import { GraphProfileStore } from '../lambdas/core/profiles/store';
import { Campaign } from '../lambdas/core/campaigns/schema';
import { parseSegment } from '../lambdas/core/segments/rule';
import { LOCAL_MAX_CHILDREN } from '../lambdas/local/distributed-map';
import { startLocalStack, type LocalStack } from '../lambdas/local/stack';
import { withBaseline, type Benchmark } from './types';

/**
 * A campaign run through the local stack (issue 14): MEMBERS generated profiles in dynalite, a segment holding every one
 * of them, and a campaign with one email `deliver` step at the highest rate (so the pacing does not bound it), run
 * through `POST /campaigns/{id}/runs` on the very definition CDK deploys: the audience scan writes JSON Lines to s3rver,
 * the Distributed Map (lambdas/local/distributed-map.ts) reads them in batches, each batch sends through the pre-send
 * guard and the ledger into the outbox. Measured end to end: the POST to the run record's `succeeded`, waits scaled
 * 100×. Baseline in the same run: a snapshot of the same segment over the same profiles (`POST
 * /segments/{id}/evaluate` to `complete`). BENCH_CAMPAIGN_MEMBERS sets the size (default 100,000).
 */
const MEMBERS = Number(process.env.BENCH_CAMPAIGN_MEMBERS ?? 100_000);
const SEED_CONCURRENCY = 8;
const TIME_SCALE = 100;
const SEGMENT = 'bench-campaign-members';
const CAMPAIGN = 'bench-campaign';
const TIMEOUT_MS = Number(process.env.BENCH_CAMPAIGN_TIMEOUT_MS ?? 3_600_000);

const segment = (() => {
  const parsed = parseSegment({
    schemaVersion: 1,
    id: SEGMENT,
    name: 'Bench: campaign members',
    rule: { kind: 'equals', field: { kind: 'attribute', name: 'benchGroup' }, value: 'campaign' },
  });
  if (!parsed.ok) throw new Error(`bench segment: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
})();

/** One step, no exclusions or control group; transactional, so no list consent decides who gets it. */
const campaign = Campaign.parse({
  schemaVersion: 1,
  id: CAMPAIGN,
  name: 'Bench: one email to every member',
  audience: { segment: SEGMENT, controlGroup: false },
  schedule: { type: 'on-demand' },
  messageClass: 'transactional',
  start: 'email',
  steps: {
    email: { kind: 'deliver', channel: 'email', rate: 10_000, template: { subject: 'Hello {{ profile.attributes.firstName }}', text: 'Your order is ready.' } },
  },
});

/**
 * The profiles as ingestion makes them (GraphProfileStore over in-memory storage: the real identity and attribute
 * code), then written to dynalite as the DynamoDB adapter stores them (its `toItem`, the identity items), 25 to a
 * BatchWriteItem: upsertFromEvent through dynalite runs at about a hundred profiles a second on a shared 2-core machine.
 */
async function seed(stack: LocalStack): Promise<void> {
  const clock = { now: () => stack.clock.now() };
  const storage = new MemoryProfileStorage(() => clock.now());
  const store = new GraphProfileStore({ storage, clock, policy: defaultProfilePolicy });
  const time = stack.clock.now().toISOString();
  for (let i = 0; i < MEMBERS; i++) {
    await store.upsertFromEvent({
      id: `seed-${i}`,
      type: 'profile.seeded',
      source: 'bench.seed',
      time,
      identities: { email: `member-${i}@bench.example` },
      attributes: { benchGroup: 'campaign', firstName: `M${i}` },
      properties: {},
    });
  }
  const items: Record<string, unknown>[] = [];
  for (const state of storage.profiles.values()) {
    items.push(toItem(state));
    for (const [namespace, values] of Object.entries(state.identities)) {
      for (const value of Object.keys(values)) items.push({ pk: `IDENTITY#${namespace}#${value}`, sk: 'IDENTITY', profileId: state.id, namespace, value });
    }
  }
  const client = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const batch = items.slice(next, next + 25);
      next += 25;
      let requests: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
        [stack.tables.profiles]: batch.map((Item) => ({ PutRequest: { Item } })),
      };
      while (requests && Object.keys(requests).length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: requests }));
        requests = out.UnprocessedItems as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  client.destroy();
}

async function poll<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const body = (answer: { body?: string | null }) => JSON.parse(answer.body ?? '{}') as Record<string, any>;

/** Seconds from `POST /segments/{id}/evaluate` to the snapshot's `complete`, and its member count. */
async function snapshot(stack: LocalStack): Promise<{ seconds: number; count: number }> {
  const start = performance.now();
  const started = await stack.request({ method: 'POST', path: `/segments/${SEGMENT}/evaluate` });
  if (started.statusCode !== 202) throw new Error(`evaluate answered ${started.statusCode}: ${started.body}`);
  const id = body(started).id as string;
  const header = await poll(async () => {
    const answer = body(await stack.request({ method: 'GET', path: `/segments/${SEGMENT}/snapshots/${id}`, query: { limit: '1' } }));
    return answer.status === 'running' ? undefined : answer;
  }, 'the segment snapshot');
  if (header.status !== 'complete') throw new Error(`snapshot ended ${header.status}: ${header.error}`);
  return { seconds: (performance.now() - start) / 1000, count: header.count as number };
}

/** Seconds from `POST /campaigns/{id}/runs` to the run's `succeeded`, and the emails its counters say were sent. */
async function campaignRun(stack: LocalStack): Promise<{ seconds: number; sent: number; runId: string }> {
  const start = performance.now();
  const answer = await stack.request({ method: 'POST', path: `/campaigns/${CAMPAIGN}/runs`, body: '{}', headers: { 'content-type': 'application/json' } });
  if (answer.statusCode !== 202 && answer.statusCode !== 200) throw new Error(`run answered ${answer.statusCode}: ${answer.body}`);
  const runId = body(answer).runId as string;
  const run = await poll(async () => {
    const record = await stack.campaignRuns.get(CAMPAIGN, runId);
    // An execution that failed before its Finish state (e.g. Start) leaves the record as it was: say why.
    const execution = record?.executionArn === undefined ? undefined : stack.executions.get(record.executionArn);
    if (execution && execution.status !== 'RUNNING' && execution.status !== 'SUCCEEDED' && !ENDED_STATUSES.includes(record!.status)) {
      throw new Error(`the run's execution ended ${execution.status}: ${execution.error ?? ''} ${execution.cause ?? ''} (last state ${execution.path.at(-1)})`);
    }
    return record && ENDED_STATUSES.includes(record.status) ? record : undefined;
  }, 'the campaign run');
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 'succeeded') throw new Error(`campaign run ended ${run.status}: ${run.error ?? ''}`);
  const counts = groupCounts(await stack.campaignRuns.counts(CAMPAIGN, runId));
  const sent = Object.hasOwn(counts.steps, 'email') && Object.hasOwn(counts.steps.email, 'sent') ? counts.steps.email.sent.total : 0;
  return { seconds, sent, runId };
}

export const campaignBench: Benchmark = {
  name: 'campaign',
  async run() {
    // Only this campaign and its segment: no journeys (they name segments not loaded), no governance rules.
    const stack = await startLocalStack({
      listen: false,
      s3: true,
      // Waits 100× faster, not zero: at Infinity a run gets the local floor of 600 real seconds (MIN_REAL_RUN_SECONDS),
      // less than 100,000 members take here; at 100 its 7-day timeout is 100 real minutes and a 10 s pacing window 0.1 s.
      timeScale: TIME_SCALE,
      journeys: [],
      segments: [segment],
      rules: [],
      campaigns: [campaign],
    });
    try {
      if (stack.campaignProblems.size > 0) throw new Error(`campaign not deployed: ${[...stack.campaignProblems.values()].join('; ')}`);
      const seedStart = performance.now();
      await seed(stack);
      await stack.settle();
      const seedSeconds = (performance.now() - seedStart) / 1000;

      // Progress on stderr: at 100,000 members the run takes minutes.
      process.stderr.write(`campaign: ${MEMBERS} profiles seeded in ${seedSeconds.toFixed(1)} s\n`);
      const base = await snapshot(stack);
      if (base.count !== MEMBERS) throw new Error(`the snapshot counted ${base.count} members, expected ${MEMBERS}`);
      process.stderr.write(`campaign: snapshot of ${MEMBERS} members in ${base.seconds.toFixed(1)} s; running the campaign\n`);
      const run = await campaignRun(stack);
      const emails = stack.outbox.list({ channel: 'email' }).length;
      if (run.sent !== MEMBERS || emails !== MEMBERS) throw new Error(`the run sent ${run.sent} (outbox: ${emails}), expected ${MEMBERS}`);
      const perSecond = (n: number, s: number) => Number((n / s).toFixed(1));
      return [
        withBaseline({
          name: 'campaign/members-per-second',
          value: perSecond(MEMBERS, run.seconds),
          unit: 'members/s',
          baseline: perSecond(MEMBERS, base.seconds),
          note:
            `${MEMBERS} members: POST /campaigns/{id}/runs to run succeeded (audience scan → s3rver JSONL → Distributed Map ` +
            `batches of 100, ${LOCAL_MAX_CHILDREN} children at once → pre-send guard with a window's reads batched, ledger, ` +
            `outbox), ${run.seconds.toFixed(1)} s; baseline: snapshot of the same ` +
            `segment over the same profiles, ${base.seconds.toFixed(1)} s; dynalite, waits scaled ${TIME_SCALE}×`,
        }),
        { name: 'campaign/run-seconds', value: Number(run.seconds.toFixed(1)), unit: 's', note: `${MEMBERS} members, one email step` },
        { name: 'campaign/seed-profiles-per-second', value: perSecond(MEMBERS, seedSeconds), unit: 'profiles/s', note: 'ingested in memory, then BatchWriteItem to dynalite, 8 requests at a time (not part of the run)' },
      ];
    } finally {
      await stack.stop();
    }
  },
};
