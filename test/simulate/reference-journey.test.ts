import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Io } from '../../bin/waymark';
import { REPOSITORY_ROOT, simulate } from '../../lambdas/simulate';

/**
 * A journey written only from the reference page (statemachines/README.md): a review request after delivery, with
 * a wait, a wait-for-event, a condition on the awaited event, sends on email and sms and one exit.
 */
const journey = 'test/fixtures/simulate/reference-journey.json';
const eventsFile = 'test/fixtures/simulate/reference-journey.events.json';
const events = JSON.parse(readFileSync(join(REPOSITORY_ROOT, eventsFile), 'utf8')) as unknown[];

describe('a journey written from the reference page, simulated', () => {
  it('asks for a review three days after delivery, thanks a happy reviewer by sms and reminds a silent one', async () => {
    const sim = await simulate({ journey, events });
    expect([sim.start, sim.end]).toEqual(['2026-12-01T09:00:00.000Z', '2026-12-08T09:00:00.000Z']);

    const ann = sim.profile('email:ann@example.com');
    expect(ann.path).toEqual(['settle-in', 'ask-review-email', 'wait-for-review', 'by-rating', 'thank-you-sms', 'done']);
    expect(ann.messages.map((m) => [m.at, m.channel, m.recipient, m.subject])).toEqual([
      ['2026-12-04T09:00:00.000Z', 'email', 'ann@example.com', 'Ann, how do you like your Kettle?'],
      ['2026-12-04T10:00:00.000Z', 'sms', '+4915100000001', undefined],
    ]);
    expect(ann.messages[0].html).toContain('<a href="https://shop.example/review/o-1">write a review</a>');
    expect(ann.messages[1].body).toBe('Thanks for the 4-star review, Ann!');
    expect(ann.run().ended).toEqual({ status: 'SUCCEEDED', at: '2026-12-04T10:00:00.000Z' });

    const bob = sim.profile('email:bob@example.com');
    expect(bob.path).toEqual(['settle-in', 'ask-review-email', 'wait-for-review', 'reminder-sms', 'done']);
    expect(bob.messages.map((m) => [m.at, m.channel, m.subject ?? m.body])).toEqual([
      ['2026-12-04T09:00:00.000Z', 'email', 'Hi, how do you like your Mug?'],
      ['2026-12-08T09:00:00.000Z', 'sms', 'Got a minute for your Mug? Review it: https://shop.example/review/o-2'],
    ]);

    // An unhappy review ends the run quietly; an order under 20 does not enter the journey.
    const cem = sim.profile('email:cem@example.com');
    expect(cem.path).toEqual(['settle-in', 'ask-review-email', 'wait-for-review', 'by-rating', 'done']);
    expect(cem.messages.map((m) => m.channel)).toEqual(['email']);
    expect(sim.profile('email:dan@example.com').runs).toEqual([]);
  });

  it('ignores a review of another order, suppresses the sms of an opted-out customer, and asks again only after 30 days', async () => {
    const delivered = (at: string, orderId: string) => ({
      at,
      type: 'order.delivered',
      source: 'shop',
      identities: { email: 'ann@example.com', phone: '+4915100000001' },
      properties: { orderId, total: 30, reviewUrl: `https://shop.example/review/${orderId}` },
    });
    const sim = await simulate({
      journey,
      profiles: [{ identities: { email: 'ann@example.com', phone: '+4915100000001' }, consent: { sms: 'opted-out' } }],
      events: [
        delivered('+0s', 'o-1'),
        { at: '+3d1h', type: 'review.submitted', source: 'shop', identities: { email: 'ann@example.com' }, properties: { orderId: 'o-9', rating: 5 } },
        delivered('+10d', 'o-2'), // the first run ended at +7d, but within 30 days of entering
        delivered('+30d', 'o-3'),
      ],
    });
    const ann = sim.profile('email:ann@example.com');
    expect(ann.runs.map((r) => [r.startedAt, r.status])).toEqual([
      ['2026-01-01T00:00:00.000Z', 'SUCCEEDED'],
      ['2026-01-31T00:00:00.000Z', 'SUCCEEDED'],
    ]);
    expect(ann.messages.map((m) => [m.at, m.subject])).toEqual([
      ['2026-01-04T00:00:00.000Z', 'Hi, how do you like your order?'],
      ['2026-02-03T00:00:00.000Z', 'Hi, how do you like your order?'],
    ]);
    expect(ann.suppressions.map((s) => [s.at, s.node, s.reason])).toEqual([
      ['2026-01-08T00:00:00.000Z', 'reminder-sms', 'consent:sms'],
      ['2026-02-07T00:00:00.000Z', 'reminder-sms', 'consent:sms'],
    ]);
  });

  it('prints through the CLI what the helper reports, and the same as JSON', async () => {
    const sim = await simulate({ journey, events });
    let stdout = '';
    const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t), readFile: async (p) => readFileSync(join(REPOSITORY_ROOT, p), 'utf8') };
    expect(await run(['simulate', journey, '--events', eventsFile], io, { root: REPOSITORY_ROOT })).toBe(0);
    expect(stdout).toBe(sim.text());
    expect(stdout).toContain('sms to +4915100000001\n');

    stdout = '';
    expect(await run(['simulate', journey, '--events', eventsFile, '--json'], io, { root: REPOSITORY_ROOT })).toBe(0);
    const report = JSON.parse(stdout) as { journeyId: string; profiles: { identities: { email: string }; runs: { ended: unknown }[] }[] };
    expect(report.journeyId).toBe('review-request');
    expect(report.profiles.map((p) => [p.identities.email, p.runs.map((r) => r.ended)])).toEqual([
      ['ann@example.com', [{ status: 'SUCCEEDED', at: '2026-12-04T10:00:00.000Z' }]],
      ['bob@example.com', [{ status: 'SUCCEEDED', at: '2026-12-08T09:00:00.000Z' }]],
      ['cem@example.com', [{ status: 'SUCCEEDED', at: '2026-12-04T11:00:00.000Z' }]],
      ['dan@example.com', []],
    ]);
  });
});
