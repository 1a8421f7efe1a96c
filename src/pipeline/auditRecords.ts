import type { Detection } from '../abl/detectPoison.js';
import type { LossTrajectories } from '../abl/lossTrajectories.js';
import type { RowScores } from '../abl/scoreRows.js';
import type { SourceRollup } from '../abl/sourceRollup.js';
import type { SuspectedTarget } from '../abl/suspectedTarget.js';
import type { UnlearnProgress } from '../abl/unlearn.js';
import type { QuarantineSummary } from '../abl/writeQuarantine.js';
import type { HashedFile } from '../io/hashDataFiles.js';
import type { OutputFolder } from '../io/output/openOutputFolder.js';
import type { ReportFigures, ReportModelMetrics } from '../report/auditReport.js';
import type { TrainOptimizer } from '../train/optim.js';
import type { Trainer } from '../train/scaffold/createTrainer.js';
import type { TrainingData } from '../train/scaffold/readTrainingData.js';
import type { BackendInfo } from '../train/types.js';
import type { Checkpoint } from './auditCheckpoint.js';

/**
 * The records the audit's phases pass on, one type per phase result: what `runAudit` hands from one
 * phase to the next, and all the report is made from.
 */

/** `prepare`: the output folder, checked, claimed and locked, and where this run stages its outputs. */
export interface OutputRecord {
  readonly folder: OutputFolder;
}

/** `read`: the training set read once, and every input file hashed. */
export interface DatasetRecord extends TrainingData {
  readonly inputs: {
    readonly train: readonly HashedFile[];
    readonly test: readonly HashedFile[] | null;
    readonly backdoorTest: readonly HashedFile[] | null;
  };
}

/** `setup`: the backend, the model and what trains it, and the checkpoint a resumed run continues. */
export interface AuditTraining {
  readonly backend: BackendInfo;
  readonly trainer: Trainer;
  /**
   * The optimizer that makes the cleaned model: the trainer's own (SGD) when it continues from the
   * isolation model, a fresh Adam when the removal retrains.
   */
  readonly finalOptimizer: TrainOptimizer;
  /** Ties checkpoints to this run's configuration, inputs and backend. */
  readonly fingerprint: string;
  /** The checkpoint resumed from, or null. */
  readonly resumed: Checkpoint | null;
}

/** `isolation`: every row's loss after each isolation epoch, and each epoch's training objective. */
export interface IsolationRecord {
  readonly trajectories: LossTrajectories;
  readonly objectives: readonly number[];
}

/** `rank`: scores and ranks, which rows are isolated, and the suspected target class. */
export interface RankingRecord {
  readonly scores: RowScores;
  readonly isolatedCount: number;
  /** Indices of the isolated (quarantined) rows, most suspicious first. */
  readonly isolatedRows: Int32Array;
  /** Indices of the review band's rows, most suspicious first (empty with a fixed ratio). */
  readonly reviewRows: Int32Array;
  /** Each row's partition (see `ROW_CALLS`: 0 clean, 1 review, 2 quarantine). */
  readonly calls: Uint8Array;
  /** The evidence, the verdict and the adaptive split. */
  readonly detection: Detection;
  /** `adaptive` (the default) or `fixed` (an explicit isolation ratio). */
  readonly split: 'adaptive' | 'fixed';
  readonly suspect: SuspectedTarget | null;
  /** The standout a class needed to be suspected. */
  readonly minStandout: number;
}

/** `quarantine`: what was written, and the figures of report.html collected on the way. */
export interface QuarantineRecord {
  readonly summary: QuarantineSummary;
  readonly figures: ReportFigures;
  /** Rows and quarantine per upstream source (`OUT/sources.parquet`), the likeliest origin first. */
  readonly sources: SourceRollup;
  /** What names a row's source: its column, or null (the file). */
  readonly sourceColumn: string | null;
}

/** One unlearning epoch's test-set measures (null where no set was given). */
export interface EpochMetrics {
  readonly cleanAccuracy: number | null;
  readonly attackSuccessRate: number | null;
}

/** `unlearning`: the cleaned model's making, its guards, and its measures before and after. */
export interface UnlearningRecord {
  readonly progress: UnlearnProgress;
  readonly ascended: boolean;
  readonly guardRows: number;
  readonly probeRows: number;
  readonly trigger: { readonly pixels: number; readonly threshold: number; readonly rows: number } | null;
  readonly epochMetrics: readonly EpochMetrics[];
  /** The model after isolation (null when a resumed run started after it was gone). */
  readonly afterIsolation: ReportModelMetrics | null;
  readonly cleaned: ReportModelMetrics;
}

/** `export`: where the cleaned model was saved. */
export interface ExportRecord {
  /** Its folder, in the staging folder until the commit. */
  readonly modelDir: string;
  /** Its name in the output folder. */
  readonly name: string;
}
