import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../lambdas/adapters/dynamodb';
import { localDynamoClient } from '../../lambdas/local/dynalite';
import type { LocalStack } from '../../lambdas/local/stack';

export interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  /** Parsed JSON when the reply is JSON. */
  body: any;
}

/** Any method, raw or JSON bodies, extra headers: what the consent and unsubscribe routes need. */
export async function request(stack: LocalStack, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const raw = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${stack.url}${path}`, { method, headers: { 'content-type': 'application/json', ...options.headers }, ...(raw === undefined ? {} : { body: raw }) });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  return { status: response.status, contentType, text, body: contentType?.includes('json') && text !== '' ? JSON.parse(text) : undefined };
}

export async function consentOf(stack: LocalStack, profileId: string): Promise<Record<string, { status: string; at: string; source: string }>> {
  const reply = await request(stack, 'GET', `/profiles/${profileId}/consent`);
  if (reply.status !== 200) throw new Error(`GET consent: ${reply.status} ${reply.text}`);
  return reply.body.consent;
}

export async function setConsent(stack: LocalStack, profileId: string, changes: Record<string, string>): Promise<void> {
  const reply = await request(stack, 'PUT', `/profiles/${profileId}/consent`, { body: changes });
  if (reply.status !== 200) throw new Error(`PUT consent: ${reply.status} ${reply.text}`);
}

/** The send-ledger entry of one execution's send node, read from the runtime table. */
export async function ledgerEntry(stack: LocalStack, executionArn: string, nodeId: string) {
  const db = DynamoDBDocumentClient.from(localDynamoClient(stack.dynamoEndpoint));
  try {
    return await new DynamoLedger(db, stack.tables.runtime).get(executionArn, nodeId);
  } finally {
    db.destroy();
  }
}

/** The reason a run's send step gave for not delivering (from its output), or undefined when it delivered. */
export function skipReason(run: { output?: unknown }, stepKey: string): string | undefined {
  const step = (run.output as { steps?: Record<string, { deliver: boolean; reason: string | null }> } | undefined)?.steps?.[stepKey];
  return step && !step.deliver ? (step.reason ?? undefined) : undefined;
}

/** An SES event as EventBridge delivers it from a configuration set's event destination: `detail`, for PutEvents. */
export function sesDetail(kind: 'bounce' | 'complaint', address: string, bounceType = 'Permanent'): Record<string, unknown> {
  const mail = { timestamp: new Date().toISOString(), source: 'no-reply@waymark.local', messageId: `ses-${kind}-${address}`, destination: [address], tags: { class: ['marketing'] } };
  return kind === 'bounce'
    ? { eventType: 'Bounce', mail, bounce: { bounceType, bounceSubType: 'General', bouncedRecipients: [{ emailAddress: address, action: 'failed', status: '5.1.1' }], timestamp: new Date().toISOString() } }
    : { eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: address }], complaintFeedbackType: 'abuse', timestamp: new Date().toISOString() } };
}
