import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeDataKeyWildcards } from '../nag';

/** The attribute naming the stack (construct path) whose custom resource put the item. */
export const DEPLOYED_BY = 'deployedBy';

export interface JourneysTableItemProps {
  readonly resourceType: string;
  readonly journeysTable: dynamodb.ITable;
  /** DynamoDB JSON of the item and its key. */
  readonly item: Record<string, unknown>;
  readonly key: Record<string, unknown>;
  readonly physicalResourceId: string;
  /** Deletes only when this holds (the item is still the deployment's), e.g. `#origin = :file`. */
  readonly deleteCondition: { expression: string; names: Record<string, string>; values: Record<string, unknown> };
  /** Execution role of the AwsCustomResource provider Lambda (shared by every registration). */
  readonly registrationRole?: iam.IRole;
  readonly registrationLogGroup?: logs.ILogGroup;
}

/**
 * An item of the journeys table written at deploy time (journey registry items, file segments, offers, placements):
 * PutItem on create and update, a conditional DeleteItem on delete (a condition that fails is ignored), through the
 * shared AwsCustomResource provider.
 */
export function journeysTableItem(scope: Construct, id: string, props: JourneysTableItemProps): cr.AwsCustomResource {
  const writeStatement = new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [props.journeysTable.tableArn] });
  // CDK renders identical statements of one policy once, so every item sharing the role adds nothing after the first.
  props.registrationRole?.addToPrincipalPolicy(writeStatement);
  // The item names the stack that put it, and only that stack deletes it: when an item moves to another stack (e.g. into a
  // registry shard), CloudFormation creates it there before deleting it here, and that delete must leave it alone.
  const owner = Stack.of(scope).node.path;
  const deleteCondition = {
    expression: `${props.deleteCondition.expression} AND #${DEPLOYED_BY} = :${DEPLOYED_BY}`,
    names: { ...props.deleteCondition.names, [`#${DEPLOYED_BY}`]: DEPLOYED_BY },
    values: { ...props.deleteCondition.values, [`:${DEPLOYED_BY}`]: { S: owner } },
  };
  const registration = new cr.AwsCustomResource(scope, id, {
    resourceType: props.resourceType,
    onUpdate: {
      service: 'DynamoDB',
      action: 'putItem',
      parameters: { TableName: props.journeysTable.tableName, Item: { ...props.item, [DEPLOYED_BY]: { S: owner } } },
      physicalResourceId: cr.PhysicalResourceId.of(props.physicalResourceId),
    },
    onDelete: {
      service: 'DynamoDB',
      action: 'deleteItem',
      parameters: {
        TableName: props.journeysTable.tableName,
        Key: props.key,
        ConditionExpression: deleteCondition.expression,
        ExpressionAttributeNames: deleteCondition.names,
        ExpressionAttributeValues: deleteCondition.values,
      },
      ignoreErrorCodesMatching: 'ConditionalCheckFailedException',
    },
    // With a shared role the grant is made once on it (below): a policy per item would put one inline policy per
    // file on that role, past IAM's 10,240 characters with a few dozen files.
    policy: props.registrationRole ? undefined : cr.AwsCustomResourcePolicy.fromStatements([writeStatement]),
    role: props.registrationRole,
    logGroup: props.registrationLogGroup,
    // The SDK in the provider's runtime suffices for PutItem/DeleteItem, and deploys need no npm access.
    installLatestAwsSdk: false,
    timeout: Duration.minutes(2),
  });
  // The key grant lands in the provider role's default policy, which the custom resource must wait for.
  if (props.registrationRole) registration.node.addDependency(props.registrationRole);
  if (props.journeysTable.encryptionKey) {
    props.journeysTable.encryptionKey.grantEncryptDecrypt(registration);
    acknowledgeDataKeyWildcards(registration.grantPrincipal instanceof Construct ? registration.grantPrincipal : registration);
  }
  return registration;
}
