/**
 * The statistics of a journey report: pure functions of counts (no I/O). Every figure that cannot be computed is a
 * value saying why (`{ available: false, reason }`), never NaN or Infinity. Methods and references: README.md here.
 */

export type Unavailable = { available: false; reason: string };
export type Figure<T> = ({ available: true } & T) | Unavailable;

const unavailable = (reason: string): Unavailable => ({ available: false, reason });

/** Fewest entries per arm before a comparison is attempted (the normal approximations need some). */
export const MIN_ARM_ENTRIES = 30;
/** Significance of the tests and the coverage of the intervals (95 %). */
export const ALPHA = 0.05;
/** A sample ratio mismatch is flagged below this p-value. */
export const SRM_ALPHA = 0.001;
/**
 * The mixing variance τ² of the mSPRT's normal mixture over the true difference (Johari et al.): τ = 0.05 puts most of
 * the prior on differences within a few percentage points, where conversion effects lie.
 */
export const MSPRT_TAU2 = 0.05 ** 2;

/** The complementary error function, |relative error| < 1.2e-7 (Numerical Recipes' Chebyshev fit, erfcc). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The standard normal distribution function Φ. */
export const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/** Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, refined by one Halley step on Φ). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1) (got ${p})`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms). */
function logGamma(x: number): number {
  const g = [0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = g[0];
  for (let i = 1; i < 9; i++) sum += g[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The upper regularized incomplete gamma Q(s, x) (series below s + 1, Lentz's continued fraction above). */
export function upperGamma(s: number, x: number): number {
  if (x <= 0) return 1;
  const lead = -x + s * Math.log(x) - logGamma(s);
  if (x < s + 1) {
    let sum = 1 / s;
    let term = sum;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) sum += term *= x / (s + n);
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(lead) * h;
}

/** P(χ²_df > x). */
export const chiSquareSurvival = (x: number, df: number) => upperGamma(df / 2, x / 2);

export interface Arm {
  /** Entries (the denominator). */
  entries: number;
  /** Conversions, at most one per entry. */
  conversions: number;
}

export interface Interval {
  lower: number;
  upper: number;
}

export interface FixedHorizonTest {
  /** Treatment rate minus control rate. */
  difference: number;
  /** Pooled two-proportion z statistic. */
  z: number;
  pValue: number;
  /** Wald interval of the difference (unpooled variance) at the given confidence. */
  interval: Interval;
}

function armProblem(control: Arm, treatment: Arm): string | undefined {
  for (const [name, arm] of [['control', control], ['treatment', treatment]] as const) {
    if (!Number.isInteger(arm.entries) || !Number.isInteger(arm.conversions) || arm.entries < 0 || arm.conversions < 0) return `${name} counts must be non-negative integers`;
    if (arm.conversions > arm.entries) return `${name} has more conversions (${arm.conversions}) than entries (${arm.entries})`;
    if (arm.entries < MIN_ARM_ENTRIES) return `too few entries: ${name} has ${arm.entries}, at least ${MIN_ARM_ENTRIES} are needed`;
  }
  return undefined;
}

/** The classical fixed-horizon two-proportion z-test (pooled), valid when looked at once, at a planned sample size. */
export function twoProportionTest(control: Arm, treatment: Arm, alpha = ALPHA): Figure<FixedHorizonTest> {
  const problem = armProblem(control, treatment);
  if (problem) return unavailable(problem);
  const p1 = control.conversions / control.entries;
  const p2 = treatment.conversions / treatment.entries;
  const pooled = (control.conversions + treatment.conversions) / (control.entries + treatment.entries);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.entries + 1 / treatment.entries));
  if (sePooled === 0) return unavailable(`no variance: every entry ${pooled === 0 ? 'did not convert' : 'converted'} in both arms`);
  const difference = p2 - p1;
  const z = difference / sePooled;
  const se = Math.sqrt((p1 * (1 - p1)) / control.entries + (p2 * (1 - p2)) / treatment.entries);
  const q = normalQuantile(1 - alpha / 2);
  return { available: true, difference, z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))), interval: { lower: difference - q * se, upper: difference + q * se } };
}

export interface ConfidenceSequence {
  difference: number;
  /** Covers the true difference at every sample size simultaneously with probability ≥ 1 − alpha. */
  interval: Interval;
  /** Always-valid p-value of "no difference" at this look (1 / the mSPRT's likelihood ratio, at most 1). */
  pValue: number;
}

/**
 * The always-valid confidence interval of the difference of two proportions from the mixture sequential probability
 * ratio test (mSPRT) with a normal mixture N(0, τ²) over the difference (Johari, Koomen, Pekelis, Walsh, "Always Valid
 * Inference: Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022; Robbins 1970). With V the estimated
 * variance of the observed difference, the likelihood ratio against θ₀ is √(V/(V+τ²))·exp(τ²(θ̂−θ₀)²/(2V(V+τ²))), and
 * the set of θ₀ it does not reject at 1/α is θ̂ ± √((2V(V+τ²)/τ²)·ln(√((V+τ²)/V)/α)).
 */
