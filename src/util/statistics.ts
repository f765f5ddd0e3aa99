// Sampling statistics for accuracies measured on a finite set of images: Wilson intervals for one accuracy and
// McNemar's exact test for two models scored on the same images. Pure functions, no dependencies.

export interface Interval {
  low: number;
  high: number;
}

/** Two-sided standard normal quantile for a confidence level (0.95 → 1.95996…), Acklam's rational approximation. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (k: number[], x: number) => k.reduce((acc, v) => acc * x + v, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Wilson score interval of a proportion `successes / n` at a two-sided confidence level. */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval {
  if (!Number.isInteger(successes) || !Number.isInteger(n) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: need integers 0 <= successes <= n, got ${successes}/${n}`);
  }
  if (n === 0) return {low: 0, high: 1};
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return {low: Math.max(0, centre - half), high: Math.min(1, centre + half)};
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

/** P(X <= k) for X ~ Binomial(n, p), summed in log space (exact for the n of an evaluation set). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logChoose(n, i) + i * logP + (n - i) * logQ);
  return Math.min(1, sum);
}

export interface McNemarResult {
  /** Images the first model got right and the second got wrong. */
  onlyFirstCorrect: number;
  /** Images the second model got right and the first got wrong. */
  onlySecondCorrect: number;
  /** Exact two-sided p-value of "both models are equally accurate" (binomial test on the discordant pairs). */
  pValue: number;
}

/** McNemar's exact test on the discordant counts of two models scored on the same images. */
export function mcnemarExact(onlyFirstCorrect: number, onlySecondCorrect: number): McNemarResult {
  const n = onlyFirstCorrect + onlySecondCorrect;
  const pValue = n === 0 ? 1 : Math.min(1, 2 * binomialCdf(Math.min(onlyFirstCorrect, onlySecondCorrect), n, 0.5));
  return {onlyFirstCorrect, onlySecondCorrect, pValue};
}

/** McNemar's test from per-image correctness of two models on the same images (same order). */
export function mcnemarFromCorrectness(first: ArrayLike<boolean | number>, second: ArrayLike<boolean | number>): McNemarResult {
  if (first.length !== second.length) {
    throw new RangeError(`mcnemarFromCorrectness: ${first.length} vs ${second.length} images; both models must be scored on the same images`);
  }
  let onlyFirst = 0;
  let onlySecond = 0;
  for (let i = 0; i < first.length; i++) {
    const a = Boolean(first[i]);
    const b = Boolean(second[i]);
    if (a && !b) onlyFirst++;
    else if (b && !a) onlySecond++;
  }
  return mcnemarExact(onlyFirst, onlySecond);
}

/**
 * Images needed so that a Wilson interval around `accuracy` has at most `halfWidth` on each side
 * (normal approximation, which Wilson's interval matches closely away from 0 and 1).
 */
export function samplesForHalfWidth(accuracy: number, halfWidth: number, confidence = 0.95): number {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = Math.min(Math.max(accuracy, 0), 1);
  return Math.ceil((z * z * Math.max(p * (1 - p), 1e-4)) / (halfWidth * halfWidth));
}

export interface PairedDrop {
  /** Images scored. */
  samples: number;
  /** Images the baseline got right and the candidate got wrong. */
  onlyBaselineCorrect: number;
  /** Images the candidate got right and the baseline got wrong. */
  onlyCandidateCorrect: number;
  /** (onlyBaselineCorrect − onlyCandidateCorrect) / samples: the baseline's accuracy minus the candidate's. */
  drop: number;
}

export function pairedDrop(onlyBaselineCorrect: number, onlyCandidateCorrect: number, samples: number): PairedDrop {
  if (!(samples > 0) || onlyBaselineCorrect + onlyCandidateCorrect > samples) {
    throw new RangeError(`pairedDrop: need 0 < discordant (${onlyBaselineCorrect} + ${onlyCandidateCorrect}) <= samples (${samples})`);
  }
  return {samples, onlyBaselineCorrect, onlyCandidateCorrect, drop: (onlyBaselineCorrect - onlyCandidateCorrect) / samples};
}

/**
 * Interval of a paired accuracy difference (baseline − candidate, same images) at a two-sided confidence:
 * the Wald interval after adding ½ to each cell of the 2×2 table (Agresti & Min 2005, "Simple improved
 * confidence intervals for comparing matched proportions"), which keeps its coverage when few images disagree.
 */
export function pairedDropInterval(paired: PairedDrop, confidence = 0.95): Interval {
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const n = paired.samples + 2;
  const b = paired.onlyBaselineCorrect + 0.5;
  const c = paired.onlyCandidateCorrect + 0.5;
  const difference = (b - c) / n;
  const half = (z * Math.sqrt(b + c - (b - c) ** 2 / n)) / n;
  return {low: Math.max(-1, difference - half), high: Math.min(1, difference + half)};
}

export type DropVerdict = 'within' | 'beyond' | 'undecided';

/**
 * One look of a test of "drop <= threshold" at error rate `alpha` (one-sided): `within` when the upper
 * bound is at most the threshold, `beyond` when the lower bound exceeds it. A caller making several
 * looks or testing several candidates splits its error rate over them (Bonferroni), so that the chance
 * of calling any configuration `within` whose true drop exceeds the threshold stays below the total.
 */
export function dropVerdict(paired: PairedDrop, threshold: number, alpha: number): {verdict: DropVerdict; bounds: Interval} {
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`dropVerdict: alpha must be in (0, 0.5), got ${alpha}`);
  const bounds = pairedDropInterval(paired, 1 - 2 * alpha);
  const verdict = bounds.high <= threshold ? 'within' : bounds.low > threshold ? 'beyond' : 'undecided';
  return {verdict, bounds};
}
