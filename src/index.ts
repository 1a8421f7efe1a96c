/**
 * abl-audit's library API. Stages are plain functions returning RxJS observables or operators.
 * @packageDocumentation
 */

export {
  type ClassEvidence,
  classEvidence,
  DEFAULT_EVIDENCE_THRESHOLDS,
  type EvidenceThresholds,
  robustIndex,
} from './abl/classEvidence.js';
export {
  DETECTION_DEFAULTS,
  type Detection,
  type DetectPoisonOptions,
  detectPoison,
  ROW_CALLS,
  VERDICTS,
  type Verdict,
} from './abl/detectPoison.js';
export { ggaObjective } from './abl/ggaObjective.js';
export { type IsolateOptions, isolate, LGA_MODES, type LgaMode } from './abl/isolate.js';
export { appendEpochLosses, type LossTrajectories } from './abl/lossTrajectories.js';
export { type RowScores, SCORE_METHODS, type ScoreMethod, scoreRows } from './abl/scoreRows.js';
export { type SuspectedTarget, suspectedTarget } from './abl/suspectedTarget.js';
export { componentPosterior, fitTwoGaussians, type TwoGaussians } from './abl/twoGaussians.js';
export {
  type AccuracyGuard,
  type FlatUnlearnOptions,
  type GuardMeasure,
  type GuardState,
  type JointSchedule,
  REMOVAL_MODES,
  type ReferenceSchedule,
  type RemovalMode,
  UNLEARN_MODES,
  type UnlearnEpochRecord,
  type UnlearnMode,
  type UnlearnOptions,
  type UnlearnProgress,
  type UnlearnRows,
  type UnlearnSchedule,
  type UnlearnTraining,
  unlearn,
} from './abl/unlearn.js';
export {
  backdoorProbeGuard,
  guardTolerance,
  heldOutAccuracyGuard,
  type ShareGuardOptions,
  shareGuard,
  targetClassGuard,
  type UnlearnGuard,
} from './abl/unlearnGuards.js';
export {
  type IsolationVerdict,
  planUnlearning,
  type RowGatherer,
  type UnlearningPlan,
  type UnlearningPolicy,
} from './abl/unlearningPlan.js';
export {
  ABL_COLUMNS,
  type QuarantineSummary,
  type RowVerdicts,
  writeQuarantine,
} from './abl/writeQuarantine.js';
export { writeScores } from './abl/writeScores.js';
export { type AttackSpec, createTrigger } from './attacks/createTrigger.js';
export { ATTACK_NAMES, type AttackName, type Trigger } from './attacks/types.js';
export { AUDIT_DEFAULTS, type AuditConfig, type AuditDefaults } from './config/auditConfig.js';
export { loadPipeline, type Pipeline } from './config/loadPipeline.js';
export { PRESET_NAMES, type PresetName, presetDefaults } from './config/presets.js';
export { type DecodeExamplesOptions, decodeExamples } from './data/decodeExamples.js';
export type { ExampleBatch } from './data/exampleBatch.js';
export {
  CLASS_NAMES_METADATA_KEY,
  formatShape,
  IMAGE_SHAPE_METADATA_KEY,
  type ImageShape,
  parseShape,
} from './data/imageShape.js';
export type { ColumnOverrides, DatasetColumns, ImageColumnSpec, ImageEncoding } from './data/inferColumns.js';
export { type DatasetSummary, type SummarizeOptions, summarizeDataset } from './data/summarizeDataset.js';
export * from './errors.js';
export { buildImageTable, type ImageRows, writeImageDataset } from './import/imageTable.js';
export { CIFAR10_CLASS_NAMES, importCifar10 } from './import/importCifar10.js';
export {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  importFashionMnist,
} from './import/importFashionMnist.js';
export { importIdx, readIdxRows } from './import/importIdx.js';
export { importImageFolder } from './import/importImageFolder.js';
export { readIdx } from './import/readIdx.js';
export { type ImportResult, writeImageRows } from './import/writeImageRows.js';
export { writeAtomically, writeFileAtomically } from './io/atomicWrite.js';
export type { DataFile, DataFormat } from './io/dataFile.js';
export { DATA_FILE_EXTENSIONS, listDataFiles } from './io/listDataFiles.js';
export { readArrowBatches } from './io/readArrowBatches.js';
export { iterateDataset, readDataset, readFileBatches, type SourceBatch } from './io/readDataset.js';
export { readParquetBatches } from './io/readParquetBatches.js';
export {
  encodeParquet,
  type ParquetCodec,
  type WriteParquetOptions,
  writeParquet,
} from './io/writeParquet.js';
export { type FiguresFromOutputsOptions, figuresFromOutputs } from './pipeline/figuresFromOutputs.js';
export { type AuditHooks, type AuditResult, runAudit, type StageProgress } from './pipeline/runAudit.js';
export {
  renderHtmlReport,
  type WriteHtmlReportOptions,
  writeHtmlReport,
} from './pipeline/writeHtmlReport.js';
export { GROUND_TRUTH_COLUMNS, POISON_METADATA_KEY } from './poison/columns.js';
export {
  type AttackParams,
  type PoisonOptions,
  type PoisonSummary,
  poisonDataset,
  poisonTestSet,
  type TestPoisonSummary,
} from './poison/poisonDataset.js';
export { type PoisonMode, RATE_OF, type RateOf, selectPoisonRows } from './poison/selectPoisonRows.js';
export { type AuditEvent, type AuditPhaseName, describeAuditEvent } from './report/auditEvents.js';
export type { ReportFigures, ReportThumbnail, ReportTriggerView, ScoreBin } from './report/auditReport.js';
export {
  type AuditReport,
  REPORT_SCHEMA,
  type ReportClassEvidence,
  type ReportDetection,
  type ReportVerdict,
} from './report/auditReport.js';
export { type IsolationMetrics, isolationMetrics } from './report/isolationMetrics.js';
export { HTML_REPORT_NAME, readAuditReport, type StoredAuditReport } from './report/readAuditReport.js';
export { BACKEND_ENV_VAR, BACKEND_NAMES, initBackend } from './train/backend.js';
export { type EpochSource, epochSeed, epochSource } from './train/batches/epochs.js';
export { concatBatches, selectRows } from './train/batches/selectRows.js';
export { shuffleBuffer } from './train/batches/shuffleBuffer.js';
export { type ToTrainBatchesOptions, toTrainBatches } from './train/batches/toTrainBatches.js';
export { accuracy, attackSuccessRate } from './train/evaluate.js';
export {
  crossEntropyObjective,
  flooding,
  lgaBatchMean,
  lgaPerExample,
  type Objective,
  perExampleCrossEntropy,
} from './train/losses.js';
export { ARCHITECTURES, type Architecture, createModel } from './train/models/createModel.js';
export {
  constantSchedule,
  cosineSchedule,
  createOptimizer,
  stepSchedule,
  type TrainOptimizer,
} from './train/optim.js';
export {
  createDataParallel,
  type DataParallel,
  type DataParallelOptions,
  MIN_ROWS_PER_THREAD,
} from './train/parallel/dataParallel.js';
export { loadModel, saveModel } from './train/saveModel.js';
export { createTrainer, type Trainer, type TrainerOptions } from './train/scaffold/createTrainer.js';
export {
  evaluateOnTestSets,
  type TestSetMetrics,
  type TestSetReading,
  type TestSets,
} from './train/scaffold/evaluateOnTestSets.js';
export { readTrainingData, type TrainingData } from './train/scaffold/readTrainingData.js';
export { type ScoreLossesOptions, scoreBatch, scoreLosses } from './train/scoreLosses.js';
export { trainBatches, trainEpoch } from './train/trainEpoch.js';
export { trainStep } from './train/trainStep.js';
export type { BackendInfo, BackendName, LossRecord, TrainBatch } from './train/types.js';
export { mulberry32, type Rng, randomInt, sampleWithoutReplacement, shuffleInPlace } from './util/random.js';
