import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { filter, lastValueFrom, map, type Observable, reduce, toArray } from 'rxjs';
import { isolate } from '../abl/isolate.js';
import type { LossTrajectories } from '../abl/lossTrajectories.js';
import { scoreRows } from '../abl/scoreRows.js';
import { suspectedTarget } from '../abl/suspectedTarget.js';
import { findTriggerPattern, patternDistances, type TriggerPattern } from '../abl/triggerPattern.js';
import {
  isolatedRowsPerBatch,
  type UnlearnEpochRecord,
  type UnlearnProgress,
  unlearn,
} from '../abl/unlearn.js';
import { writeQuarantine } from '../abl/writeQuarantine.js';
import { writeScores } from '../abl/writeScores.js';
import type { AuditConfig } from '../config/auditConfig.js';
import { decodeExamples } from '../data/decodeExamples.js';
import type { DatasetColumns } from '../data/inferColumns.js';
import { DataError, describeError, ErrorCode } from '../errors.js';
import { writeFileAtomically } from '../io/atomicWrite.js';
import { type HashedFile, hashDataFiles } from '../io/hashDataFiles.js';
import { readDataset } from '../io/readDataset.js';
import type { AuditReport, ReportModelMetrics } from '../report/auditReport.js';
import { buildAuditReport } from '../report/buildAuditReport.js';
import { writeHtmlReport } from '../report/html/writeHtmlReport.js';
import { initBackend } from '../train/backend.js';
import { epochSource } from '../train/batches/epochs.js';
import { concatBatches, selectRows } from '../train/batches/selectRows.js';
import { toTrainBatches } from '../train/batches/toTrainBatches.js';
import { accuracy, attackSuccessRate } from '../train/evaluate.js';
import { createModel } from '../train/models/createModel.js';
import { createOptimizer } from '../train/optim.js';
import { createDataParallel, type DataParallel } from '../train/parallel/dataParallel.js';
import { saveModel } from '../train/saveModel.js';
import { type ScoreLossesOptions, scoreBatch } from '../train/scoreLosses.js';
import type { TrainBatch } from '../train/types.js';
import { deriveSeed, mulberry32, sampleWithoutReplacement } from '../util/random.js';
import {
  type CheckpointRecord,
  clearCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from './auditCheckpoint.js';

/** A progress display for one long step (the CLI passes a bar or periodic lines). */
export interface StageProgress {
  update(done: number): void;
  stop(): void;
}

/** How {@link runAudit} talks to its caller. */
export interface AuditHooks {
  /** One-line messages (stage starts and ends, epoch summaries). */
  readonly log?: (line: string) => void;
  /** A progress display for a step of `total` rows. */
  readonly progress?: (label: string, total: number | undefined) => StageProgress;
  /** Continue an interrupted audit in `config.out` from its last checkpoint (when it has one). */
  readonly resume?: boolean;
}

/** What {@link runAudit} produced. */
export interface AuditResult {
  readonly report: AuditReport;
  /** Absolute path of report.json. */
  readonly reportPath: string;
}

/**
 * Runs the whole ABL audit: read → isolate (LGA, per-epoch losses) → score and rank → quarantine
 * (second streaming pass writing `quarantine/`, `clean/` and `scores.parquet`) → retrain and unlearn
 * under an accuracy guard → export (`model/`, `report.json`).
 *
 * <span class="informal">Checkpoints after every epoch in `OUT/.abl-work/` (removed on success); with
 * `resume` a killed run continues from the last one and ends with the same outputs as an uninterrupted
 * run. Everything random (initialisation, data order, held-out rows, isolated-row sampling) derives
 * from `config.seed`. Ground truth (a `poisoned` column) is read only to score the isolation in the
 * report.</span>
 *
 * @example
 * ```ts
 * const { report } = await runAudit({ ...AUDIT_DEFAULTS, train: 'data/train.parquet', out: 'out/audit' });
 * console.log(report.summary.quarantined, report.summary.suspectedTargetClass);
 * ```
 * @param config - the validated configuration (see `AUDIT_DEFAULTS`).
 * @param hooks - log, progress and resume.
 * @returns the report (also written to OUT/report.json) and its path.
 * @throws DataError / IoError / UsageError / TrainError as the stages do; outputs already written are
 *   complete files (each is written atomically), and report.json is written last.
 */
export async function runAudit(config: AuditConfig, hooks: AuditHooks = {}): Promise<AuditResult> {
  const log = hooks.log ?? (() => {});
  const progressFor = hooks.progress ?? (() => ({ update: () => {}, stop: () => {} }));
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[stage] = (timings[stage] ?? 0) + (performance.now() - started) / 1000;
    }
  };
  const started = performance.now();
  const out = resolve(config.out);

  const backend = await initBackend({ prefer: config.backend, log });
  const inputs = await timed('hash', async () => ({
    train: await hashDataFiles(config.train),
    test: config.test ? await hashDataFiles(config.test) : null,
    backdoorTest: config.backdoorTest ? await hashDataFiles(config.backdoorTest) : null,
  }));
  const fingerprint = fingerprintOf(config, inputs, backend.name);

  // Read: one pass learns the shape, classes and row count, and fills the cache when the data fits.
  let columns: DatasetColumns | undefined;
  const data = epochSource(
    () =>
      readDataset(config.train).pipe(
        decodeExamples({ ...config.columns, source: config.train, onColumns: (c) => (columns = c) }),
      ),
    { cache: 'auto' },
  );
  const scan = await timed('read', () =>
    lastValueFrom(
      data.forEpoch(0).pipe(
        reduce(
          (acc, b) => ({
            shape: acc.shape ?? b.shape,
            rows: acc.rows + b.ids.length,
            maxLabel: b.labels.reduce((m, l) => Math.max(m, l), acc.maxLabel),
          }),
          { shape: null as TrainBatch['shape'] | null, rows: 0, maxLabel: -1 },
        ),
      ),
    ),
  );
  if (!scan.shape || !columns) {
    throw new DataError(ErrorCode.EmptyDataset, 'the training data has no rows', {
      location: { file: config.train },
    });
  }
  const cols = columns;
  const numClasses = cols.classNames?.length ?? scan.maxLabel + 1;
  if (numClasses < 2) {
    throw new DataError(
      ErrorCode.BadLabel,
      `the training data has only one class (label ${scan.maxLabel}); an audit needs at least two`,
      {
        location: { file: config.train, column: cols.label },
      },
    );
  }
  const n = scan.rows;
  log(
    `read ${n} rows of ${config.train} (${scan.shape.height}×${scan.shape.width}×${scan.shape.channels}, ${numClasses} classes)`,
  );

  const model = createModel({
    architecture: config.model,
    inputShape: scan.shape,
    numClasses,
    seed: config.seed,
  });
  const optimizer = createOptimizer({ kind: 'sgd', lr: config.learningRate, momentum: 0.9, nesterov: true });
  let parallel: DataParallel | undefined;
  try {
    parallel = await createDataParallel(model, { threads: config.threads, log });
    if (!hooks.resume) await clearCheckpoints(out);
    const checkpoint = hooks.resume ? await loadCheckpoint(out, fingerprint, model, optimizer) : null;
    if (checkpoint) {
      log(
        `resuming from the checkpoint after ${checkpoint.phase === 'isolation' ? `isolation epoch ${checkpoint.trajectories.losses.length}` : `unlearning epoch ${checkpoint.unlearn?.epochsDone ?? 0}`}`,
      );
    } else if (hooks.resume) log('no checkpoint to resume from; starting from the beginning');
    const isolationObjectives = [...(checkpoint?.isolationObjectives ?? [])];

    // Isolate.
    const iso = config.isolation;
    let trajectories: LossTrajectories | null = checkpoint?.trajectories ?? null;
    let bar: StageProgress | null = null;
    let rowsDone = 0;
    trajectories = await timed('isolation', () =>
      isolate(model, optimizer, data, {
        epochs: iso.epochs,
        gamma: iso.gamma,
        lga: iso.lga,
        batchSize: config.batchSize,
        seed: config.seed,
        learningRate: config.learningRate,
        resumeFrom: trajectories,
        parallel,
        onStep: (epoch, step) => {
          if (!bar) {
            bar = progressFor(`isolation epoch ${epoch + 1}/${iso.epochs}`, n);
            rowsDone = 0;
          }
          rowsDone += step.rows;
          bar.update(rowsDone);
        },
        onEpoch: async (epoch, traj, result) => {
          bar?.stop();
          bar = null;
          isolationObjectives.push(result.meanLoss);
          log(`isolation epoch ${epoch + 1}/${iso.epochs}: LGA objective ${result.meanLoss.toFixed(4)}`);
          await saveCheckpoint(out, record('isolation', null, []), traj, model, optimizer);
        },
      }),
    );
    const traj = trajectories;
    function record(
      phase: CheckpointRecord['phase'],
      progress: UnlearnProgress | null,
      unlearnMetrics: CheckpointRecord['unlearnMetrics'],
    ): CheckpointRecord {
      return {
        fingerprint,
        phase,
        isolationObjectives: [...isolationObjectives],
        unlearn: progress,
        unlearnMetrics,
      };
    }

    // Score, rank and quarantine.
    const isolatedCount = Math.min(n, Math.max(1, Math.round(iso.ratio * n)));
    const scores = scoreRows(traj, { method: iso.score, isolate: isolatedCount });
    const isolatedRows = scores.order.subarray(0, isolatedCount);
    // With the target-class score, a class is suspected only when its gap stood out; the majority of a
    // global ranking's rows is often just an easy class.
    const suspect =
      scores.method === 'target-class' && scores.rankedClass === null
        ? null
        : suspectedTarget(traj.labels, isolatedRows);
    const lastLosses = traj.losses[traj.losses.length - 1] as Float32Array;
    const quarantine = await timed('quarantine', async () => {
      await writeScores(join(out, 'scores.parquet'), traj, scores, isolatedCount);
      const bar = progressFor('quarantine', n);
      try {
        return await writeQuarantine(
          config.train,
          out,
          {
            index: new Map(traj.ids.map((id, i) => [id, i])),
            loss: lastLosses,
            score: scores.score,
            rank: scores.rank,
            isolated: isolatedCount,
          },
          { ...config.columns, onProgress: (rows) => bar.update(rows) },
        );
      } finally {
        bar.stop();
      }
    });
    log(
      `quarantined ${quarantine.quarantined} of ${n} rows (score ${scores.method})` +
        (suspect
          ? `; suspected target class ${suspect.label} (${(suspect.share * 100).toFixed(0)}% of the quarantine)`
          : ''),
    );

    // Test sets, when given.
    const attackTarget = config.attackTarget ?? suspect?.label ?? null;
    const evalBatches = (path: string): Observable<TrainBatch> =>
      readDataset(path).pipe(
        decodeExamples({ ...config.columns, source: path, numClasses }),
        toTrainBatches({ batchSize: 256, seed: 0, shuffleBuffer: 1 }),
      );
    const scoring = { parallel };
    const measure = async (): Promise<ReportModelMetrics> => {
      const ca = config.test ? await accuracy(model, evalBatches(config.test), scoring) : null;
      const asr =
        config.backdoorTest && attackTarget !== null
          ? await attackSuccessRate(model, evalBatches(config.backdoorTest), attackTarget, scoring)
          : null;
      const targetClass = suspect?.label ?? config.attackTarget;
      return {
        cleanAccuracy: ca && {
          value: ca.accuracy,
          rows: ca.total,
          perClass: ca.perClass.map((c) => ({ label: c.label, accuracy: c.accuracy, rows: c.total })),
          convention: 'all-classes',
        },
        targetClassAccuracy: ca && targetClass !== null ? (ca.perClass[targetClass]?.accuracy ?? null) : null,
        attackSuccessRate: asr && {
          value: asr.rate,
          rows: asr.total,
          target: attackTarget as number,
          targetFrom: config.attackTarget !== null ? 'given' : 'suspected',
          convention: 'triggered-non-target-rows',
        },
      };
    };
    const unlearnStarted = checkpoint?.phase === 'unlearning';
    // The isolation model's metrics are only measurable before unlearning changes it.
    const afterIsolation = unlearnStarted ? null : await timed('evaluate', measure);

    // Retrain and unlearn.
    const ul = config.unlearning;
    const isolatedIds = new Set(Array.from(isolatedRows, (i) => traj.ids[i] as string));
    const distrusted = distrustedRows(
      traj.labels,
      scores.score,
      suspect?.label ?? null,
      ul.distrustTargetQuantile,
    );
    const holdout = holdoutRows(n, isolatedIds, traj.ids, ul.holdoutFraction, config.seed);
    const index = new Map(traj.ids.map((id, i) => [id, i]));
    // Each subset is gathered chunk by chunk, so no copy of the whole dataset is ever made.
    const pick = async (keep: (row: number) => boolean): Promise<TrainBatch> => {
      const parts = await lastValueFrom(
        data.forEpoch(0).pipe(
          map((b) => selectRows(b, (id) => keep(index.get(id) as number))),
          filter((b) => b.ids.length > 0),
          toArray(),
        ),
      );
      return parts.length > 0
        ? concatBatches(parts)
        : {
            ids: [],
            images: new Uint8Array(0),
            labels: new Int32Array(0),
            shape: scan.shape as TrainBatch['shape'],
          };
    };
    const isolated = await pick((i) => isolatedIds.has(traj.ids[i] as string));
    // Rows of the suspected class that carry the isolated rows' shared pixel pattern (a patch trigger)
    // are poison the budget did not isolate: never trained on, watched by the probe.
    const carriers = new Set<number>();
    let pattern: TriggerPattern | null = null;
    if (suspect && ul.triggerFilter) {
      const stride = Math.max(1, Math.floor(n / 5000));
      pattern = findTriggerPattern(
        isolated,
        await pick((i) => traj.labels[i] !== suspect.label && i % stride === 0),
      );
      if (pattern) {
        const found = pattern;
        const candidates = await pick(
          (i) => traj.labels[i] === suspect.label && !isolatedIds.has(traj.ids[i] as string),
        );
        patternDistances(found, candidates).forEach((d, r) => {
          if (d <= found.threshold) carriers.add(index.get(candidates.ids[r] as string) as number);
        });
      }
    }
    for (const i of carriers) distrusted.add(i);
    const guardRows = await pick((i) => holdout.has(i) && !distrusted.has(i));
    if (guardRows.ids.length === 0) {
      throw new DataError(
        ErrorCode.EmptyDataset,
        `the training data is too small for the accuracy guard (${n} rows leave no held-out clean row); audit at least a few hundred rows`,
        { location: { file: config.train } },
      );
    }
    const probeRows = await pick((i) => distrusted.has(i));
    const excluded = new Set<string>(isolatedIds);
    for (const i of holdout) excluded.add(traj.ids[i] as string);
    for (const i of distrusted) excluded.add(traj.ids[i] as string);
    // The suspected class's rows still trusted as clean: watched by the guard, distrusted by loss.
    const distrustCandidates = suspect
      ? await pick((i) => traj.labels[i] === suspect.label && !excluded.has(traj.ids[i] as string))
      : null;
    if (!suspect && ul.mode === 'joint') {
      log(
        'no class stands out as a backdoor target: the isolated rows are left out of training but not unlearned (ascending on rows that may be clean only damages the model)',
      );
    }
    const unlearnMetrics = [...(checkpoint?.unlearnMetrics ?? [])];
    let ubar: StageProgress | null = null;
    let urows = 0;
    const unlearnEpochs = ul.epochs + (ul.mode === 'reference' ? ul.referenceUnlearnEpochs : 0);
    // Rows one unlearning epoch trains on, for the progress bar's total (an estimate once rows are
    // distrusted): clean batches plus, in joint mode, the isolated rows added to each.
    const perBatch = isolatedRowsPerBatch(
      isolated.ids.length,
      config.batchSize,
      ul.isolatedPerBatch ?? undefined,
    );
    const unlearnRowsPerEpoch = (epoch: number): number => {
      if (ul.mode === 'reference' && epoch >= ul.epochs) return isolated.ids.length;
      const clean = n - excluded.size;
      // Joint steps add the isolated rows and as many anchor rows, but only when unlearning ascends.
      const added = suspect ? perBatch + Math.min(perBatch, distrustCandidates?.ids.length ?? 0) : 0;
      return clean + (ul.mode === 'joint' ? Math.ceil(clean / config.batchSize) * added : 0);
    };
    const progress = await timed('unlearning', () =>
      unlearn(model, optimizer, data, {
        mode: ul.mode,
        epochs: ul.epochs,
        referenceUnlearnEpochs: ul.referenceUnlearnEpochs,
        batchSize: config.batchSize,
        isolatedPerBatch: ul.isolatedPerBatch ?? undefined,
        learningRate: ul.learningRate ?? config.learningRate,
        unlearnLearningRate: ul.referenceLearningRate,
        seed: config.seed,
        firstEpoch: iso.epochs,
        augment: config.augment === 'on' ? true : config.augment === 'off' ? false : 'auto',
        isolated,
        ascend: suspect !== null,
        anchor: distrustCandidates ?? undefined,
        excluded,
        guard: {
          rows: guardRows,
          maxDrop: ul.maxAccuracyDrop,
          targetClass:
            suspect && distrustCandidates && ul.maxTargetClassDrop !== null
              ? { rows: distrustCandidates, label: suspect.label, maxDrop: ul.maxTargetClassDrop }
              : undefined,
          probe:
            suspect && ul.maxProbeRise !== null
              ? { rows: probeRows, target: suspect.label, maxRise: ul.maxProbeRise }
              : undefined,
        },
        resumeFrom: checkpoint?.unlearn ?? null,
        retries: ul.guardRetries,
        parallel,
        distrust:
          distrustCandidates && ul.distrustLoss !== null
            ? distrustByLoss(distrustCandidates, ul.distrustLoss, scoring)
            : undefined,
        onStep: (epoch, step) => {
          if (!ubar) {
            ubar = progressFor(`unlearning epoch ${epoch + 1}/${unlearnEpochs}`, unlearnRowsPerEpoch(epoch));
            urows = 0;
          }
          urows += step.rows;
          ubar.update(urows);
        },
        onEpoch: async (p) => {
          ubar?.stop();
          ubar = null;
          const m = config.test || config.backdoorTest ? await measure() : null;
          unlearnMetrics.push({
            cleanAccuracy: m?.cleanAccuracy?.value ?? null,
            attackSuccessRate: m?.attackSuccessRate?.value ?? null,
          });
          const h = p.history[p.history.length - 1];
          if (h) {
            log(
              `unlearning epoch ${h.epoch}/${unlearnEpochs} (${h.phase}): held-out accuracy ${(h.guardAccuracy * 100).toFixed(2)}%, isolated-row loss ${h.isolatedLoss.toFixed(2)}` +
                (h.probeTargetRate !== null
                  ? `, suspect rows predicted as the target ${(h.probeTargetRate * 100).toFixed(1)}%`
                  : '') +
                // After a roll-back the test sets measure the restored model, not the attempt: left out.
                (m?.cleanAccuracy && !h.rolledBack
                  ? `, clean accuracy ${(m.cleanAccuracy.value * 100).toFixed(2)}%`
                  : '') +
                (m?.attackSuccessRate && !h.rolledBack
                  ? `, attack success ${(m.attackSuccessRate.value * 100).toFixed(2)}%`
                  : '') +
                (h.stopReason === null ? '' : ` — ${GUARD_REASONS[h.stopReason]}: ${guardAction(h)}`),
            );
          }
          await saveCheckpoint(out, record('unlearning', p, unlearnMetrics), traj, model, optimizer);
        },
      }),
    );

    // Export.
    const cleaned = await timed('evaluate', measure);
    const modelDir = join(out, 'model');
    await timed('export', () =>
      saveModel(model, modelDir, {
        architecture: config.model,
        classNames: cols.classNames ?? undefined,
        info: {
          producedBy: 'abl-audit audit',
          seed: config.seed,
          backend: backend.name,
          unlearning: ul.mode,
          suspectedTargetClass: suspect?.label ?? null,
        },
      }),
    );
    timings.total = (performance.now() - started) / 1000;
    const report = buildAuditReport({
      config,
      inputs,
      // The threads that computed: the data-parallel group's on wasm and cpu.
      backend: { ...backend, threads: Math.max(backend.threads, parallel.replicas) },
      columns: cols,
      shape: scan.shape,
      numClasses,
      trajectories: traj,
      scores,
      isolatedCount,
      suspect,
      quarantine,
      isolationObjectives,
      unlearn: progress,
      unlearnMetrics,
      guardRows: guardRows.ids.length,
      probeRows: suspect && ul.maxProbeRise !== null ? probeRows.ids.length : 0,
      triggerFilter: pattern
        ? { pixels: pattern.pixels.length, threshold: pattern.threshold, rows: carriers.size }
        : null,
      afterIsolation,
      cleaned,
      timings,
      resumed: checkpoint !== null,
      outputs: { out, model: modelDir },
    });
    // The page for people first: report.json, written last, is what marks the audit complete. A page
    // that fails to render must not throw away a finished audit: it is reported and left out.
    const html = progressFor('report.html', quarantine.clean);
    const page = await timed('html', () =>
      writeHtmlReport(out, { report, onProgress: (rows) => html.update(rows) })
        .then(() => report.outputs.html)
        .catch((error: unknown) => {
          log(
            `warning: report.html was not written (${describeError(error)}); \`abl-audit report ${out}\` retries`,
          );
          return null;
        })
        .finally(() => html.stop()),
    );
    const final =
      page === report.outputs.html ? report : { ...report, outputs: { ...report.outputs, html: page } };
    const reportPath = join(out, 'report.json');
    await writeFileAtomically(reportPath, `${JSON.stringify(final, null, 2)}\n`);
    await clearCheckpoints(out);
    return { report: final, reportPath };
  } finally {
    await parallel?.dispose();
    model.dispose();
    optimizer.dispose();
  }
}

