import { DescribeExecutionCommand, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../core/journey/asl';
import { executionArnOf } from '../core/journey/registry-item';
import type { Executions } from '../core/runtime/ports';

const GONE_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
/** Clock skew allowed between this host and Step Functions before a start date counts as "earlier". */
const REPEAT_MARGIN_MS = 5_000;

export class StepFunctionsExecutions implements Executions {
  constructor(private readonly sfn: SFNClient) {}

  async start(stateMachineArn: string, name: string, input: ExecutionInput): Promise<{ executionArn: string; started: boolean }> {
    // Started on an alias or a version, the run is still named under the state machine.
    const executionArn = executionArnOf(stateMachineArn, name);
    const asked = Date.now();
    try {
      const out = await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      // Standard workflows answer success with the original execution for a repeated name and input while it runs
      // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html): a start date well
      // before this call says it was not started now.
      const repeat = out.startDate !== undefined && out.startDate.getTime() < asked - REPEAT_MARGIN_MS;
      return { executionArn: out.executionArn ?? executionArn, started: !repeat };
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return { executionArn, started: false };
      throw error;
    }
  }

  async isRunning(executionArn: string): Promise<boolean> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE';
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }

  async stop(executionArn: string, cause: string): Promise<boolean> {
    if (!(await this.isRunning(executionArn))) return false;
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn, error: 'Waymark.Stopped', cause }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }

  async resume(token: string, output: unknown): Promise<'resumed' | 'gone'> {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
      return 'resumed';
    } catch (error) {
      if (GONE_ERRORS.has((error as { name?: string }).name ?? '')) return 'gone';
      throw error;
    }
  }
}
