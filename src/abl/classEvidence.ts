import { fitTwoGaussians, quantileOf, type TwoGaussians } from './twoGaussians.js';

/** What each class's scores say about it; see {@link classEvidence}. */
export interface ClassEvidence {
  readonly label: number;
  readonly rows: number;
  /** Median score minus the mean of the class's lowest `tail` scores (null: too few rows). */
  readonly lowGap: number | null;
  /** `lowGap` as a robust anomaly index across classes (see {@link robustIndex}). */
  readonly lowIndex: number | null;
  /** The two-Gaussian fit of the class's scores (null: too few rows). */
  readonly fit: TwoGaussians | null;
  /** Distance between the fit's means in pooled standard deviations (0: too few rows). */
  readonly separation: number;
  /**
   * How clearly the class splits in two: the fit's gain (nats per row) times its separation. A
   * backdoor's target class, half poison learned far faster than its clean rows, splits clearly; an
   * easy class is shifted as a whole, a hard class has a long tail, and neither splits as clearly.
   */
  readonly strength: number;
  /** `strength` as a robust anomaly index across classes. */
  readonly strengthIndex: number | null;
  /**
   * The class's clean mode, estimated from its upper half (a backdoor's rows are learned faster, so
   * they sit in the lower part, however many there are): its median and robust spread (1.4826 · MAD).
   * Null: too few rows.
   */
  readonly cleanMode: { readonly centre: number; readonly spread: number } | null;
  /** `flagged`: strong, standing-out evidence; `weak`: some; `none`. */
  readonly call: 'flagged' | 'weak' | 'none';
  /**
   * Which of the class's two modes is unlike the other classes (its mean farther from theirs): `low`,
   * rows learned far faster (a learned backdoor); `high`, rows the model keeps getting wrong (dirty-label
   * poison whose trigger is not learned yet, as WaNet's after 2 epochs).
   */
  readonly side: 'low' | 'high';
}

/** The thresholds a class is judged by; recorded in the report with the evidence. */
export interface EvidenceThresholds {
  /** Flagged: the split's strength reaches this and its index reaches `strengthIndex` ... */
  readonly flagStrength: number;
  /** ... or the low-tail gap's index across classes reaches this. */
  readonly flagIndex: number;
  /**
   * Weak evidence (an `inconclusive` verdict when nothing is flagged): the same at these levels. Both
   * statistics weak at once flag the class.
   */
  readonly weakStrength: number;
  readonly weakIndex: number;
  /** The least robust index across classes a split's strength needs to count at all. */
  readonly strengthIndex: number;
  /** The suspicious (lower) mode must hold at least this many rows. */
  readonly minRows: number;
}

/**
 * Measured on Fashion-MNIST under the audit's isolation (`npm run bench:detect`, README): a learned
 * BadNets target (10,000 rows, 10%) splits with strength 0.76 (index 25); on clean data the strongest
 * split (trousers: easy, with a hard minority) reached 0.20, and the largest low-tail gap index 2.8
 * (sandals), 3.9 under a blend the isolation had not learned. The 3,000-row fixture's BadNets class,
 * before its rows form their own mode, has a gap index of 6.5 after 2 epochs.
 */
export const DEFAULT_EVIDENCE_THRESHOLDS: EvidenceThresholds = {
  flagStrength: 0.35,
  flagIndex: 5,
  weakStrength: 0.25,
  weakIndex: 4,
  strengthIndex: 3,
  minRows: 5,
};

/** Classes with fewer rows are not judged (their statistics mean little). */
export const MIN_CLASS_ROWS = 50;

/** A class's low tail is never measured over fewer rows than this. */
const MIN_TAIL_ROWS = 5;

/**
 * Fewer classes than this cannot be compared with each other: the median absolute deviation of four
 * values is noise (random 4-class sets of 200 rows gave indices above 5).
 */
export const MIN_JUDGED_CLASSES = 5;

/**
 * Judges every class from its rows' scores (lower = learned faster) on two statistics, each compared
 * across classes with a robust anomaly index: whether the class splits into two modes, one learned
 * far faster (a backdoor the model has learned), and how far its lowest rows sit below its median
 * (a backdoor being learned, before its rows form a mode of their own). Either, strong and standing
 * out, flags the class.
 *
 * @example
 * ```ts
 * const evidence = classEvidence(labels, meanLogLoss, { tail: 10 });
 * evidence.filter((c) => c.call === 'flagged').map((c) => c.label); // [0] for a BadNets set
 * ```
 * @param labels - every row's label.
 * @param score - every row's score, lower = more suspicious.
 * @param options - how many rows make a class's tail, and the thresholds.
 * @returns one record per class that has rows, by label.
 */
