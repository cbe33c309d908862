import { randomUUID } from 'node:crypto';
import type { BusinessEvent } from '../core/events/business-event';
import { matchesPattern, type EventPattern } from '../core/events/pattern';
import type { EventPublisher } from '../core/runtime/ports';

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

  putEvents(entries: readonly PutEventsEntry[]): { FailedEntryCount: number; Entries: PutEventsResultEntry[] } {
    const results = entries.map((entry) => this.putEntry(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  async publish(events: BusinessEvent[]): Promise<void> {
    const out = this.putEvents(
      events.map(({ type, source, time, ...detail }) => ({ Source: source, DetailType: type, Time: time, Detail: JSON.stringify({ ...detail, time }), EventBusName: this.name })),
    );
    if (out.FailedEntryCount > 0) throw new Error(`PutEvents failed: ${out.Entries.find((e) => e.ErrorCode)?.ErrorMessage}`);
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
            this.deadLetters.push({ rule: rule.name, event, error: String((error as Error)?.message ?? error), time: new Date().toISOString() });
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
