import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { WaymarkAppStack } from '../lib/app-stack';
import { loadStageConfig } from '../lib/config';
import { WaymarkDataStack } from '../lib/data-stack';

const app = new App();
const config = loadStageConfig(app.node);
// Environment-agnostic unless the CLI knows the account and region: nothing in the stacks looks anything up.
const env =
  process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined;

const data = new WaymarkDataStack(app, `Waymark-${config.stage}-Data`, {
  env,
  stage: config.stage,
  description: `Waymark ${config.stage}: tables and event bus (retained)`,
});
new WaymarkAppStack(app, `Waymark-${config.stage}-App`, {
  env,
  stage: config.stage,
  description: `Waymark ${config.stage}: functions, journeys, routing, API and alarms`,
  profilesTable: data.profilesTable,
  journeysTable: data.journeysTable,
  runtimeTable: data.runtimeTable,
  eventBus: data.eventBus,
  unsubscribeSecret: data.unsubscribeSecret,
  privacyKeySecret: data.privacyKeySecret,
  audienceBucket: data.audienceBucketExports,
  senderEmail: config.senderEmail,
  pushApplicationId: config.pushApplicationId,
  smsOriginationIdentity: config.smsOriginationIdentity,
  alarmEmail: config.alarmEmail,
  defaultTimezone: config.defaultTimezone,
  campaignControlGroupPercent: config.campaignControlGroupPercent,
  traceAwsCalls: config.traceAwsCalls,
});

// cdk-nag 3 is a policy-validation plugin (not an Aspect): an unacknowledged finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
