import { relative } from 'node:path';
import type { LossTrajectories } from '../abl/lossTrajectories.js';
import type { RowScores } from '../abl/scoreRows.js';
import type { SuspectedTarget } from '../abl/suspectedTarget.js';
import type { UnlearnProgress } from '../abl/unlearn.js';
import type { QuarantineSummary } from '../abl/writeQuarantine.js';
import type { AuditConfig } from '../config/auditConfig.js';
import type { ImageShape } from '../data/imageShape.js';
import type { DatasetColumns } from '../data/inferColumns.js';
import type { HashedFile } from '../io/hashDataFiles.js';
import type { BackendInfo } from '../train/types.js';
import { installedVersions, packageVersion } from '../util/packageVersions.js';
import { type AuditReport, REPORT_SCHEMA, type ReportGate, type ReportModelMetrics } from './auditReport.js';
import { evaluateGates } from './evaluateGates.js';
import { isolationMetrics } from './isolationMetrics.js';

/** Everything the report is made from. */
export interface AuditFacts {
  readonly config: AuditConfig;
  readonly inputs: {
    readonly train: readonly HashedFile[];
    readonly test: readonly HashedFile[] | null;
    readonly backdoorTest: readonly HashedFile[] | null;
  };
  readonly backend: BackendInfo;
  readonly columns: DatasetColumns;
  readonly shape: ImageShape;
  readonly numClasses: number;
  readonly trajectories: LossTrajectories;
  readonly scores: RowScores;
  readonly isolatedCount: number;
  readonly suspect: SuspectedTarget | null;
  readonly quarantine: QuarantineSummary;
  readonly isolationObjectives: readonly number[];
  readonly unlearn: UnlearnProgress;
  readonly unlearnMetrics: readonly {
    readonly cleanAccuracy: number | null;
    readonly attackSuccessRate: number | null;
  }[];
  readonly guardRows: number;
  readonly probeRows: number;
  readonly triggerFilter: {
    readonly pixels: number;
    readonly threshold: number;
    readonly rows: number;
  } | null;
  /** Null when a resumed run started after isolation (the isolation model is gone). */
  readonly afterIsolation: ReportModelMetrics | null;
  readonly cleaned: ReportModelMetrics;
  readonly timings: Readonly<Record<string, number>>;
  readonly resumed: boolean;
  readonly outputs: { readonly out: string; readonly model: string };
}

const SCORE_DESCRIPTIONS: Record<string, string> = {
  'target-class':
    'mean over isolation epochs of log(loss); rows of the suspected target class (the class most of the lowest-scored rows belong to) rank first',
  'mean-log-loss': 'mean over isolation epochs of log(loss), lowest first',
  'final-loss': 'loss after the last isolation epoch, lowest first (the paper and the reference code)',
};

const NO_METRICS: ReportModelMetrics = {
  cleanAccuracy: null,
  targetClassAccuracy: null,
  attackSuccessRate: null,
};

/**
 * Assembles report.json from an audit's facts (a pure function: the same facts give the same report
 * apart from `createdAt`).
 *
 * @param facts - what the stages produced and measured.
 * @returns the report, gates evaluated.
 */
