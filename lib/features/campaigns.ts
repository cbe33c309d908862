import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { DeployedCampaign } from '../campaigns';
import type { ExportedBucket } from '../data-stack';
import type { CampaignStateMachine } from '../constructs/campaign-state-machine';
import { CampaignsStack } from '../constructs/campaigns-stack';
import { Feature } from './feature';

export interface CampaignsFeatureProps {
  readonly stage: string;
  /** The validated, compiled campaign files (`loadCampaigns()`). */
  readonly campaigns: readonly DeployedCampaign[];
  readonly audienceBucket: ExportedBucket;
  readonly journeysTable: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Campaigns: the functions of the entry points declared with feature `campaigns` (campaign-step, the campaign API),
 * and, when there is any campaign file, the `Campaigns` nested stack holding one state machine, schedule and registry
 * item per campaign (lib/README.md: why a stack of their own).
 */
export class CampaignsFeature extends Feature {
  /** Absent when there are no campaign files (nothing is deployed for campaigns but the functions). */
  public readonly campaignsStack?: CampaignsStack;
  /** The campaigns deployed (for their alarms and dashboard: `Monitoring`). */
  public readonly deployed: readonly DeployedCampaign[];

  constructor(scope: Construct, id: string, props: CampaignsFeatureProps) {
    super(scope, id, { feature: 'campaigns', logRetention: props.logRetention });
    this.createFunctions();
    this.deployed = props.campaigns;
    if (props.campaigns.length === 0) return;
    this.campaignsStack = new CampaignsStack(this, 'Campaigns', {
      stage: props.stage,
      campaigns: props.campaigns,
      campaignStep: this.fn('campaignStep').function,
      audienceBucket: props.audienceBucket,
      journeysTable: props.journeysTable,
      logRetention: props.logRetention,
    });
  }

  /** The campaigns' state machines by campaign id. */
  public get campaigns(): ReadonlyMap<string, CampaignStateMachine> {
    return this.campaignsStack?.campaigns ?? new Map();
  }
}
