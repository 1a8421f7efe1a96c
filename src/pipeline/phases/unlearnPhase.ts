import { filter, lastValueFrom, map, toArray } from 'rxjs';
import { isolatedRowsPerBatch, type UnlearnSchedule, unlearn } from '../../abl/unlearn.js';
import { planUnlearning, type RowGatherer, type UnlearningPlan } from '../../abl/unlearningPlan.js';
import type { AuditConfig } from '../../config/auditConfig.js';
import type { ReportModelMetrics } from '../../report/auditReport.js';
import { concatBatches, selectRows } from '../../train/batches/selectRows.js';
import { cosineSchedule } from '../../train/optim.js';
import { evaluateOnTestSets } from '../../train/scaffold/evaluateOnTestSets.js';
import { reinitialize } from '../../train/scaffold/reinitialize.js';
import { deriveSeed } from '../../util/random.js';
import { type AuditPhase, epochProgress } from '../auditPhase.js';
import type {
  AuditTraining,
  DatasetRecord,
  EpochMetrics,
  IsolationRecord,
  RankingRecord,
  UnlearningRecord,
} from '../auditRecords.js';
import { toReportEpoch, toReportMetrics } from '../reportRecords.js';

/** What the unlearning phase works from. */
export interface UnlearnPhaseInput {
  readonly dataset: DatasetRecord;
  readonly training: AuditTraining;
  readonly isolation: IsolationRecord;
  readonly ranking: RankingRecord;
}

/**
 * Retrain and unlearn: measures the isolation model (it has learned the backdoor), plans which rows
 * to trust, distrust and watch (ABL policy, `planUnlearning`), then unlearns the isolated rows while
 * training on the rest, under the guards, checkpointing after every epoch; and measures the cleaned
 * model.
 */
export const unlearnPhase: AuditPhase<UnlearnPhaseInput, UnlearningRecord> = {
  name: 'unlearning',
  async run(input, ctx) {
    const { dataset, training, ranking } = input;
    const { config } = ctx;
    const ul = config.unlearning;
    const measure = measurer(input, config);
    const resumed = training.resumed?.phase === 'unlearning' ? training.resumed : null;
    // The isolation model's metrics are only measurable before unlearning changes it.
    const afterIsolation = resumed ? null : await ctx.time('evaluate', measure);
    const plan = await planUnlearning(
      {
        trajectories: input.isolation.trajectories,
        score: ranking.scores.score,
        isolatedRows: ranking.isolatedRows,
        reviewRows: ranking.reviewRows,
        suspect: ranking.suspect?.label ?? null,
        suspectSide: suspectSideOf(ranking),
      },
      {
        ...ul,
        seed: config.seed,
        // Without ascent nothing can break the class; a fresh model's class accuracy swings as it learns.
        maxTargetClassDrop: ul.removal === 'retrain' ? null : ul.maxTargetClassDrop,
      },
      gatherer(dataset, input.isolation.trajectories.ids),
      { source: config.train, scoring: { parallel: training.trainer.parallel } },
    );
    const retrains = ul.removal !== 'unlearn';
    // A resumed run's checkpoint already holds the retrained model's weights.
    if (retrains && !resumed) {
      reinitialize(training.trainer.model, {
        architecture: config.model,
        inputShape: dataset.shape,
        numClasses: dataset.numClasses,
        seed: deriveSeed(config.seed, 'retrain'),
      });
    }
    if (plan.isolated.ids.length === 0) ctx.emit({ type: 'nothing-isolated' });
    else if (!plan.ascend && ul.mode === 'joint') ctx.emit({ type: 'no-target' });
    const epochMetrics: EpochMetrics[] = [...(resumed?.unlearnMetrics ?? [])];
    const schedule = scheduleOf(config, plan);
    const total =
      schedule.mode === 'joint' ? schedule.epochs : schedule.fineTuneEpochs + schedule.unlearnEpochs;
    const bars = epochProgress(
      ctx,
      (e) => `${retrains ? 'retraining' : 'unlearning'} epoch ${e + 1}/${total}`,
      (e) => rowsPerEpoch(config, dataset.rows, plan, schedule, e),
    );
    const { model, parallel } = training.trainer;
    const progress = await unlearn(model, training.finalOptimizer, dataset.data, {
      schedule,
      rows: plan,
      guards: plan.guards,
      training: {
        batchSize: config.batchSize,
        seed: config.seed,
        firstEpoch: config.isolation.epochs,
        augment: config.augment === 'on' ? true : config.augment === 'off' ? false : 'auto',
        parallel,
      },
      retries: ul.guardRetries,
      warmupEpochs: retrains ? 1 : 0,
      distrust: plan.distrust ?? undefined,
      resumeFrom: resumed?.unlearn ?? null,
      onStep: (epoch, step) => bars.step(epoch, step.rows),
      onEpoch: async (p) => {
        bars.endEpoch();
        const m = config.test || config.backdoorTest ? await measure() : null;
        const metrics = {
          cleanAccuracy: m?.cleanAccuracy?.value ?? null,
          attackSuccessRate: m?.attackSuccessRate?.value ?? null,
        };
        epochMetrics.push(metrics);
        const record = p.history[p.history.length - 1];
        if (record)
          ctx.emit({
            type: 'unlearning-epoch',
            record: toReportEpoch(record, metrics),
            epochs: total,
            retraining: retrains,
          });
        await ctx.checkpoint(training, {
          trajectories: input.isolation.trajectories,
          isolationObjectives: input.isolation.objectives,
          unlearn: p,
          unlearnMetrics: epochMetrics,
        });
      },
    });
    const cleaned = await ctx.time('evaluate', measure);
    return {
      progress,
      ascended: plan.isolated.ids.length > 0 && (schedule.mode === 'reference' || schedule.ascend === true),
      guardRows: plan.guardRows.ids.length,
      probeRows: plan.ascend && ul.maxProbeRise !== null ? plan.probeRows.ids.length : 0,
      trigger: plan.trigger,
      epochMetrics,
      afterIsolation,
      cleaned,
    };
  },
};

