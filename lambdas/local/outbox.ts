export interface OutboxMessage {
  channel: 'email' | 'sms' | 'push';
  recipient: string;
  subject?: string;
  body: string;
  html?: string;
  url?: string;
  /** Extra email headers (e.g. List-Unsubscribe), by name. */
  headers?: Record<string, string>;
  journeyId: string;
  nodeId: string;
  profileId: string;
  executionId: string;
  messageId: string;
  time: string;
}

/** Captures what the delivery states would have sent. */
export class Outbox {
  private readonly messages: OutboxMessage[] = [];
  private counter = 0;

  add(message: Omit<OutboxMessage, 'messageId' | 'time'>): OutboxMessage {
    const stored = { ...message, messageId: `local-${++this.counter}`, time: new Date().toISOString() };
    this.messages.push(stored);
    return stored;
  }

  list(filter: Partial<Pick<OutboxMessage, 'channel' | 'journeyId' | 'profileId' | 'recipient'>> = {}): OutboxMessage[] {
    return this.messages.filter((m) => Object.entries(filter).every(([k, v]) => v === undefined || m[k as keyof OutboxMessage] === v));
  }

  get size(): number {
    return this.messages.length;
  }

  clear(): void {
    this.messages.length = 0;
  }
}
