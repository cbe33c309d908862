import { SFNClient } from '@aws-sdk/client-sfn';
import { awsCampaignStores } from '../adapters/aws-campaigns';
import { StepFunctionsVersions } from '../adapters/step-functions-versions';
import { createGetCampaignHandler } from '../app/campaigns';
import { traced } from '../shared/powertools';

export const handler = createGetCampaignHandler({ ...awsCampaignStores(), versions: new StepFunctionsVersions(traced(new SFNClient({}))) });
