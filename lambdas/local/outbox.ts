export interface OutboxMessage {
  channel: 'email' | 'sms' | 'push';
  recipient: string;
  subject?: string;
  body: string;
  html?: string;
  url?: string;
  /** Extra email headers (e.g. List-Unsubscribe), by name. */
  headers?: Record<string, string>;
  /** An email's SES message tags (journey, version, node, variant, execution, …), by name. */
  tags?: Record<string, string>;
  /** An SMS's End User Messaging context (journey, node, variant, execution, configurationSet), by key. */
  context?: Record<string, string>;
  journeyId: string;
  nodeId: string;
  profileId: string;
  executionId: string;
  messageId: string;
  time: string;
}

/**
 * How the next send on a channel goes wrong, to try the journeys' fault handling locally: `error` is raised as that
 * error name (as the integration would, e.g. `SesV2.MessageRejectedException`, `PinpointSmsVoiceV2.ThrottlingException`, `States.Timeout`); `deliveryStatus`
 * is the push address's Pinpoint DeliveryStatus (the call succeeds). `sent`: the message is kept as if it went out.
 */
export interface OutboxFault {
  channel: OutboxMessage['channel'];
  error?: string;
  deliveryStatus?: string;
  sent?: boolean;
}

/** A delivery outcome, as the journeys count it (metric `Deliveries`). */
export interface LocalMetricDatum {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  value: number;
}

/** Captures what the delivery states would have sent. */
export class Outbox {
  private readonly messages: OutboxMessage[] = [];
  private readonly byId = new Map<string, OutboxMessage>();
  private readonly faults: OutboxFault[] = [];
  private counter = 0;

  /** `now`: the stack's clock, so a message's time is virtual in virtual time. */
  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Makes the next send on the fault's channel fail as described (faults queue up in order). */
  inject(fault: OutboxFault): void {
    this.faults.push(fault);
  }

  /** The fault for this send on `channel`, taken from the queue. */
  takeFault(channel: OutboxMessage['channel']): OutboxFault | undefined {
    const index = this.faults.findIndex((f) => f.channel === channel);
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  add(message: Omit<OutboxMessage, 'messageId' | 'time'>): OutboxMessage {
    const stored = { ...message, messageId: `local-${++this.counter}`, time: this.now().toISOString() };
    this.messages.push(stored);
    this.byId.set(stored.messageId, stored);
    return stored;
  }

  /** Takes back a message that did not go out (a push whose DeliveryStatus is not SUCCESSFUL). */
  remove(messageId: string): void {
    const index = this.messages.findIndex((m) => m.messageId === messageId);
    if (index >= 0) this.messages.splice(index, 1);
    this.byId.delete(messageId);
  }

  /** The message with this id, if it is in the outbox. */
  get(messageId: string): OutboxMessage | undefined {
    return this.byId.get(messageId);
  }

  list(filter: Partial<Pick<OutboxMessage, 'channel' | 'journeyId' | 'profileId' | 'recipient'>> = {}): OutboxMessage[] {
    return this.messages.filter((m) => Object.entries(filter).every(([k, v]) => v === undefined || m[k as keyof OutboxMessage] === v));
  }

  get size(): number {
    return this.messages.length;
  }

  clear(): void {
    this.messages.length = 0;
    this.byId.clear();
    this.faults.length = 0;
  }
}

/** What the journeys' PutMetricData states would have put in CloudWatch. */
export class LocalMetrics {
  private readonly data: LocalMetricDatum[] = [];

  put(datum: LocalMetricDatum): void {
    this.data.push(datum);
  }

  /** The sum of `name` over the data whose dimensions are exactly `dimensions`. */
  sum(name: string, dimensions: Record<string, string>): number {
    const key = JSON.stringify(Object.entries(dimensions).sort());
    return this.data.filter((d) => d.name === name && JSON.stringify(Object.entries(d.dimensions).sort()) === key).reduce((n, d) => n + d.value, 0);
  }

  list(): LocalMetricDatum[] {
    return [...this.data];
  }
}
