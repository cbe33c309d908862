import '../support/setup-env';
import { Template } from 'aws-cdk-lib/assertions';
import { grantKeyOf } from '../../lib/constructs/function-roles';
import { constructIdOf, entryPoints, type EntryPointName } from '../../lib/entry-points';
import { effectiveStatements, resourcesOfType, waymarkStacks } from './waymark-app';

type Json = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** The functions with a dead-letter queue of their own (their role is theirs: the queue is part of the grant key). */
const WITH_DEAD_LETTER_QUEUE: EntryPointName[] = ['routeEvent', 'recordDeliveryEvent'];

const functionIdOf = (json: Json, name: string) => {
  const ids = Object.keys(json.Resources).filter((id) => new RegExp(`^${constructIdOf(name)}Function[0-9A-F]{8}$`).test(id));
  expect({ name, ids: ids.length }).toEqual({ name, ids: 1 });
  return ids[0];
};
const roleOf = (json: Json, name: string) => (json.Resources[functionIdOf(json, name)].Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** One line per allowed (action, resource, condition): statements merged or split differently compare equal. */
const permissions = (json: Json, name: string): string[] =>
  effectiveStatements(json, functionIdOf(json, name))
    .flatMap((s) =>
      [s.Action].flat().flatMap((action) => [s.Resource].flat().map((resource) => `${s.Effect} ${action} ${JSON.stringify(resource)} ${JSON.stringify(s.Condition ?? {})}`)),
    )
    .sort();

describe('function roles: one per set of identical grants (lib/constructs/function-roles.ts)', () => {
  let shared: Json;
  let separate: Json;
  beforeAll(() => {
    shared = Template.fromStack(waymarkStacks().application).toJSON() as Json;
    separate = Template.fromStack(waymarkStacks(undefined, { shareFunctionRoles: false }).application).toJSON() as Json;
  });

  it('gives functions declared with identical grants one role, and functions with different grants different roles', () => {
    const names = entryPoints().map(([name]) => name);
    const keyOf = (name: EntryPointName) => {
      const entry = entryPoints().find(([n]) => n === name)![1];
      return WITH_DEAD_LETTER_QUEUE.includes(name) ? `${grantKeyOf(entry.uses)} own queue ${name}` : grantKeyOf(entry.uses);
    };
    for (const a of names) {
      for (const b of names) {
        expect({ a, b, sameRole: roleOf(shared, a) === roleOf(shared, b) }).toEqual({ a, b, sameRole: keyOf(a) === keyOf(b) });
      }
    }
    // Some do share: the journeys-table readers (list/get of journeys, segments, offers, placements, rules).
    expect(new Set(['listJourneys', 'listSegments', 'getOffer', 'getPlacement', 'listRules'].map((n) => roleOf(shared, n))).size).toBe(1);
  });

  it("leaves every function's effective permissions exactly what a role of its own gives it", () => {
    for (const [name] of entryPoints()) expect({ name, permissions: permissions(shared, name) }).toEqual({ name, permissions: permissions(separate, name) });
  });

  it('lets each function write only its own log group, limited to it by lambda:SourceFunctionArn', () => {
    for (const [name] of entryPoints()) {
      const fnId = functionIdOf(shared, name);
      const logGroupId = (shared.Resources[fnId].Properties?.LoggingConfig?.LogGroup as { Ref: string }).Ref;
      const logs = effectiveStatements(shared, fnId).filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
      expect({ name, logs }).toEqual({
        name,
        logs: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
            Condition: { ArnLike: { 'lambda:SourceFunctionArn': [{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] }] } },
          },
        ],
      });
    }
  });

  it('costs two resources per role (the role with its grants inline, and its functions\' log grants) instead of two per function', () => {
    const functionRoles = new Set(entryPoints().map(([name]) => roleOf(shared, name)));
    const logPolicies = resourcesOfType(shared, 'AWS::IAM::Policy').filter(([, p]) => ((p.Properties?.Roles ?? []) as { Ref: string }[]).some((r) => functionRoles.has(r.Ref)));
    // The task-token policy is the only other one on function roles.
    expect(logPolicies.length).toBe(functionRoles.size + 1);
    expect(Object.keys(separate.Resources).length - Object.keys(shared.Resources).length).toBe(2 * (entryPoints().length - functionRoles.size));
  });
});
