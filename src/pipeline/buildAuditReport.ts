import { MIN_CLASS_ROWS, MIN_JUDGED_CLASSES } from '../abl/classEvidence.js';
import { ROW_CALLS } from '../abl/detectPoison.js';
import { STANDOUT_RULE } from '../abl/sourceRollup.js';
import { SOURCES_FILE } from '../abl/writeSources.js';
import type { AuditConfig } from '../config/auditConfig.js';
import type { AuditReport, ReportClassCount, ReportDetection } from '../report/auditReport.js';
import { REPORT_SCHEMA } from '../report/auditReport.js';
import { evaluateGates } from '../report/evaluateGates.js';
import { explainVerdict } from '../report/explainVerdict.js';
import { isolationMetrics } from '../report/isolationMetrics.js';
import { installedVersions, packageVersion } from '../util/packageVersions.js';
import type {
  AuditTraining,
  DatasetRecord,
  ExportRecord,
  IsolationRecord,
  QuarantineRecord,
  RankingRecord,
  UnlearningRecord,
} from './auditRecords.js';
import { toReportEpoch } from './reportRecords.js';

/** Everything report.json is made from: the phases' records, the configuration and the timings. */
export interface AuditRecords {
  readonly config: AuditConfig;
  readonly dataset: DatasetRecord;
  readonly training: AuditTraining;
  readonly isolation: IsolationRecord;
  readonly ranking: RankingRecord;
  readonly quarantine: QuarantineRecord;
  readonly unlearning: UnlearningRecord;
  readonly exported: ExportRecord;
  readonly timings: Readonly<Record<string, number>>;
}

const SCORE_DESCRIPTIONS: Record<string, string> = {
  'target-class':
    'mean over isolation epochs of log(loss); rows of the suspected target class (the class most of the lowest-scored rows belong to) rank first',
  'mean-log-loss': 'mean over isolation epochs of log(loss), lowest first',
  'final-loss': 'loss after the last isolation epoch, lowest first (the paper and the reference code)',
};

const NO_METRICS = { cleanAccuracy: null, targetClassAccuracy: null, attackSuccessRate: null } as const;

/**
 * Assembles report.json from the audit's records (a pure function: the same records give the same
 * report apart from `createdAt`).
 *
 * @param r - the records.
 * @returns the report, gates evaluated.
 */
export function buildAuditReport(r: AuditRecords): AuditReport {
  const { config, quarantine: q, ranking, unlearning } = r;
  const n = r.dataset.rows;
  const nameOf = (label: number | null) =>
    label === null ? null : (r.dataset.columns.classNames?.[label] ?? null);
  const cleaned = unlearning.cleaned;
  const { detection } = ranking;
  const gates = evaluateGates(config.gates, {
    quarantinedFraction: q.summary.quarantined / n,
    attackSuccessRate: cleaned.attackSuccessRate?.value ?? null,
    cleanAccuracy: cleaned.cleanAccuracy?.value ?? null,
    verdict: { verdict: detection.verdict, flaggedClasses: detection.flagged },
    sourceQuarantineRates: q.sources.entries.map((e) => ({ source: e.source, rate: e.quarantineRate })),
  });
  const { gates: _g, out: _o, train: _t, test: _te, backdoorTest: _b, ...parameters } = config;
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'abl-audit', version: packageVersion() },
    createdAt: new Date().toISOString(),
    status: gates.every((g) => g.passed) ? 'passed' : 'gate-failed',
    summary: {
      rows: n,
      quarantined: q.summary.quarantined,
      quarantinedFraction: q.summary.quarantined / n,
      review: q.summary.review,
      verdict: detection.verdict,
      flaggedClasses: detection.flagged,
      suspectedTargetClass: ranking.suspect?.label ?? null,
      suspectedTargetClassName: nameOf(ranking.suspect?.label ?? null),
      standoutSource: q.sources.standout,
      cleanAccuracy: cleaned.cleanAccuracy?.value ?? null,
      attackSuccessRate: cleaned.attackSuccessRate?.value ?? null,
    },
    inputs: inputsSection(r),
    data: dataSection(r),
    detection: detectionSection(r, nameOf),
    sources: {
      column: q.sourceColumn,
      entries: q.sources.entries,
      standout: q.sources.standout,
      rule: `a source holding at least ${pct(STANDOUT_RULE.minShare)} of the quarantine (of ${STANDOUT_RULE.minQuarantined} rows or more) at ${STANDOUT_RULE.minLift}× its share of the data or more, among two sources or more`,
    },
    isolation: isolationSection(r, nameOf),
    outputs: {
      quarantine: q.summary.files.quarantine,
      review: q.summary.files.review,
      clean: q.summary.files.clean,
      scores: 'scores.parquet',
      sources: SOURCES_FILE,
      model: r.exported.name,
      report: 'report.json',
      html: 'report.html',
    },
    unlearning: unlearningSection(r),
    metrics: { afterIsolation: unlearning.afterIsolation ?? NO_METRICS, cleanedModel: cleaned },
    gates,
    figures: q.figures,
    parameters: { ...parameters },
    seed: config.seed,
    backend: backendSection(r),
    versions: {
      'abl-audit': packageVersion(),
      node: process.versions.node,
      ...r.training.backend.versions,
      ...installedVersions(['apache-arrow', 'parquet-wasm', 'rxjs']),
    },
    timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    resumed: r.training.resumed !== null,
  };
}

