import { createHash } from 'node:crypto';
import type { BusinessEvent } from '../../../lambdas/core/events/business-event';
import { newProfileId } from '../../../lambdas/core/profiles/merge-policy';
import { MemoryProfileStorage } from '../../../lambdas/core/profiles/memory-storage';
import { defaultProfilePolicy } from '../../../lambdas/core/profiles/model';
import { GraphProfileStore } from '../../../lambdas/core/profiles/store';

const NOW = new Date('2026-01-05T12:00:00.000Z');
const event: BusinessEvent = { id: 'e1', type: 'order.placed', source: 'shop', time: '2026-01-01T10:00:00.000Z', identities: { email: 'ann@example.com' }, properties: {} };

describe('profile ids: a pseudonym keyed with the stage privacy key', () => {
  it('cannot be recomputed from the email address alone (no unkeyed sha256 of "email:<address>")', () => {
    const unkeyed = `p-${createHash('sha256').update('email:ann@example.com').digest('hex').slice(0, 24)}`;
    expect(newProfileId('email', 'ann@example.com', 'stage-key')).not.toBe(unkeyed);
    expect(newProfileId('email', 'ann@example.com')).not.toBe(unkeyed);
  });

  it('is stable under one key and differs between keys (stages)', () => {
    expect(newProfileId('email', 'ann@example.com', 'stage-a')).toBe(newProfileId('email', 'ann@example.com', 'stage-a'));
    expect(newProfileId('email', 'ann@example.com', 'stage-a')).not.toBe(newProfileId('email', 'ann@example.com', 'stage-b'));
    expect(newProfileId('email', 'ann@example.com', 'stage-a')).toMatch(/^p-[0-9a-f]{24}$/);
  });

  it('is what ingestion names a new profile, with the key the store is given', async () => {
    const store = new GraphProfileStore({ storage: new MemoryProfileStorage(() => NOW), clock: { now: () => NOW }, policy: defaultProfilePolicy, privacyKey: async () => 'stage-a' });
    const { profile } = await store.ingest(event);
    expect(profile.id).toBe(newProfileId('email', 'ann@example.com', 'stage-a'));
  });
});
