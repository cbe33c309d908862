import type { DeployedCampaign } from '../../lib/campaigns';
import type { AslDefinition } from '../../lambdas/core/journey/asl';
import { compileCampaign } from '../../lambdas/core/campaigns/compile';
import { Campaign, type CampaignInput } from '../../lambdas/core/campaigns/schema';

const step = '${CampaignStepFunctionArn}';
const invoke = (parameters: Record<string, unknown>, next: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: step, Payload: parameters },
  ...next,
});

/**
 * A small hand-written campaign definition in the layout of /work/briefs/campaigns.md (Start, the audience Map,
 * compose, one `deliver` Distributed Map inside the `Run` Parallel, Finish): what the CDK construct must deploy as it
 * is, until compileCampaign is merged.
 */
export function handWrittenDefinition(campaignId: string): AslDefinition {
  return {
    Comment: `campaign ${campaignId} (hand-written for the infra tests)`,
    StartAt: 'Start',
    TimeoutSeconds: 7 * 86400,
    States: {
      Start: invoke(
        { action: 'start', 'input.$': '$', 'executionArn.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' },
        { ResultSelector: { 'run.$': '$.Payload.run', 'parts.$': '$.Payload.parts', 'totalSegments.$': '$.Payload.totalSegments', 'duplicate.$': '$.Payload.duplicate' }, Next: 'Started' },
      ),
      Started: { Type: 'Choice', Choices: [{ Variable: '$.duplicate', BooleanEquals: true, Next: 'Duplicate' }], Default: 'Run' },
      Duplicate: { Type: 'Succeed' },
      Run: {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'welcome',
            States: {
              welcome: {
                Type: 'Map',
                // As compileCampaign labels each Distributed Map (mapRunLabel): its children's metrics name it.
                Label: 'welcome',
                ItemReader: {
                  Resource: 'arn:aws:states:::s3:getObject',
                  ReaderConfig: { InputType: 'JSONL' },
                  Parameters: { Bucket: '${AudienceBucketName}', 'Key.$': '$.sets.audience.key' },
                },
                ItemBatcher: { MaxItemsPerBatch: 100, MaxInputBytesPerBatch: 200000, BatchInput: { 'run.$': '$.run', step: 'welcome', rate: 100, concurrency: 10 } },
                MaxConcurrency: 10,
                ToleratedFailurePercentage: 0,
                ItemProcessor: {
                  ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
                  StartAt: 'welcome.batch',
                  States: {
                    'welcome.batch': invoke(
                      { action: 'deliver', 'run.$': '$.BatchInput.run', step: 'welcome', rate: 100, concurrency: 10, 'items.$': '$.Items' },
                      { OutputPath: '$.Payload', End: true },
                    ),
                  },
                },
                ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: '${AudienceBucketName}', Prefix: `runs/${campaignId}/results/welcome` } },
                ResultPath: null,
                End: true,
              },
            },
          },
        ],
        ResultPath: null,
        Next: 'Finish',
      },
      Finish: invoke({ action: 'finish', 'run.$': '$.run', status: 'succeeded' }, { End: true }),
    },
  };
}

const base = (id: string, schedule: CampaignInput['schedule']): CampaignInput => ({
  schemaVersion: 1,
  id,
  name: `Campaign ${id}`,
  audience: { segment: 'high-value' },
  schedule,
  start: 'welcome',
  steps: { welcome: { kind: 'deliver', channel: 'email', template: { subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' } } },
});

/** One campaign of each schedule type, compiled (the audience and the step are Distributed Maps). */
export const FIXTURE_CAMPAIGNS: readonly DeployedCampaign[] = [
  base('spring-sale', { type: 'on-demand' }),
  base('launch-day', { type: 'once', at: '2027-03-01T09:30', timeZone: 'Europe/Berlin' }),
  base('newsletter', { type: 'recurring', cron: '0 9 ? * MON *', timeZone: 'Europe/Berlin', start: '2027-01-04T00:00', end: '2027-12-31T23:59' }),
].map((input) => {
  const campaign = Campaign.parse(input);
  return { campaign, definition: compileCampaign(campaign) };
});