export function confidenceSequence(control: Arm, treatment: Arm, alpha = ALPHA, tau2 = MSPRT_TAU2): Figure<ConfidenceSequence> {
  const problem = armProblem(control, treatment);
  if (problem) return unavailable(problem);
  const p1 = control.conversions / control.entries;
  const p2 = treatment.conversions / treatment.entries;
  const v = (p1 * (1 - p1)) / control.entries + (p2 * (1 - p2)) / treatment.entries;
  if (v === 0) return unavailable(`no variance: every entry ${p1 === 0 ? 'did not convert' : 'converted'} in both arms`);
  const difference = p2 - p1;
  const halfWidth = Math.sqrt(((2 * v * (v + tau2)) / tau2) * Math.log(Math.sqrt((v + tau2) / v) / alpha));
  const logRatio = 0.5 * Math.log(v / (v + tau2)) + (tau2 * difference * difference) / (2 * v * (v + tau2));
  return { available: true, difference, interval: { lower: difference - halfWidth, upper: difference + halfWidth }, pValue: Math.min(1, Math.exp(-logRatio)) };
}

export interface SampleRatioCheck {
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** p < SRM_ALPHA: the observed split does not match the weights; the comparison is suspect. */
  mismatch: boolean;
}

/** Pearson's chi-square goodness of fit of the observed arm sizes to the expected weights (any positive scale). */
export function sampleRatioMismatch(observed: readonly number[], weights: readonly number[]): Figure<SampleRatioCheck> {
  if (observed.length !== weights.length || observed.length < 2) return unavailable('needs at least two arms, with a weight each');
  if (weights.some((w) => !(w > 0))) return unavailable('every arm needs a positive weight');
  const total = observed.reduce((s, o) => s + o, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  if (total === 0) return unavailable('no entries yet');
  const expected = weights.map((w) => (total * w) / weightSum);
  if (expected.some((e) => e < 5)) return unavailable(`too few entries: an arm expects fewer than 5 (${total} in all)`);
  const chiSquare = observed.reduce((s, o, i) => s + (o - expected[i]) ** 2 / expected[i], 0);
  const degreesOfFreedom = observed.length - 1;
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { available: true, chiSquare, degreesOfFreedom, pValue, mismatch: pValue < SRM_ALPHA };
}

/** Holm's step-down adjustment of p-values (family-wise error), in the input order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface Comparison {
  control: Arm;
  treatment: Arm;
  /** Treatment rate − control rate, with the always-valid interval (Bonferroni: alpha / comparisons). */
  sequential: Figure<ConfidenceSequence>;
  /** The fixed-horizon test, its p-value Holm-adjusted over the comparisons. */
  fixedHorizon: Figure<FixedHorizonTest & { adjustedPValue: number }>;
  /** Treatment rate / control rate − 1. */
  relativeUplift: Figure<{ value: number }>;
}

/**
 * Each treatment against one control. With more than one comparison the confidence sequences use alpha / m
 * (Bonferroni) and the fixed-horizon p-values are Holm-adjusted, so the family-wise error stays at alpha.
 */
export function compareArms(control: Arm, treatments: readonly Arm[], alpha = ALPHA): Comparison[] {
  const m = Math.max(1, treatments.length);
  const fixed = treatments.map((t) => twoProportionTest(control, t, alpha / m));
  const available = fixed.map((f, i) => ({ f, i })).filter((x) => x.f.available) as { f: { available: true } & FixedHorizonTest; i: number }[];
  const adjusted = holmAdjust(available.map((x) => x.f.pValue));
  const adjustedByIndex = new Map(available.map((x, k) => [x.i, adjusted[k]]));
  return treatments.map((treatment, i) => {
    const f = fixed[i];
    const controlRate = control.entries > 0 ? control.conversions / control.entries : undefined;
    const relativeUplift: Figure<{ value: number }> =
      controlRate === undefined || controlRate === 0 || treatment.entries === 0
        ? unavailable(controlRate === 0 ? 'the control has no conversions' : 'an arm has no entries')
        : { available: true, value: treatment.conversions / treatment.entries / controlRate - 1 };
    return {
      control,
      treatment,
      sequential: confidenceSequence(control, treatment, alpha / m),
      fixedHorizon: f.available ? { ...f, adjustedPValue: adjustedByIndex.get(i)! } : f,
      relativeUplift,
    };
  });
}

/** A ratio, or why not (a zero or absent denominator). */
export function ratio(numerator: number, denominator: number, what: string): Figure<{ value: number }> {
  if (!(denominator > 0)) return unavailable(`no ${what} yet`);
  return { available: true, value: numerator / denominator };
}
