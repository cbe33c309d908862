import { INLINE_CATALOG_FILE_LIMIT, INLINE_JOURNEY_LIMIT } from '../../lib/constructs/registry-shard';
import '../support/setup-env';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvKey, TableEnvKey } from '../../lambdas/core/config/env-keys';
import { startLocalStack } from '../../lambdas/local/stack';
import { constructIdOf, ENTRY_POINTS, entryPoints, type EntryPoint, type TableName } from '../../lib/entry-points';
import { effectiveStatements, resourcesOfType, waymarkStacks } from './waymark-app';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
type Json = { Resources: Record<string, Resource> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** CloudFormation's limit of resources per stack (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). */
const STACK_RESOURCE_LIMIT = 500;
/**
 * What the shipped app stack must leave free: room for journeys and files up to the inline limits (9 resources a
 * journey with its version and alias, 1 a file), plus a margin of 25 for new routes (5 resources each, and a path part).
 */
const PER_INLINE_JOURNEY = 9;
const ROUTE_MARGIN = 25;

/** A route as `METHOD /path`, the form of the declarations and the README. */
const routeKey = (method: string, path: string) => `${method} ${path}`;
const declaredRoutes = () => entryPoints().flatMap(([, e]) => (e.trigger.kind === 'api' ? [e.trigger.route as string] : []));
const LOCAL_ONLY = (path: string) => path === '/' || path === '/health' || path.startsWith('/local/');

/** The logical id CDK gives the L1 of `<id>/<child>` directly under the stack (`makeUniqueId`): names + 8 hex of MD5. */
const stackLevelId = (...path: string[]) =>
  path.join('') + createHash('md5').update([...path, 'Resource'].join('/')).digest('hex').slice(0, 8).toUpperCase();

describe('entry points: one declared list (lib/entry-points.ts), checked against what is deployed and run', () => {
  let json: Json;
  beforeAll(() => {
    json = Template.fromStack(waymarkStacks().application).toJSON() as Json;
  });

  /** `METHOD /path` of every API method of the synthesized stack. */
  const deployedRoutes = () => {
    const pathOf = (resourceId: string | undefined): string => {
      if (!resourceId) return '';
      const resource = json.Resources[resourceId];
      return `${pathOf((resource.Properties.ParentId as { Ref?: string }).Ref)}/${resource.Properties.PathPart}`;
    };
    return resourcesOfType(json, 'AWS::ApiGateway::Method').map(([, m]) => routeKey(m.Properties?.HttpMethod, pathOf(m.Properties?.ResourceId?.Ref) || '/'));
  };
  const functionIdOf = (name: string) => {
    const ids = resourcesOfType(json, 'AWS::Lambda::Function')
      .map(([id]) => id)
      .filter((id) => new RegExp(`^${constructIdOf(name)}Function[0-9A-F]{8}$`).test(id));
    expect({ name, ids: ids.length }).toEqual({ name, ids: 1 });
    return ids[0];
  };
  /** Every Allow statement in effect for an entry point's function (its shared role's policies, its own log grant). */
  const statementsOf = (name: string): Statement[] => effectiveStatements(json, functionIdOf(name));
  const actionsOn = (name: string, resourceMatch: RegExp) =>
    statementsOf(name)
      .filter((s) => resourceMatch.test(JSON.stringify(s.Resource)))
      .flatMap((s) => [s.Action].flat());

  it('serves exactly the declared routes on the API, in the local stack and in the README route table', async () => {
    const declared = declaredRoutes().sort();
    expect(new Set(declared).size).toBe(declared.length);
    expect(deployedRoutes().sort()).toEqual(declared);

    const local = await startLocalStack({ listen: false, storage: 'memory' });
    try {
      const localRoutes = local.routes.filter((r) => !LOCAL_ONLY(r.path)).map((r) => routeKey(r.method, r.path));
      expect(localRoutes.sort()).toEqual(declared);
    } finally {
      await local.stop();
    }

    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Local routes')).split('\n\n').find((block) => block.startsWith('| route | what |'));
    expect(table).toBeDefined();
    const listed = (table as string)
      .split('\n')
      .map((row) => row.split(' | ')[0])
      .flatMap((cell) => [...cell.matchAll(/`(GET|POST|PUT|DELETE|PATCH) (\/[^`?\s]*)[^`]*`/g)].map(([, method, path]) => ({ method, path })))
      .filter(({ path }) => !LOCAL_ONLY(path))
      .map(({ method, path }) => routeKey(method, path));
    expect([...new Set(listed)].sort()).toEqual(declared);
  });

  it('authorizes every route with IAM but the declared public ones, and names its route first in the description', () => {
    for (const [name, entry] of entryPoints()) {
      if (entry.trigger.kind !== 'api') continue;
      const fnId = functionIdOf(name);
      const methods = resourcesOfType(json, 'AWS::ApiGateway::Method').filter(([, m]) => JSON.stringify(m.Properties?.Integration?.Uri).includes(`"${fnId}"`));
      expect({ name, methods: methods.length }).toEqual({ name, methods: 1 });
      expect({ name, auth: methods[0][1].Properties?.AuthorizationType }).toEqual({ name, auth: entry.trigger.public ? 'NONE' : 'AWS_IAM' });
      expect(json.Resources[fnId].Properties.Description).toMatch(new RegExp(`^${entry.trigger.route.replace(/[{}]/g, '\\$&')}: `));
    }
  });

  it('keeps every function at the logical id it would have as a direct child of the stack (features do not rename)', () => {
    for (const [name] of entryPoints()) {
      const id = constructIdOf(name);
      expect(functionIdOf(name)).toBe(stackLevelId(id, 'Function'));
      expect(json.Resources[stackLevelId(id, 'LogGroup')]?.Type).toBe('AWS::Logs::LogGroup');
    }
  });

  describe('every function gets the environment and the grants its declaration names, and no others', () => {
    const TABLE_EXPORT: Record<TableName, RegExp> = { profiles: /ProfilesTable/, journeys: /JourneysTable/, runtime: /RuntimeTable/ };
    const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    const names = Object.keys(ENTRY_POINTS) as (keyof typeof ENTRY_POINTS)[];

    it.each(names)('%s', (name) => {
      const entry: EntryPoint = ENTRY_POINTS[name];
      const uses = entry.uses;
      const variables = json.Resources[functionIdOf(name)].Properties.Environment.Variables as Record<string, unknown>;
      // Only the declared tables' names: a port on another table fails when used (lambdas/adapters/dynamodb-ports.ts).
      const expectedKeys: string[] = (Object.keys(TableEnvKey) as TableName[]).filter((t) => uses.tables?.[t]).map((t) => TableEnvKey[t]);
      if (uses.bus) expectedKeys.push(EnvKey.eventBusName);
      if (uses.secrets?.includes('unsubscribe')) expectedKeys.push(EnvKey.unsubscribeSecretArn);
      if (uses.secrets?.includes('privacyKey')) expectedKeys.push(EnvKey.privacyKeySecretArn);
      if (uses.audienceScan) expectedKeys.push(EnvKey.audienceScanStateMachineArn);
      if (uses.publicUrl) expectedKeys.push(EnvKey.publicUrl);
      if (uses.defaultTimeZone) expectedKeys.push(EnvKey.defaultTimeZone);
      if (uses.audienceBucket) expectedKeys.push(EnvKey.audienceBucketName);
      if (uses.campaignRuns) expectedKeys.push(EnvKey.campaignStateMachinePrefix);
      if (uses.messages) {
        expectedKeys.push(EnvKey.senderEmail, EnvKey.emailConfigurationSet, EnvKey.pushApplicationId);
        expectedKeys.push(EnvKey.smsOriginationIdentity, EnvKey.smsConfigurationSet);
      }
      expect(Object.keys(variables).filter((k) => k.startsWith('WAYMARK_')).sort()).toEqual(expectedKeys.sort());

      for (const table of ['profiles', 'journeys', 'runtime'] as const) {
        const actions = actionsOn(name, TABLE_EXPORT[table]);
        const access = uses.tables?.[table];
        const grant = actions.length === 0 ? undefined : actions.some((a) => WRITES.includes(a)) ? 'readWrite' : 'read';
        expect({ table, grant }).toEqual({ table, grant: access });
      }
      const allActions = statementsOf(name).flatMap((s) => [s.Action].flat());
      expect({ bus: allActions.includes('events:PutEvents') }).toEqual({ bus: uses.bus === 'put' });
      expect(actionsOn(name, /EventBus/)).toEqual(uses.bus ? ['events:PutEvents'] : []);
      for (const [secret, exportName] of [['unsubscribe', /UnsubscribeSecret/], ['privacyKey', /PrivacyKeySecret/]] as const) {
        expect({ secret, read: actionsOn(name, exportName).includes('secretsmanager:GetSecretValue') }).toEqual({ secret, read: !!uses.secrets?.includes(secret) });
      }
      expect({ audienceScan: actionsOn(name, /AudienceScanStateMachine/).includes('states:StartExecution') }).toEqual({ audienceScan: uses.audienceScan === 'start' });
      // Campaign state machines are waymark-<stage>_c-<id>: not journeys.
      const onJourneys = [...new Set([...actionsOn(name, /"Ref":"Journey[a-z]/), ...actionsOn(name, /:execution:waymark-[a-z0-9*-]+:/)])].sort();
      const declaredRuns = (uses.journeyRuns?.actions ?? []).map(
        (a) => ({ start: 'states:StartExecution', describe: 'states:DescribeExecution', stop: 'states:StopExecution', history: 'states:GetExecutionHistory' })[a],
      );
      expect(onJourneys).toEqual([...declaredRuns].sort());
      expect({ taskTokens: allActions.includes('states:SendTaskSuccess') }).toEqual({ taskTokens: !!uses.taskTokens });
      const describesMachines = uses.journeyVersions === 'describe' || uses.campaignVersions === 'describe';
      expect({ versions: allActions.includes('states:DescribeStateMachine') }).toEqual({ versions: describesMachines });
      // The audience bucket: reads under runs/ and campaign-results/, writes under runs/ only, listing by prefix.
      const onBucket = [...new Set(actionsOn(name, /AudienceBucketArn/))].sort();
      const bucketActions = { read: ['s3:GetObject', 's3:ListBucket'], readWrite: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject'] };
      expect({ audienceBucket: onBucket }).toEqual({ audienceBucket: uses.audienceBucket ? bucketActions[uses.audienceBucket] : [] });
      if (uses.audienceBucket === 'readWrite') {
        const writes = statementsOf(name).filter((s) => [s.Action].flat().includes('s3:PutObject'));
        expect(writes.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringMatching(/AudienceBucketArn"},"\/runs\/\*"\]/)]);
      }
      const onCampaigns = [...new Set(actionsOn(name, /waymark-test_c-/))].sort();
      const declaredCampaignRuns = (uses.campaignRuns?.actions ?? []).map((a) => ({ start: 'states:StartExecution', describe: 'states:DescribeExecution', stop: 'states:StopExecution' })[a]);
      const declaredOnCampaigns = [...declaredCampaignRuns, ...(uses.campaignVersions ? ['states:DescribeStateMachine'] : [])];
      expect({ campaignRuns: onCampaigns }).toEqual({ campaignRuns: [...declaredOnCampaigns].sort() });
      const sends = ['ses:SendEmail', 'sms-voice:SendTextMessage', 'mobiletargeting:SendMessages'].filter((a) => allActions.includes(a));
      expect({ messages: sends }).toEqual({ messages: uses.messages ? ['ses:SendEmail', 'sms-voice:SendTextMessage', 'mobiletargeting:SendMessages'] : [] });
      // Nothing beyond what the declaration implies (logs, X-Ray, the data key, its own dead-letter queue).
      const families = new Set(allActions.map((a) => a.split(':')[0]));
      for (const family of families) expect({ family, allowed: ['logs', 'xray', 'kms', 'dynamodb', 'events', 'secretsmanager', 'states', 'sqs', 's3', ...(uses.messages ? ['ses', 'sms-voice', 'mobiletargeting'] : [])].includes(family) }).toEqual({ family, allowed: true });
    });
  });

  it("gives the stage's defaultTimezone to the functions that apply governance rules or local send times (UTC unless set)", () => {
    const zoneOf = (j: Json, name: string) => {
      const id = Object.keys(j.Resources).find((r) => new RegExp(`^${constructIdOf(name)}Function[0-9A-F]{8}$`).test(r))!;
      return (j.Resources[id].Properties.Environment.Variables as Record<string, unknown>)[EnvKey.defaultTimeZone];
    };
    expect(zoneOf(json, 'prepareSend')).toBe('UTC');
    const stacks = waymarkStacks(undefined, { defaultTimezone: 'Europe/Berlin' });
    const berlin = Template.fromStack(stacks.application).toJSON() as Json;
    const withZone = Object.keys(ENTRY_POINTS).filter((name) => zoneOf(berlin, name) === 'Europe/Berlin');
    expect(withZone).toEqual(['prepareSend', 'campaignStep']);
  });

  describe('resource budget', () => {
    it(`stays within CloudFormation's ${STACK_RESOURCE_LIMIT} resources with journeys and files up to the inline limits, and ${ROUTE_MARGIN} to spare`, () => {
      const count = Object.keys(json.Resources).length;
      const journeys = resourcesOfType(json, 'AWS::StepFunctions::StateMachineAlias').length;
      const files = Object.values(json.Resources).filter((r) => /^Custom::Waymark(Segment|Offer|Placement|Rule)Registration$/.test(r.Type)).length;
      const atLimits = count + (INLINE_JOURNEY_LIMIT - journeys) * PER_INLINE_JOURNEY + (INLINE_CATALOG_FILE_LIMIT - files);
      expect(STACK_RESOURCE_LIMIT - atLimits).toBeGreaterThanOrEqual(ROUTE_MARGIN);
    });

    it('invokes the API functions with one role, lambda:InvokeFunction on exactly those, and no Lambda permission per method', () => {
      const methods = resourcesOfType(json, 'AWS::ApiGateway::Method');
      const credentials = new Set(methods.map(([, m]) => JSON.stringify(m.Properties?.Integration?.Credentials)));
      expect(credentials.size).toBe(1);
      const roleId = (JSON.parse([...credentials][0]) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(json.Resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } }),
      ]);
      const statements = resourcesOfType(json, 'AWS::IAM::Policy')
        .filter(([, p]) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties?.PolicyDocument.Statement as Statement[]);
      const invoked = statements.flatMap((s) => [s.Resource].flat().map((r) => (r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])).sort();
      expect(statements.flatMap((s) => [s.Action].flat())).toEqual(['lambda:InvokeFunction']);
      expect(invoked).toEqual(entryPoints().filter(([, e]) => e.trigger.kind === 'api').map(([name]) => functionIdOf(name)).sort());
      // Only the bus rules' targets hold a resource-based permission: route-event, record-delivery-event (SES and SMS
      // rules), count-run-end.
      expect(resourcesOfType(json, 'AWS::Lambda::Permission').map(([, p]) => p.Properties?.Principal)).toEqual(Array(4).fill('events.amazonaws.com'));
    });
  });
});
