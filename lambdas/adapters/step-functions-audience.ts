import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { AudienceJobs, AudienceScanInput } from '../core/segments/ports';

/** Starts the audience-scan state machine, one execution per job: the job id is the execution name. */
export class StepFunctionsAudienceJobs implements AudienceJobs {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(input: AudienceScanInput): Promise<{ executionArn: string }> {
    const name = input.job.jobId;
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const out = await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionArn: out.executionArn ?? executionArn };
    } catch (error) {
      // A retried start of the same job (same name, different input is impossible: the id names the job).
      if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return { executionArn };
      throw error;
    }
  }
}
