import type { PathStep, SimulationReport } from '../../lambdas/simulate/report';

/**
 * A report as the engine would answer test/fixtures/simulate/cart-abandonment.events.json (with its profiles file):
 * Ann gets the reminder and, after the price drop, the offer push; Bob orders within the hour; Cem opted out of email.
 * Hand-written for the report's and the CLI's unit tests (a fake engine answers it).
 */
const steps = (at: string, ...states: string[]): PathStep[] => states.map((state) => ({ node: state.split('.')[0], state, at }));
const send = (node: string) => [node, `${node}.route`, `${node}.deliver`, `${node}.record`, `${node}.tally`, `${node}.count`];
const skipped = (node: string) => [node, `${node}.route`];

export const ANN = 'p-476bd359202fb05bcc850d1b';
export const BOB = 'p-619bb5a890d812e8e4769e00';
export const CEM = 'p-39a76633204f90b3ad357298';

export function cartAbandonmentReport(): SimulationReport {
  return {
    journeyId: 'cart-abandonment',
    start: '2026-12-01T10:00:00.000Z',
    end: '2026-12-04T11:10:00.000Z',
    profiles: [
      {
        profileId: ANN,
        identities: { email: 'ann@example.com' },
        runs: [
          {
            journeyId: 'cart-abandonment',
            executionId: 'cart-abandonment-p-476bd359-event-1',
            status: 'SUCCEEDED',
            startedAt: '2026-12-01T10:00:00.000Z',
            path: [
              ...steps('2026-12-01T10:00:00.000Z', 'wait-for-order'),
              ...steps('2026-12-01T11:00:00.000Z', ...send('reminder-email'), 'wait-for-offer-signal'),
              ...steps('2026-12-02T10:00:00.000Z', 'pick-offer', ...send('offer-push'), 'done'),
            ],
            messages: [
              {
                at: '2026-12-01T11:00:00.000Z',
                node: 'reminder-email',
                channel: 'email',
                recipient: 'ann@example.com',
                subject: 'Ann, your cart is waiting',
                body: 'You left 2 item(s) in your cart: https://shop.example/cart/1\n\nUnsubscribe: http://localhost/unsubscribe?token=t',
                html: '<p>You left 2 item(s) in your cart.</p>',
              },
              {
                at: '2026-12-02T10:00:00.000Z',
                node: 'offer-push',
                channel: 'push',
                recipient: 'device-ann',
                subject: 'Good news about your cart',
                body: 'Socks is now 9.99. Code CART10 takes 10% off, for 48 hours.',
                url: 'https://shop.example/cart/1',
              },
            ],
            suppressions: [],
            decisions: [
              {
                at: '2026-12-02T10:00:00.000Z',
                node: 'pick-offer',
                placement: 'push',
                fallback: false,
                offers: [
                  {
                    offerId: 'cart-discount',
                    name: '10% off the cart',
                    placement: 'push',
                    content: { title: '10% off your cart', body: 'Code CART10 takes 10% off, for 48 hours.', code: 'CART10' },
                    score: 60,
                    tags: ['discount', 'cart'],
                    fallback: false,
                  },
                ],
                explanation: [
                  { offerId: 'cart-discount', eligible: true, score: 60, chosen: true },
                  { offerId: 'free-shipping', eligible: true, score: 40, chosen: false },
                  { offerId: 'newsletter', eligible: false, reason: 'eligibility rule', score: null, chosen: false },
                ],
              },
            ],
            ended: { status: 'SUCCEEDED', at: '2026-12-02T10:00:00.000Z' },
          },
        ],
      },
      {
        profileId: BOB,
        identities: { email: 'bob@example.com' },
        runs: [
          {
            journeyId: 'cart-abandonment',
            executionId: 'cart-abandonment-p-619bb5a8-event-2',
            status: 'SUCCEEDED',
            startedAt: '2026-12-01T10:05:00.000Z',
            path: [...steps('2026-12-01T10:05:00.000Z', 'wait-for-order'), ...steps('2026-12-01T10:35:00.000Z', 'converted')],
            messages: [],
            suppressions: [],
            decisions: [],
            ended: { status: 'SUCCEEDED', at: '2026-12-01T10:35:00.000Z' },
          },
        ],
      },
      {
        profileId: CEM,
        identities: { email: 'cem@example.com' },
        runs: [
          {
            journeyId: 'cart-abandonment',
            executionId: 'cart-abandonment-p-39a76633-event-3',
            status: 'SUCCEEDED',
            startedAt: '2026-12-01T10:10:00.000Z',
            path: [
              ...steps('2026-12-01T10:10:00.000Z', 'wait-for-order'),
              ...steps('2026-12-01T11:10:00.000Z', ...skipped('reminder-email'), 'wait-for-offer-signal'),
              ...steps('2026-12-04T11:10:00.000Z', ...skipped('last-chance-email'), 'done'),
            ],
            messages: [],
            suppressions: [
              { at: '2026-12-01T11:10:00.000Z', node: 'reminder-email', channel: 'email', reason: 'consent:email' },
              { at: '2026-12-04T11:10:00.000Z', node: 'last-chance-email', channel: 'email', reason: 'consent:email' },
            ],
            decisions: [],
            ended: { status: 'SUCCEEDED', at: '2026-12-04T11:10:00.000Z' },
          },
        ],
      },
    ],
  };
}
