import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgments go through CDK's `Validations.of(scope).acknowledge`, one finding id at a time
 * (no regex, no bulk form); an acknowledgment covers the construct and everything under it.
 */
export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/** Acknowledges AwsSolutions-IAM5 for the given findings (`Resource::...` or `Action::...`). */
export function acknowledgeWildcards(scope: IConstruct, findings: readonly string[], reason: string): void {
  for (const finding of findings) acknowledge(scope, `AwsSolutions-IAM5[${finding}]`, reason);
}

/** The IAM5 finding for a resource ARN as cdk-nag spells it (tokens flattened, e.g. `arn:<AWS::Partition>:...`). */
export function resourceFinding(scope: IConstruct, arn: string): string {
  return `Resource::${flattenCfnReference(Stack.of(scope).resolve(arn))}`;
}

/**
 * CDK's DynamoDB write grants on a table encrypted with a customer managed key add kms:ReEncrypt* and
 * kms:GenerateDataKey* (the actions DynamoDB's documented key policy lists), on that one key only.
 */
export function acknowledgeDataKeyWildcards(scope: IConstruct): void {
  acknowledgeWildcards(
    scope,
    ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
    'Writing to a DynamoDB table encrypted with the Waymark data key: CDK grants kms:ReEncrypt* and kms:GenerateDataKey* as DynamoDB documents for customer managed keys, and only on that single key ARN.',
  );
}