function inputsSection({ config, dataset }: AuditRecords): AuditReport['inputs'] {
  const { inputs } = dataset;
  return {
    train: { path: config.train, files: inputs.train },
    test: config.test && inputs.test ? { path: config.test, files: inputs.test } : null,
    backdoorTest:
      config.backdoorTest && inputs.backdoorTest
        ? { path: config.backdoorTest, files: inputs.backdoorTest }
        : null,
  };
}

function dataSection({ dataset, isolation, ranking, quarantine }: AuditRecords): AuditReport['data'] {
  const classNames = dataset.columns.classNames ?? null;
  const perClass: { -readonly [K in keyof ReportClassCount]: ReportClassCount[K] }[] = Array.from(
    { length: dataset.numClasses },
    (_, label) => ({ label, name: classNames?.[label] ?? null, rows: 0, quarantined: 0, review: 0 }),
  );
  isolation.trajectories.labels.forEach((label, i) => {
    const c = perClass[label];
    if (!c) return;
    c.rows++;
    if (ranking.calls[i] === ROW_CALLS.quarantine) c.quarantined++;
    if (ranking.calls[i] === ROW_CALLS.review) c.review++;
  });
  const { height, width, channels } = dataset.shape;
  const { image, label, id } = dataset.columns;
  return {
    rows: dataset.rows,
    numClasses: dataset.numClasses,
    classNames,
    imageShape: { height, width, channels },
    columns: { image: image.name, label, id },
    perClass,
    perSource: quarantine.summary.perSource,
  };
}

function detectionSection(
  { ranking, quarantine }: AuditRecords,
  nameOf: (label: number | null) => string | null,
): ReportDetection {
  const d = ranking.detection;
  const { flagStrength, flagIndex, weakStrength, weakIndex, strengthIndex, minRows } = d.options.thresholds;
  const section = {
    verdict: d.verdict,
    flaggedClasses: d.flagged,
    split: ranking.split,
    quarantineAt: d.options.quarantineAt,
    reviewFrom: d.options.reviewFrom,
    quarantinePosterior: d.options.quarantinePosterior,
    reviewPosterior: d.options.reviewPosterior,
    thresholds: {
      flagStrength,
      flagIndex,
      weakStrength,
      weakIndex,
      strengthIndex,
      minRows,
      minClassRows: MIN_CLASS_ROWS,
      minClasses: MIN_JUDGED_CLASSES,
    },
    judgedClasses: d.judgedClasses,
    review: quarantine.summary.review,
    classes: d.classes.map((c) => ({
      label: c.label,
      name: nameOf(c.label),
      rows: c.rows,
      strength: c.strength,
      strengthIndex: c.strengthIndex,
      separation: c.separation,
      lowWeight: c.fit ? c.fit.weights[0] : null,
      lowGap: c.lowGap,
      lowIndex: c.lowIndex,
      call: c.call,
      side: c.side,
    })),
  };
  return { ...section, explanation: explainVerdict(section, nameOf) };
}

