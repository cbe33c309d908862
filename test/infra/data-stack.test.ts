import { Match, Template } from 'aws-cdk-lib/assertions';
import { resourcesOfType, STAGE, testApp } from './waymark-app';
import { WaymarkDataStack } from '../../lib/data-stack';

describe('WaymarkDataStack', () => {
  let template: Template;
  let stack: WaymarkDataStack;
  beforeAll(() => {
    stack = new WaymarkDataStack(testApp(), 'Data', { stage: STAGE });
    template = Template.fromStack(stack);
  });

  it('creates the profiles, journeys and runtime tables, exposed by the stack', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    for (const table of [stack.profilesTable, stack.journeysTable, stack.runtimeTable]) expect(table.tableName).toBeDefined();
  });

  it('keys every table on pk/sk strings, with TTL on expiresAt, billed per request', () => {
    for (const [id, table] of resourcesOfType(template.toJSON(), 'AWS::DynamoDB::Table')) {
      expect({ id, ...table.Properties }).toMatchObject({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: expect.arrayContaining([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      });
    }
  });

  it('turns point-in-time recovery on for every table', () => {
    for (const [id, table] of resourcesOfType(template.toJSON(), 'AWS::DynamoDB::Table')) {
      expect({ id, pitr: table.Properties?.PointInTimeRecoverySpecification }).toEqual({ id, pitr: { PointInTimeRecoveryEnabled: true } });
    }
  });

  it('encrypts every table with the rotated customer managed data key', () => {
    const keys = resourcesOfType(template.toJSON(), 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0];
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    for (const [id, table] of resourcesOfType(template.toJSON(), 'AWS::DynamoDB::Table')) {
      expect({ id, sse: table.Properties?.SSESpecification }).toEqual({
        id,
        sse: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
    }
  });

  it('retains the tables and the key when the stack or a table is replaced or deleted', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
    const retained = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table' || r.Type === 'AWS::KMS::Key');
    expect(retained).toHaveLength(4);
    for (const [id, r] of retained) expect({ id, deletion: r.DeletionPolicy, replace: r.UpdateReplacePolicy }).toEqual({ id, deletion: 'Retain', replace: 'Retain' });
  });

  it(`names the bus waymark-${STAGE} and archives every event on it for a year`, () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `waymark-${STAGE}` });
    const [busId] = resourcesOfType(template.toJSON(), 'AWS::Events::EventBus')[0];
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      RetentionDays: 365,
      EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
    });
  });

  it('outputs the bus and table names', () => {
    for (const name of ['EventBusName', 'ProfilesTableName', 'JourneysTableName', 'RuntimeTableName']) template.hasOutput(name, { Value: Match.anyValue() });
  });
});
