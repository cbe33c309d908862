import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { SegmentDefinition } from '../../lambdas/core/segments/rule';
import { acknowledgeDataKeyWildcards } from '../nag';

/** The version every file segment is stored with (the API refuses to change file segments, so it never moves). */
export const FILE_SEGMENT_VERSION = 1;

export interface SegmentRegistrationProps {
  /** The validated segment (from `loadSegments`). */
  readonly segment: SegmentDefinition;
  /** The journeys table: segments live in its `SEGMENTS` partition. */
  readonly journeysTable: dynamodb.ITable;
  /** The `updatedAt` written with the item (ISO-8601). */
  readonly updatedAt: string;
  /** Execution role of the AwsCustomResource provider Lambda (shared with the journey registrations). */
  readonly registrationRole?: iam.IRole;
  /** Log group of the AwsCustomResource provider Lambda. */
  readonly registrationLogGroup?: logs.ILogGroup;
}

/**
 * One file segment in the journeys table, the item `DynamoSegmentStore` reads: pk `SEGMENTS`, sk `SEGMENT#<id>`,
 * `definition` (the segment as a map), `origin` `file`, `version` 1, `updatedAt`. Put on deploy and whenever the item
 * changes; deleted when the file goes away (only while it is still a file segment).
 */
export class SegmentRegistration extends Construct {
  public readonly segment: SegmentDefinition;
  public readonly registration: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: SegmentRegistrationProps) {
    super(scope, id);
    this.segment = props.segment;
    const key = { pk: { S: 'SEGMENTS' }, sk: { S: `SEGMENT#${props.segment.id}` } };
    const item = {
      ...key,
      definition: toAttributeValue(props.segment),
      origin: { S: 'file' },
      version: { N: String(FILE_SEGMENT_VERSION) },
      updatedAt: { S: props.updatedAt },
    };
    const put: cr.AwsSdkCall = {
      service: 'DynamoDB',
      action: 'putItem',
      // Unconditional: a deployment owns its file segments (the API refuses to create one with a file segment's id).
      parameters: { TableName: props.journeysTable.tableName, Item: item },
      // One resource per segment id for its whole life: a changed definition is an update (a new put), not a replacement.
      physicalResourceId: cr.PhysicalResourceId.of(`segment/${props.segment.id}`),
    };
    this.registration = new cr.AwsCustomResource(this, 'Registration', {
      resourceType: 'Custom::WaymarkSegmentRegistration',
      onUpdate: put,
      onDelete: {
        service: 'DynamoDB',
        action: 'deleteItem',
        parameters: {
          TableName: props.journeysTable.tableName,
          Key: key,
          // Never deletes a segment that is no longer the file's (or is already gone).
          ConditionExpression: '#origin = :file',
          ExpressionAttributeNames: { '#origin': 'origin' },
          ExpressionAttributeValues: { ':file': { S: 'file' } },
        },
        ignoreErrorCodesMatching: 'ConditionalCheckFailedException',
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [props.journeysTable.tableArn] }),
      ]),
      role: props.registrationRole,
      logGroup: props.registrationLogGroup,
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
    });
    if (props.registrationRole) this.registration.node.addDependency(props.registrationRole);
    if (props.journeysTable.encryptionKey) {
      props.journeysTable.encryptionKey.grantEncryptDecrypt(this.registration);
      acknowledgeDataKeyWildcards(this.registration.grantPrincipal instanceof Construct ? this.registration.grantPrincipal : this.registration);
    }
  }
}

type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true } | { L: AttributeValue[] } | { M: Record<string, AttributeValue> };

/** DynamoDB JSON of a JSON value (what the document client's marshaller writes: objects as maps, arrays as lists). */
export function toAttributeValue(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot store ${value} in DynamoDB`);
    return { N: String(value) };
  }
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  if (typeof value === 'object') {
    return { M: Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toAttributeValue(v)])) };
  }
  throw new Error(`cannot store a ${typeof value} in DynamoDB`);
}
