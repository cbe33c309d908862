import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { testApp, waymarkStacks } from './waymark-app';

/**
 * cdk-nag 3 is a CDK policy-validation plugin: it reports violations from `validateScope` (and fails `app.synth()`),
 * not as annotations. Both are checked, for both stacks.
 */
describe('cdk-nag AwsSolutions', () => {
  const describeViolations = (report: ReturnType<AwsSolutionsChecks['validateScope']>) =>
    report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

  it('reports a violation on a non-compliant resource (the check is live)', () => {
    const app = testApp();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(describeViolations(new AwsSolutionsChecks(app).validateScope(stack))).toEqual(expect.arrayContaining([expect.stringMatching(/^error AwsSolutions-SQS2:/)]));
  });

  describe('on the Waymark stacks', () => {
    let stacks: ReturnType<typeof waymarkStacks>;
    let pack: AwsSolutionsChecks;
    beforeAll(() => {
      stacks = waymarkStacks();
      pack = new AwsSolutionsChecks(stacks.app, { verbose: true });
      Validations.of(stacks.app).addPlugins(pack);
    });

    it('finds no unacknowledged error or warning in the data stack', () => {
      expect(describeViolations(pack.validateScope(stacks.data))).toEqual([]);
    });

    it('finds no unacknowledged error or warning in the application stack', () => {
      expect(describeViolations(pack.validateScope(stacks.application))).toEqual([]);
    });

    it('lets the app synthesize with the plugin registered, as bin/app.ts does', () => {
      expect(() => stacks.app.synth()).not.toThrow();
    });

    it('leaves no error or warning annotation on either stack', () => {
      for (const stack of [stacks.data, stacks.application]) {
        expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
        expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
      }
    });
  });
});