export function classEvidence(
  labels: Int32Array,
  score: Float64Array,
  options: { readonly tail: number; readonly thresholds?: EvidenceThresholds },
): ClassEvidence[] {
  const t = options.thresholds ?? DEFAULT_EVIDENCE_THRESHOLDS;
  const tail = Math.max(MIN_TAIL_ROWS, Math.round(options.tail));
  const groups = [...scoresByClass(labels, score)];
  const judged = groups.map(([label, values]) => {
    if (values.length < Math.max(MIN_CLASS_ROWS, 2 * tail)) {
      return {
        label,
        rows: values.length,
        lowGap: null,
        fit: null,
        separation: 0,
        strength: 0,
        cleanMode: null,
      };
    }
    let low = 0;
    for (let i = 0; i < tail; i++) low += values[i] as number;
    const fit = fitTwoGaussians(values);
    const pooled = Math.sqrt((fit.sds[0] ** 2 + fit.sds[1] ** 2) / 2);
    const separation = pooled > 0 ? (fit.means[1] - fit.means[0]) / pooled : 0;
    const big = fit.weights[0] * values.length >= t.minRows;
    return {
      label,
      rows: values.length,
      lowGap: quantileOf(values, 0.5) - low / tail,
      fit,
      separation,
      strength: big ? fit.gain * separation : 0,
      cleanMode: upperHalfMode(values),
    };
  });
  const lowIndex = robustIndex(judged.map((c) => c.lowGap));
  const medians = groups.map(([, values]) => quantileOf(values, 0.5));
  const strengthIndex = robustIndex(judged.map((c) => (c.fit ? c.strength : null)));
  return judged.map((c, k) => {
    const index = strengthIndex[k] ?? null;
    const gapIndex = lowIndex[k] ?? null;
    const splits = (strength: number) => index !== null && index >= t.strengthIndex && c.strength >= strength;
    const tails = (level: number) => gapIndex !== null && gapIndex >= level;
    // Either statistic strong, or both at the weak level: two signals that agree are stronger than one.
    const weakBoth = splits(t.weakStrength) && tails(t.weakIndex);
    const call =
      splits(t.flagStrength) || tails(t.flagIndex) || weakBoth
        ? ('flagged' as const)
        : splits(t.weakStrength) || tails(t.weakIndex)
          ? ('weak' as const)
          : ('none' as const);
    const others = medians.filter((_, j) => j !== k).sort((a, b) => a - b);
    const reference = others.length > 0 ? quantileOf(others, 0.5) : Number.NaN;
    // The slow side needs a real split; the low-tail gap only ever speaks for the fast side.
    const side: 'low' | 'high' =
      c.fit &&
      splits(t.weakStrength) &&
      Math.abs(c.fit.means[1] - reference) > Math.abs(c.fit.means[0] - reference)
        ? 'high'
        : 'low';
    return { ...c, lowIndex: gapIndex, strengthIndex: index, call, side };
  });
}

/** Median and robust spread of the upper half of sorted values (see `ClassEvidence.cleanMode`). */
function upperHalfMode(sorted: readonly number[]): { centre: number; spread: number } {
  const upper = sorted.slice(Math.floor(sorted.length / 2));
  const centre = quantileOf(upper, 0.5);
  const deviations = upper.map((v) => Math.abs(v - centre)).sort((a, b) => a - b);
  return { centre, spread: 1.4826 * quantileOf(deviations, 0.5) };
}

/** Each label's scores, sorted ascending, labels in ascending order. */
function scoresByClass(labels: Int32Array, score: Float64Array): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const values = byClass.get(label);
    if (values) values.push(score[i] as number);
    else byClass.set(label, [score[i] as number]);
  });
  for (const values of byClass.values()) values.sort((a, b) => a - b);
  return new Map([...byClass].sort((a, b) => a[0] - b[0]));
}

/**
 * (x − median) / (1.4826 · MAD) for each value (null stays null). With fewer than
 * {@link MIN_JUDGED_CLASSES} values, or no spread, every index is null: nothing can stand out from
 * nothing.
 */
export function robustIndex(values: readonly (number | null)[]): (number | null)[] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length < MIN_JUDGED_CLASSES) return values.map(() => null);
  const median = quantileOf(finite, 0.5);
  const deviations = finite.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  const mad = 1.4826 * quantileOf(deviations, 0.5);
  if (!(mad > 0)) return values.map(() => null);
  return values.map((v) => (v === null || !Number.isFinite(v) ? null : (v - median) / mad));
}
