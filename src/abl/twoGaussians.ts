/**
 * A mixture of two Gaussians fitted to one-dimensional values: how the audit splits a flagged class's
 * scores into "like the class" and "not like the class" without a fixed budget.
 */
export interface TwoGaussians {
  /** Component means, the lower first. */
  readonly means: readonly [number, number];
  readonly sds: readonly [number, number];
  /** Mixing weights, summing to 1. */
  readonly weights: readonly [number, number];
  /**
   * How much better two components explain the values than one, in nats per value (the mean
   * log-likelihood gain). About 0 for a unimodal sample; a well-separated second mode of a tenth of the
   * values gives about 0.1 and more.
   */
  readonly gain: number;
}

/** EM stops when an iteration improves the mean log-likelihood by less than this. */
const TOLERANCE = 1e-9;
const MAX_ITERATIONS = 500;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Fits two Gaussians to `values` by expectation-maximisation, started deterministically from the
 * lower and upper quartiles (the same values always give the same fit).
 *
 * <span class="informal">Standard deviations are floored at 1% of the sample's, so a tight cluster
 * (rows a backdoor drove to one loss) cannot collapse a component to zero width.</span>
 *
 * @example
 * ```ts
 * const fit = fitTwoGaussians(classScores);
 * const p = componentPosterior(fit, classScores[0], 0); // probability of the lower component
 * ```
 * @param values - at least two finite values.
 * @returns the fit; a sample with no spread gives equal components and a gain of 0.
 */
export function fitTwoGaussians(values: ArrayLike<number>): TwoGaussians {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i] as number;
  mean /= Math.max(1, n);
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((sorted[i] as number) - mean) ** 2;
  const sd = Math.sqrt(variance / Math.max(1, n));
  if (n < 2 || !(sd > 0)) {
    return { means: [mean, mean], sds: [sd, sd], weights: [0.5, 0.5], gain: 0 };
  }
  const floor = sd * 0.01;
  const mu = [quantileOf(sorted, 0.25), quantileOf(sorted, 0.75)];
  const s = [sd / 2, sd / 2];
  const w = [0.5, 0.5];
  const resp = new Float64Array(n);
  let previous = Number.NEGATIVE_INFINITY;
  let logLik = 0;
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    logLik = 0;
    let n0 = 0;
    let sum0 = 0;
    let sum1 = 0;
    for (let i = 0; i < n; i++) {
      const x = sorted[i] as number;
      const a = logDensity(x, mu[0] as number, s[0] as number) + Math.log(w[0] as number);
      const b = logDensity(x, mu[1] as number, s[1] as number) + Math.log(w[1] as number);
      const m = Math.max(a, b);
      const total = m + Math.log(Math.exp(a - m) + Math.exp(b - m));
      logLik += total;
      const r = Math.exp(a - total);
      resp[i] = r;
      n0 += r;
      sum0 += r * x;
      sum1 += (1 - r) * x;
    }
    const n1 = n - n0;
    if (n0 < 1e-9 || n1 < 1e-9) break;
    mu[0] = sum0 / n0;
    mu[1] = sum1 / n1;
    let v0 = 0;
    let v1 = 0;
    for (let i = 0; i < n; i++) {
      const x = sorted[i] as number;
      const r = resp[i] as number;
      v0 += r * (x - (mu[0] as number)) ** 2;
      v1 += (1 - r) * (x - (mu[1] as number)) ** 2;
    }
    s[0] = Math.max(floor, Math.sqrt(v0 / n0));
    s[1] = Math.max(floor, Math.sqrt(v1 / n1));
    w[0] = n0 / n;
    w[1] = n1 / n;
    if (logLik - previous < TOLERANCE * n) break;
    previous = logLik;
  }
  let single = 0;
  for (let i = 0; i < n; i++) single += logDensity(sorted[i] as number, mean, sd);
  const lowFirst = (mu[0] as number) <= (mu[1] as number);
  const [a, b] = lowFirst ? [0, 1] : [1, 0];
  return {
    means: [mu[a] as number, mu[b] as number],
    sds: [s[a] as number, s[b] as number],
    weights: [w[a] as number, w[b] as number],
    gain: Math.max(0, (logLik - single) / n),
  };
}

/**
 * The probability that `x` belongs to component `component` of `fit` (0 = the lower mean).
 *
 * @param fit - a fit from {@link fitTwoGaussians}.
 * @param x - a value.
 * @param component - 0 or 1.
 * @returns a probability in [0, 1].
 */
export function componentPosterior(fit: TwoGaussians, x: number, component: 0 | 1): number {
  const a = logDensity(x, fit.means[0], fit.sds[0]) + Math.log(fit.weights[0]);
  const b = logDensity(x, fit.means[1], fit.sds[1]) + Math.log(fit.weights[1]);
  if (!Number.isFinite(a) && !Number.isFinite(b)) return 0.5;
  const p0 = 1 / (1 + Math.exp(b - a));
  return component === 0 ? p0 : 1 - p0;
}

function logDensity(x: number, mean: number, sd: number): number {
  const z = (x - mean) / sd;
  return -0.5 * z * z - Math.log(sd) - LOG_SQRT_2PI;
}

/** Linear-interpolated quantile of sorted values. */
export function quantileOf(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}
