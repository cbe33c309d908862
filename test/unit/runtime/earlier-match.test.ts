import type { StepPayload } from '../../../lambdas/core/journey/asl';
import type { WaitForEventNode } from '../../../lambdas/core/journey/schema';
import type { RecentEvent } from '../../../lambdas/core/profiles/model';
import { earlierMatch } from '../../../lambdas/core/runtime/waits';

const node: WaitForEventNode = {
  id: 'wait-for-order',
  kind: 'wait-for-event',
  events: ['order.placed'],
  correlate: { property: 'cartId', equals: 'event.properties.cartId' },
  timeout: '1h',
  onEvent: 'converted',
  onTimeout: 'reminder',
};

const state = (steps: Record<string, unknown> = {}): StepPayload['state'] => ({
  journey: { id: 'cart-abandonment', version: 'v1' },
  profileId: 'p-1',
  profile: { id: 'p-1', attributes: {}, identities: { email: 'a@example.com' } },
  event: { id: 'cart-1', type: 'cart.updated', time: '2026-11-22T10:00:00.000Z', properties: { cartId: 'c-1' } },
  context: {},
  steps,
});

const recent = (id: string, time: string, properties: RecentEvent['properties'], type = 'order.placed'): RecentEvent => ({
  id,
  type,
  time,
  source: 'shop',
  properties,
  receivedAt: time,
});

describe('earlierMatch: an awaited event that came before the wait was registered', () => {
  it('finds an order for the same cart placed after the entry event', () => {
    expect(earlierMatch(node, state(), [recent('o-1', '2026-11-22T10:00:05.000Z', { cartId: 'c-1' })])?.id).toBe('o-1');
  });

  it.each([
    ['placed before the entry event', recent('o-1', '2026-11-22T09:59:59.000Z', { cartId: 'c-1' })],
    ['for another cart', recent('o-1', '2026-11-22T10:00:05.000Z', { cartId: 'c-2' })],
    ['of another type', recent('o-1', '2026-11-22T10:00:05.000Z', { cartId: 'c-1' }, 'cart.updated')],
  ])('ignores an event %s', (_what, event) => {
    expect(earlierMatch(node, state(), [event])).toBeUndefined();
  });

  it('ignores an event that already resumed an earlier wait of the same run', () => {
    const consumed = state({ earlier_wait: { received: true, event: { id: 'o-1' } } });
    expect(earlierMatch(node, consumed, [recent('o-1', '2026-11-22T10:00:05.000Z', { cartId: 'c-1' })])).toBeUndefined();
  });

  it('matches by profile when the wait has no correlation', () => {
    const byProfile: WaitForEventNode = { ...node, correlate: undefined, events: ['app.logged-in'] };
    expect(earlierMatch(byProfile, state(), [recent('l-1', '2026-11-22T10:01:00.000Z', {}, 'app.logged-in')])?.id).toBe('l-1');
  });

  it("never matches a catalog-scoped wait from the profile's own events (only catalog events resume it)", () => {
    const catalogWide: WaitForEventNode = { ...node, correlate: { ...node.correlate!, scope: 'catalog' } };
    expect(earlierMatch(catalogWide, state(), [recent('o-1', '2026-11-22T10:00:05.000Z', { cartId: 'c-1' })])).toBeUndefined();
  });
});
