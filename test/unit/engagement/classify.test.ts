import { CLASSIFY_DEFAULTS, classifyEngagement, inRange, type EngagementSignal } from '../../../lambdas/core/engagement/classify';

const DELIVERED = '2026-12-01T09:00:00.000Z';
const later = (seconds: number) => new Date(Date.parse(DELIVERED) + seconds * 1000).toISOString();
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const IPHONE_MAIL = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';

describe('who opened or clicked: a person or a machine', () => {
  it.each<[string, Partial<EngagementSignal>, string, string]>([
    ['an open in a desktop browser an hour after delivery', { kind: 'open', userAgent: CHROME, ip: '198.51.100.4', at: later(3600) }, 'human', 'person'],
    ['an open in iPhone Mail without privacy protection', { kind: 'open', userAgent: IPHONE_MAIL, ip: '203.0.113.9', at: later(60) }, 'human', 'person'],
    ['an Apple Mail Privacy Protection prefetch (bare Mozilla/5.0)', { kind: 'open', userAgent: 'Mozilla/5.0', ip: '104.28.1.2', at: later(2) }, 'machine', 'apple-mail-privacy-protection'],
    ['a Gmail image proxy fetch', { kind: 'open', userAgent: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', at: later(600) }, 'machine', 'google-image-proxy'],
    ['a Yahoo image proxy fetch', { kind: 'open', userAgent: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', at: later(600) }, 'machine', 'yahoo-image-proxy'],
    ['an open with no user agent', { kind: 'open', userAgent: '  ', at: later(600) }, 'machine', 'no-user-agent'],
    ["an open from Apple's network with a browser's agent", { kind: 'open', userAgent: IPHONE_MAIL, ip: '17.58.23.1', at: later(600) }, 'machine', 'proxy-ip'],
    ['a security gateway following the link', { kind: 'click', userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel)', at: later(600) }, 'machine', 'scanner-user-agent'],
    ['a headless browser clicking', { kind: 'click', userAgent: 'Mozilla/5.0 HeadlessChrome/120.0', at: later(600) }, 'machine', 'scanner-user-agent'],
    ['a click 3 seconds after delivery', { kind: 'click', userAgent: CHROME, at: later(3) }, 'machine', 'click-right-after-delivery'],
    ['a click a minute after delivery', { kind: 'click', userAgent: CHROME, at: later(60) }, 'human', 'person'],
    ['a click whose delivery time is unknown', { kind: 'click', userAgent: CHROME, at: later(1), deliveredAt: undefined }, 'human', 'person'],
    ["a click from Apple's network (only opens are judged by network)", { kind: 'click', userAgent: IPHONE_MAIL, ip: '17.1.1.1', at: later(600) }, 'human', 'person'],
  ])('%s: %s', (_name, signal, agent, reason) => {
    const full = { deliveredAt: DELIVERED, ...signal } as EngagementSignal;
    expect(classifyEngagement(full)).toEqual({ agent, reason });
  });

  it('takes the scanner window and the proxy networks from its options', () => {
    const click = { kind: 'click' as const, userAgent: CHROME, at: later(20), deliveredAt: DELIVERED };
    expect(classifyEngagement(click, { ...CLASSIFY_DEFAULTS, scannerClickSeconds: 30 }).agent).toBe('machine');
    const open = { kind: 'open' as const, userAgent: CHROME, ip: '2a02:26f7:b3c0:4000::1', at: later(600) };
    expect(classifyEngagement(open).agent).toBe('human');
    expect(classifyEngagement(open, { ...CLASSIFY_DEFAULTS, proxyOpenRanges: ['2a02:26f7:b3c0::/44'] })).toEqual({ agent: 'machine', reason: 'proxy-ip' });
  });

  it.each<[string, string, boolean]>([
    ['17.0.0.1', '17.0.0.0/8', true],
    ['18.0.0.1', '17.0.0.0/8', false],
    ['17.0.0.1', '17.0.0.1/32', true],
    ['256.0.0.1', '0.0.0.0/0', false],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['::1', '::1/128', true],
    ['17.0.0.1', '2001:db8::/32', false],
    ['not an ip', '17.0.0.0/8', false],
    ['1:2:3:4:5:6:7:8:9', '::/0', false],
    ['17.0.0.1', '17.0.0.0/33', false],
  ])('%s in %s: %s', (ip, range, inside) => {
    expect(inRange(ip, range)).toBe(inside);
  });
});
