import {
  chiSquareSurvival,
  compareArms,
  confidenceSequence,
  holmAdjust,
  normalCdf,
  normalQuantile,
  sampleRatioMismatch,
  twoProportionTest,
} from '../../../lambdas/core/measure/stats';

// Reference values computed independently with Python (math.erfc, scipy.stats, and a root-finder on the mSPRT's
// likelihood ratio for the confidence sequence), not with the formulas under test.
describe('distributions', () => {
  it.each([
    [1.96, 0.9750021048517795],
    [-1, 0.15865525393145707],
    [3, 0.9986501019683699],
  ])('Φ(%p) = %p', (x, p) => expect(normalCdf(x)).toBeCloseTo(p, 6));

  it.each([
    [0.975, 1.959963984540054],
    [0.001, -3.090232306167813],
    [0.9999, 3.719016485455709],
  ])('Φ⁻¹(%p) = %p', (p, x) => expect(normalQuantile(p)).toBeCloseTo(x, 6));

  it.each([
    [3.841458820694124, 1, 0.05],
    [10.827566170662733, 1, 0.001],
    [5.991464547107979, 2, 0.05],
    [7.814727903251178, 3, 0.05],
    [2.5, 3, 0.4752910833430205],
    [0.3, 1, 0.583882420770365],
    [9.487729036781154, 4, 0.05],
  ])('P(χ² > %p | df %p) = %p', (x, df, p) => expect(chiSquareSurvival(x, df)).toBeCloseTo(p, 6));

  it('P(χ²₇ > 50) is tiny but exact in relative terms', () => expect(chiSquareSurvival(50, 7) / 1.4444852779215397e-8).toBeCloseTo(1, 4));
});

describe('twoProportionTest', () => {
  it('matches the pooled z-test and the Wald interval computed by hand', () => {
    const r = twoProportionTest({ entries: 1000, conversions: 100 }, { entries: 1000, conversions: 130 });
    if (!r.available) throw new Error(r.reason);
    expect(r.difference).toBeCloseTo(0.03, 12);
    expect(r.z).toBeCloseTo(2.102740605622114, 6);
    expect(r.pValue).toBeCloseTo(0.03548845046647475, 6);
    expect(r.interval.lower).toBeCloseTo(0.0020679344393763656, 6);
    expect(r.interval.upper).toBeCloseTo(0.057932065560623636, 6);
  });

  it.each([
    [{ entries: 10, conversions: 1 }, { entries: 1000, conversions: 100 }, /too few entries: control has 10/],
    [{ entries: 100, conversions: 0 }, { entries: 100, conversions: 0 }, /no variance/],
    [{ entries: 100, conversions: 101 }, { entries: 100, conversions: 1 }, /more conversions/],
  ])('says why it cannot answer (%j vs %j)', (a, b, reason) => {
    const r = twoProportionTest(a, b);
    expect(r).toEqual({ available: false, reason: expect.stringMatching(reason) });
  });
});

describe('confidenceSequence (mSPRT, normal mixture)', () => {
  it('matches the interval found by inverting the likelihood ratio numerically', () => {
    const r = confidenceSequence({ entries: 1000, conversions: 100 }, { entries: 1000, conversions: 130 });
    if (!r.available) throw new Error(r.reason);
    expect(r.interval.lower).toBeCloseTo(-0.013406787829779563, 9);
    expect(r.interval.upper).toBeCloseTo(0.07340678782977955, 9);
    expect(r.pValue).toBeCloseTo(0.4700323545855476, 9);
  });

  it('is wider than the fixed-horizon interval (the price of looking any number of times)', () => {
    const a = { entries: 5000, conversions: 500 };
    const b = { entries: 5000, conversions: 560 };
    const seq = confidenceSequence(a, b);
    const fixed = twoProportionTest(a, b);
    if (!seq.available || !fixed.available) throw new Error('unavailable');
    expect(seq.interval.upper - seq.interval.lower).toBeGreaterThan(fixed.interval.upper - fixed.interval.lower);
  });

  it('covers a zero difference at every look in at least 95% of simulated A/A tests', () => {
    // A deterministic generator (mulberry32): the test gives the same answer on every run.
    let seed = 42;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    let everMissed = 0;
    const runs = 200;
    for (let run = 0; run < runs; run++) {
      const a = { entries: 0, conversions: 0 };
      const b = { entries: 0, conversions: 0 };
      let missed = false;
      for (let look = 1; look <= 40 && !missed; look++) {
        for (let i = 0; i < 100; i++) {
          a.entries++;
          b.entries++;
          if (random() < 0.1) a.conversions++;
          if (random() < 0.1) b.conversions++;
        }
        const cs = confidenceSequence(a, b);
        if (cs.available && (cs.interval.lower > 0 || cs.interval.upper < 0)) missed = true;
      }
      if (missed) everMissed++;
    }
    expect(everMissed / runs).toBeLessThanOrEqual(0.05);
  });
});

describe('sampleRatioMismatch', () => {
  it.each([
    [[5100, 4900], [50, 50], 4, 0.045500263896358396, false],
    [[5300, 4700], [50, 50], 36, 1.9731752900754024e-9, true],
  ])('%j against weights %j: χ² %p, p %p, mismatch %p', (observed, weights, chi, p, mismatch) => {
    const r = sampleRatioMismatch(observed, weights);
    if (!r.available) throw new Error(r.reason);
    expect(r.chiSquare).toBeCloseTo(chi, 9);
    expect(r.pValue / p).toBeCloseTo(1, 4);
    expect(r.mismatch).toBe(mismatch);
  });

  it('uses the weights, not an even split', () => {
    const r = sampleRatioMismatch([900, 100], [90, 10]);
    expect(r).toMatchObject({ available: true, chiSquare: 0, pValue: 1, mismatch: false });
  });

  it('says why with too few entries', () => {
    expect(sampleRatioMismatch([3, 1], [50, 50])).toEqual({ available: false, reason: expect.stringMatching(/too few entries/) });
    expect(sampleRatioMismatch([0, 0], [50, 50])).toEqual({ available: false, reason: 'no entries yet' });
  });
});

describe('multiple comparisons', () => {
  it('adjusts p-values by Holm (hand-computed)', () => {
    // Sorted 0.01, 0.02, 0.04 → 3·0.01 = 0.03, max(0.03, 2·0.02) = 0.04, max(0.04, 1·0.04) = 0.04.
    expect(holmAdjust([0.04, 0.01, 0.02])).toEqual([0.04, 0.03, 0.04].map((x) => expect.closeTo(x, 12)));
  });

  it('widens each confidence sequence to alpha / m with more than two variants', () => {
    const control = { entries: 1000, conversions: 100 };
    const treatment = { entries: 1000, conversions: 130 };
    const [one] = compareArms(control, [treatment]);
    const [first] = compareArms(control, [treatment, { entries: 1000, conversions: 100 }]);
    if (!one.sequential.available || !first.sequential.available) throw new Error('unavailable');
    expect(one.sequential.interval.upper).toBeCloseTo(0.07340678782977955, 9);
    expect(first.sequential.interval.upper).toBeCloseTo(0.07678225363430301, 9);
    expect(first.fixedHorizon).toMatchObject({ available: true, adjustedPValue: expect.closeTo(2 * 0.03548845046647475, 6) });
    expect(first.relativeUplift).toEqual({ available: true, value: expect.closeTo(0.3, 12) });
  });
});