export function buildAuditReport(facts: AuditFacts): AuditReport {
  const { config, trajectories: traj, scores, isolatedCount: k, suspect, quarantine: q } = facts;
  const n = traj.ids.length;
  const classNames = facts.columns.classNames ?? null;
  const nameOf = (label: number | null) => (label === null ? null : (classNames?.[label] ?? null));
  const perClass = Array.from({ length: facts.numClasses }, (_, label) => ({
    label,
    name: nameOf(label),
    rows: 0,
    quarantined: 0,
  }));
  traj.labels.forEach((label, i) => {
    const c = perClass[label];
    if (!c) return;
    c.rows++;
    if ((scores.rank[i] as number) < k) c.quarantined++;
  });
  const epochsDetail = traj.losses.map((losses, e) => {
    const isolated: number[] = [];
    const kept: number[] = [];
    losses.forEach((loss, i) => {
      ((scores.rank[i] as number) < k ? isolated : kept).push(loss);
    });
    return {
      epoch: e + 1,
      meanObjective: facts.isolationObjectives[e] ?? Number.NaN,
      isolated: quantiles(isolated),
      kept: quantiles(kept),
    };
  });
  const groundTruth = q.groundTruth
    ? isolationMetrics(scores.rank, Array.from(q.groundTruth, Boolean), k)
    : null;
  const cleaned = facts.cleaned;
  const gates: ReportGate[] = evaluateGates(config.gates, {
    quarantinedFraction: q.quarantined / n,
    attackSuccessRate: cleaned.attackSuccessRate?.value ?? null,
    cleanAccuracy: cleaned.cleanAccuracy?.value ?? null,
  });
  const rel = (path: string) => relative(facts.outputs.out, path) || '.';
  const last = facts.unlearn.history[facts.unlearn.history.length - 1];
  const { gates: _g, out: _o, train: _t, test: _te, backdoorTest: _b, ...parameters } = config;
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'abl-audit', version: packageVersion() },
    createdAt: new Date().toISOString(),
    status: gates.every((g) => g.passed) ? 'passed' : 'gate-failed',
    summary: {
      rows: n,
      quarantined: q.quarantined,
      quarantinedFraction: q.quarantined / n,
      suspectedTargetClass: suspect?.label ?? null,
      suspectedTargetClassName: nameOf(suspect?.label ?? null),
      cleanAccuracy: cleaned.cleanAccuracy?.value ?? null,
      attackSuccessRate: cleaned.attackSuccessRate?.value ?? null,
    },
    inputs: {
      train: { path: config.train, files: facts.inputs.train },
      test: config.test && facts.inputs.test ? { path: config.test, files: facts.inputs.test } : null,
      backdoorTest:
        config.backdoorTest && facts.inputs.backdoorTest
          ? { path: config.backdoorTest, files: facts.inputs.backdoorTest }
          : null,
    },
    data: {
      rows: n,
      numClasses: facts.numClasses,
      classNames,
      imageShape: { height: facts.shape.height, width: facts.shape.width, channels: facts.shape.channels },
      columns: { image: facts.columns.image.name, label: facts.columns.label, id: facts.columns.id },
      perClass,
      perSource: q.perSource,
    },
    isolation: {
      score: scores.method,
      scoreDescription: SCORE_DESCRIPTIONS[scores.method] ?? scores.method,
      lga: config.isolation.lga,
      gamma: config.isolation.gamma,
      epochs: traj.losses.length,
      ratio: config.isolation.ratio,
      isolated: k,
      classGaps: scores.classGaps?.map((g) => (Number.isFinite(g) ? g : null)) ?? null,
      targetStandout: scores.targetStandout,
      suspectedTarget: suspect && { ...suspect, name: nameOf(suspect.label) },
      epochsDetail,
      groundTruth,
    },
    outputs: {
      quarantine: q.files.quarantine,
      clean: q.files.clean,
      scores: 'scores.parquet',
      model: rel(facts.outputs.model),
      report: 'report.json',
      html: 'report.html',
    },
    unlearning: {
      mode: config.unlearning.mode,
      ascended: config.unlearning.mode === 'reference' || suspect !== null,
      triggerFilter: facts.triggerFilter,
      epochs: facts.unlearn.history.map((h, i) => ({
        ...h,
        cleanAccuracy: facts.unlearnMetrics[i]?.cleanAccuracy ?? null,
        attackSuccessRate: facts.unlearnMetrics[i]?.attackSuccessRate ?? null,
      })),
      guard: {
        rows: facts.guardRows,
        maxDrop: config.unlearning.maxAccuracyDrop,
        retries: facts.unlearn.retries ?? 0,
        maxRetries: config.unlearning.guardRetries,
        initialAccuracy: facts.unlearn.initialAccuracy,
        finalAccuracy: last
          ? last.rolledBack
            ? facts.unlearn.bestAccuracy
            : last.guardAccuracy
          : facts.unlearn.initialAccuracy,
        stopped: facts.unlearn.stopped,
        probeRows: facts.probeRows,
        maxProbeRise: config.unlearning.maxProbeRise,
        initialProbeRate: facts.unlearn.initialProbeRate,
        lowestProbeRate: facts.unlearn.lowestProbeRate,
        probeRule:
          'the suspected target class rows at or below distrustTargetQuantile of their class scores (never trained on during unlearning); the probe rate is the share of them predicted as that class',
        rowsRule:
          'a seeded sample of the non-isolated rows (holdoutFraction, at most 2,000), never trained on during unlearning, minus the suspected target class rows at or below distrustTargetQuantile of their class scores',
      },
    },
    metrics: { afterIsolation: facts.afterIsolation ?? NO_METRICS, cleanedModel: cleaned },
    gates,
    parameters: { ...parameters },
    seed: config.seed,
    backend: {
      name: facts.backend.name,
      tfBackend: facts.backend.tfBackend,
      threads: facts.backend.threads,
      skipped: facts.backend.skipped,
    },
    versions: {
      'abl-audit': packageVersion(),
      node: process.versions.node,
      ...facts.backend.versions,
      ...installedVersions(['apache-arrow', 'parquet-wasm', 'rxjs']),
    },
    timings: Object.fromEntries(
      Object.entries(facts.timings).map(([k2, v]) => [k2, Math.round(v * 1000) / 1000]),
    ),
    resumed: facts.resumed,
  };
}

function quantiles(values: number[]): { median: number; q10: number; q90: number } {
  if (values.length === 0) return { median: Number.NaN, q10: Number.NaN, q90: Number.NaN };
  values.sort((a, b) => a - b);
  const at = (p: number) =>
    values[Math.min(values.length - 1, Math.floor(p * (values.length - 1)))] as number;
  return { median: at(0.5), q10: at(0.1), q90: at(0.9) };
}
