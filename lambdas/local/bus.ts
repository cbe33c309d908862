import { randomUUID } from 'node:crypto';
import type { BusinessEvent } from '../core/events/business-event';
import { PUT_EVENTS_LIMITS, putEventsBatches, putEventsEntrySize } from '../core/events/entry-size';
import { matchesPattern, type EventPattern } from '../core/events/pattern';
import type { EventPublisher } from '../core/runtime/ports';
import { jsonBoundsError } from '../shared/http';

/** The event as an EventBridge target receives it. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** A `PutEvents` request entry, as the AWS SDK sends it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: string | number;
  Resources?: string[];
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/**
 * A request EventBridge refuses as a whole (HTTP 400, `__type` as here): a body it cannot deserialize, or one that
 * breaks the request's constraints (https://docs.aws.amazon.com/eventbridge/latest/APIReference/CommonErrors.html).
 */
export class PutEventsRequestError extends Error {
  override readonly name = 'PutEventsRequestError';
  constructor(
    readonly type: 'SerializationException' | 'ValidationException',
    message: string,
  ) {
    super(message);
  }
}

const STRING_FIELDS = ['Source', 'DetailType', 'Detail', 'EventBusName', 'TraceHeader'] as const;

const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The body of an AWS JSON 1.1 `PutEvents` call, checked for the types the API declares. */
export function parsePutEventsRequest(body: string): PutEventsEntry[] {
  const refuse = (message: string) => new PutEventsRequestError('SerializationException', message);
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    throw refuse('the request body is not JSON');
  }
  if (!isObject(request)) throw refuse('the request body is not a JSON object');
  const entries = (request as { Entries?: unknown }).Entries;
  if (entries === undefined || entries === null) {
    throw new PutEventsRequestError(
      'ValidationException',
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!Array.isArray(entries)) throw refuse('Entries is a list of entries');
  entries.forEach((entry: unknown, i) => {
    if (!isObject(entry)) throw refuse(`Entries[${i}] is not an entry object`);
    const e = entry as Record<string, unknown>;
    for (const field of STRING_FIELDS) {
      if (e[field] !== undefined && typeof e[field] !== 'string') throw refuse(`Entries[${i}].${field} is a string`);
    }
    if (e.Time !== undefined && !['number', 'string'].includes(typeof e.Time)) throw refuse(`Entries[${i}].Time is a timestamp`);
    if (e.Resources !== undefined && !(Array.isArray(e.Resources) && e.Resources.every((r) => typeof r === 'string'))) {
      throw refuse(`Entries[${i}].Resources is a list of strings`);
    }
  });
  return entries as PutEventsEntry[];
}

export interface LocalRule {
  name: string;
  pattern: EventPattern;
  target: (event: BusEvent) => Promise<unknown>;
}

export interface DeadLetter {
  rule: string;
  event: BusEvent;
  error: string;
  time: string;
}

/**
 * An EventBridge-compatible bus: validates entries as PutEvents does, matches rules, delivers asynchronously with
 * retries (like Lambda's asynchronous invocation) and keeps what still fails in a dead-letter list.
 */
export class LocalBus implements EventPublisher {
  private readonly rules: LocalRule[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  readonly deadLetters: DeadLetter[] = [];
  delivered = 0;

  constructor(
    readonly name: string,
    private readonly maxAttempts = 3,
    /** The stack's clock: an entry without `Time` is stamped on receipt, as EventBridge does (the router bounds times by it). */
    private readonly now: () => Date = () => new Date(),
  ) {}

  addRule(rule: LocalRule): void {
    this.rules.push(rule);
  }

  /** Validates the request as EventBridge does (1 to 10 entries, 256 KB in all) before any entry is accepted. */
  putEvents(entries: readonly PutEventsEntry[]): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    if (entries.length < 1 || entries.length > PUT_EVENTS_LIMITS.entries) {
      throw new PutEventsRequestError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${PUT_EVENTS_LIMITS.entries}`,
      );
    }
    if (entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0) > PUT_EVENTS_LIMITS.requestBytes) {
      throw new PutEventsRequestError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const results = entries.map((entry) => this.putEntry(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  async publish(events: BusinessEvent[]): Promise<void> {
    const entries = events.map(({ type, source, time, ...detail }) => ({
      Source: source,
      DetailType: type,
      Time: time,
      Detail: JSON.stringify({ ...detail, time }),
      EventBusName: this.name,
    }));
    // As the EventBridge publisher does: requests of at most 10 entries and 256 KB.
    for (const batch of putEventsBatches(entries)) {
      const out = this.putEvents(batch);
      if (out.FailedEntryCount > 0) throw new Error(`PutEvents failed: ${out.Entries.find((e) => e.ErrorCode)?.ErrorMessage}`);
    }
  }

  /** Deliveries accepted and not finished yet. */
  pending(): number {
    return this.inFlight.size;
  }

  /** Resolves when every delivery accepted so far has finished (including deliveries they caused). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private putEntry(entry: PutEventsEntry): PutEventsResultEntry {
    if (!entry.Source) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' };
    if (!entry.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' };
    if (entry.EventBusName && entry.EventBusName !== this.name && !entry.EventBusName.endsWith(`:event-bus/${this.name}`)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist.` };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '{}');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    // PutEvents processes JSON nested up to 1100 levels (API_PutEvents.html).
    const depthOnly = { jsonDepth: PUT_EVENTS_LIMITS.detailDepth, keyLength: Infinity, stringLength: Infinity };
    if (jsonBoundsError(detail, depthOnly)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: `Detail is nested deeper than ${depthOnly.jsonDepth} levels.` };
    }
    const time = entry.Time === undefined ? this.now() : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '000000000000',
      time: (Number.isNaN(time.getTime()) ? this.now() : time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: entry.Resources ?? [],
      detail,
    };
    for (const rule of this.rules) if (matchesPattern(rule.pattern, event)) this.deliver(rule, event);
    return { EventId: event.id };
  }

  private deliver(rule: LocalRule, event: BusEvent): void {
    const attempt = async () => {
      for (let i = 1; ; i++) {
        try {
          await rule.target(event);
          this.delivered++;
          return;
        } catch (error) {
          if (i >= this.maxAttempts) {
            this.deadLetters.push({ rule: rule.name, event, error: String((error as Error)?.message ?? error), time: this.now().toISOString() });
            return;
          }
          await new Promise((r) => setTimeout(r, 10 * i));
        }
      }
    };
    const promise: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve)).then(attempt).finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }
}
