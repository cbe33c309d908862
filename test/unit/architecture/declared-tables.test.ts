import '../app/quiet-powertools';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { EnvKey, TableEnvKey } from '../../../lambdas/core/config/env-keys';
import { Campaign } from '../../../lambdas/core/campaigns/schema';
import { LOCAL_PRIVACY_KEY } from '../../../lambdas/core/privacy/keys';
import type { LocalStack } from '../../../lambdas/local/stack';
import { MissingEnvironmentError } from '../../../lambdas/shared/env';
import type { ApiEvent, ApiResult } from '../../../lambdas/shared/http';
import { logger } from '../../../lambdas/shared/powertools';
import { ENTRY_POINTS, entryPoints, type EntryPoint, type EntryPointName, type TableName } from '../../../lib/entry-points';
import { openVirtualStack } from '../../e2e/local-stack';

/**
 * Each handler module loaded and run with only the environment its declaration gives it on AWS (the rules of
 * lib/features/wiring.ts `environmentOf`). A port on an undeclared table fails when used with MissingEnvironmentError
 * (lambdas/adapters/dynamodb-ports.ts), so a declaration that leaves out a table its code uses fails here: at cold
 * start for the handlers that build just their stores (`env.table(name)`: every handler but campaign-step), on a
 * request for those built on awsStores(). DynamoDB is the local stack's dynalite, holding the repository's journeys,
 * segments, offers, placements and rules and one profile that entered its journeys; Step Functions, EventBridge and
 * Secrets Manager are mocked (nothing leaves the machine).
 *
 * Not proven: branches a request here does not reach (the bus-rule and journey-step handlers are loaded, not invoked:
 * their stores' tables are checked at load; campaign-step, on awsStores(), declares all three; the unsubscribe routes
 * stop at the unsigned token).
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;
const HANDLERS = join(__dirname, '..', '..', '..', 'lambdas', 'handlers');
const context = { functionName: 'declared-tables', awsRequestId: 'req' } as unknown as Context;
const DECLARED_CAMPAIGN = Campaign.parse({
  schemaVersion: 1,
  id: 'declared-campaign',
  name: 'Declared',
  audience: { segment: 'loyalty-gold' },
  schedule: { type: 'on-demand' },
  start: 'email',
  steps: { email: { kind: 'deliver', channel: 'email', template: { subject: 'Hi', text: 'Hello' } } },
});
const all = entryPoints().map(([name, entry]) => [name, entry] as [EntryPointName, EntryPoint]);
const api = all.filter(([, entry]) => entry.trigger.kind === 'api');

/** The WAYMARK_ variables a function with this declaration gets on AWS (the same rules as `environmentOf`). */
function declaredEnvironment(entry: EntryPoint, tableNames: Readonly<Record<TableName, string>>): Record<string, string> {
  const { uses } = entry;
  const env: Record<string, string> = {};
  for (const table of Object.keys(TableEnvKey) as TableName[]) if (uses.tables?.[table]) env[TableEnvKey[table]] = tableNames[table];
  if (uses.bus) env[EnvKey.eventBusName] = 'test-bus';
  if (uses.secrets?.includes('unsubscribe')) env[EnvKey.unsubscribeSecretArn] = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:unsubscribe';
  if (uses.secrets?.includes('privacyKey')) env[EnvKey.privacyKeySecretArn] = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:privacy';
  if (uses.audienceScan) env[EnvKey.audienceScanStateMachineArn] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:scan';
  if (uses.publicUrl) env[EnvKey.publicUrl] = 'https://api.example.com/';
  if (uses.defaultTimeZone) env[EnvKey.defaultTimeZone] = 'UTC';
  if (uses.audienceBucket) env[EnvKey.audienceBucketName] = 'audience-bucket';
  if (uses.campaignRuns) env[EnvKey.campaignStateMachinePrefix] = 'arn:aws:states:eu-west-1:123456789012:stateMachine:waymark-test_c-';
  if (uses.messages) Object.assign(env, { [EnvKey.senderEmail]: 'news@shop.example', [EnvKey.emailConfigurationSet]: 'waymark-test', [EnvKey.pushApplicationId]: 'app' });
  return env;
}

/** Path parameter and query values that pass the handlers' checks, so a request gets past validation to the stores. */
const PATH_VALUES: Record<string, string> = { id: 'welcome', journeyId: 'welcome', snapshotId: 'snap-1' };
const QUERY_VALUES: Record<string, string> = { identity: 'email:nobody@example.com', token: 'not-a-signed-token' };

