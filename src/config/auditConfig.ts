import type { LgaMode } from '../abl/isolate.js';
import type { ScoreMethod } from '../abl/scoreRows.js';
import type { RemovalMode, UnlearnMode } from '../abl/unlearn.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import type { GateThresholds } from '../report/evaluateGates.js';
import type { Architecture } from '../train/models/createModel.js';
import type { BackendName } from '../train/types.js';

/** The isolation stage's parameters. */
export interface IsolationConfig {
  /** LGA epochs before isolating (default 2: on Fashion-MNIST precision peaks early; see the README). */
  readonly epochs: number;
  /** LGA's loss floor γ (default 0.5, the paper's). */
  readonly gamma: number;
  /**
   * `batch` (the reference code's `sign(mean ℓ − γ)·mean ℓ`, default: it isolated better in our
   * measurements, see the README) or `per-example` (the paper's formula).
   */
  readonly lga: LgaMode;
  /**
   * Share of rows to isolate and quarantine, a fixed budget (the paper's 0.01); null (default): the
   * adaptive quarantine, which quarantines the suspicious mode of each class the evidence flags and
   * nothing from a class without evidence (see `detectPoison`).
   */
  readonly ratio: number | null;
  /** How rows are ranked (default `target-class`). */
  readonly score: ScoreMethod;
}

/** The retrain-and-unlearn stage's parameters. */
export interface UnlearningConfig {
  /**
   * Where the cleaned model starts (see `REMOVAL_MODES`): `retrain` (default: a fresh model trained as
   * `abl-audit train` trains, on the trusted rows, no ascent; it won the benchmark, see the README),
   * `unlearn` (the isolation model, the paper's way) or `retrain-unlearn` (the fresh model, ascending
   * on the quarantine as `mode` says).
   */
  readonly removal: RemovalMode;
  /** `joint` (default: the paper's global gradient ascent) or `reference` (the reference code's sequence). */
  readonly mode: UnlearnMode;
  /**
   * Epochs of the cleaned model: `joint`, of joint descent/ascent (or of plain training when nothing
   * ascends); `reference`, of fine-tuning (default 5, `abl-audit train`'s).
   */
  readonly epochs: number;
  /**
   * `unlearn`: the SGD learning rate of those epochs (default 0.005, half the isolation rate; null:
   * the training rate).
   */
  readonly learningRate: number | null;
  /**
   * `retrain` and `retrain-unlearn`: Adam's learning rate, on a cosine schedule over the epochs
   * (default 0.001, `abl-audit train`'s).
   */
  readonly retrainLearningRate: number;
  /** Isolated rows added to every clean batch in `joint` mode (default null: a quarter of the batch). */
  readonly isolatedPerBatch: number | null;
  /** The guard: stop and roll back when held-out accuracy falls more than this (default 0.03). */
  readonly maxAccuracyDrop: number;
  /**
   * The backdoor probe: stop and roll back when the share of suspect rows (the lower part of the
   * suspected target class, never trained on) predicted as the target rises more than this above its
   * lowest (default 0.015): the backdoor is being learned again from poison left in the clean part.
   * Null disables it.
   */
  readonly maxProbeRise: number | null;
  /**
   * The target-class guard: stop and roll back when the share of the suspected class's trusted rows
   * predicted as that class falls more than this below its best (default 0.05): unlearning that makes
   * the model stop predicting the class has not removed a backdoor, it has broken a class. Null
   * disables it.
   */
  readonly maxTargetClassDrop: number | null;
  /**
   * Times an epoch the guard rolled back is tried again at half the learning rate before unlearning
   * stops (default 2). Each guard tolerates `max(bound, 2 standard errors)` of its measurement, so a
   * small held-out set does not roll back on noise (see `guardTolerance`).
   */
  readonly guardRetries: number;
  /** Share of the clean part held out for the guard (default 0.05, at most 2,000 rows). */
  readonly holdoutFraction: number;
  /**
   * Rows of the suspected target class that score at or below this quantile of their class are
   * neither trained on nor used by the guard (default 0.5): at 10% poisoning half the target class
   * is poison, and training on it would teach the backdoor again. 0 trains on all of them.
   */
  readonly distrustTargetQuantile: number;
  /**
   * After each unlearning epoch, rows of the suspected target class whose loss under the current model
   * exceeds this (nats) stop being trained on (default 2.3 ≈ ln 10: the model gives their label under
   * 10%). Once the backdoor weakens, poisoned rows left in the clean part look mislabelled; training on
   * them would teach the backdoor again. A retrained model has not learned the backdoor yet, so they
   * look mislabelled from its first epochs on (so do a few hard clean rows of the class, which it
   * drops too). Null disables it.
   */
  readonly distrustLoss: number | null;
  /**
   * Find a pixel pattern the isolated rows share and other classes lack (a patch trigger), and do not
   * train on the suspected class's rows that carry it (default true): they are poison the isolation
   * budget left in the clean part.
   */
  readonly triggerFilter: boolean;
  /** `reference` mode: unlearning epochs after fine-tuning, the first only evaluating (default 5). */
  readonly referenceUnlearnEpochs: number;
  /** `reference` mode: learning rate of those epochs (default 0.0005). */
  readonly referenceLearningRate: number;
}

