import { UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dynamoPorts } from '../../lambdas/adapters/dynamodb-ports';
import { Resource, type AslState } from '../../lambdas/core/journey/asl';
import { compileJourney } from '../../lambdas/core/journey/compile';
import { validateJourney } from '../../lambdas/core/journey/validate';
import { SnapshotNotFoundError } from '../../lambdas/adapters/dynamodb-segments';
import type { BusinessEvent } from '../../lambdas/core/events/business-event';
import type { DecisionRecord } from '../../lambdas/core/decisions/ports';
import { eraseProfile } from '../../lambdas/core/privacy/privacy';
import { InvalidCursorError } from '../../lambdas/core/runtime/errors';
import { ledgerOutcomes } from '../../lambdas/core/engagement/ports';
import type { LedgerEntry } from '../../lambdas/core/runtime/ports';
import { startDynalite, type LocalDynamo } from '../../lambdas/local/dynalite';
import { DynamoConsentStore } from '../../lambdas/adapters/dynamodb-consent';
import { DynamoSuppressionList } from '../../lambdas/adapters/dynamodb-suppression';
import type { ConsentStore, SuppressionList } from '../../lambdas/core/consent/ports';
import {
  memoryConsentStore,
  memoryPorts,
  memorySuppressionList,
  memoryTables,
  memoryUpdateItem,
  UnsupportedUpdateItemError,
  memoryJourneyCounters,
  type WaymarkPorts,
} from '../../lambdas/local/memory-ports';

/**
 * One contract, two implementations: every behaviour below holds for the DynamoDB ports (on dynalite) and for the
 * in-memory ports `waymark simulate` runs on. The dynalite tables are shared by the tests, so each uses its own ids.
 */

const TABLES = { profiles: 'profiles', journeys: 'journeys', runtime: 'runtime' };
const START = Date.parse('2026-03-02T12:00:00.000Z');
let now = START;
const clock = { now: () => new Date(now) };
const DAY = 86_400_000;

let dynamo: LocalDynamo;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite(Object.values(TABLES), { profileIndexOn: [TABLES.runtime] });
  db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(() => {
  now = START;
});

interface Subject {
  ports: WaymarkPorts;
  /** The stores the local stack builds beside the ports. */
  consent: ConsentStore;
  suppression: SuppressionList;
  /** The compiled ASL's DynamoDB UpdateItem integration. */
  updateItem: (input: UpdateItemCommandInput) => Promise<unknown>;
}

const implementations: [string, () => Subject][] = [
  [
    'DynamoDB (dynalite)',
    () => ({
      ports: dynamoPorts(db, TABLES, clock),
      consent: new DynamoConsentStore(db, TABLES.profiles, clock),
      suppression: new DynamoSuppressionList(db, TABLES.runtime),
      updateItem: (input) => dynamo.client.send(new UpdateItemCommand(input)),
    }),
  ],
  [
    'memory',
    () => {
      const ports = memoryPorts(clock);
      return { ports, consent: memoryConsentStore(ports), suppression: memorySuppressionList(ports), updateItem: memoryUpdateItem(ports, { runtimeTable: TABLES.runtime }) };
    },
  ],
];

/** A counter item as either store holds it. */
async function readCounterItem(subject: Subject, pk: string): Promise<Record<string, unknown> | undefined> {
  const sk = '2026-03-02#sent#channel=email&node=n';
  if ('profileStorage' in (memoryTablesOrUndefined(subject.ports) ?? {})) return memoryTables(subject.ports as never).runtime.get({ pk, sk });
  return (await db.send(new GetCommand({ TableName: TABLES.runtime, Key: { pk, sk } }))).Item;
}

const memoryTablesOrUndefined = (ports: WaymarkPorts) => {
  try {
    return memoryTables(ports as never);
  } catch {
    return undefined;
  }
};

let counter = 0;
const uid = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

const event = (id: string, identities: Record<string, string>, over: Partial<BusinessEvent> = {}): BusinessEvent => ({
  id,
  type: 'order.placed',
  source: 'shop',
  time: '2026-03-01T10:00:00.000Z',
  identities,
  properties: {},
  ...over,
});

/** The ASL's `mark the ledger entry <status>` state, as compile.ts emits it. */
const ledgerUpdate = (executionId: string, nodeId: string, status: string, values: Record<string, string>): UpdateItemCommandInput => ({
  TableName: TABLES.runtime,
  Key: { pk: { S: `LEDGER#${executionId}` }, sk: { S: nodeId } },
  UpdateExpression: `SET #status = :status${Object.keys(values).map((n) => `, #${n} = :${n}`).join('')}`,
  ExpressionAttributeNames: Object.fromEntries([['#status', 'status'], ...Object.keys(values).map((n) => [`#${n}`, n])]),
  ExpressionAttributeValues: Object.fromEntries([[':status', { S: status }], ...Object.entries(values).map(([n, v]) => [`:${n}`, { S: v }])]),
});