/** What each guard saw, for the log line of an epoch it rolled back. */
const GUARD_REASONS: Record<NonNullable<UnlearnEpochRecord['stopReason']>, string> = {
  'accuracy-drop': 'held-out accuracy fell past the guard',
  'target-class-drop': "the suspected target class's own rows stopped being predicted as it",
  'backdoor-relearned': 'more suspect rows went back to the target (the backdoor was being relearned)',
  'loss-not-finite': 'the training loss became NaN or infinite',
};

function guardAction(record: UnlearnEpochRecord): string {
  if (!record.retried) return 'rolled back to the previous epoch and stopped';
  return `rolled back; trying the epoch again at half the learning rate (${(record.learningRate / 2).toPrecision(3)})`;
}

/** Ids of the rows whose loss under the model is above `threshold`. */
function distrustByLoss(
  rows: TrainBatch,
  threshold: number,
  scoring: ScoreLossesOptions,
): (model: tf.LayersModel) => Promise<string[]> {
  return async (model) => {
    const records = await scoreBatch(model, rows, scoring);
    return records.filter((r) => r.loss > threshold).map((r) => r.id);
  };
}

/** Rows of the suspected target class scored at or below `quantile` of that class's scores. */
function distrustedRows(
  labels: Int32Array,
  score: Float64Array,
  target: number | null,
  quantile: number,
): Set<number> {
  const out = new Set<number>();
  if (target === null || quantile <= 0) return out;
  const rows: number[] = [];
  labels.forEach((l, i) => {
    if (l === target) rows.push(i);
  });
  rows.sort((a, b) => (score[a] as number) - (score[b] as number) || a - b);
  const cut = Math.floor(rows.length * Math.min(1, quantile));
  for (let r = 0; r < cut; r++) out.add(rows[r] as number);
  return out;
}

/** A seeded sample of non-isolated row indices held out for the accuracy guard. */
function holdoutRows(
  n: number,
  isolated: ReadonlySet<string>,
  ids: readonly string[],
  fraction: number,
  seed: number,
): Set<number> {
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (!isolated.has(ids[i] as string)) candidates.push(i);
  const size = Math.min(candidates.length, 2000, Math.max(1, Math.round(candidates.length * fraction)));
  const rng = mulberry32(deriveSeed(seed, 'holdout'));
  return new Set(sampleWithoutReplacement(candidates, size, rng));
}

/** Hash of everything that decides an audit's result, so a checkpoint is only resumed by the same run. */
function fingerprintOf(
  config: AuditConfig,
  inputs: Record<string, readonly HashedFile[] | null>,
  backend: string,
): string {
  const { out: _out, gates: _gates, ...decisive } = config;
  const files = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, v?.map((f) => f.sha256) ?? null]),
  );
  return createHash('sha256').update(JSON.stringify({ decisive, files, backend })).digest('hex');
}
