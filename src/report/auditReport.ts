import type { IsolationMetrics } from './isolationMetrics.js';

/** Value of `schema` in every report.json this version writes. Bumped on any incompatible change. */
export const REPORT_SCHEMA = 'abl-audit/report@3';

/** An input file, tied to its exact bytes. */
export interface ReportFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** One class's rows and quarantined rows. */
export interface ReportClassCount {
  readonly label: number;
  readonly name: string | null;
  readonly rows: number;
  readonly quarantined: number;
  /** Rows of the class in the review band. */
  readonly review: number;
}

/** What the audit concludes: see `detection`. */
export type ReportVerdict = 'poison-found' | 'no-poison-found' | 'inconclusive';

/** One class's evidence (see `classEvidence` in the library). */
export interface ReportClassEvidence {
  readonly label: number;
  readonly name: string | null;
  readonly rows: number;
  /** The two-mode fit's gain (nats per row) times its separation: how clearly the class splits. */
  readonly strength: number;
  /** `strength` as a robust anomaly index across classes (null: too few classes or rows). */
  readonly strengthIndex: number | null;
  /** Distance between the two modes in pooled standard deviations. */
  readonly separation: number;
  /** Share of the class in the lower (learned-faster) mode. */
  readonly lowWeight: number | null;
  /** Median score minus the mean of the class's lowest-scored rows, and its index across classes. */
  readonly lowGap: number | null;
  readonly lowIndex: number | null;
  readonly call: 'flagged' | 'weak' | 'none';
  /** The mode unlike the other classes: `low` (learned far faster) or `high` (not learned: mislabelled-like). */
  readonly side: 'low' | 'high';
}

/** How the audit decided whether there is poison and which rows hold it. */
export interface ReportDetection {
  readonly verdict: ReportVerdict;
  /** Flagged classes, strongest evidence first. */
  readonly flaggedClasses: readonly number[];
  /** `adaptive`: the suspicious mode of each flagged class; `fixed`: an explicit isolation ratio. */
  readonly split: 'adaptive' | 'fixed';
  /**
   * A row of a flagged class is quarantined when it sits at least this many robust standard deviations
   * below the class's clean mode (its `abl_suspicion`), reviewed from `reviewFrom`.
   */
  readonly quarantineAt: number;
  readonly reviewFrom: number;
  /** For a class flagged on its `high` side: the posterior of its slow mode that quarantines / reviews. */
  readonly quarantinePosterior: number;
  readonly reviewPosterior: number;
  /** The thresholds classes were judged by. */
  readonly thresholds: {
    readonly flagStrength: number;
    readonly flagIndex: number;
    readonly weakStrength: number;
    readonly weakIndex: number;
    readonly strengthIndex: number;
    readonly minRows: number;
    /** A class needs this many rows to be judged, and the verdict this many judged classes. */
    readonly minClassRows: number;
    readonly minClasses: number;
  };
  /** Classes with enough rows to be judged. */
  readonly judgedClasses: number;
  readonly review: number;
  readonly classes: readonly ReportClassEvidence[];
  /** What the verdict means, in one sentence for people. */
  readonly explanation: string;
}

/** Accuracy with the convention it was measured under. */
export interface ReportAccuracy {
  /** Share of rows predicted as their label, over **all** classes (the target class included). */
  readonly value: number;
  readonly rows: number;
  readonly perClass: readonly {
    readonly label: number;
    readonly accuracy: number | null;
    readonly rows: number;
  }[];
  readonly convention: 'all-classes';
}

/** Attack success rate with the convention it was measured under. */
export interface ReportAttackSuccess {
  readonly value: number;
  readonly rows: number;
  readonly target: number;
  /** Where `target` came from: the user's `--target`, or the audit's suspected target class. */
  readonly targetFrom: 'given' | 'suspected';
  readonly convention: 'triggered-non-target-rows';
}

/** Metrics of a model when the data to measure them was given. */
export interface ReportModelMetrics {
  readonly cleanAccuracy: ReportAccuracy | null;
  /** The suspected target class's own accuracy on the clean test set (null without --test). */
  readonly targetClassAccuracy: number | null;
  readonly attackSuccessRate: ReportAttackSuccess | null;
}

