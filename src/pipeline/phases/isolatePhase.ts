import { isolate } from '../../abl/isolate.js';
import { type AuditPhase, epochProgress } from '../auditPhase.js';
import type { AuditTraining, DatasetRecord, IsolationRecord } from '../auditRecords.js';

/**
 * Isolation: trains from scratch with local gradient ascent and records every row's loss after each
 * epoch (inference mode, no augmentation); checkpoints after every epoch. A resumed run continues
 * after the last epoch its checkpoint holds.
 */
export const isolatePhase: AuditPhase<
  { readonly dataset: DatasetRecord; readonly training: AuditTraining },
  IsolationRecord
> = {
  name: 'isolation',
  async run({ dataset, training }, ctx) {
    const iso = ctx.config.isolation;
    const { model, optimizer, parallel } = training.trainer;
    const objectives = [...(training.resumed?.isolationObjectives ?? [])];
    const bars = epochProgress(
      ctx,
      (epoch) => `isolation epoch ${epoch + 1}/${iso.epochs}`,
      () => dataset.rows,
    );
    const trajectories = await isolate(model, optimizer, dataset.data, {
      epochs: iso.epochs,
      gamma: iso.gamma,
      lga: iso.lga,
      batchSize: ctx.config.batchSize,
      seed: ctx.config.seed,
      learningRate: ctx.config.learningRate,
      resumeFrom: training.resumed?.trajectories ?? null,
      parallel,
      onStep: (epoch, step) => bars.step(epoch, step.rows),
      onEpoch: async (epoch, traj, result) => {
        bars.endEpoch();
        objectives.push(result.meanLoss);
        ctx.emit({
          type: 'isolation-epoch',
          epoch: epoch + 1,
          epochs: iso.epochs,
          objective: result.meanLoss,
        });
        await ctx.checkpoint(training, {
          trajectories: traj,
          isolationObjectives: [...objectives],
          unlearn: null,
          unlearnMetrics: [],
        });
      },
    });
    return { trajectories, objectives };
  },
};
