import { DescribeStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { StateMachineVersions } from '../core/runtime/ports';

/**
 * Publication times of state-machine versions: DescribeStateMachine on a version ARN answers the version's creationDate
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html). A version never changes,
 * so each answer is kept for the container's life.
 */
export class StepFunctionsVersions implements StateMachineVersions {
  private readonly known = new Map<string, string>();

  constructor(private readonly sfn: SFNClient) {}

  async publishedAt(versionArn: string): Promise<string | undefined> {
    const held = this.known.get(versionArn);
    if (held !== undefined) return held;
    try {
      const out = await this.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn }));
      const publishedAt = out.creationDate?.toISOString();
      if (publishedAt !== undefined) this.known.set(versionArn, publishedAt);
      return publishedAt;
    } catch (error) {
      // A version replaced by a deploy that has not re-put the registry item yet.
      if ((error as { name?: string }).name === 'StateMachineDoesNotExist') return undefined;
      throw error;
    }
  }
}
