/**
 * EventBridge's PutEvents limits, for the publisher, the API and the local bus alike. An entry's size is Time (14 bytes
 * when set) plus the UTF-8 bytes of Source, DetailType, Detail and each of Resources; a request's entries add up to
 * at most 256 KB, 1 to 10 of them
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html,
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html).
 */
export const PUT_EVENTS_LIMITS = { requestBytes: 256 * 1024, entries: 10, detailDepth: 1100 } as const;

export interface SizedEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
}

const bytes = (value: unknown) => (typeof value === 'string' ? new TextEncoder().encode(value).length : 0);

export function putEventsEntrySize(entry: SizedEntry): number {
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((sum: number, r: unknown) => sum + bytes(r), 0) : 0;
  const time = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  return time + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources;
}

/** Splits entries into PutEvents requests: at most 10 entries and 256 KB each, in order. */
export function putEventsBatches<T extends SizedEntry>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let size = 0;
  for (const entry of entries) {
    const last = batches.at(-1);
    const entrySize = putEventsEntrySize(entry);
    if (!last || last.length >= PUT_EVENTS_LIMITS.entries || size + entrySize > PUT_EVENTS_LIMITS.requestBytes) {
      batches.push([entry]);
      size = entrySize;
    } else {
      last.push(entry);
      size += entrySize;
    }
  }
  return batches;
}
