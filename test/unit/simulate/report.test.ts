import { formatOffset, nodeOfState, nodeVisits, renderJson, renderText, type RunReport } from '../../../lambdas/simulate/report';
import { cartAbandonmentReport } from '../../support/simulation-report';

describe('renderText', () => {
  const text = renderText(cartAbandonmentReport());
  const block = (profile: string) => {
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.startsWith(`profile ${profile}`));
    const to = lines.findIndex((l, i) => i > from && l === '');
    return lines.slice(from, to < 0 ? undefined : to);
  };

  it('opens with the journey, the virtual span and the counts', () => {
    expect(text.split('\n').slice(0, 2)).toEqual([
      'journey cart-abandonment, simulated from 2026-12-01T10:00:00Z to 2026-12-04T11:10:00Z',
      '3 profiles, 3 runs, 2 messages, 2 suppressions, 1 decision',
    ]);
  });

  it('prints each node visit once, with its offset from the start and its time, and how the run ended', () => {
    expect(block('p-619bb5a890d812e8e4769e00')).toEqual([
      'profile p-619bb5a890d812e8e4769e00 (email:bob@example.com)',
      '  run cart-abandonment cart-abandonment-p-619bb5a8-event-2: SUCCEEDED',
      '    +5m        2026-12-01T10:05:00Z  wait-for-order',
      '    +35m       2026-12-01T10:35:00Z  converted',
      '    +35m       2026-12-01T10:35:00Z  ended SUCCEEDED',
    ]);
  });

  it('prints messages and decisions under the node that made them, bodies line by line', () => {
    const ann = block('p-476bd359202fb05bcc850d1b');
    const under = ' '.repeat(39);
    expect(ann.slice(3, 8)).toEqual([
      '    +1h        2026-12-01T11:00:00Z  reminder-email',
      `${under}email to ann@example.com: Ann, your cart is waiting (+ html)`,
      `${under}  | You left 2 item(s) in your cart: https://shop.example/cart/1`,
      `${under}  |`,
      `${under}  | Unsubscribe: http://localhost/unsubscribe?token=t`,
    ]);
    expect(ann.slice(9, 14)).toEqual([
      '    +1d        2026-12-02T10:00:00Z  pick-offer',
      `${under}decided push: cart-discount`,
      `${under}  cart-discount: eligible, score 60, chosen`,
      `${under}  free-shipping: eligible, score 40`,
      `${under}  newsletter: not eligible (eligibility rule)`,
    ]);
    expect(ann.slice(14, 18)).toEqual([
      '    +1d        2026-12-02T10:00:00Z  offer-push',
      `${under}push to device-ann: Good news about your cart`,
      `${under}  | Socks is now 9.99. Code CART10 takes 10% off, for 48 hours.`,
      `${under}  link https://shop.example/cart/1`,
    ]);
  });

  it('prints each suppression with its reason under its send node', () => {
    expect(block('p-39a76633204f90b3ad357298').filter((l) => l.includes('suppressed'))).toEqual([
      `${' '.repeat(39)}suppressed email: consent:email`,
      `${' '.repeat(39)}suppressed email: consent:email`,
    ]);
    expect(block('p-39a76633204f90b3ad357298')[3]).toBe('    +1h10m     2026-12-01T11:10:00Z  reminder-email');
  });

  it('says when a run failed, and when it was still running', () => {
    const report = cartAbandonmentReport();
    const [bob] = report.profiles[1].runs;
    const failed: RunReport = { ...bob, status: 'FAILED', ended: { status: 'FAILED', at: bob.ended!.at, error: 'States.TaskFailed: boom' } };
    const running: RunReport = { ...bob, status: 'RUNNING', ended: null };
    const out = renderText({ ...report, profiles: [{ ...report.profiles[1], runs: [failed, running] }] });
    expect(out).toContain('    +35m       2026-12-01T10:35:00Z  ended FAILED: States.TaskFailed: boom\n');
    expect(out).toContain('  run cart-abandonment cart-abandonment-p-619bb5a8-event-2: RUNNING\n');
    expect(out).toContain('    still running when the simulation stopped\n');
  });

  it('says when a profile had no run, and lists a message of a node not on the path apart', () => {
    const report = cartAbandonmentReport();
    const [ann] = report.profiles[0].runs;
    const stray = { ...ann, path: ann.path.filter((s) => s.node !== 'offer-push') };
    const out = renderText({ ...report, profiles: [{ ...report.profiles[0], runs: [stray] }, { profileId: 'p-1', identities: { crmId: 'C-1' }, runs: [] }] });
    expect(out).toContain('    +1d        2026-12-02T10:00:00Z  (offer-push) push to device-ann: Good news about your cart\n');
    expect(out).toContain('profile p-1 (crmId:C-1)\n  no runs\n');
  });

  it('prints the same text for the same report', () => {
    expect(renderText(cartAbandonmentReport())).toBe(text);
  });
});

describe('renderJson', () => {
  it('prints the report itself, so --json carries every field', () => {
    const report = cartAbandonmentReport();
    expect(JSON.parse(renderJson(report))).toEqual(report);
  });
});

describe('path helpers', () => {
  it('names the node of a compiled state', () => {
    expect(['reminder-email', 'reminder-email.route', 'offer-push.deliver.branch'].map(nodeOfState)).toEqual(['reminder-email', 'reminder-email', 'offer-push']);
  });

  it('collapses the states of one node visit, keeping a later visit of the same node', () => {
    const at = (n: number) => `2026-01-01T00:0${n}:00.000Z`;
    const path = [
      { node: 'a', state: 'a', at: at(0) },
      { node: 'a', state: 'a.route', at: at(1) },
      { node: 'b', state: 'b', at: at(2) },
      { node: 'a', state: 'a', at: at(3) },
    ];
    expect(nodeVisits(path)).toEqual([
      { node: 'a', at: at(0) },
      { node: 'b', at: at(2) },
      { node: 'a', at: at(3) },
    ]);
  });

  it.each([
    ['2026-01-01T00:00:00.000Z', '+0s'],
    ['2026-01-01T01:30:00.000Z', '+1h30m'],
    ['2026-01-04T00:00:05.000Z', '+3d5s'],
    ['2026-01-01T00:00:00.250Z', '+250ms'],
    ['2025-12-31T23:00:00.000Z', '-1h'],
  ])('writes the offset of %s from the start as %s', (at, offset) => {
    expect(formatOffset('2026-01-01T00:00:00.000Z', at)).toBe(offset);
  });
});