/** Measures the model on the test sets given: clean accuracy and attack success. */
function measurer(input: UnlearnPhaseInput, config: AuditConfig): () => Promise<ReportModelMetrics> {
  const { dataset, training, ranking } = input;
  const suspect = ranking.suspect?.label ?? null;
  const target = config.attackTarget ?? suspect;
  return async () =>
    toReportMetrics(
      await evaluateOnTestSets(
        training.trainer.model,
        { test: config.test, backdoorTest: config.backdoorTest, target },
        {
          // The source column is the training data's lineage: test sets need not have it.
          overrides: { ...config.columns, sourceCol: undefined },
          numClasses: dataset.numClasses,
          parallel: training.trainer.parallel,
        },
      ),
      suspect ?? config.attackTarget,
      config.attackTarget !== null,
    );
}

/** Gathers rows of the training data chunk by chunk, so no copy of the whole dataset is ever made. */
function gatherer(dataset: DatasetRecord, ids: readonly string[]): RowGatherer {
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  return async (keep) => {
    const parts = await lastValueFrom(
      dataset.data.forEpoch(0).pipe(
        map((b) => selectRows(b, (id) => keep(rowOf.get(id) as number))),
        filter((b) => b.ids.length > 0),
        toArray(),
      ),
    );
    return parts.length > 0
      ? concatBatches(parts)
      : { ids: [], images: new Uint8Array(0), labels: new Int32Array(0), shape: dataset.shape };
  };
}

/**
 * The epochs that make the cleaned model. A retrained model learns as `abl-audit train` teaches
 * (Adam on a cosine schedule); `retrain` never ascends.
 */
function scheduleOf(config: AuditConfig, plan: UnlearningPlan): UnlearnSchedule {
  const ul = config.unlearning;
  const retrains = ul.removal !== 'unlearn';
  const learningRate = retrains ? ul.retrainLearningRate : (ul.learningRate ?? config.learningRate);
  const lrSchedule = retrains ? cosineSchedule({ epochs: ul.epochs }) : undefined;
  const ascends = ul.removal !== 'retrain' && plan.isolated.ids.length > 0;
  // Nothing isolated (no class flagged): nothing to unlearn, in either mode; the model trains on.
  return ul.mode === 'joint' || !ascends
    ? {
        mode: 'joint',
        epochs: ul.epochs,
        learningRate,
        lrSchedule,
        ascend: plan.ascend && ascends,
        isolatedPerBatch: ul.isolatedPerBatch ?? undefined,
      }
    : {
        mode: 'reference',
        fineTuneEpochs: ul.epochs,
        learningRate,
        lrSchedule,
        unlearnEpochs: ul.referenceUnlearnEpochs,
        unlearnLearningRate: ul.referenceLearningRate,
      };
}

/**
 * Rows one unlearning epoch trains on, for the progress bar's total (an estimate once rows are
 * distrusted): clean batches plus, in joint mode, the isolated and anchor rows added to each.
 */
function rowsPerEpoch(
  config: AuditConfig,
  rows: number,
  plan: UnlearningPlan,
  schedule: UnlearnSchedule,
  epoch: number,
): number {
  const ul = config.unlearning;
  if (schedule.mode === 'reference' && epoch >= schedule.fineTuneEpochs) return plan.isolated.ids.length;
  const clean = rows - plan.excluded.size;
  const perBatch = isolatedRowsPerBatch(
    plan.isolated.ids.length,
    config.batchSize,
    ul.isolatedPerBatch ?? undefined,
  );
  // Joint steps add the isolated rows and as many anchor rows, but only when unlearning ascends.
  const ascends = schedule.mode === 'joint' && schedule.ascend === true;
  const added = ascends ? perBatch + Math.min(perBatch, plan.anchor?.ids.length ?? 0) : 0;
  return clean + Math.ceil(clean / config.batchSize) * added;
}

/** The end of the suspected class's scores its flagged mode sits at (low without evidence). */
function suspectSideOf(ranking: UnlearnPhaseInput['ranking']): 'low' | 'high' {
  const label = ranking.suspect?.label;
  return ranking.detection.classes.find((c) => c.label === label && c.call === 'flagged')?.side ?? 'low';
}