function isolationSection(
  { config, isolation, ranking, quarantine }: AuditRecords,
  nameOf: (label: number | null) => string | null,
): AuditReport['isolation'] {
  const { scores, isolatedCount: k, suspect, calls } = ranking;
  const isolatedRow = (i: number) => calls[i] === ROW_CALLS.quarantine;
  const traj = isolation.trajectories;
  const truth = quarantine.summary.groundTruth;
  return {
    score: scores.method,
    scoreDescription: SCORE_DESCRIPTIONS[scores.method] ?? scores.method,
    lga: config.isolation.lga,
    gamma: config.isolation.gamma,
    epochs: traj.losses.length,
    ratio: config.isolation.ratio,
    isolated: k,
    classGaps: scores.classGaps?.map((g) => (Number.isFinite(g) ? g : null)) ?? null,
    targetStandout: scores.targetStandout,
    minStandout: ranking.minStandout,
    suspectedTarget: suspect && { ...suspect, name: nameOf(suspect.label) },
    epochsDetail: traj.losses.map((losses, e) => {
      const isolated: number[] = [];
      const kept: number[] = [];
      losses.forEach((loss, i) => {
        (isolatedRow(i) ? isolated : kept).push(loss);
      });
      const meanObjective = isolation.objectives[e] ?? Number.NaN;
      return { epoch: e + 1, meanObjective, isolated: quantiles(isolated), kept: quantiles(kept) };
    }),
    groundTruth: truth ? isolationMetrics(scores.rank, Array.from(truth, Boolean), isolatedRow) : null,
  };
}

function unlearningSection({ config, unlearning: u }: AuditRecords): AuditReport['unlearning'] {
  const ul = config.unlearning;
  const { progress } = u;
  const state = (name: string) => progress.guards.find((g) => g.name === name) ?? null;
  const accuracy = state('accuracy');
  const probe = state('probe');
  const last = progress.history[progress.history.length - 1];
  const lastAccuracy = last?.measures.find((m) => m.name === 'accuracy')?.value;
  return {
    removal: ul.removal,
    mode: ul.mode,
    ascended: u.ascended,
    triggerFilter: u.trigger,
    epochs: progress.history.map((h, i) => toReportEpoch(h, u.epochMetrics[i])),
    guard: {
      rows: u.guardRows,
      maxDrop: ul.maxAccuracyDrop,
      retries: progress.retries,
      maxRetries: ul.guardRetries,
      initialAccuracy: accuracy?.initial ?? Number.NaN,
      // A rolled-back last epoch leaves the model of the best epoch before it.
      finalAccuracy:
        (last ? (last.rolledBack ? accuracy?.reference : lastAccuracy) : accuracy?.initial) ?? Number.NaN,
      stopped: progress.stopped,
      probeRows: u.probeRows,
      maxProbeRise: ul.maxProbeRise,
      initialProbeRate: probe?.initial ?? null,
      lowestProbeRate: probe?.reference ?? null,
      probeRule:
        'the suspected target class rows at or below distrustTargetQuantile of their class scores (never trained on during unlearning); the probe rate is the share of them predicted as that class',
      rowsRule:
        'a seeded sample of the non-isolated rows (holdoutFraction, at most 2,000), never trained on during unlearning, minus the suspected target class rows at or below distrustTargetQuantile of their class scores',
    },
  };
}

function backendSection({ training }: AuditRecords): AuditReport['backend'] {
  const { backend, trainer } = training;
  return {
    name: backend.name,
    tfBackend: backend.tfBackend,
    // The threads that computed: the data-parallel group's on wasm and cpu.
    threads: Math.max(backend.threads, trainer.parallel.replicas),
    skipped: backend.skipped,
  };
}

function quantiles(values: number[]): { median: number; q10: number; q90: number } {
  if (values.length === 0) return { median: Number.NaN, q10: Number.NaN, q90: Number.NaN };
  values.sort((a, b) => a - b);
  const at = (p: number) =>
    values[Math.min(values.length - 1, Math.floor(p * (values.length - 1)))] as number;
  return { median: at(0.5), q10: at(0.1), q90: at(0.9) };
}

const pct = (v: number) => `${Math.round(v * 100)}%`;
