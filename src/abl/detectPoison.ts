import {
  type ClassEvidence,
  classEvidence,
  DEFAULT_EVIDENCE_THRESHOLDS,
  type EvidenceThresholds,
  MIN_JUDGED_CLASSES,
} from './classEvidence.js';
import { componentPosterior } from './twoGaussians.js';

/** What the audit concludes about the data as a whole. */
export const VERDICTS = ['poison-found', 'no-poison-found', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Where each row goes: its partition. */
export const ROW_CALLS = { clean: 0, review: 1, quarantine: 2 } as const;

/**
 * A class's low tail, for the gap statistic, is this share of the rows divided among the classes (the
 * paper's 1% isolation budget, spread over the classes).
 */
export const TAIL_SHARE = 0.01;

/** Options of {@link detectPoison}. */
export interface DetectPoisonOptions {
  /**
   * Rows of a flagged class at least this many robust standard deviations below the class's clean
   * mode (its suspicion) are quarantined.
   */
  readonly quarantineAt: number;
  /** Rows of a flagged class with a suspicion from this (and below `quarantineAt`) go to review. */
  readonly reviewFrom: number;
  /**
   * A class flagged on its `high` side (rows the model keeps getting wrong): its rows are quarantined
   * from this posterior of the slow mode of its two-Gaussian fit, reviewed from `reviewPosterior`.
   */
  readonly quarantinePosterior: number;
  readonly reviewPosterior: number;
  /** Rows that make a class's tail for the gap statistic (default: {@link TAIL_SHARE} of the rows per class). */
  readonly tail: number;
  readonly thresholds: EvidenceThresholds;
}

/**
 * The defaults: quarantined from 3 robust standard deviations below the clean mode, reviewed from 2.5.
 * Measured (README): precision 0.98–1.00 at 3 on the BadNets sets, the band from 2.5 about 60% poison.
 */
export const DETECTION_DEFAULTS: Omit<DetectPoisonOptions, 'tail'> = {
  quarantineAt: 3,
  reviewFrom: 2.5,
  quarantinePosterior: 0.9,
  reviewPosterior: 0.5,
  thresholds: DEFAULT_EVIDENCE_THRESHOLDS,
};

/** What {@link detectPoison} decided. */
export interface Detection {
  readonly verdict: Verdict;
  /** Labels of the flagged classes, strongest evidence first. */
  readonly flagged: readonly number[];
  readonly classes: readonly ClassEvidence[];
  /** Each row's call: 0 clean, 1 review, 2 quarantine (see {@link ROW_CALLS}). */
  readonly calls: Uint8Array;
  /**
   * Each row's suspicion (0 outside flagged classes): in a class flagged on its fast side, how many
   * robust standard deviations it sits below the class's clean mode (0 at or above it); on the slow
   * side, the posterior of the fit's slow mode.
   */
  readonly suspicion: Float32Array;
  readonly quarantined: number;
  readonly review: number;
  /** Classes with enough rows to be judged; below {@link MIN_JUDGED_CLASSES} the verdict is `inconclusive`. */
  readonly judgedClasses: number;
  readonly options: DetectPoisonOptions;
}

/**
 * Decides whether the data holds poison and which rows: judges every class from its rows' scores
 * ({@link classEvidence}), then splits each flagged class against its clean mode (estimated from the
 * class's upper half): the rows far below it are quarantined, however many there are, and rows just
 * below the cut go to a review band. Nothing is quarantined from a class without evidence: on clean
 * data the quarantine is empty.
 *
 * <span class="informal">The verdict: `poison-found` when a class is flagged; `inconclusive` when a
 * class shows weak evidence only, or fewer than {@link MIN_JUDGED_CLASSES} classes have the rows to
 * be compared; `no-poison-found` otherwise, which means no class stood out on the
 * signals measured, not that no attack could hide from them (the README's table says which attacks
 * these signals catch).</span>
 *
 * @example
 * ```ts
 * const detection = detectPoison(labels, meanLogLoss);
 * detection.verdict; // 'poison-found'
 * detection.flagged; // [0]
 * ```
 * @param labels - every row's label.
 * @param score - every row's score, lower = learned faster.
 * @param options - thresholds and the tail.
 * @returns the verdict, each class's evidence and each row's call.
 */
export function detectPoison(
  labels: Int32Array,
  score: Float64Array,
  options: Partial<DetectPoisonOptions> = {},
): Detection {
  const tail = Math.ceil((TAIL_SHARE * labels.length) / Math.max(1, new Set(labels).size));
  const opts: DetectPoisonOptions = { ...DETECTION_DEFAULTS, tail, ...options };
  const classes = classEvidence(labels, score, { tail: opts.tail, thresholds: opts.thresholds });
  const flaggedEvidence = classes.filter((c) => c.call === 'flagged').sort((a, b) => indexOf(b) - indexOf(a));
  const n = labels.length;
  const calls = new Uint8Array(n);
  const suspicion = new Float32Array(n);
  const byLabel = new Map(flaggedEvidence.map((c) => [c.label, c]));
  let quarantined = 0;
  let review = 0;
  for (let i = 0; i < n; i++) {
    const evidence = byLabel.get(labels[i] as number);
    if (!evidence) continue;
    const call = rowCall(evidence, score[i] as number, opts);
    suspicion[i] = call.suspicion;
    calls[i] = call.call;
    if (call.call === ROW_CALLS.quarantine) quarantined++;
    if (call.call === ROW_CALLS.review) review++;
  }
  const judged = classes.filter((c) => c.fit !== null).length;
  const verdict: Verdict =
    flaggedEvidence.length > 0
      ? 'poison-found'
      : classes.some((c) => c.call === 'weak') || judged < MIN_JUDGED_CLASSES
        ? 'inconclusive'
        : 'no-poison-found';
  return {
    verdict,
    flagged: flaggedEvidence.map((c) => c.label),
    classes,
    calls,
    suspicion,
    quarantined,
    review,
    judgedClasses: judged,
    options: opts,
  };
}

/**
 * One row of a flagged class. Learned-fast side: robust standard deviations below the class's clean
 * mode (its upper half). Not-learned side: the posterior of the fit's slow mode, never for a row at or
 * below the fast mode's mean.
 */
function rowCall(
  evidence: ClassEvidence,
  x: number,
  opts: DetectPoisonOptions,
): { suspicion: number; call: number } {
  const { fit, cleanMode } = evidence;
  const cut = (p: number, quarantineAt: number, reviewFrom: number) => ({
    suspicion: p,
    call: p >= quarantineAt ? ROW_CALLS.quarantine : p >= reviewFrom ? ROW_CALLS.review : ROW_CALLS.clean,
  });
  if (evidence.side === 'high' && fit) {
    const p = x <= fit.means[0] ? 0 : componentPosterior(fit, x, 1);
    return cut(p, opts.quarantinePosterior, opts.reviewPosterior);
  }
  if (!cleanMode || !(cleanMode.spread > 0)) return { suspicion: 0, call: ROW_CALLS.clean };
  return cut(Math.max(0, (cleanMode.centre - x) / cleanMode.spread), opts.quarantineAt, opts.reviewFrom);
}

function indexOf(c: ClassEvidence): number {
  return c.strengthIndex ?? Number.NEGATIVE_INFINITY;
}
