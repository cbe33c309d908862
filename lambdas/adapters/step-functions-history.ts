import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { assignmentOfInput } from '../core/measure/assignment';
import type { ExecutionHistory, RunStatus, RunSummary, RunTrace, StateVisit } from '../core/runtime/ports';

/** GetExecutionHistory answers at most 1000 events a page (default 100). */
const PAGE_MAX = 1000;

const missing = (error: unknown) => (error as { name?: string }).name === 'ExecutionDoesNotExist';

/** What the run was assigned at entry, from its start input (JSON), if it is one. */
export function assignmentOfJson(input: string | undefined): RunTrace['assignment'] {
  if (input === undefined) return undefined;
  try {
    return assignmentOfInput(JSON.parse(input));
  } catch {
    return undefined;
  }
}

/**
 * The states a run went through, from its history events: `*StateEntered` events carry
 * `stateEnteredEventDetails.name`, `*StateExited` ones `stateExitedEventDetails.name`
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html); an exit closes the latest
 * open visit of its state.
 */
export function statesOf(events: readonly HistoryEvent[]): StateVisit[] {
  const visits: StateVisit[] = [];
  for (const event of events) {
    const at = event.timestamp instanceof Date ? event.timestamp.toISOString() : undefined;
    if (at === undefined) continue;
    const entered = event.type?.endsWith('StateEntered') ? event.stateEnteredEventDetails?.name : undefined;
    if (entered !== undefined) {
      visits.push({ state: entered, enteredAt: at });
      continue;
    }
    const exited = event.type?.endsWith('StateExited') ? event.stateExitedEventDetails?.name : undefined;
    if (exited === undefined) continue;
    for (let i = visits.length - 1; i >= 0; i--) {
      if (visits[i].state === exited && visits[i].exitedAt === undefined) {
        visits[i].exitedAt = at;
        break;
      }
    }
  }
  return visits;
}

/**
 * Step Functions' record of a run: DescribeExecution (status, start and stop, error and stop cause, start input:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html) and GetExecutionHistory,
 * paginated by `nextToken`, up to 1000 events a page, read up to a bound
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html). Needs
 * `states:DescribeExecution` and `states:GetExecutionHistory` on the journeys' execution ARNs.
 */
export class StepFunctionsExecutionHistory implements ExecutionHistory {
  constructor(private readonly sfn: SFNClient) {}

  async describe(executionArn: string): Promise<RunSummary | undefined> {
    return (await this.described(executionArn))?.summary;
  }

  async trace(executionArn: string, options: { maxEvents: number }): Promise<RunTrace | undefined> {
    const described = await this.described(executionArn);
    if (!described) return undefined;
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let truncated = false;
    try {
      do {
        const room = options.maxEvents - events.length;
        if (room <= 0) {
          truncated = true;
          break;
        }
        // Without execution data: names and times are all this reads, and a page stays small.
        const page = await this.sfn.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: Math.min(PAGE_MAX, room), includeExecutionData: false, ...(nextToken ? { nextToken } : {}) }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
    const assignment = assignmentOfJson(described.input);
    return { ...described.summary, states: statesOf(events), truncated, ...(assignment ? { assignment } : {}) };
  }

  private async described(executionArn: string): Promise<{ summary: RunSummary; input?: string } | undefined> {
    try {
      const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      const summary: RunSummary = {
        executionArn,
        status: (out.status ?? 'RUNNING') as RunStatus,
        startedAt: (out.startDate ?? new Date(0)).toISOString(),
        ...(out.stopDate ? { stoppedAt: out.stopDate.toISOString() } : {}),
        ...(out.error ? { error: out.error } : {}),
        ...(out.cause ? { cause: out.cause } : {}),
      };
      // The start input (its `holdout` and `variants`: what the run was assigned at entry) comes with the description.
      return { summary, ...(out.input !== undefined ? { input: out.input } : {}) };
    } catch (error) {
      if (missing(error)) return undefined;
      throw error;
    }
  }
}
