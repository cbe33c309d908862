import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProfileIndex, TableKeys } from '../core/config/env-keys';
import { SEND_CAP_MAX_ATTEMPTS, sendCapExpiresAt, sendCapKey } from '../core/governance/keys';
import type { ReserveOutcome, ReserveRequest, SendCapStore } from '../core/governance/ports';
import { mergeSlots, readSlots, releaseSlot, reserveSlot, type Slot } from '../core/governance/slots';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every full attempt failed on a concurrent writer: an infrastructure failure (the step is retried), never a refusal. */
export class SendCapContentionError extends Error {
  override readonly name = 'SendCapContentionError';
}

/**
 * Frequency-cap slots in the runtime table: one item per profile (`SENDCAP#<profile id>`, `SLOTS`) holding every
 * counted send with a version. A reservation reads the item, checks every claim and puts the new list on condition
 * that the version is still the one read: the check and the reservation are one conditional write, so concurrent
 * senders can never take more slots than a limit allows (the loser reads again).
 */
export class DynamoSendCapStore implements SendCapStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: { baseDelayMs?: number } = {},
  ) {}

  reserve(profileId: string, request: ReserveRequest): Promise<ReserveOutcome> {
    return this.update<ReserveOutcome>(profileId, request.at, (slots) => {
      const outcome = reserveSlot(slots, request);
      if (!outcome.ok) return { result: outcome };
      return { slots: outcome.changed ? outcome.slots : undefined, result: { ok: true, taken: outcome.taken } };
    });
  }

  release(profileId: string, holder: string, at: Date): Promise<boolean> {
    return this.update(profileId, at, (slots) => {
      const { slots: rest, released } = releaseSlot(slots, holder, at);
      return { slots: released ? rest : undefined, result: released };
    });
  }

  async carryOver(fromProfileId: string, toProfileId: string): Promise<number> {
    const key = sendCapKey(fromProfileId);
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    const absorbed = readSlots(Item?.slots);
    if (absorbed.length === 0) return 0;
    // No clock here: nothing is dropped as expired (the next reservation does that on its own clock).
    const at = new Date(0);
    return this.update(toProfileId, at, (slots) => {
      const { slots: merged, added } = mergeSlots(slots, absorbed, at);
      return added > 0 ? { slots: merged, result: 1 } : { result: 0 };
    });
  }

  /** Read, decide, put on the version read; again on a lost race. `slots` undefined: nothing to write. */
  private async update<T>(profileId: string, at: Date, decide: (slots: Slot[]) => { slots?: Slot[]; result: T }): Promise<T> {
    const key = sendCapKey(profileId);
    for (let attempt = 1; attempt <= SEND_CAP_MAX_ATTEMPTS; attempt++) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      const version = typeof Item?.version === 'number' ? Item.version : 0;
      const { slots, result } = decide(readSlots(Item?.slots));
      if (slots === undefined) return result;
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...key,
              [ProfileIndex.partitionKey]: profileId,
              slots,
              version: version + 1,
              [TableKeys.ttl]: sendCapExpiresAt(slots, at.getTime()),
            },
            ...(Item === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':version': version },
                }),
          }),
        );
        return result;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Full jitter, growing to 8× the base.
        await sleep(Math.random() * (this.options.baseDelayMs ?? 5) * Math.min(8, attempt));
      }
    }
    throw new SendCapContentionError(`the cap slots of profile ${profileId} kept changing (${SEND_CAP_MAX_ATTEMPTS} attempts)`);
  }
}
