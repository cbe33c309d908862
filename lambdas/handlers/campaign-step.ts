import { PinpointClient } from '@aws-sdk/client-pinpoint';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { awsStores, awsTables } from '../adapters/aws';
import { awsCampaignStores } from '../adapters/aws-campaigns';
import { awsExecutions } from '../adapters/aws-executions';
import { awsCampaignSender } from '../adapters/campaign-sender';
import { S3AudienceFiles } from '../adapters/s3-audience-files';
import { createCampaignStepHandler } from '../app/campaign-step';
import { campaignStepActions } from '../app/campaign-step-actions';
import { EnvKey } from '../core/config/env-keys';
import { enrollmentRuns } from '../core/governance/runs';
import { cachedRuleSource } from '../core/governance/store';
import { countingCampaignMessages } from '../core/campaigns/metrics';
import { MissingEnvironmentError } from '../shared/env';
import { emitCampaignMessageMetric } from '../shared/campaign-metrics';
import { logger, traced } from '../shared/powertools';

const { env } = awsTables();
const stores = awsStores();
const campaign = awsCampaignStores();
const { executions } = awsExecutions();
const { clock } = campaign;
const required = (value: string | undefined, key: EnvKey) => {
  if (value === undefined) throw new MissingEnvironmentError(key);
  return value;
};

export const handler = createCampaignStepHandler(
  campaignStepActions({
    ...stores,
    ...campaign,
    // Messages sent, failed and suppressed per campaign and channel (Powertools metric CampaignMessages).
    runs: countingCampaignMessages(campaign.runs, campaign.registry, emitCampaignMessageMetric, (error) =>
      logger.warn('campaign message metric not emitted', { error }),
    ),
    executions,
    files: new S3AudienceFiles(traced(new S3Client({})), required(env.audienceBucketName, EnvKey.audienceBucketName)),
    // The same requests as the journeys' delivery states (entry point `messages: 'send'` gives these variables).
    sender: awsCampaignSender({
      ses: traced(new SESv2Client({})),
      sms: traced(new PinpointSMSVoiceV2Client({})),
      pinpoint: traced(new PinpointClient({})),
      senderEmail: required(env.senderEmail, EnvKey.senderEmail),
      configurationSetName: required(env.emailConfigurationSet, EnvKey.emailConfigurationSet),
      pushApplicationId: env.pushApplicationId,
      smsOriginationIdentity: env.smsOriginationIdentity,
      smsConfigurationSetName: env.smsConfigurationSet,
    }),
    stageTimeZone: env.defaultTimeZone,
    controlGroupPercent: env.campaignControlGroupPercent,
    // As prepare-send: the stored rules (read at most once a minute), cap slots, arbitration over running journeys.
    governance: {
      rules: cachedRuleSource(stores.ruleStore, clock),
      caps: stores.sendCaps,
      defaultTimeZone: env.defaultTimeZone,
      arbitration: { journeys: stores.journeys, runs: enrollmentRuns({ enrollments: stores.enrollments, executions }) },
    },
    decisions: { ...stores, clock },
  }),
);
