import type { LedgerEntry, LedgerStatus } from '../../../lambdas/core/runtime/ports';
import { MemoryEnrollmentStore, MemoryLedger } from './fakes';

// The other tests lean on these fakes' conditions; they mirror DynamoLedger.prepare and DynamoEnrollmentStore.replace.
describe('MemoryLedger (as DynamoLedger: attribute_not_exists(pk) OR status IN (prepared, failed))', () => {
  const entry = (status: LedgerStatus): LedgerEntry => ({ executionId: 'x', nodeId: 'n', status, journeyId: 'j', profileId: 'p', channel: 'email', preparedAt: '2026-06-01T00:00:00Z' });

  it.each([
    ['prepared', true],
    ['failed', true],
    ['sent', false],
    ['suppressed', false],
  ] as const)('over an entry %s, prepare writes: %s', async (existing, writes) => {
    const ledger = new MemoryLedger();
    expect(await ledger.prepare(entry(existing))).toBe(true);
    expect(await ledger.prepare(entry('prepared'))).toBe(writes);
    expect((await ledger.get('x', 'n'))?.status).toBe(writes ? 'prepared' : existing);
  });
});

describe('MemoryEnrollmentStore (as DynamoEnrollmentStore: attribute_not_exists(pk) or executionName = :previous)', () => {
  const enrollment = (executionName: string) => ({ journeyId: 'j', profileId: 'p', executionName, executionArn: `arn:${executionName}`, enteredAt: '2026-06-01T00:00:00Z' });

  it('writes the first enrollment only where there is none, then only over the expected previous run', async () => {
    const store = new MemoryEnrollmentStore();
    expect(await store.replace(enrollment('a'), undefined)).toBe(true);
    expect(await store.replace(enrollment('b'), undefined)).toBe(false);
    expect(await store.replace(enrollment('b'), 'z')).toBe(false);
    expect(await store.replace(enrollment('b'), 'a')).toBe(true);
    expect((await store.get('j', 'p'))?.executionName).toBe('b');
  });
});
