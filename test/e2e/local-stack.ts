import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../lambdas/local/stack';
import type { OutboxMessage } from '../../lambdas/local/outbox';
import { VirtualClock } from '../../lambdas/local/virtual-clock';

/** A local stack for a test file, with the official EventBridge client pointed at it; `options` may add a clock or journeys. */
export async function openStack(
  timeScale: number,
  options: Pick<LocalStackOptions, 'clock' | 'journeys' | 'recheckIntervalMs' | 'storage' | 'wrapFunction' | 'rules' | 'defaultTimeZone' | 's3' | 'campaigns' | 'campaignControlGroupPercent'> = {},
): Promise<{ stack: LocalStack; put: (type: string, detail: Record<string, unknown>, source?: string) => Promise<void> }> {
  const stack = await startLocalStack({ ...options, port: 0, timeScale });
  const client = new EventBridgeClient({ endpoint: stack.url, region: 'local', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const put = async (type: string, detail: Record<string, unknown>, source = 'test.shop') => {
    const out = await client.send(new PutEventsCommand({ Entries: [{ Source: source, DetailType: type, Detail: JSON.stringify(detail), EventBusName: 'waymark-local' }] }));
    if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
    await stack.bus.idle();
  };
  return { stack, put };
}

export function bodies(messages: OutboxMessage[]): string[] {
  return messages.map((m) => `${m.channel}:${m.nodeId}`);
}

/**
 * A local stack on a virtual clock (starting at `start`): nothing moves until the test says so. `put` sends one event
 * and waits until the stack has settled (every run parked or ended); `clock.advance('1h')`, `clock.advanceTo(t)` and
 * `clock.runUntilIdle()` move time, firing waits, timeouts and retries on the way, and settle too. No real waiting.
 */
export async function openVirtualStack(
  options: Pick<LocalStackOptions, 'journeys' | 'recheckIntervalMs' | 'wrapFunction' | 'counters' | 'rules' | 'defaultTimeZone' | 'storage' | 's3' | 'campaigns' | 'campaignControlGroupPercent'> & {
    start?: string | Date;
  } = {},
): Promise<{ stack: LocalStack; clock: VirtualClock; put: (type: string, detail: Record<string, unknown>, source?: string) => Promise<void> }> {
  const clock = new VirtualClock(options.start ?? '2026-12-01T09:00:00.000Z');
  const { start: _start, ...rest } = options;
  const { stack, put } = await openStack(1, { ...rest, clock });
  return {
    stack,
    clock,
    put: async (type, detail, source) => {
      await put(type, detail, source);
      await stack.settle();
    },
  };
}

/** The states the profile's runs of the journey are parked on (wait-for-event states), after the stack has settled. */
export async function parkedStates(stack: LocalStack, journeyId: string, profileId?: string): Promise<string[]> {
  await stack.settle();
  return stack.executions
    .list({ journeyId, profileId, status: 'RUNNING' })
    .flatMap((e) => stack.executions.parkedAt(e.executionArn));
}
