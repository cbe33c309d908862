import { NestedStack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeJourneyRoleWildcards } from './journey-state-machine';

/**
 * Shards the app stack holds while every journey and file fits in it; beyond either, everything goes into
 * `REGISTRY_SHARDS` nested stacks. CloudFormation allows 500 resources and a 1 MB template per stack
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html); a journey adds 9 resources
 * (with its version and `live` alias) and 22–40 KB, a file 1 resource and ~1–2 KB. The shipped app stack (9 journeys,
 * 18 files, 51 functions) holds 421 resources, so the limits keep it under ~460 at most inline (test/infra/entry-points.test.ts).
 */
export const INLINE_JOURNEY_LIMIT = 12;
export const INLINE_CATALOG_FILE_LIMIT = 30;
/**
 * Fixed, so a journey's or file's shard depends on its id alone and adding one never moves another. 32 shards hold
 * ~600 journeys before the busiest reaches 800 KB (test/infra/scale.test.ts measures 200).
 */
export const REGISTRY_SHARDS = 32;

/** The shard of an id: FNV-1a (32 bit) of its UTF-8 bytes, modulo the shard count; stable across synths and machines. */
export function shardOf(id: string, shards: number = REGISTRY_SHARDS): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

export interface RegistryShardProps {
  readonly description: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A nested stack of journeys (state machine, log group, role, alarm, registry item) and file segments, offers and
 * placements, with its own registration role and log group (the AwsCustomResource provider is one per stack).
 */
export class RegistryShard extends NestedStack {
  public readonly registrationRole: iam.Role;
  public readonly registrationLogGroup: logs.LogGroup;
  private sharedJourneyRole?: iam.Role;

  constructor(scope: Construct, id: string, props: RegistryShardProps) {
    super(scope, id, { description: props.description });
    this.registrationRole = new iam.Role(this, 'RegistrationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Waymark: the AwsCustomResource provider that writes the journey, segment, offer and placement items of this shard',
    });
    this.registrationLogGroup = new logs.LogGroup(this, 'RegistrationLogGroup', { retention: props.logRetention });
    this.registrationLogGroup.grantWrite(this.registrationRole);
  }

  /**
   * The execution role of every journey of this shard (created with the first): journeys need the same permissions,
   * so one role per shard saves a role and a policy per journey and its policy does not grow with them.
   */
  public journeyRole(): iam.Role {
    if (!this.sharedJourneyRole) {
      this.sharedJourneyRole = new iam.Role(this, 'JourneyRole', {
        assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
        description: 'Waymark: execution role of the journeys of this shard',
      });
      acknowledgeJourneyRoleWildcards(this.sharedJourneyRole);
    }
    return this.sharedJourneyRole;
  }
}
