import { createHash } from 'node:crypto';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { journeysTableItem } from './journeys-table-item';

/** The version every file segment, offer and placement is stored with (the API refuses to change file entries, so it never moves). */
export const FILE_CATALOG_VERSION = 1;

/**
 * The `updatedAt` of file segments, offers and placements: not a time but the marker "deployed" (the entry changes only with a
 * deployment). A constant keeps the template identical across synths; `contentHash` tells one content from another.
 */
export const FILE_CATALOG_UPDATED_AT = 'deployed';

export type CatalogKind = 'segment' | 'offer' | 'placement' | 'rule';

const RESOURCE_TYPES: Record<CatalogKind, string> = {
  segment: 'Custom::WaymarkSegmentRegistration',
  offer: 'Custom::WaymarkOfferRegistration',
  placement: 'Custom::WaymarkPlacementRegistration',
  rule: 'Custom::WaymarkRuleRegistration',
};

export interface CatalogRegistrationProps {
  readonly kind: CatalogKind;
  /** The validated segment, offer, placement or governance rule (from `loadSegments`, `loadDecisionFiles`, `loadRules`). */
  readonly definition: { readonly id: string };
  /** The journeys table: segments live in its `SEGMENTS` partition, offers in `OFFERS`, placements in `PLACEMENTS`, rules in `RULES`. */
  readonly journeysTable: dynamodb.ITable;
  /**
   * The `updatedAt` written with the item.
   * @default FILE_CATALOG_UPDATED_AT ('deployed')
   */
  readonly updatedAt?: string;
  /** Execution role of the AwsCustomResource provider Lambda (shared with the journey registrations). */
  readonly registrationRole?: iam.IRole;
  /** Log group of the AwsCustomResource provider Lambda. */
  readonly registrationLogGroup?: logs.ILogGroup;
}

/** SHA-256 (hex) of the stored definition string. */
export const contentHash = (definition: string): string => createHash('sha256').update(definition, 'utf8').digest('hex');

/**
 * One file segment, offer or placement in the journeys table, the item `DynamoCatalogStore` reads: pk
 * `SEGMENTS`/`OFFERS`/`PLACEMENTS`, sk `SEGMENT#<id>`/`OFFER#<id>`/`PLACEMENT#<id>`, `definition` as a JSON string (a
 * rule as nested maps could exceed DynamoDB's 32 levels), `contentHash` (SHA-256 of that string), `origin` `file`, `version` 1, `updatedAt`. Put on deploy
 * and whenever the item changes; deleted when the file goes away (only while it is still a file entry).
 */
export class CatalogRegistration extends Construct {
  public readonly kind: CatalogKind;
  public readonly definition: { readonly id: string };
  public readonly registration: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: CatalogRegistrationProps) {
    super(scope, id);
    this.kind = props.kind;
    this.definition = props.definition;
    const prefix = props.kind.toUpperCase();
    const key = { pk: { S: `${prefix}S` }, sk: { S: `${prefix}#${props.definition.id}` } };
    const definition = JSON.stringify(props.definition);
    const item = {
      ...key,
      definition: { S: definition },
      contentHash: { S: contentHash(definition) },
      origin: { S: 'file' },
      version: { N: String(FILE_CATALOG_VERSION) },
      updatedAt: { S: props.updatedAt ?? FILE_CATALOG_UPDATED_AT },
    };
    this.registration = journeysTableItem(this, 'Registration', {
      resourceType: RESOURCE_TYPES[props.kind],
      journeysTable: props.journeysTable,
      // Unconditional put: a deployment owns its file entries (the API refuses to create one with a file entry's id).
      item,
      key,
      // One resource per id for its whole life: changed content is an update (a new put), not a replacement.
      physicalResourceId: `${props.kind}/${props.definition.id}`,
      // Never deletes an entry that is no longer the file's (or is already gone).
      deleteCondition: { expression: '#origin = :file', names: { '#origin': 'origin' }, values: { ':file': { S: 'file' } } },
      registrationRole: props.registrationRole,
      registrationLogGroup: props.registrationLogGroup,
    });
  }
}
