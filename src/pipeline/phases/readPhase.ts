import { MIN_AUDIT_ROWS } from '../../data/readLimits.js';
import { DataError, ErrorCode } from '../../errors.js';
import { hashDataFiles } from '../../io/hashDataFiles.js';
import { initBackend } from '../../train/backend.js';
import { checkTrainingFits, trainingMemoryBudget } from '../../train/models/trainingFootprint.js';
import { readTrainingData } from '../../train/scaffold/readTrainingData.js';
import type { AuditPhase } from '../auditPhase.js';
import type { DatasetRecord } from '../auditRecords.js';

/**
 * Read: hashes every input file (so the report ties the audit to exact bytes) and reads the training
 * set once, learning its shape, row count and classes (and caching it when it fits in memory).
 */
export const readPhase: AuditPhase<void, DatasetRecord> = {
  name: 'read',
  async run(_, ctx) {
    const { config } = ctx;
    const inputs = await ctx.time('hash', async () => ({
      train: await hashDataFiles(config.train),
      test: config.test ? await hashDataFiles(config.test) : null,
      backdoorTest: config.backdoorTest ? await hashDataFiles(config.backdoorTest) : null,
    }));
    // The backend decides how much memory training may take: images too large to train are refused
    // as soon as the first one is read, not after gigabytes of them.
    const backend = await initBackend({
      prefer: config.backend,
      log: (message) => ctx.emit({ type: 'note', message }),
    });
    const budget = trainingMemoryBudget(backend.tfBackend);
    const classes = config.columns.numClasses ?? 2;
    const training = await readTrainingData(config.train, config.columns, {
      onShape: (shape) => checkTrainingFits(config.model, shape, classes, config.batchSize, budget),
    });
    if (training.rows < MIN_AUDIT_ROWS) {
      throw new DataError(
        ErrorCode.TooFewRows,
        `the training data has ${training.rows} rows; an audit needs at least ${MIN_AUDIT_ROWS} to isolate, hold out and measure anything`,
        { location: { file: config.train } },
      );
    }
    ctx.emit({
      type: 'dataset-read',
      file: config.train,
      rows: training.rows,
      shape: training.shape,
      classes: training.numClasses,
    });
    return { ...training, inputs };
  },
};