/** An image's size. */
export interface ReportImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** One unlearning epoch: what the unlearning stage recorded, plus the test-set metrics after it. */
export interface ReportUnlearnEpoch {
  /** 1-based. */
  readonly epoch: number;
  readonly phase: 'joint' | 'fine-tune' | 'unlearn' | 'evaluate';
  readonly learningRate: number;
  /** The objective averaged over the epoch's rows (null for an evaluation-only epoch). */
  readonly meanObjective: number | null;
  /** Accuracy on the guard's held-out rows after the epoch. */
  readonly guardAccuracy: number;
  /** Share of the guard's probe rows predicted as the target (null without a probe). */
  readonly probeTargetRate: number | null;
  /** Accuracy on the guard's target-class rows (null without them). */
  readonly targetClassAccuracy: number | null;
  /** Mean cross-entropy of the isolated rows after the epoch (rises as they are unlearned). */
  readonly isolatedLoss: number;
  readonly rolledBack: boolean;
  /** Whether this rolled-back epoch is tried again at half the learning rate (the next record). */
  readonly retried: boolean;
  /**
   * The accuracy fall the guard tolerated on this epoch: `maxDrop`, or two standard errors of the
   * held-out accuracy when the held-out rows are too few to measure `maxDrop`.
   */
  readonly accuracyTolerance: number;
  /** Rows excluded from training after this epoch because their loss rose past `distrustLoss`. */
  readonly newlyDistrusted: number;
  /** Why this epoch was rolled back (a guard, or a loss that became NaN or infinite), or null. */
  readonly stopReason:
    | 'accuracy-drop'
    | 'target-class-drop'
    | 'backdoor-relearned'
    | 'loss-not-finite'
    | null;
  /** On the test sets when given, after this epoch (null when not given). */
  readonly cleanAccuracy: number | null;
  readonly attackSuccessRate: number | null;
}

/** A gate from a pipeline file and its outcome. */
export interface ReportGate {
  readonly name: string;
  readonly threshold: number;
  /** The measured value; null when it could not be measured (the gate then fails). */
  readonly value: number | null;
  readonly passed: boolean;
  readonly message: string;
}

/**
 * The audit report, `OUT/report.json`. Documented field by field in docs/report-schema.md; every field
 * is always present (null where it does not apply), so consumers need no existence checks.
 */
