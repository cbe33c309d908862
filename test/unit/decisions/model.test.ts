import { MAX_RULE_DEPTH, type Rule } from '../../../lambdas/core/segments/rule';
import { parseOffer, parsePlacement, type OfferInput } from '../../../lambdas/core/decisions/model';

const offer = (overrides: Record<string, unknown> = {}): OfferInput & Record<string, unknown> => ({
  schemaVersion: 1,
  id: 'free-shipping',
  name: 'Free shipping',
  placements: { 'web-banner': { title: 'Free shipping', url: 'https://shop.example/shipping' } },
  ...overrides,
});

function errorsOf(input: unknown): string[] {
  const result = parseOffer(input);
  if (result.ok) throw new Error(`parsed: ${JSON.stringify(result.value)}`);
  return result.errors;
}

describe('parseOffer', () => {
  it('fills the defaults of a minimal offer', () => {
    const result = parseOffer(offer());
    expect(result).toEqual({ ok: true, value: { ...offer(), priority: 0, tags: [], attributes: {}, fallback: false } });
  });

  it('accepts an offer with every field', () => {
    const full = offer({
      description: 'd',
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2026-02-01T00:00:00+01:00',
      eligibility: { rule: { kind: 'equals', field: { kind: 'attribute', name: 'tier' }, value: 'gold' } },
      priority: 10,
      score: 'offer.priority + 1',
      tags: ['shipping'],
      attributes: { margin: 0.2, brand: 'acme', stocked: true },
      caps: { total: 100, perProfile: { count: 2, period: '7d' } },
    });
    expect(parseOffer(full).ok).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a bad cap period', { caps: { perProfile: { count: 1, period: 'weekly' } } }, 'caps.perProfile.period: expected a duration'],
    ['a zero cap count', { caps: { perProfile: { count: 0, period: '7d' } } }, 'caps.perProfile.count:'],
    ['a fractional total cap', { caps: { total: 1.5 } }, 'caps.total:'],
    ['empty caps', { caps: {} }, 'caps: caps need total, perProfile or both'],
    ['an unknown cap key', { caps: { total: 1, daily: 3 } }, 'caps.daily: unknown field'],
    ['no placements', { placements: {} }, 'placements: an offer has content for at least one placement'],
    ['a content value that is an object', { placements: { 'web-banner': { title: { en: 'x' } } } }, 'placements.web-banner.title:'],
    ['a content field that is not an identifier', { placements: { 'web-banner': { 'image-url': 'x' } } }, 'placements.web-banner'],
    ['an id that is not kebab-case', { id: 'Free_Shipping' }, 'id: ids are kebab-case'],
    ['a negative priority', { priority: -1 }, 'priority:'],
    ['a validFrom without a zone', { validFrom: '2026-01-01T00:00:00' }, 'validFrom: expected an ISO-8601 time with a zone'],
    ['an eligibility that is neither rule nor segment', { eligibility: { audience: 'gold' } }, 'eligibility: eligibility is { "rule": <segment rule> } or { "segment": "<segment id>" }'],
    ['a wrong schema version', { schemaVersion: 2 }, 'schemaVersion:'],
  ])('refuses %s, naming the field', (_what, overrides, expected) => {
    expect(errorsOf(offer(overrides))).toEqual(expect.arrayContaining([expect.stringContaining(expected)]));
  });

  it('reports every problem of an offer at once', () => {
    const errors = errorsOf(offer({ id: 'Bad', priority: -1, caps: { perProfile: { count: 1, period: 'x' } } }));
    expect(errors.map((e) => e.slice(0, e.indexOf(':')))).toEqual(expect.arrayContaining(['id', 'priority', 'caps.perProfile.period']));
  });

  describe('validity window', () => {
    it('accepts validFrom before validUntil', () => {
      expect(parseOffer(offer({ validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-01-01T00:00:01Z' })).ok).toBe(true);
    });

    it('compares instants, not strings: an earlier zone offset can be later in time', () => {
      // 10:00+02:00 is 08:00Z, which is before 09:00Z although the string sorts after it.
      expect(parseOffer(offer({ validFrom: '2026-01-01T10:00:00+02:00', validUntil: '2026-01-01T09:00:00Z' })).ok).toBe(true);
      expect(errorsOf(offer({ validFrom: '2026-01-01T09:00:00Z', validUntil: '2026-01-01T10:00:00+02:00' }))).toEqual(['validUntil: validFrom must be before validUntil']);
    });

    it.each([
      ['after', '2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['equal to', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ])('refuses validFrom %s validUntil, on validUntil', (_what, validFrom, validUntil) => {
      expect(errorsOf(offer({ validFrom, validUntil }))).toEqual(['validUntil: validFrom must be before validUntil']);
    });

    it('accepts either bound alone', () => {
      expect(parseOffer(offer({ validFrom: '2026-01-01T00:00:00Z' })).ok).toBe(true);
      expect(parseOffer(offer({ validUntil: '2026-01-01T00:00:00Z' })).ok).toBe(true);
    });
  });

  describe('fallback offers', () => {
    it('accepts a fallback with neither eligibility nor caps', () => {
      const result = parseOffer(offer({ fallback: true }));
      expect(result.ok && result.value.fallback).toBe(true);
    });

    it.each([
      ['eligibility', { eligibility: { segment: 'loyalty-gold' } }],
      ['caps', { caps: { total: 10 } }],
    ])('refuses a fallback with %s, on the fallback field', (_what, overrides) => {
      expect(errorsOf(offer({ fallback: true, ...overrides }))).toEqual([expect.stringMatching(/^fallback: a fallback offer has no eligibility and no caps/)]);
    });

    it('accepts the same eligibility and caps on an offer that is not a fallback', () => {
      expect(parseOffer(offer({ fallback: false, eligibility: { segment: 'loyalty-gold' }, caps: { total: 10 } })).ok).toBe(true);
    });
  });

  describe('eligibility', () => {
    it('accepts a segment reference and a rule', () => {
      expect(parseOffer(offer({ eligibility: { segment: 'loyalty-gold' } })).ok).toBe(true);
      expect(parseOffer(offer({ eligibility: { rule: { kind: 'event', type: 'cart.updated', within: '3d' } } })).ok).toBe(true);
    });

    it('refuses a segment id that is not kebab-case', () => {
      expect(errorsOf(offer({ eligibility: { segment: 'Loyalty Gold' } }))).toEqual([expect.stringMatching(/^eligibility/)]);
    });

    it(`refuses a rule nested deeper than ${MAX_RULE_DEPTH} levels, naming eligibility.rule`, () => {
      let rule: Rule = { kind: 'exists', field: { kind: 'attribute', name: 'email' } };
      for (let i = 0; i < MAX_RULE_DEPTH; i++) rule = { kind: 'not', rule };
      expect(errorsOf(offer({ eligibility: { rule } }))).toEqual([expect.stringMatching(/^eligibility\.rule: rules nest at most/)]);
      // One level less is accepted.
      expect(parseOffer(offer({ eligibility: { rule: (rule as { rule: Rule }).rule } })).ok).toBe(true);
    });
  });
});

describe('parsePlacement', () => {
  it('defaults requiredContent to none', () => {
    expect(parsePlacement({ schemaVersion: 1, id: 'push', name: 'Push' })).toEqual({ ok: true, value: { schemaVersion: 1, id: 'push', name: 'Push', requiredContent: [] } });
  });

  it('names a bad channel and a bad content field name', () => {
    const result = parsePlacement({ schemaVersion: 1, id: 'push', name: 'Push', channel: 'fax', requiredContent: ['title', 'image-url'] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^channel:/), expect.stringMatching(/^requiredContent\[1\]: content field names are identifiers/)]));
  });
});

describe('parseOffer: eligibility errors', () => {
  it('names the path inside an eligibility rule, and refuses both or neither of rule and segment', () => {
    const base = { schemaVersion: 1, id: 'o', name: 'O', placements: { push: { title: 't', body: 'b' } } };
    const bad = parseOffer({ ...base, eligibility: { rule: { kind: 'all', rules: [{ kind: 'greater', field: { kind: 'attribute', name: 'age' }, value: true }] } } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toContain('eligibility.rule.rules[0].value');
    const both = parseOffer({ ...base, eligibility: { segment: 'vip', rule: { kind: 'segment', id: 'vip' } } });
    expect(both).toEqual({ ok: false, errors: ['eligibility: eligibility is { "rule": <segment rule> } or { "segment": "<segment id>" }'] });
    expect(parseOffer({ ...base, eligibility: {} }).ok).toBe(false);
  });
});
