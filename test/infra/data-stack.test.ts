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

  describe('campaign audience bucket', () => {
    const bucketOf = (t: Template) => {
      const buckets = resourcesOfType(t.toJSON(), 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(1);
      return buckets[0];
    };

    it('encrypts with the data key (S3 Bucket Key), blocks public access, and has no fixed name', () => {
      const [keyId] = resourcesOfType(template.toJSON(), 'AWS::KMS::Key')[0];
      const [, bucket] = bucketOf(template);
      expect(bucket.Properties?.BucketName).toBeUndefined();
      expect(bucket.Properties?.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        ],
      });
      expect(bucket.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it('refuses every request that is not over TLS', () => {
      const [bucketId] = bucketOf(template);
      const policies = resourcesOfType(template.toJSON(), 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties?.Bucket?.Ref === bucketId);
      expect(policies).toHaveLength(1);
      expect(policies[0][1].Properties?.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('expires runs/ and campaign-results/ after 30 days and aborts incomplete uploads after a day', () => {
      const [, bucket] = bucketOf(template);
      expect(bucket.Properties?.LifecycleConfiguration.Rules).toEqual([
        { Id: 'ExpireRuns', Prefix: 'runs/', ExpirationInDays: 30, Status: 'Enabled' },
        { Id: 'ExpireCampaignResults', Prefix: 'campaign-results/', ExpirationInDays: 30, Status: 'Enabled' },
        { Id: 'AbortIncompleteUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
      ]);
    });

    it('expires after the configured number of days, and refuses a number that is not a whole day count', () => {
      const seven = Template.fromStack(new WaymarkDataStack(testApp(), 'Data', { stage: STAGE, audienceExpirationDays: 7 }));
      const rules = bucketOf(seven)[1].Properties?.LifecycleConfiguration.Rules as { ExpirationInDays?: number }[];
      expect(rules.map((r) => r.ExpirationInDays)).toEqual([7, 7, undefined]);
      expect(() => new WaymarkDataStack(testApp(), 'Data', { stage: STAGE, audienceExpirationDays: 0 })).toThrow(/audienceExpirationDays/);
    });

    it('is retained like the tables, and its name is an output', () => {
      const [, bucket] = bucketOf(template);
      expect({ deletion: bucket.DeletionPolicy, replace: bucket.UpdateReplacePolicy }).toEqual({ deletion: 'Retain', replace: 'Retain' });
      template.hasOutput('AudienceBucketName', { Value: Match.anyValue() });
    });
  });
});