describe.each(implementations)('%s ports', (_name, make) => {
  let subject: Subject;
  let ports: WaymarkPorts;
  beforeAll(() => {
    subject = make();
    ports = subject.ports;
  });

  describe('profiles', () => {
    it('merges the profiles an event links and reads the absorbed id as the survivor', async () => {
      const email = `${uid('a')}@example.com`;
      const device = uid('device');
      const first = await ports.profiles.ingest(event(uid('e'), { email }, { attributes: { tier: 'gold' } }));
      const second = await ports.profiles.ingest(event(uid('e'), { deviceId: device }, { time: '2026-03-01T11:00:00.000Z' }));
      expect(second.profile.id).not.toBe(first.profile.id);
      const linked = await ports.profiles.ingest(event(uid('e'), { email, deviceId: device }, { time: '2026-03-01T12:00:00.000Z' }));
      expect(linked.merged).toHaveLength(1);
      const absorbed = linked.merged[0];
      const survivor = linked.profile.id;
      expect([first.profile.id, second.profile.id].sort()).toEqual([absorbed, survivor].sort());
      const read = await ports.profiles.get(absorbed);
      expect(read).toMatchObject({ id: survivor, attributes: { tier: 'gold' }, identities: { email, deviceId: device }, computed: { 'order.placed': { count: 3 } } });
      expect(read?.recentEvents).toHaveLength(3);
    });

    it('applies a redelivered event id once', async () => {
      const email = `${uid('dup')}@example.com`;
      const id = uid('e');
      await ports.profiles.ingest(event(id, { email }, { properties: { total: 10 } }));
      const again = await ports.profiles.ingest(event(id, { email }, { properties: { total: 10 } }));
      expect(again.duplicate).toBe(true);
      expect(again.profile.computed?.['order.placed']).toMatchObject({ count: 1, sums: { total: 10 } });
    });

    it('leaves event records out of the window once expired (30 days after receipt, on the clock)', async () => {
      const email = `${uid('ttl')}@example.com`;
      // Received at its own time: the window (by event time) still holds it when its record expires.
      const { profile } = await ports.profiles.ingest(event(uid('e'), { email }, { time: new Date(START).toISOString() }));
      now = START + 30 * DAY - 1000;
      expect((await ports.profiles.get(profile.id))?.recentEvents).toHaveLength(1);
      now = START + 30 * DAY;
      expect((await ports.profiles.get(profile.id))?.recentEvents).toEqual([]);
    });

    it('expires an event record on the second its TTL names (whole seconds, as DynamoDB TTL attributes)', async () => {
      const email = `${uid('ttl-s')}@example.com`;
      now = START + 500;
      const { profile } = await ports.profiles.ingest(event(uid('e'), { email }, { time: new Date(now).toISOString() }));
      now = START + 30 * DAY - 1;
      expect((await ports.profiles.get(profile.id))?.recentEvents).toHaveLength(1);
      now = START + 30 * DAY;
      expect((await ports.profiles.get(profile.id))?.recentEvents).toEqual([]);
    });

    it('erases a merged profile: identities, profile items and its memberships', async () => {
      const email = `${uid('erase')}@example.com`;
      const phone = `+3361${Math.floor(Math.random() * 1e7)}`;
      await ports.profiles.ingest(event(uid('e'), { email }));
      await ports.profiles.ingest(event(uid('e'), { phone }));
      const { profile, merged } = await ports.profiles.ingest(event(uid('e'), { email, phone }));
      expect(merged).toHaveLength(1);
      expect(await ports.memberships.put(profile.id, { vip: '2026-03-01T00:00:00.000Z' }, 0)).toBe(true);
      const erased = await ports.profiles.erase(profile.id);
      expect(erased?.profileIds.sort()).toEqual([profile.id, merged[0]].sort());
      expect(await ports.profiles.findByIdentity('email', email)).toBeUndefined();
      expect(await ports.profiles.findByIdentity('phone', phone)).toBeUndefined();
      expect(await ports.profiles.get(profile.id)).toBeUndefined();
      expect(await ports.memberships.get(profile.id)).toEqual({ segments: {}, version: 0 });
    });
  });

  describe('consent and suppression', () => {
    it('records an explicit opt-out that a later event-borne opt-in does not undo', async () => {
      const email = `${uid('consent')}@example.com`;
      const { profile } = await ports.profiles.ingest(event(uid('e'), { email }));
      const result = await subject.consent.setConsent(profile.id, 'email', { status: 'opted-out', at: '2026-03-02T11:00:00.000Z', source: 'api', via: 'api' });
      expect(result).toMatchObject({ outcome: 'updated', profileId: profile.id });
      await ports.profiles.ingest(event(uid('e'), { email }, { time: '2026-03-02T11:30:00.000Z', consent: { email: 'opted-in' } }));
      expect((await ports.profiles.get(profile.id))?.consent?.email).toMatchObject({ status: 'opted-out', source: 'api' });
      expect(await subject.consent.setConsent(uid('nobody'), 'email', { status: 'opted-in', at: '2026-03-02T11:00:00.000Z', source: 'api', via: 'api' })).toEqual({ outcome: 'not-found' });
    });

    it('keeps a complaint over a later bounce, by normalized address', async () => {
      const address = `${uid('bounce')}@example.com`;
      expect(await subject.suppression.isSuppressed(address)).toBeUndefined();
      await subject.suppression.suppress(address, 'complaint', '2026-03-02T12:00:00.000Z', 'ses');
      await subject.suppression.suppress(`"Someone" <${address.toUpperCase()}>`, 'bounce', '2026-03-02T13:00:00.000Z', 'ses');
      expect(await subject.suppression.isSuppressed(address)).toEqual({ address, reason: 'complaint', at: '2026-03-02T12:00:00.000Z', source: 'ses' });
    });
  });

  describe('journey registry', () => {
    it('lists a registered journey and reads the latest registration of it', async () => {
      const journey = validateJourney(JSON.parse(readFileSync(join(__dirname, '../../statemachines/welcome.json'), 'utf8')));
      if (!journey.ok) throw new Error('welcome does not validate');
      const registry = ports.journeys;
      await registry.put({ journey: journey.journey, stateMachineArn: 'arn:sm:welcome', version: 'v1' });
      expect((await registry.list()).map((r) => r.journey.id)).toContain('welcome');
      await registry.put({ journey: journey.journey, stateMachineArn: 'arn:sm:welcome', version: 'v2' });
      expect(await registry.get('welcome')).toEqual({ journey: journey.journey, stateMachineArn: 'arn:sm:welcome', version: 'v2' });
      expect(await registry.get('no-such-journey')).toBeUndefined();
    });
  });

  describe('erasure', () => {
    it('erases everything held about a merged profile, item for item as on DynamoDB', async () => {
      const email = `${uid('gone')}@example.com`;
      const device = uid('device');
      await ports.profiles.ingest(event(uid('e'), { email }));
      await ports.profiles.ingest(event(uid('e'), { deviceId: device }));
      const { profile } = await ports.profiles.ingest(event(uid('e'), { email, deviceId: device }));
      const profileId = profile.id;
      const executionArn = `arn:exec:${uid('x')}`;
      await ports.memberships.put(profileId, { vip: '2026-03-02T12:00:00.000Z' }, 0);
      await ports.enrollments.replace({ journeyId: 'j', profileId, executionName: 'x', executionArn, enteredAt: '2026-03-02T12:00:00.000Z' }, undefined);
      await ports.waits.register([{ key: uid('k'), executionId: executionArn, nodeId: 'wait', token: 't', profileId, expiresAt: 1_800_000_000 }]);
      await ports.ledger.prepare({ executionId: executionArn, nodeId: 'send', status: 'prepared', journeyId: 'j', profileId, channel: 'email', preparedAt: '2026-03-02T12:00:00.000Z' });
      await subject.updateItem(ledgerUpdate(executionArn, 'send', 'sent', { messageId: 'm' }));
      await ports.caps.reserve(uid('offer'), profileId, { perProfile: { count: 1, period: '1d' } }, new Date(START));
      await ports.decisionLog.append({ id: 'd', profileId, at: '2026-03-02T12:00:00.000Z', placements: {}, context: {}, origin: 'api' });
      await ports.rejected.put({ receivedAt: '2026-03-02T12:00:00.000Z', origin: 'api', errors: [{ field: 'type', message: 'required' }], raw: { identities: { email } } });
      const stopped: string[] = [];
      const executions = { stop: async (arn: string) => (stopped.push(arn), true) };
      const report = await eraseProfile({ ...ports, executions }, profileId);
      // Profile items: 2 identities, 2 profiles, 4 event records (the absorbed one's is copied to the survivor),
      // the memberships. Runtime: enrollment, wait, ledger entry, cap item, decision.
      expect(report).toMatchObject({ profileId, stoppedExecutions: [executionArn], runtimeItems: 5, rejectedEvents: 1, profileItems: 9 });
      expect(report?.profileIds).toHaveLength(2);
      for (const id of report!.profileIds) expect(await ports.records.list(id)).toEqual([]);
      expect(await ports.profiles.findByIdentity('deviceId', device)).toBeUndefined();
      expect(await eraseProfile({ ...ports, executions }, profileId)).toBeUndefined();
    });
  });

  describe('enrollments', () => {
    it('replaces the latest run only from the expected previous one', async () => {
      const journeyId = uid('journey');
      const run = (name: string) => ({ journeyId, profileId: 'p-1', executionName: name, executionArn: `arn:exec:${journeyId}:${name}`, enteredAt: '2026-03-02T12:00:00.000Z' });
      expect(await ports.enrollments.get(journeyId, 'p-1')).toBeUndefined();
      expect(await ports.enrollments.replace(run('one'), undefined)).toBe(true);
      expect(await ports.enrollments.replace(run('other'), undefined)).toBe(false);
      expect(await ports.enrollments.replace(run('two'), 'stale')).toBe(false);
      expect(await ports.enrollments.replace(run('two'), 'one')).toBe(true);
      expect(await ports.enrollments.get(journeyId, 'p-1')).toEqual(run('two'));
    });
  });

  describe('waits', () => {
    it('finds the registrations of a key in sort-key order until each is removed', async () => {
      const key = uid('order');
      const registration = (executionId: string, nodeId: string) => ({ key, executionId, nodeId, token: `token-${executionId}`, profileId: 'p-w', expiresAt: 1_800_000_000 });
      await ports.waits.register([registration('exec-b', 'wait'), registration('exec-a', 'wait')]);
      expect(await ports.waits.find(key)).toEqual([registration('exec-a', 'wait'), registration('exec-b', 'wait')]);
      await ports.waits.remove({ key, executionId: 'exec-a', nodeId: 'wait' });
      expect(await ports.waits.find(key)).toEqual([registration('exec-b', 'wait')]);
      expect(await ports.waits.find(uid('nothing'))).toEqual([]);
    });
  });

  describe('ledger', () => {
    const entry = (executionId: string, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
      executionId,
      nodeId: 'welcome',
      status: 'prepared',
      journeyId: 'welcome',
      profileId: 'p-ledger',
      channel: 'email',
      preparedAt: '2026-03-02T12:00:00.000Z',
      ...over,
    });

    it('reads what the ASL marked sent, and never prepares a sent message again', async () => {
      const executionId = uid('exec');
      expect(await ports.ledger.prepare(entry(executionId))).toBe(true);
      expect(await ports.ledger.prepare(entry(executionId))).toBe(true);
      expect(await subject.updateItem(ledgerUpdate(executionId, 'welcome', 'sent', { messageId: 'm-1' }))).toBeDefined();
      expect(await ports.ledger.get(executionId, 'welcome')).toMatchObject({ ...entry(executionId), status: 'sent', messageId: 'm-1' });
      expect(await ports.ledger.prepare(entry(executionId))).toBe(false);
    });

    it('moves an entry out of prepared once: the same conditional update again, or on an erased entry, is refused', async () => {
      const executionId = uid('exec');
      await ports.ledger.prepare(entry(executionId));
      const transition = (id: string) => ({
        ...ledgerUpdate(id, 'welcome', 'sent', { messageId: 'm-1' }),
        ConditionExpression: '#status = :prepared',
        ExpressionAttributeValues: { ...ledgerUpdate(id, 'welcome', 'sent', { messageId: 'm-1' }).ExpressionAttributeValues, ':prepared': { S: 'prepared' } },
      });
      await subject.updateItem(transition(executionId));
      await expect(subject.updateItem(transition(executionId))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      await expect(subject.updateItem(transition(uid('gone')))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      expect(await ports.ledger.get(executionId, 'welcome')).toMatchObject({ status: 'sent' });
    });

    it('adds to a counter item atomically, creating it', async () => {
      const pk = `COUNTER#${uid('j')}#3`;
      const add = (n: string): UpdateItemCommandInput => ({
        TableName: TABLES.runtime,
        Key: { pk: { S: pk }, sk: { S: '2026-03-02#sent#channel=email&node=n' } },
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': { N: n } },
      });
      await Promise.all([subject.updateItem(add('1')), subject.updateItem(add('1')), subject.updateItem(add('2.5'))]);
      expect((await readCounterItem(subject, pk))?.value).toBe(4.5);
    });

    it('settles a prepared entry once with its outcome (campaign batches), never an erased or settled one', async () => {
      const sent = uid('campaign');
      await ports.ledger.prepare(entry(sent));
      expect(await ports.ledger.settle(sent, 'welcome', { status: 'sent', messageId: 'm-9' })).toBe(true);
      expect(await ports.ledger.settle(sent, 'welcome', { status: 'unknown', error: 'Waymark.BatchInterrupted' })).toBe(false);
      expect(await ports.ledger.get(sent, 'welcome')).toMatchObject({ ...entry(sent), status: 'sent', messageId: 'm-9' });
      expect(await ports.ledger.prepare(entry(sent))).toBe(false);
      const unknown = uid('campaign');
      await ports.ledger.prepare(entry(unknown));
      expect(await ports.ledger.settle(unknown, 'welcome', { status: 'unknown', error: 'TimeoutError' })).toBe(true);
      expect(await ports.ledger.get(unknown, 'welcome')).toMatchObject({ status: 'unknown', error: 'TimeoutError' });
      const gone = uid('campaign');
      expect(await ports.ledger.settle(gone, 'welcome', { status: 'failed', error: 'MessageRejected' })).toBe(false);
      expect(await ports.ledger.get(gone, 'welcome')).toBeUndefined();
    });

    it('prepares again after a failure, but not after an unknown outcome', async () => {
      const failed = uid('exec');
      await ports.ledger.prepare(entry(failed));
      await subject.updateItem(ledgerUpdate(failed, 'welcome', 'failed', { error: 'SES.MessageRejected' }));
      expect(await ports.ledger.get(failed, 'welcome')).toMatchObject({ status: 'failed', error: 'SES.MessageRejected' });
      expect(await ports.ledger.prepare(entry(failed))).toBe(true);
      const unknown = uid('exec');
      await ports.ledger.prepare(entry(unknown));
      await subject.updateItem(ledgerUpdate(unknown, 'welcome', 'unknown', { error: 'States.Timeout' }));
      expect(await ports.ledger.prepare(entry(unknown))).toBe(false);
    });

    it('creates the item when the ASL marks an entry that was never prepared (UpdateItem upserts)', async () => {
      const executionId = uid('exec');
      await subject.updateItem(ledgerUpdate(executionId, 'n', 'sent', { messageId: 'm-2' }));
      expect(await ports.ledger.get(executionId, 'n')).toEqual({ pk: `LEDGER#${executionId}`, sk: 'n', status: 'sent', messageId: 'm-2' });
    });

    it('records an engagement outcome once, only on the entry of that message, and not on an absent entry', async () => {
      const executionId = uid('exec');
      await ports.ledger.prepare(entry(executionId));
      await subject.updateItem(ledgerUpdate(executionId, 'welcome', 'sent', { messageId: 'm-3' }));
      const opened = { at: '2026-03-02T13:00:00.000Z', agent: 'human' as const, agentReason: 'person' as const };
      expect(await ports.ledger.recordOutcome(executionId, 'welcome', 'm-3', 'opened-human', opened)).toBe(true);
      expect(await ports.ledger.recordOutcome(executionId, 'welcome', 'm-3', 'opened-human', { ...opened, at: '2026-03-02T14:00:00.000Z' })).toBe(false);
      expect(await ports.ledger.recordOutcome(executionId, 'welcome', 'm-other', 'delivered', { at: opened.at })).toBe(false);
      expect(await ports.ledger.recordOutcome(uid('exec'), 'welcome', 'm-3', 'delivered', { at: opened.at })).toBe(false);
      const held = (await ports.ledger.get(executionId, 'welcome'))!;
      expect(ledgerOutcomes(held)).toEqual(new Map([['opened-human', opened]]));
      expect(held).toMatchObject({ status: 'sent', messageId: 'm-3' });
    });

    it('sets the time of the first delivery, human open and human click (what conversions and why read), not of a machine\'s', async () => {
      const executionId = uid('exec');
      await ports.ledger.prepare(entry(executionId));
      await subject.updateItem(ledgerUpdate(executionId, 'welcome', 'sent', { messageId: 'm-4' }));
      const at = (hour: number) => `2026-03-02T${hour}:00:00.000Z`;
      await ports.ledger.recordOutcome(executionId, 'welcome', 'm-4', 'delivered', { at: at(10) });
      await ports.ledger.recordOutcome(executionId, 'welcome', 'm-4', 'clicked-machine', { at: at(11), agent: 'machine', agentReason: 'scanner-user-agent' });
      await ports.ledger.recordOutcome(executionId, 'welcome', 'm-4', 'opened-machine', { at: at(12), agent: 'machine', agentReason: 'proxy-ip' });
      await ports.ledger.recordOutcome(executionId, 'welcome', 'm-4', 'clicked-human', { at: at(13), agent: 'human', agentReason: 'person' });
      const held = (await ports.ledger.get(executionId, 'welcome'))!;
      expect(held).toMatchObject({ deliveredAt: at(10), clickedAt: at(13) });
      expect(held.openedAt).toBeUndefined();
    });

    it('refuses an update with an unused attribute value, as DynamoDB does', async () => {
      const input = ledgerUpdate(uid('exec'), 'n', 'sent', {});
      input.ExpressionAttributeValues![':extra'] = { S: 'x' };
      await expect(subject.updateItem(input)).rejects.toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('profile records', () => {
    it("lists a profile's enrollments, waits and ledger entries through the index, and removes them", async () => {
      const profileId = uid('p');
      const executionArn = `arn:exec:${uid('x')}`;
      await ports.enrollments.replace({ journeyId: 'j', profileId, executionName: 'x', executionArn, enteredAt: '2026-03-02T12:00:00.000Z' }, undefined);
      await ports.waits.register([{ key: uid('k'), executionId: executionArn, nodeId: 'wait', token: 't', profileId, expiresAt: 1_800_000_000 }]);
      await ports.ledger.prepare({ executionId: executionArn, nodeId: 'send', status: 'prepared', journeyId: 'j', profileId, channel: 'email', preparedAt: '2026-03-02T12:00:00.000Z' });
      const records = await ports.records.list(profileId);
      expect(records.map((r) => [r.kind, r.executionId])).toEqual([
        ['enrollment', executionArn],
        ['ledger', executionArn],
        ['wait', executionArn],
      ]);
      await ports.records.remove(records);
      expect(await ports.records.list(profileId)).toEqual([]);
      expect(await ports.ledger.get(executionArn, 'send')).toBeUndefined();
    });
  });

  describe('segment memberships', () => {
    it('writes memberships only at the expected version, and clears pending transitions when not given', async () => {
      const profileId = uid('p');
      const pending = { entered: ['vip'], exited: [], cause: { id: 'e-1', type: 'order.placed' }, at: '2026-03-02T12:00:00.000Z' };
      expect(await ports.memberships.get(profileId)).toEqual({ segments: {}, version: 0 });
      expect(await ports.memberships.put(profileId, { vip: '2026-03-02T12:00:00.000Z' }, 0, pending)).toBe(true);
      expect(await ports.memberships.put(profileId, {}, 0)).toBe(false);
      expect(await ports.memberships.get(profileId)).toEqual({ segments: { vip: '2026-03-02T12:00:00.000Z' }, version: 1, pending });
      expect(await ports.memberships.put(profileId, { vip: '2026-03-02T12:00:00.000Z', constructor: '2026-03-02T13:00:00.000Z' }, 1)).toBe(true);
      const state = await ports.memberships.get(profileId);
      expect(state.version).toBe(2);
      expect(state.pending).toBeUndefined();
      expect(Object.hasOwn(state.segments, 'constructor')).toBe(true);
    });

    it('scans an active profile with its memberships and recent events', async () => {
      const email = `${uid('scan')}@example.com`;
      const { profile } = await ports.profiles.ingest(event(uid('e'), { email }));
      await ports.memberships.put(profile.id, { vip: '2026-03-02T12:00:00.000Z' }, 0);
      const found = [];
      let cursor: string | undefined;
      do {
        const page = await ports.profileScanner.scan({ segment: 0, totalSegments: 1, limit: 5, cursor });
        found.push(...page.profiles);
        cursor = page.cursor;
      } while (cursor);
      const scanned = found.filter((p) => p.id === profile.id);
      expect(scanned).toHaveLength(1);
      expect(scanned[0]).toMatchObject({ identities: { email }, segments: { vip: '2026-03-02T12:00:00.000Z' } });
      expect(scanned[0].recentEvents).toHaveLength(1);
      await expect(ports.profileScanner.scan({ segment: 0, totalSegments: 1, limit: 5, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    });
  });

  describe('segment and offer catalogs', () => {
    it('puts a definition only if absent or at the expected version, and deletes what exists', async () => {
      const id = uid('seg');
      const record = (version: number) => ({ definition: { schemaVersion: 1 as const, id, name: `S ${version}`, rule: { kind: 'all' as const, rules: [] } }, origin: 'api' as const, version, updatedAt: '2026-03-02T12:00:00.000Z' });
      expect(await ports.segmentStore.put(record(1), {})).toBe(true);
      expect(await ports.segmentStore.put(record(2), {})).toBe(false);
      expect(await ports.segmentStore.put(record(2), { expectedVersion: 7 })).toBe(false);
      expect(await ports.segmentStore.put(record(2), { expectedVersion: 1 })).toBe(true);
      expect(await ports.segmentStore.get(id)).toEqual(record(2));
      expect((await ports.segmentStore.list()).map((r) => r.definition.id)).toContain(id);
      expect(await ports.segmentStore.delete(id)).toBe(true);
      expect(await ports.segmentStore.delete(id)).toBe(false);
    });
  });

  describe('snapshots', () => {
    it('pages members in profile-id order and completes the header', async () => {
      const id = uid('snap');
      await expect(ports.snapshots.addMembers(id, ['p-1'])).rejects.toBeInstanceOf(SnapshotNotFoundError);
      await ports.snapshots.create({ id, segmentId: 'vip', segmentVersion: 1, status: 'running', createdAt: '2026-03-02T12:00:00.000Z' });
      await ports.snapshots.addMembers(id, ['p-3', 'p-1', 'p-2', 'p-1']);
      const first = await ports.snapshots.members(id, { limit: 2 });
      expect(first.profileIds).toEqual(['p-1', 'p-2']);
      expect(await ports.snapshots.members(id, { limit: 2, cursor: first.cursor })).toEqual({ profileIds: ['p-3'] });
      expect(await ports.snapshots.countMembers(id)).toBe(3);
      await ports.snapshots.fail(id, 'boom', '2026-03-02T12:01:00.000Z');
      await ports.snapshots.complete(id, { count: 3, scanned: 10, completedAt: '2026-03-02T12:02:00.000Z' });
      expect(await ports.snapshots.get(id)).toEqual({ id, segmentId: 'vip', segmentVersion: 1, status: 'complete', createdAt: '2026-03-02T12:00:00.000Z', completedAt: '2026-03-02T12:02:00.000Z', count: 3, scanned: 10 });
      await expect(ports.snapshots.complete(uid('missing'), { count: 0, scanned: 0, completedAt: '2026-03-02T12:02:00.000Z' })).rejects.toBeInstanceOf(SnapshotNotFoundError);
    });
  });

  describe('caps', () => {
    it('never exceeds the per-profile cap within the sliding period', async () => {
      const offerId = uid('offer');
      const caps = { perProfile: { count: 2, period: '1d' } };
      const at = (ms: number) => new Date(START + ms);
      expect(await ports.caps.reserve(offerId, 'p-1', caps, at(0))).toEqual({ ok: true });
      expect(await ports.caps.reserve(offerId, 'p-1', caps, at(1000))).toEqual({ ok: true });
      expect(await ports.caps.reserve(offerId, 'p-1', caps, at(2000))).toEqual({ ok: false, cap: 'perProfile' });
      expect(await ports.caps.reserve(offerId, 'p-1', caps, at(DAY + 1))).toEqual({ ok: true });
      expect(await ports.caps.usage(offerId, 'p-1', 86_400, at(DAY + 1))).toEqual({ total: 0, profile: 2 });
    });

    it('gives the profile slot back when the total is reached', async () => {
      const offerId = uid('offer');
      const caps = { total: 1, perProfile: { count: 5, period: '1d' } };
      expect(await ports.caps.reserve(offerId, 'p-1', caps, new Date(START))).toEqual({ ok: true });
      expect(await ports.caps.reserve(offerId, 'p-2', caps, new Date(START))).toEqual({ ok: false, cap: 'total' });
      expect(await ports.caps.usage(offerId, 'p-2', 86_400, new Date(START))).toEqual({ total: 1, profile: 0 });
    });

    it("carries an absorbed profile's proposals over to the survivor once", async () => {
      const offerId = uid('offer');
      const [from, to] = [uid('p'), uid('p')];
      const caps = { perProfile: { count: 2, period: '1d' } };
      await ports.caps.reserve(offerId, from, caps, new Date(START));
      await ports.caps.reserve(offerId, to, caps, new Date(START + 1000));
      expect(await ports.caps.carryOver(from, to)).toBe(1);
      expect(await ports.caps.carryOver(from, to)).toBe(0);
      expect(await ports.caps.reserve(offerId, to, caps, new Date(START + 2000))).toEqual({ ok: false, cap: 'perProfile' });
    });
  });

  describe('decision log', () => {
    const decision = (profileId: string, id: string, at: string): DecisionRecord => ({ id, profileId, at, placements: {}, context: {}, origin: 'api' });

    it('lists decisions newest first, a page at a time', async () => {
      const profileId = uid('p');
      for (const [id, minute] of [['d1', 1], ['d3', 3], ['d2', 2]] as const) await ports.decisionLog.append(decision(profileId, id, `2026-03-02T12:0${minute}:00.000Z`));
      const first = await ports.decisionLog.list(profileId, { limit: 2 });
      expect(first.decisions.map((d) => d.id)).toEqual(['d3', 'd2']);
      expect(await ports.decisionLog.list(profileId, { limit: 2, cursor: first.cursor })).toEqual({ decisions: [decision(profileId, 'd1', '2026-03-02T12:01:00.000Z')] });
      await expect(ports.decisionLog.list(profileId, { limit: 2, cursor: '%%' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('grants a key to one claim, takes over its lease only by naming it, and answers the decision once done', async () => {
      const profileId = uid('p');
      const key = { profileId, key: 'k', fingerprint: 'f' };
      const lease = new Date(Date.now() + 60_000);
      expect(await ports.decisionLog.claim(key, lease)).toBe(true);
      expect(await ports.decisionLog.claim(key, lease)).toBe(false);
      expect(await ports.decisionLog.claim(key, new Date(lease.getTime() + 1), 'another lease')).toBe(false);
      const next = new Date(lease.getTime() + 60_000);
      expect(await ports.decisionLog.claim(key, next, lease.toISOString())).toBe(true);
      await ports.decisionLog.release(key, lease);
      expect(await ports.decisionLog.findByKey(profileId, 'k')).toEqual({ status: 'pending', fingerprint: 'f', leaseUntil: next.toISOString() });
      const record = decision(profileId, 'd', new Date().toISOString());
      await ports.decisionLog.append(record, key);
      expect(await ports.decisionLog.findByKey(profileId, 'k')).toEqual({ status: 'done', fingerprint: 'f', record });
    });

    it("keeps a claimed key until its expiry on the ports' clock (virtual time), then frees it", async () => {
      const profileId = uid('p');
      const key = { profileId, key: 'k', fingerprint: 'f' };
      // Virtual time, months before the real date: expiry must be read from the clock, not the host.
      const lease = new Date(START + 60_000);
      expect(await ports.decisionLog.claim(key, lease)).toBe(true);
      expect(await ports.decisionLog.claim(key, lease)).toBe(false);
      expect(await ports.decisionLog.findByKey(profileId, 'k')).toMatchObject({ status: 'pending' });
      now = START + 60_000 + 91 * DAY;
      expect(await ports.decisionLog.findByKey(profileId, 'k')).toBeUndefined();
      expect(await ports.decisionLog.claim(key, new Date(now + 60_000))).toBe(true);
    });
  });

  describe('profile runs', () => {
    const arn = (journey: string, n: string) => `arn:aws:states:local:000000000000:execution:waymark-local-${journey}:${journey}--${n}`;

    it("finds a profile's runs by its enrollments, recorded runs, ledger entries and decision keys, once each", async () => {
      const profileId = uid('runs');
      const latest = arn('cart-abandonment', uid('latest'));
      const older = arn('cart-abandonment', uid('older'));
      const parallel = arn('manual-outreach', uid('parallel'));
      const decided = arn('next-best-offer', uid('decided'));
      const at = '2026-03-01T10:00:00.000Z';
      await ports.enrollments.replace({ journeyId: 'cart-abandonment', profileId, executionName: latest.split(':').pop()!, executionArn: latest, enteredAt: at }, undefined);
      const entry = (executionId: string, nodeId: string): LedgerEntry => ({ executionId, nodeId, status: 'prepared', journeyId: 'cart-abandonment', profileId, channel: 'email', preparedAt: at });
      for (const [executionId, nodeId] of [[latest, 'reminder-email'], [older, 'reminder-email'], [older, 'last-chance-email']]) await ports.ledger.prepare(entry(executionId, nodeId));
      await ports.enrollments.recordRun({ journeyId: 'manual-outreach', profileId, executionName: 'x', executionArn: parallel, enteredAt: at }, Math.floor(START / 1000) + 86_400);
      const key = { profileId, key: `${decided}#decide-offer`, fingerprint: 'f' };
      await ports.decisionLog.claim(key, new Date(START + 60_000));
      // An API decision's key names no run.
      await ports.decisionLog.claim({ profileId, key: 'api-key', fingerprint: 'f' }, new Date(START + 60_000));
      await subject.updateItem(ledgerUpdate(older, 'reminder-email', 'sent', { messageId: 'm-1' }));

      const all = await ports.profileRuns.list(profileId, { maxKeys: 100 });
      expect(all.truncated).toBe(false);
      expect(all.runs.map((r) => [r.journeyId, r.executionArn]).sort()).toEqual(
        [['cart-abandonment', latest], ['cart-abandonment', older], ['manual-outreach', parallel], ['next-best-offer', decided]].sort(),
      );
      expect(all.runs.find((r) => r.executionArn === latest)?.enteredAt).toBe(at);
      const cart = await ports.profileRuns.list(profileId, { journeyId: 'cart-abandonment', maxKeys: 100 });
      expect(cart.runs.map((r) => r.executionArn).sort()).toEqual([latest, older].sort());
      expect((await ports.profileRuns.list(profileId, { maxKeys: 2 })).truncated).toBe(true);

      const messages = await ports.profileRuns.messages(older, 10);
      expect(messages.map((m) => [m.nodeId, m.status, m.messageId])).toEqual([['last-chance-email', 'prepared', undefined], ['reminder-email', 'sent', 'm-1']]);
      expect(await ports.profileRuns.messages(older, 1)).toHaveLength(1);
    });
  });

  describe('rejected events', () => {
    it('lists rejected events newest first and erases those that mention an identity', async () => {
      const email = `${uid('rej')}@example.com`;
      const rejected = (at: string, raw: unknown) => ({ receivedAt: at, origin: 'api', errors: [{ field: 'type', message: 'required' }], raw });
      await ports.rejected.put(rejected('2099-01-01T00:00:01.000Z', { identities: { email } }));
      await ports.rejected.put(rejected('2099-01-01T00:00:02.000Z', { identities: { email: 'someone-else@example.com' }, n: counter }));
      expect((await ports.rejected.list(2)).map((r) => r.receivedAt)).toEqual(['2099-01-01T00:00:02.000Z', '2099-01-01T00:00:01.000Z']);
      expect(await ports.rejected.eraseMentioning([`email:${email}`])).toBe(1);
      expect((await ports.rejected.list(2)).map((r) => r.receivedAt)).toEqual(['2099-01-01T00:00:02.000Z']);
    });
  });
});

describe('memory profile scanner', () => {
  it('returns every active profile once over the segments, including profiles created between pages', async () => {
    const ports = memoryPorts(clock);
    const ingest = (i: number) => ports.profiles.ingest(event(`scan-${i}`, { email: `scan-${i}@example.com` }));
    const created = new Set<string>();
    for (let i = 0; i < 40; i++) created.add((await ingest(i)).profile.id);
    const seen: string[] = [];
    for (let segment = 0; segment < 3; segment++) {
      let cursor: string | undefined;
      do {
        const page = await ports.profileScanner.scan({ segment, totalSegments: 3, limit: 4, cursor });
        seen.push(...page.profiles.map((p) => p.id));
        cursor = page.cursor;
        // A new profile whose key sorts after the cursor is read later in its segment, if in one not yet done.
        if (segment === 0 && seen.length === 4) for (let i = 40; i < 50; i++) created.add((await ingest(i)).profile.id);
      } while (cursor);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => !created.has(id))).toEqual([]);
    expect(created.size - seen.length).toBeLessThan(10);
    // And a new pass over the same split reads them all.
    const again = [];
    for (let segment = 0; segment < 3; segment++) {
      const page = await ports.profileScanner.scan({ segment, totalSegments: 3, limit: 1000 });
      expect(page.cursor).toBeUndefined();
      again.push(...page.profiles.map((p) => p.id));
    }
    expect(new Set(again)).toEqual(created);
  });
});

/** The Parameters of every DynamoDB UpdateItem state of a compiled definition (nested branches too), with its comment. */
function updateItemStates(states: Record<string, AslState>): [string, Record<string, unknown>][] {
  const found: [string, Record<string, unknown>][] = [];
  for (const [name, state] of Object.entries(states)) {
    if (state.Resource === Resource.dynamoUpdateItem) found.push([name, { ...(state.Parameters as Record<string, unknown>), Comment: state.Comment }]);
    for (const branch of (state.Branches ?? []) as { States: Record<string, AslState> }[]) found.push(...updateItemStates(branch.States));
  }
  return found;
}

/** A state's Parameters with its `.$` paths filled in: the ledger key from the execution id, other paths by name. */
function resolve(value: unknown, executionId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, executionId));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Comment') continue;
    if (key === 'TableName') out[key] = TABLES.runtime;
    else if (key.endsWith('.$')) out[key.slice(0, -2)] = resolvePath(String(inner), executionId);
    else out[key] = resolve(inner, executionId);
  }
  return out;
}

/** The ledger key from the execution id, a counter's key on shard 0 of journey `j` on 2026-03-02, other paths by name. */
function resolvePath(path: string, executionId: string): string {
  if (path.includes("'LEDGER#{}'")) return `LEDGER#${executionId}`;
  if (path.includes("'COUNTER#{}#{}'")) return 'COUNTER#j#0';
  // The tally's sort key: the entry day, then the counter the ledger state named (`$.steps.<key>.tally`).
  if (path.startsWith("States.Format('{}#{}'")) return '2026-03-02#sent#channel=email&node=n';
  return `value of ${path}`;
}

describe('memory UpdateItem', () => {
  const ports = memoryPorts(clock);
  const updateItem = memoryUpdateItem(ports, { runtimeTable: TABLES.runtime });

  it.each<[string, (input: UpdateItemCommandInput) => void, string]>([
    ['a condition', (i) => (i.ConditionExpression = 'attribute_exists(pk)'), 'ConditionExpression'],
    ['a REMOVE clause', (i) => (i.UpdateExpression += ' REMOVE #status'), 'SET action'],
    ['an ADD clause', (i) => (i.UpdateExpression = 'ADD #status :status'), 'UpdateExpression'],
    ['a function', (i) => (i.UpdateExpression = 'SET #status = if_not_exists(#status, :status)'), 'SET action'],
    ['another key', (i) => (i.Key = { pk: { S: 'ENROLL#j#p' }, sk: { S: 'ENROLL' } }), 'the key "ENROLL#j#p"'],
    ['another table', (i) => (i.TableName = 'profiles'), 'table "profiles"'],
    ['returned values', (i) => (i.ReturnValues = 'ALL_NEW'), 'ReturnValues ALL_NEW'],
    ['a binary value', (i) => (i.ExpressionAttributeValues![':status'] = { B: new Uint8Array([1]) }), 'attribute type B'],
  ])('refuses %s, naming it', async (_what, change, named) => {
    const input = ledgerUpdate('exec-u', 'n', 'sent', {});
    change(input);
    const error = await updateItem(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedUpdateItemError);
    expect((error as Error).message).toContain(named);
    expect(memoryTables(ports).runtime.size).toBe(0);
  });

  it("applies every UpdateItem state the compiler emits for a shipped playbook's sends", async () => {
    const journey = validateJourney(JSON.parse(readFileSync(join(__dirname, '../../statemachines/cart-abandonment.json'), 'utf8')));
    if (!journey.ok) throw new Error('cart-abandonment does not validate');
    const states = updateItemStates(compileJourney(journey.journey).States);
    expect(states.length).toBeGreaterThanOrEqual(3);
    const counters = memoryJourneyCounters(ports);
    for (const [name, parameters] of states) {
      if (String((parameters as { UpdateExpression?: string }).UpdateExpression).startsWith('ADD')) {
        // A delivery outcome's counter: ADD 1 to the item the journey counters read.
        await updateItem(resolve(parameters, 'x') as unknown as UpdateItemCommandInput);
        continue;
      }
      const executionId = `exec-${name}`;
      const nodeId = (parameters.Key as { sk: { S: string } }).sk.S;
      await ports.ledger.prepare({ executionId, nodeId, status: 'prepared', journeyId: journey.journey.id, profileId: 'p', channel: 'email', preparedAt: '2026-03-02T12:00:00.000Z' });
      // As the executor resolves the state's paths: the execution id, and the step's outputs.
      await updateItem(resolve(parameters, executionId) as unknown as UpdateItemCommandInput);
      const status = /mark the ledger entry (\w+)/.exec(String(parameters.Comment))?.[1];
      expect(await ports.ledger.get(executionId, nodeId)).toMatchObject({ status, profileId: 'p' });
      // Only out of `prepared`: the same update again is refused, as DynamoDB refuses it.
      await expect(updateItem(resolve(parameters, executionId) as unknown as UpdateItemCommandInput)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    }
    const totals = await counters.read('j', '2026-03-02', '2026-03-02');
    const sends = journey.journey.nodes.filter((n) => n.kind === 'send').length;
    expect(totals).toEqual([{ day: '2026-03-02', name: 'sent', dims: { channel: 'email', node: 'n' }, value: sends }]);
  });

  it('refuses to update a key attribute, as DynamoDB does', async () => {
    const input = ledgerUpdate('exec-u', 'n', 'sent', { sk: 'x' });
    await expect(updateItem(input)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Cannot update attribute sk') });
  });

  it('reads numbers, booleans, lists and maps as the document client does', async () => {
    await updateItem({
      TableName: TABLES.runtime,
      Key: { pk: { S: 'LEDGER#exec-n' }, sk: { S: 'n' } },
      UpdateExpression: 'SET #a = :a, #b = :b, #c = :c',
      ExpressionAttributeNames: { '#a': 'attempts', '#b': 'ok', '#c': 'detail' },
      ExpressionAttributeValues: { ':a': { N: '3' }, ':b': { BOOL: true }, ':c': { M: { codes: { L: [{ S: 'x' }, { NULL: true }] } } } },
    });
    expect(await ports.ledger.get('exec-n', 'n')).toEqual({ pk: 'LEDGER#exec-n', sk: 'n', attempts: 3, ok: true, detail: { codes: ['x', null] } });
  });
});