export interface AuditReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly tool: { readonly name: 'abl-audit'; readonly version: string };
  readonly createdAt: string;
  /** `passed` when every gate passed (or there were none), else `gate-failed`. */
  readonly status: 'passed' | 'gate-failed';
  readonly summary: {
    readonly rows: number;
    readonly quarantined: number;
    readonly quarantinedFraction: number;
    /** Rows in the review band (`OUT/review/`). */
    readonly review: number;
    /** The verdict (null in reports of audits before it existed). */
    readonly verdict: ReportVerdict | null;
    readonly flaggedClasses: readonly number[];
    readonly suspectedTargetClass: number | null;
    readonly suspectedTargetClassName: string | null;
    /** The upstream source whose share of the quarantine stands out (see `sources`), or null. */
    readonly standoutSource: string | null;
    readonly cleanAccuracy: number | null;
    readonly attackSuccessRate: number | null;
  };
  readonly inputs: {
    readonly train: { readonly path: string; readonly files: readonly ReportFile[] };
    readonly test: { readonly path: string; readonly files: readonly ReportFile[] } | null;
    readonly backdoorTest: { readonly path: string; readonly files: readonly ReportFile[] } | null;
  };
  readonly data: {
    readonly rows: number;
    readonly numClasses: number;
    readonly classNames: readonly string[] | null;
    readonly imageShape: ReportImageShape;
    readonly columns: { readonly image: string; readonly label: string; readonly id: string | null };
    readonly perClass: readonly ReportClassCount[];
    readonly perSource: readonly {
      readonly file: string;
      readonly rows: number;
      readonly quarantined: number;
      readonly review: number;
    }[];
  };
  /** The evidence and the verdict (null in reports of audits before it existed). */
  readonly detection: ReportDetection | null;
  readonly isolation: {
    /** The score rows were ranked by, and what it means. */
    readonly score: string;
    readonly scoreDescription: string;
    readonly lga: string;
    readonly gamma: number;
    readonly epochs: number;
    /** The fixed share isolated; null for the adaptive quarantine. */
    readonly ratio: number | null;
    readonly isolated: number;
    /**
     * `target-class` score: each class's gap between its median score and the mean of its lowest
     * scores (index = label); the class with the largest gap is ranked first. Null for other scores.
     */
    readonly classGaps: readonly (number | null)[] | null;
    /** `target-class` score: the largest gap over the median gap; a class is ranked first only at ≥ `minStandout`. */
    readonly targetStandout: number | null;
    /** The standout a class needed to be ranked first (and suspected) in this audit. */
    readonly minStandout: number;
    /**
     * The class the isolated rows concentrate in: `share` of the isolated rows belong to it, `lift` times
     * its share of the data. Null when no class holds a majority of the isolated rows.
     */
    readonly suspectedTarget: {
      readonly label: number;
      readonly name: string | null;
      readonly share: number;
      readonly lift: number;
    } | null;
    /** Per isolation epoch: the training objective and loss quantiles of isolated vs kept rows. */
    readonly epochsDetail: readonly {
      readonly epoch: number;
      readonly meanObjective: number;
      readonly isolated: { readonly median: number; readonly q10: number; readonly q90: number };
      readonly kept: { readonly median: number; readonly q10: number; readonly q90: number };
    }[];
    /** Isolation quality against the input's `poisoned` column; null when it has none. */
    readonly groundTruth: IsolationMetrics | null;
  };
  /**
   * Rows, quarantine and review band per upstream source, the likeliest origin of the poison first;
   * null in reports written before sources were rolled up.
   */
  readonly sources: ReportSources | null;
  readonly outputs: {
    readonly quarantine: readonly string[];
    readonly review: readonly string[];
    readonly clean: readonly string[];
    readonly scores: string;
    /** The per-source rollup as a Parquet table (null in reports before it existed). */
    readonly sources: string | null;
    readonly model: string;
    readonly report: string;
    /**
     * The HTML report for people (`report.html`), rendered from this report and the outputs; null when
     * it could not be written (the audit still completes; `abl-audit report OUT` writes it again).
     */
    readonly html: string | null;
  };
  readonly unlearning: {
    /**
     * Where the cleaned model started: `unlearn` (the isolation model), `retrain` or
     * `retrain-unlearn` (a fresh model trained as `abl-audit train` trains; reports before this field
     * read as `unlearn`).
     */
    readonly removal: string;
    readonly mode: string;
    /**
     * Whether the isolated rows were unlearned (ascended on). In `joint` mode they are only when a
     * suspected target class stood out; otherwise they were just left out of training.
     */
    readonly ascended: boolean;
    /**
     * The pixel pattern the isolated rows share (a patch trigger), when one separates them from other
     * classes: its size in pixels, the distance threshold, and how many more rows of the suspected
     * class carry it (not trained on during unlearning). Null when none was found or the filter is off.
     */
    readonly triggerFilter: {
      readonly pixels: number;
      readonly threshold: number;
      readonly rows: number;
    } | null;
    readonly epochs: readonly ReportUnlearnEpoch[];
    readonly guard: {
      readonly rows: number;
      readonly maxDrop: number;
      /** Epochs tried again at half the learning rate after a roll-back, and the most allowed. */
      readonly retries: number;
      readonly maxRetries: number;
      readonly initialAccuracy: number;
      readonly finalAccuracy: number;
      readonly stopped: boolean;
      readonly probeRows: number;
      readonly maxProbeRise: number | null;
      readonly initialProbeRate: number | null;
      readonly lowestProbeRate: number | null;
      readonly probeRule: string;
      readonly rowsRule: string;
    };
  };
  readonly metrics: {
    /** The model after isolation, before unlearning (the backdoored starting point). */
    readonly afterIsolation: ReportModelMetrics;
    /** The cleaned model in OUT/model. */
    readonly cleanedModel: ReportModelMetrics;
  };
  readonly gates: readonly ReportGate[];
  /**
   * What report.html draws beyond the numbers above, computed by the audit while it wrote the
   * quarantine (score histogram, top quarantined rows, trigger view), so the page is rendered from the
   * report alone.
   */
  readonly figures: ReportFigures;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly backend: {
    readonly name: string;
    readonly tfBackend: string;
    readonly threads: number;
    readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  };
  readonly versions: Readonly<Record<string, string>>;
  /** Wall-clock seconds per stage (of this invocation; `resumed` says whether earlier ones did part). */
  readonly timings: Readonly<Record<string, number>>;
  readonly resumed: boolean;
}

