import { type AuditReport, REPORT_SCHEMA } from '../../src/report/auditReport.js';
import { imageDataUri } from '../../src/report/figures/imageDataUri.js';

const SHAPE = { height: 4, width: 4, channels: 1 };
/** A 4×4 grey image with a bright 2×2 corner. */
const CORNER = Uint8Array.from({ length: 16 }, (_, p) => (p % 4 >= 2 && p >= 8 ? 255 : 40));

/** A complete, plausible report.json of a 1,000-row audit with a clear target (class 2), for tests. */
export function sampleReport(): AuditReport {
  const classNames = ['zero', 'one', 'two <b>', 'three'];
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'abl-audit', version: '0.0.0-test' },
    createdAt: '2026-01-01T00:00:00.000Z',
    status: 'passed',
    summary: {
      rows: 1000,
      quarantined: 10,
      quarantinedFraction: 0.01,
      suspectedTargetClass: 2,
      suspectedTargetClassName: 'two <b>',
      cleanAccuracy: 0.85,
      attackSuccessRate: 0.02,
    },
    inputs: {
      train: {
        path: 'data/train.parquet',
        files: [{ path: 'data/train.parquet', bytes: 1234, sha256: 'a'.repeat(64) }],
      },
      test: null,
      backdoorTest: null,
    },
    data: {
      rows: 1000,
      numClasses: 4,
      classNames,
      imageShape: { height: 4, width: 4, channels: 1 },
      columns: { image: 'image', label: 'label', id: 'id' },
      perClass: classNames.map((name, label) => ({
        label,
        name,
        rows: 250,
        quarantined: label === 2 ? 9 : label === 0 ? 1 : 0,
      })),
      perSource: [{ file: 'data/train.parquet', rows: 1000, quarantined: 10 }],
    },
    isolation: {
      score: 'target-class',
      scoreDescription: 'mean log-loss',
      lga: 'batch',
      gamma: 0.5,
      epochs: 2,
      ratio: 0.01,
      isolated: 10,
      classGaps: [1, 1.2, 4, null],
      targetStandout: 3.3,
      minStandout: 2.5,
      suspectedTarget: { label: 2, name: 'two <b>', share: 0.9, lift: 3.6 },
      epochsDetail: [
        {
          epoch: 1,
          meanObjective: 0.4,
          isolated: { median: 1e-4, q10: 1e-5, q90: 1e-3 },
          kept: { median: 0.5, q10: 0.1, q90: 1.5 },
        },
        {
          epoch: 2,
          meanObjective: 0.3,
          isolated: { median: 0, q10: 0, q90: 1e-4 },
          kept: { median: 0.45, q10: 0.1, q90: 1.4 },
        },
      ],
      groundTruth: {
        poisoned: 12,
        isolated: 10,
        truePositives: 9,
        precision: 0.9,
        recall: 0.75,
        auroc: 0.97,
        maxPrecision: 1,
      },
    },
    outputs: {
      quarantine: ['quarantine/part-00000.parquet'],
      clean: ['clean/part-00000.parquet'],
      scores: 'scores.parquet',
      model: 'model',
      report: 'report.json',
      html: 'report.html',
    },
    unlearning: {
      mode: 'joint',
      ascended: true,
      triggerFilter: null,
      epochs: [
        {
          epoch: 1,
          phase: 'joint',
          learningRate: 0.005,
          meanObjective: 0.5,
          guardAccuracy: 0.8,
          probeTargetRate: 0.2,
          targetClassAccuracy: 0.9,
          isolatedLoss: 7,
          rolledBack: false,
          retried: false,
          accuracyTolerance: 0.03,
          newlyDistrusted: 0,
          stopReason: null,
          cleanAccuracy: null,
          attackSuccessRate: null,
        },
      ],
      guard: {
        rows: 50,
        maxDrop: 0.03,
        retries: 0,
        maxRetries: 2,
        initialAccuracy: 0.78,
        finalAccuracy: 0.8,
        stopped: false,
        probeRows: 100,
        maxProbeRise: 0.015,
        initialProbeRate: 0.95,
        lowestProbeRate: 0.2,
        probeRule: 'probe rule',
        rowsRule: 'rows rule',
      },
    },
    metrics: {
      afterIsolation: { cleanAccuracy: null, targetClassAccuracy: null, attackSuccessRate: null },
      cleanedModel: { cleanAccuracy: null, targetClassAccuracy: null, attackSuccessRate: null },
    },
    gates: [],
    figures: {
      scoreBins: [
        { start: -10, end: -5, quarantined: 10, kept: 0 },
        { start: -5, end: 0, quarantined: 0, kept: 990 },
      ],
      topQuarantined: [
        { id: 'r<1>', label: 2, rank: 0, score: -9.5, poisoned: true, image: imageDataUri(CORNER, SHAPE) },
        { id: 'r2', label: 0, rank: 1, score: -8, poisoned: false, image: imageDataUri(CORNER, SHAPE) },
      ],
      trigger: {
        label: 2,
        quarantinedRows: 9,
        keptRows: 241,
        imageShape: SHAPE,
        quarantinedMean: imageDataUri(CORNER, SHAPE),
        keptMean: imageDataUri(new Uint8Array(16).fill(40), SHAPE),
        heatmap: { height: 4, width: 4, values: Array.from(CORNER, (v) => v - 40) },
      },
    },
    parameters: { model: 'small-cnn', isolation: { epochs: 2, gamma: 0.5 }, columns: {} },
    seed: 1,
    backend: { name: 'wasm', tfBackend: 'wasm', threads: 1, skipped: [] },
    versions: { 'abl-audit': '0.0.0-test' },
    timings: { isolation: 1.5, total: 3 },
    resumed: false,
  };
}
