import { createHash } from 'node:crypto';
import type { AuditConfig } from '../../config/auditConfig.js';
import type { HashedFile } from '../../io/hashDataFiles.js';
import { initBackend } from '../../train/backend.js';
import { createOptimizer } from '../../train/optim.js';
import { createTrainer } from '../../train/scaffold/createTrainer.js';
import { clearCheckpoints, loadCheckpoint } from '../auditCheckpoint.js';
import type { AuditPhase } from '../auditPhase.js';
import type { AuditTraining, DatasetRecord } from '../auditRecords.js';

/**
 * Version of what a checkpoint holds; part of its fingerprint, so that a checkpoint of another layout
 * is refused rather than misread.
 */
const CHECKPOINT_FORMAT = 2;

/**
 * Setup: chooses the backend, builds the model, its optimizer (SGD with Nesterov momentum, as the
 * reference code), the cleaned model's optimizer when the removal retrains (Adam, as `train`) and the
 * data-parallel threads, and, when resuming, loads the checkpoint into them.
 */
export const setupPhase: AuditPhase<DatasetRecord, AuditTraining> = {
  name: 'setup',
  async run(dataset, ctx) {
    const { config } = ctx;
    const note = (message: string) => ctx.emit({ type: 'note', message });
    // Chosen in the read phase (which said which); this returns the same backend.
    const backend = await initBackend({ prefer: config.backend });
    const trainer = await createTrainer(dataset, {
      architecture: config.model,
      seed: config.seed,
      optimizer: { kind: 'sgd', lr: config.learningRate, momentum: 0.9, nesterov: true },
      threads: config.threads,
      batchSize: config.batchSize,
      log: note,
    });
    ctx.onClose(() => trainer.dispose());
    const finalOptimizer =
      config.unlearning.removal === 'unlearn'
        ? trainer.optimizer
        : createOptimizer({ kind: 'adam', lr: config.unlearning.retrainLearningRate });
    if (finalOptimizer !== trainer.optimizer) ctx.onClose(() => finalOptimizer.dispose());
    const fingerprint = fingerprintOf(config, dataset.inputs, backend.name);
    if (!ctx.resume) await clearCheckpoints(ctx.out);
    const resumed = ctx.resume
      ? await loadCheckpoint(ctx.out, fingerprint, trainer.model, (phase) =>
          phase === 'unlearning' ? finalOptimizer : trainer.optimizer,
        )
      : null;
    if (resumed) {
      const unlearning = resumed.phase === 'unlearning';
      ctx.emit({
        type: 'resumed',
        phase: resumed.phase,
        epochsDone: unlearning ? (resumed.unlearn?.epochsDone ?? 0) : resumed.trajectories.losses.length,
      });
    } else if (ctx.resume) ctx.emit({ type: 'nothing-to-resume' });
    return { backend, trainer, finalOptimizer, fingerprint, resumed };
  },
};

/** Hash of everything that decides an audit's result, so a checkpoint is only resumed by the same run. */
function fingerprintOf(
  config: AuditConfig,
  inputs: Record<string, readonly HashedFile[] | null>,
  backend: string,
): string {
  const { out: _out, gates: _gates, force: _force, columns, ...rest } = config;
  // The source column only rolls up the quarantine: it changes no weight, so a resume may change it.
  const decisive = { ...rest, columns: { ...columns, sourceCol: undefined } };
  const files = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, v?.map((f) => f.sha256) ?? null]),
  );
  return createHash('sha256')
    .update(JSON.stringify({ format: CHECKPOINT_FORMAT, decisive, files, backend }))
    .digest('hex');
}