/** One bin of the score histogram: how many quarantined and kept rows fall in `[start, end)`. */
export interface ScoreBin {
  readonly start: number;
  readonly end: number;
  readonly quarantined: number;
  readonly kept: number;
}

/** A quarantined row shown as a thumbnail. */
export interface ReportThumbnail {
  readonly id: string;
  readonly label: number;
  /** 0 = most suspicious. */
  readonly rank: number;
  /** The row's score; null when it was not finite. */
  readonly score: number | null;
  /** The input's ground truth (`poisoned` column) when it has one, else null. */
  readonly poisoned: boolean | null;
  /** The image as a PNG data URI, shrunk to at most 128 pixels a side (`MAX_EMBEDDED_SIDE`). */
  readonly image: string;
}

/**
 * The trigger view of one label: the mean quarantined image minus the mean kept image of the same
 * label. A patch trigger shows up as a bright or dark spot; a blend or warp as a faint texture.
 */
export interface ReportTriggerView {
  readonly label: number;
  readonly quarantinedRows: number;
  readonly keptRows: number;
  /** The images' own shape (the embedded means are shrunk from it). */
  readonly imageShape: ReportImageShape;
  /** Mean quarantined and mean kept image as PNG data URIs, at most 128 pixels a side. */
  readonly quarantinedMean: string;
  readonly keptMean: string;
  /**
   * Quarantined mean minus kept mean per pixel, averaged over channels, block-averaged to at most
   * 64 cells a side (`MAX_HEATMAP_SIDE`) and rounded to 0.1: what the heat map draws. Row-major.
   */
  readonly heatmap: { readonly height: number; readonly width: number; readonly values: readonly number[] };
}

/** What report.html draws beyond report.json's numbers, computed by the audit. */
export interface ReportFigures {
  /** Score histogram, quarantined vs kept (null when no row had a finite score). */
  readonly scoreBins: readonly ScoreBin[] | null;
  /** The most suspicious quarantined rows, by rank. */
  readonly topQuarantined: readonly ReportThumbnail[];
  /** Null when nothing was quarantined or no kept row shares the quarantined rows' label. */
  readonly trigger: ReportTriggerView | null;
}

/** The per-source rollup (also `OUT/sources.parquet`). */
export interface ReportSources {
  /** The column that names each row's source; null: each data file is a source. */
  readonly column: string | null;
  /** Sorted: highest lift first, then most quarantined rows, then name. */
  readonly entries: readonly {
    readonly source: string;
    readonly rows: number;
    readonly quarantined: number;
    readonly review: number;
    /** The source's share of all rows. */
    readonly dataShare: number;
    /** The source's share of the quarantine. */
    readonly quarantineShare: number;
    /** Quarantined rows over the source's rows (what `fail_if_source_quarantine_above` checks). */
    readonly quarantineRate: number;
    /** quarantineShare / dataShare. */
    readonly lift: number;
  }[];
  /** The source named as the likely origin of the poison, or null. */
  readonly standout: string | null;
  /** When a source is named, in words. */
  readonly rule: string;
}