/** Gates: conditions under which a run fails with exit code 3 after writing its outputs. */
export type GatesConfig = GateThresholds;

/** Everything an audit needs, validated once at the edge (CLI flags or a pipeline file). */
export interface AuditConfig {
  /** The preset the defaults came from (`default` or `paper`, see `presetDefaults`); recorded in the report. */
  readonly preset: 'default' | 'paper';
  /** Training data: a Parquet/Arrow file or a folder of them. */
  readonly train: string;
  /** Output folder. */
  readonly out: string;
  /** Clean test set, for clean accuracy. */
  readonly test: string | null;
  /** Triggered test set (from `abl-audit poison --test-out`), for attack success. */
  readonly backdoorTest: string | null;
  /** The attack's target class for attack success; null: the suspected target class. */
  readonly attackTarget: number | null;
  readonly columns: ColumnOverrides;
  readonly model: Architecture;
  readonly batchSize: number;
  /** SGD (momentum 0.9, Nesterov) learning rate of isolation and, by default, unlearning (0.01). */
  readonly learningRate: number;
  readonly augment: 'auto' | 'on' | 'off';
  readonly seed: number;
  readonly backend: 'auto' | BackendName;
  /**
   * Threads training and scoring split each batch across on the wasm and cpu backends (default
   * `auto`: every core, at most 8); results equal one thread's up to float32 rounding. tfjs-node
   * backends use every core by themselves.
   */
  readonly threads: number | 'auto';
  /**
   * Write into an output folder that holds files abl-audit did not write (default false: refused).
   * What an audit writes there (quarantine/, clean/, model/, ...) is replaced; other files are kept.
   */
  readonly force: boolean;
  readonly isolation: IsolationConfig;
  readonly unlearning: UnlearningConfig;
  readonly gates: GatesConfig;
}

/** Defaults of every parameter an audit has; they run the Fashion-MNIST fixture in about a minute. */
export const AUDIT_DEFAULTS = {
  preset: 'default',
  test: null,
  backdoorTest: null,
  attackTarget: null,
  columns: {},
  model: 'small-cnn',
  batchSize: 64,
  learningRate: 0.01,
  augment: 'off',
  seed: 1,
  backend: 'auto',
  threads: 'auto',
  force: false,
  isolation: { epochs: 2, gamma: 0.5, lga: 'batch', ratio: null, score: 'target-class' },
  unlearning: {
    removal: 'retrain',
    mode: 'joint',
    epochs: 5,
    learningRate: 0.005,
    retrainLearningRate: 0.001,
    isolatedPerBatch: null,
    maxAccuracyDrop: 0.03,
    maxProbeRise: 0.015,
    maxTargetClassDrop: 0.05,
    guardRetries: 2,
    holdoutFraction: 0.05,
    distrustTargetQuantile: 0.5,
    distrustLoss: 2.3,
    triggerFilter: true,
    referenceUnlearnEpochs: 5,
    referenceLearningRate: 5e-4,
  },
  gates: {
    failIfQuarantineFractionAbove: null,
    failIfAttackSuccessAbove: null,
    failIfCleanAccuracyBelow: null,
    failIfPoisonFound: null,
    failIfSourceQuarantineAbove: null,
  },
} as const satisfies AuditDefaults;

/** Every parameter of an audit but its paths: what a preset fixes. */
export type AuditDefaults = Omit<AuditConfig, 'train' | 'out'>;
