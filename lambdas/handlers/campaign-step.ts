import { awsStores } from '../adapters/aws';
import { awsCampaignStores } from '../adapters/aws-campaigns';
import { awsExecutions } from '../adapters/aws-executions';
import { createCampaignStepHandler } from '../app/campaign-step';
import { campaignStepActions } from '../app/campaign-step-actions';

export const handler = createCampaignStepHandler(campaignStepActions({ ...awsStores(), ...awsCampaignStores(), ...awsExecutions() }));
