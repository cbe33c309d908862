import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { BusinessEvent } from '../core/events/business-event';
import { putEventsBatches } from '../core/events/entry-size';
import type { EventPublisher } from '../core/runtime/ports';

/** Publishes business events to the Waymark bus: `detail-type` = type, `source` = source, the rest of the envelope as `detail`. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: BusinessEvent[]): Promise<void> {
    // At most 10 entries and 256 KB per request (see entry-size.ts).
    for (const batch of putEventsBatches(events.map((e) => toEntry(e, this.busName)))) {
      const out = await this.client.send(new PutEventsCommand({ Entries: batch }));
      if (out.FailedEntryCount) {
        const failed = out.Entries?.find((e) => e.ErrorCode);
        throw new Error(`PutEvents failed for ${out.FailedEntryCount} event(s): ${failed?.ErrorCode} ${failed?.ErrorMessage}`);
      }
    }
  }
}

export function toEntry(event: BusinessEvent, busName: string) {
  const { type, source, time, ...detail } = event;
  return { EventBusName: busName, Source: source, DetailType: type, Time: new Date(time), Detail: JSON.stringify({ ...detail, time }) };
}
