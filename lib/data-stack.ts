import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TableKeys, ProfileIndex } from '../lambdas/core/config/env-keys';
import { acknowledge } from './nag';

export interface WaymarkDataStackProps extends StackProps {
  /** The stage name; the bus is named `waymark-<stage>`. */
  readonly stage: string;
  /**
   * How long the bus archive keeps every event (for replay after a bug fix or a new journey).
   * @default Duration.days(365)
   */
  readonly archiveRetention?: Duration;
  /**
   * Days after which the campaign audience bucket expires a run's objects (`runs/`) and the Distributed Map results
   * (`campaign-results/`).
   * @default 30
   */
  readonly audienceExpirationDays?: number;
}

/**
 * A bucket of the data stack as other stacks import it: by export names of its own (Export/ImportValue, strong like the
 * tables' references), so an ARN under it reads the same in every stack that names it (cdk-nag findings, IAM).
 */
export interface ExportedBucket {
  readonly exportingStack: Stack;
  readonly bucketArnExport: string;
  readonly bucketNameExport: string;
  readonly encryptionKey?: kms.IKey;
}

/** The exported bucket as an `IBucket` of `scope`'s stack (Fn::ImportValue of its ARN and name). */
export function importBucket(scope: Construct, id: string, exported: ExportedBucket): s3.IBucket {
  return s3.Bucket.fromBucketAttributes(scope, id, {
    bucketArn: Fn.importValue(exported.bucketArnExport),
    bucketName: Fn.importValue(exported.bucketNameExport),
    encryptionKey: exported.encryptionKey,
  });
}

/** The audience bucket's prefixes (lambdas/core/campaigns/contract.ts): run sets, and Distributed Map results. */
export const AUDIENCE_RUNS_PREFIX = 'runs/';
export const AUDIENCE_RESULTS_PREFIX = 'campaign-results/';

/**
 * The stateful half of Waymark: the tables, the event bus and its archive, and the keys whose loss breaks data already
 * out there (profile ids, unsubscribe links). What holds data or keys is retained when the stack is deleted, and
 * nothing here changes when journeys or handlers do, so the application stack can be replaced freely.
 */
export class WaymarkDataStack extends Stack {
  /** Encrypts the three tables (customer managed, rotated yearly). */
  public readonly dataKey: kms.Key;
  /** Profiles, identities and consents (PII). */
  public readonly profilesTable: dynamodb.Table;
  /** The journey registry written at deploy time (one item per journey). */
  public readonly journeysTable: dynamodb.Table;
  /** Enrollments, wait registrations, the send ledger and rejected events; items expire through `expiresAt`. */
  public readonly runtimeTable: dynamodb.Table;
  /** The business event bus, `waymark-<stage>`. */
  public readonly eventBus: events.EventBus;
  /** Keeps every event on the bus for replay; retained (replays go to the bus of the same name once it exists again). */
  public readonly eventArchive: events.Archive;
  /** HMAC key ring of unsubscribe links: replacing it would break every link already in an inbox (90 days). */
  public readonly unsubscribeSecret: secretsmanager.Secret;
  /** The privacy key: profile ids, suppression-list keys, identity hashes of rejected events (never rotated). */
  public readonly privacyKeySecret: secretsmanager.Secret;
  /**
   * Campaign audiences as JSON Lines (`runs/<campaignId>/<runId>/…`) and the campaigns' Distributed Map results
   * (`campaign-results/`), both expired by lifecycle; encrypted with the data key (profile ids and copied attributes).
   */
  public readonly audienceBucket: s3.Bucket;
  /** How the app stack and the campaigns' stack import the audience bucket (`importBucket`). */
  public readonly audienceBucketExports: ExportedBucket;

