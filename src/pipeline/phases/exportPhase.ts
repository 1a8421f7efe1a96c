import { join } from 'node:path';
import { saveModel } from '../../train/saveModel.js';
import type { AuditPhase } from '../auditPhase.js';
import type {
  AuditTraining,
  DatasetRecord,
  ExportRecord,
  OutputRecord,
  RankingRecord,
} from '../auditRecords.js';

/** Export: saves the cleaned model to `OUT/model/` (a TensorFlow.js layers model). */
export const exportPhase: AuditPhase<
  {
    readonly output: OutputRecord;
    readonly dataset: DatasetRecord;
    readonly training: AuditTraining;
    readonly ranking: RankingRecord;
  },
  ExportRecord
> = {
  name: 'export',
  async run({ output, dataset, training, ranking }, ctx) {
    const modelDir = join(output.folder.staging, 'model');
    await saveModel(training.trainer.model, modelDir, {
      architecture: ctx.config.model,
      classNames: dataset.columns.classNames ?? undefined,
      info: {
        producedBy: 'abl-audit audit',
        seed: ctx.config.seed,
        backend: training.backend.name,
        unlearning: ctx.config.unlearning.mode,
        suspectedTargetClass: ranking.suspect?.label ?? null,
      },
    });
    return { modelDir, name: 'model' };
  },
};