/** A minimal request for a declared route: its path parameters, its required query, an empty object body. */
function minimalRequest(entry: EntryPoint): ApiEvent {
  if (entry.trigger.kind !== 'api') throw new Error('not an API entry point');
  const path = entry.trigger.route.split(' ')[1];
  const pathParameters = Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name, PATH_VALUES[name] ?? 'x']));
  const query = Object.entries(entry.trigger.query ?? {}).filter(([, need]) => need === 'required');
  return apiEvent({
    path: Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    query: query.length > 0 ? Object.fromEntries(query.map(([name]) => [name, QUERY_VALUES[name] ?? 'x'])) : undefined,
    body: entry.trigger.body ? {} : undefined,
  });
}

function apiEvent(c: { path?: Record<string, string>; query?: Record<string, string>; body?: unknown }): ApiEvent {
  return {
    body: c.body === undefined ? null : JSON.stringify(c.body),
    headers: { 'content-type': 'application/json' },
    pathParameters: c.path ?? null,
    queryStringParameters: c.query ?? null,
    requestContext: { requestId: 'req-1' },
  };
}

describe('every handler runs with only the tables (and bus, secrets) its entry point declares', () => {
  let stack: LocalStack;
  let profileId: string;
  const loaded = new Map<string, Handler>();
  const mocks: { restore(): void }[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    const opened = await openVirtualStack({ campaigns: [DECLARED_CAMPAIGN] });
    stack = opened.stack;
    await opened.put('member.signed-up', { id: 'declared-1', identities: { email: 'ada@example.com' }, attributes: { firstName: 'Ada' } });
    profileId = JSON.parse((await stack.request({ method: 'GET', path: '/profiles', query: { identity: 'email:ada@example.com' } })).body).id;
    // A run as a campaign's start step leaves it, with a count, for the campaign run routes.
    await stack.campaignRuns.create({ campaignId: DECLARED_CAMPAIGN.id, runId: 'declared-run', status: 'running', trigger: 'api', createdAt: '2026-12-01T09:00:00.000Z', version: 1 });
    await stack.campaignRuns.add(DECLARED_CAMPAIGN.id, 'declared-run', [{ step: 'email', name: 'sent', dim: '' }]);
    // From here on, the handler modules' clients: DynamoDB goes to dynalite (the SDK's service-specific endpoint
    // variable, https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), the others are mocked.
    Object.assign(process.env, { AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoEndpoint });
    const sfn = mockClient(SFNClient);
    sfn.onAnyCommand().resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:waymark-test-x:run', startDate: new Date(0) });
    const bus = mockClient(EventBridgeClient);
    bus.onAnyCommand().resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const secrets = mockClient(SecretsManagerClient);
    secrets.onAnyCommand().resolves({ SecretString: LOCAL_PRIVACY_KEY });
    mocks.push(sfn, bus, secrets);
  });
  afterAll(async () => {
    for (const m of mocks) m.restore();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    await stack?.stop();
  });
  afterEach(() => jest.restoreAllMocks());

  /**
   * The handler module, loaded once with just its declared environment (a module reads it at load, as on AWS). The
   * local stack's table names stand in for the stage's.
   */
  function handlerOf(entry: EntryPoint): Handler {
    const known = loaded.get(entry.handler);
    if (known) return known;
    for (const key of Object.keys(process.env)) if (key.startsWith('WAYMARK_')) delete process.env[key];
    Object.assign(process.env, declaredEnvironment(entry, stack.tables));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require(join(HANDLERS, `${entry.handler}.ts`)) as { handler: Handler };
      loaded.set(entry.handler, handler);
      return handler;
    } finally {
      for (const key of Object.keys(process.env)) if (key.startsWith('WAYMARK_')) delete process.env[key];
    }
  }

  /** Invokes an API handler; fails naming the variable of any MissingEnvironmentError it answered 500 for. */
  async function invoke(entry: EntryPoint, request: ApiEvent): Promise<ApiResult> {
    const handler = handlerOf(entry);
    const unexpected = jest.spyOn(logger, 'error');
    const result = (await handler(request, context)) as ApiResult;
    const missing = unexpected.mock.calls.map((call) => call[1]).filter((error) => error instanceof MissingEnvironmentError);
    expect(missing.map((error) => (error as Error).message)).toEqual([]);
    return result;
  }

  it.each(all)('%s loads (cold start) with only its declared environment, calling no table', (_name, entry) => {
    const sends = jest.spyOn(DynamoDBDocumentClient.prototype, 'send');
    expect(() => handlerOf(entry)).not.toThrow();
    expect(sends).not.toHaveBeenCalled();
  });

  type Case = { path?: Record<string, string>; query?: Record<string, string>; body?: unknown; status: number };
  const file = (dir: string, name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', dir, `${name}.json`), 'utf8'));
  /** Requests that find their data, by entry point, in this order (erasure last: it removes the profile). */
  const cases = (): [EntryPointName, Case][] => [
    ['findProfile', { query: { identity: 'email:ada@example.com' }, status: 200 }],
    ['getProfile', { path: { id: profileId }, status: 200 }],
    ['updateProfileAttributes', { path: { id: profileId }, body: { attributes: { loyaltyTier: 'gold' } }, status: 200 }],
    ['exportProfile', { path: { id: profileId }, status: 200 }],
    ['listProfileJourneys', { path: { id: profileId }, status: 200 }],
    ['explainProfileJourney', { path: { id: profileId, journeyId: 'welcome' }, status: 200 }],
    ['getConsent', { path: { id: profileId }, status: 200 }],
    ['updateConsent', { path: { id: profileId }, body: { sms: 'opted-out', 'list:news': 'opted-in' }, status: 200 }],
    ['listJourneys', { status: 200 }],
    ['getJourney', { path: { id: 'welcome' }, status: 200 }],
    ['getJourneyReport', { path: { id: 'welcome' }, status: 200 }],
    ['triggerJourney', { path: { id: 'manual-outreach' }, body: { profileId, context: { text: 'hi' } }, status: 200 }],
    ['listSegments', { status: 200 }],
    ['getSegment', { path: { id: 'loyalty-gold' }, status: 200 }],
    ['createSegment', { body: { ...file('segments', 'loyalty-gold'), id: 'declared-segment' }, status: 201 }],
    ['deleteSegment', { path: { id: 'loyalty-gold' }, status: 409 }],
    ['estimateSegment', { path: { id: 'loyalty-gold' }, status: 200 }],
    ['evaluateSegment', { path: { id: 'loyalty-gold' }, status: 202 }],
    ['listOffers', { status: 200 }],
    ['getOffer', { path: { id: 'newsletter' }, status: 200 }],
    ['createOffer', { body: { ...file('offers', 'newsletter'), id: 'declared-offer' }, status: 201 }],
    ['deleteOffer', { path: { id: 'declared-offer' }, status: 204 }],
    ['listPlacements', { status: 200 }],
    ['getPlacement', { path: { id: 'web-banner' }, status: 200 }],
    ['createPlacement', { body: { ...file('placements', 'web-banner'), id: 'declared-placement' }, status: 201 }],
    ['deletePlacement', { path: { id: 'web-banner' }, status: 409 }],
    ['decide', { body: { profileId, placements: ['push', 'web-banner'], context: { cartTotal: 150 } }, status: 200 }],
    ['listDecisions', { path: { id: profileId }, status: 200 }],
    ['listRules', { status: 200 }],
    ['getRule', { path: { id: 'sms-daily' }, status: 200 }],
    ['putRule', { path: { id: 'declared-rule' }, body: { ...file('rules', 'sms-daily'), id: 'declared-rule' }, status: 201 }],
    ['deleteRule', { path: { id: 'declared-rule' }, status: 204 }],
    ['listRejectedEvents', { status: 200 }],
    ['listCampaigns', { status: 200 }],
    ['getCampaign', { path: { id: 'declared-campaign' }, status: 200 }],
    ['listCampaignRuns', { path: { id: 'declared-campaign' }, status: 200 }],
    ['getCampaignRun', { path: { id: 'declared-campaign', runId: 'declared-run' }, status: 200 }],
    ['controlCampaignRun', { path: { id: 'declared-campaign', runId: 'declared-run', action: 'pause' }, status: 200 }],
    // Step Functions is mocked here: the start is accepted (the local stack's own runner is not involved).
    ['startCampaignRun', { path: { id: 'declared-campaign' }, body: {}, status: 202 }],
    ['eraseProfile', { path: { id: profileId }, status: 200 }],
  ];

  it('answers requests that find stored data as expected, using only the declared tables', async () => {
    const answered: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const [name, c] of cases()) {
      answered[name] = (await invoke(ENTRY_POINTS[name], apiEvent(c))).statusCode;
      expected[name] = c.status;
    }
    expect(answered).toEqual(expected);
  });

  // The routes the data pass leaves out (and every route once more on a minimal request): no MissingEnvironmentError.
  it.each(api)('%s answers a minimal request without using an undeclared table', async (_name, entry) => {
    expect((await invoke(entry, minimalRequest(entry))).statusCode).toBeLessThan(500);
  });
});