  constructor(scope: Construct, id: string, props: WaymarkDataStackProps) {
    super(scope, id, props);

    // A customer managed key rather than AWS_MANAGED: the profiles hold PII, and a key of our own gives a key
    // policy we control, decrypt calls attributable in CloudTrail, and crypto-shredding if a stage is retired.
    this.dataKey = new kms.Key(this, 'DataKey', {
      description: `Waymark ${props.stage}: encryption at rest for the profiles, journeys and runtime tables`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.profilesTable = this.table('ProfilesTable');
    this.journeysTable = this.table('JourneysTable');
    this.runtimeTable = this.table('RuntimeTable');
    this.runtimeTable.addGlobalSecondaryIndex({
      indexName: ProfileIndex.name,
      partitionKey: { name: ProfileIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ProfileIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });

    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: `waymark-${props.stage}` });
    this.eventArchive = this.eventBus.archive('EventArchive', {
      description: `Every event on waymark-${props.stage}, for replay`,
      // An archive needs a pattern; every event on the bus carries this account.
      eventPattern: { account: [Stack.of(this).account] },
      retention: props.archiveRetention ?? Duration.days(365),
    });
    // aws-cdk-lib writes KmsKeyIdentifier "" when no key is given, which some regions refuse
    // (https://github.com/aws/aws-cdk/issues/37847); absent, the archive uses the AWS owned key.
    (this.eventArchive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');
    // The events outlive the stack. The bus itself is not retained (its name is fixed and it holds nothing); a deploy
    // after a destroy creates it again under the same name and ARN, the one an archive replays to.
    this.eventArchive.applyRemovalPolicy(RemovalPolicy.RETAIN);

    // The two keys live here, retained, so the app stack can be replaced without changing a profile id, forgetting a
    // suppression or breaking an unsubscribe link already sent.
    this.unsubscribeSecret = new secretsmanager.Secret(this, 'UnsubscribeSecret', {
      description: `Waymark ${props.stage}: HMAC key of unsubscribe links`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A new key would change every new profile's id and forget every suppression: never rotated, kept on deletion.
    this.privacyKeySecret = new secretsmanager.Secret(this, 'PrivacyKeySecret', {
      description: `Waymark ${props.stage}: key of profile ids and the suppression list (HMAC-SHA256)`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.privacyKeySecret,
      'AwsSolutions-SMG4',
      'The privacy key derives profile ids and suppression-list keys; rotating it would change the id of every new profile and forget every suppressed address.',
    );
    acknowledge(
      this.unsubscribeSecret,
      'AwsSolutions-SMG4',
      'The link key rotates by hand, in two phases, as a key ring (current and previous keys, each token names its key; lambdas/core/consent/README.md) so the links already in inboxes (90 days) keep working; Secrets Manager managed rotation would need a ring-aware rotation function, not built.',
    );

    this.audienceBucket = this.audienceBucketOf(props.audienceExpirationDays ?? 30);

    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName, description: 'PutEvents target for business events' });
    new CfnOutput(this, 'ProfilesTableName', { value: this.profilesTable.tableName });
    new CfnOutput(this, 'JourneysTableName', { value: this.journeysTable.tableName });
    new CfnOutput(this, 'RuntimeTableName', { value: this.runtimeTable.tableName });
    this.audienceBucketExports = {
      exportingStack: this,
      bucketArnExport: `${this.stackName}:AudienceBucketArn`,
      bucketNameExport: `${this.stackName}:AudienceBucketName`,
      encryptionKey: this.dataKey,
    };
    new CfnOutput(this, 'AudienceBucketName', {
      value: this.audienceBucket.bucketName,
      description: 'Campaign audiences (JSON Lines) and Distributed Map results',
      exportName: this.audienceBucketExports.bucketNameExport,
    });
    new CfnOutput(this, 'AudienceBucketArn', { value: this.audienceBucket.bucketArn, exportName: this.audienceBucketExports.bucketArnExport });
  }

  /**
   * No fixed name (a generated one never collides after a destroy), retained like the tables: a run's sets outlive a
   * replaced stack until the lifecycle expires them. The data key with an S3 Bucket Key (one KMS call per object, not
   * per request: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
   */
  private audienceBucketOf(expirationDays: number): s3.Bucket {
    if (!Number.isInteger(expirationDays) || expirationDays < 1) throw new Error(`audienceExpirationDays must be a whole number of days ≥ 1 (got ${expirationDays})`);
    const bucket = new s3.Bucket(this, 'AudienceBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'ExpireRuns', prefix: AUDIENCE_RUNS_PREFIX, expiration: Duration.days(expirationDays) },
        { id: 'ExpireCampaignResults', prefix: AUDIENCE_RESULTS_PREFIX, expiration: Duration.days(expirationDays) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    acknowledge(
      bucket,
      'AwsSolutions-S1',
      'Short-lived campaign working sets written and read only by the stage\'s own roles (campaign-step, the campaign state machines), expired after days; server access logs would need a second bucket and keep the keys longer than the data. Enable CloudTrail S3 data events where an access trail is required.',
    );
    return bucket;
  }

  private table(id: string): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: TableKeys.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TableKeys.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TableKeys.ttl,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
