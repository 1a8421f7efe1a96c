import type { ColumnOverrides } from '../../data/inferColumns.js';
import { preflightOutput } from '../../io/output/preflightOutput.js';
import { initBackend } from '../../train/backend.js';
import { crossEntropyObjective } from '../../train/losses.js';
import type { Architecture } from '../../train/models/architectures.js';
import { checkTrainingFits, trainingMemoryBudget } from '../../train/models/trainingFootprint.js';
import { cosineSchedule } from '../../train/optim.js';
import { saveModel } from '../../train/saveModel.js';
import { createTrainer, type Trainer } from '../../train/scaffold/createTrainer.js';
import { evaluateOnTestSets, type TestSetMetrics } from '../../train/scaffold/evaluateOnTestSets.js';
import { readTrainingData, type TrainingData } from '../../train/scaffold/readTrainingData.js';
import { trainEpoch } from '../../train/trainEpoch.js';
import type { BackendName } from '../../train/types.js';
import type { CliOutput } from '../output.js';

/** The parsed flags of `abl-audit train` (see TrainCommand for what each means). */
export interface TrainBaselineArgs {
  readonly input: string;
  readonly out: string;
  readonly test: string | undefined;
  readonly backdoorTest: string | undefined;
  readonly target: number;
  readonly model: Architecture;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: 'adam' | 'sgd';
  readonly lr: number | undefined;
  readonly weightDecay: number;
  readonly augment: 'auto' | 'on' | 'off';
  readonly seed: number;
  readonly backend: BackendName | 'auto';
  readonly threads: number | 'auto';
  /** The column-override flags, already checked. */
  readonly columns: ColumnOverrides;
}

/**
 * The work of `abl-audit train`: plain cross-entropy training, the evaluation on the test sets, and the
 * saved model; returns the exit code. Its own module because TrainCommand loads it only when the
 * command runs: TensorFlow.js takes seconds to load, and `--help` or a usage error must not wait for it.
 */
export async function trainBaseline(args: TrainBaselineArgs, output: CliOutput): Promise<number> {
  const log = (line: string) => output.info(line);
  // Before any epoch: a model folder that cannot be written must not wait for the end of training.
  const inputs = [args.input, args.test, args.backdoorTest].filter((p): p is string => p !== undefined);
  await preflightOutput(args.out, { inputs });
  const backend = await initBackend({ prefer: args.backend, log });
  const budget = trainingMemoryBudget(backend.tfBackend);
  const training = await readTrainingData(args.input, args.columns, {
    onShape: (shape) =>
      checkTrainingFits(args.model, shape, args.columns.numClasses ?? 2, args.batchSize, budget),
  });
  const lr = args.lr ?? (args.optimizer === 'adam' ? 1e-3 : 0.05);
  const sgd = args.optimizer === 'sgd';
  const trainer = await createTrainer(training, {
    architecture: args.model,
    seed: args.seed,
    optimizer: {
      kind: args.optimizer,
      lr,
      momentum: sgd ? 0.9 : 0,
      nesterov: sgd,
      weightDecay: args.weightDecay,
    },
    threads: args.threads,
    batchSize: args.batchSize,
    log,
  });
  try {
    const started = Date.now();
    await trainEpochs(trainer, training, args, lr, output);
    const metrics = await evaluateOnTestSets(
      trainer.model,
      { test: args.test ?? null, backdoorTest: args.backdoorTest ?? null, target: args.target },
      { overrides: args.columns, numClasses: training.numClasses, parallel: trainer.parallel },
    );
    const trainSeconds = (Date.now() - started) / 1000;
    const threads = Math.max(backend.threads, trainer.parallel.replicas);
    const measured = {
      ...(metrics.accuracy && { cleanAccuracy: metrics.accuracy.accuracy }),
      ...(metrics.attack && { attackSuccessRate: metrics.attack.rate }),
    };
    await saveModel(trainer.model, args.out, {
      architecture: args.model,
      classNames: training.columns.classNames ?? undefined,
      info: {
        seed: args.seed,
        epochs: args.epochs,
        optimizer: args.optimizer,
        lr,
        backend: backend.name,
        threads,
        trainSeconds,
        ...measured,
      },
    });
    output.result(resultLines(args, metrics, backend.name).join('\n'), {
      model: args.out,
      architecture: args.model,
      backend: backend.name,
      threads,
      epochs: args.epochs,
      seed: args.seed,
      trainSeconds,
      cleanAccuracy: metrics.accuracy?.accuracy ?? null,
      attackSuccessRate: metrics.attack?.rate ?? null,
      attackTarget: args.backdoorTest ? args.target : null,
    });
    return 0;
  } finally {
    await trainer.dispose();
  }
}

/** Plain cross-entropy epochs on a cosine schedule, each with its progress and a summary line. */
async function trainEpochs(
  trainer: Trainer,
  training: TrainingData,
  args: TrainBaselineArgs,
  lr: number,
  output: CliOutput,
): Promise<void> {
  const schedule = cosineSchedule({ epochs: args.epochs });
  const augment = args.augment === 'on' ? true : args.augment === 'off' ? false : 'auto';
  for (let epoch = 0; epoch < args.epochs; epoch++) {
    const progress = output.progress(`epoch ${epoch + 1}/${args.epochs}`, {
      unit: 'rows',
      total: training.data.cachedRows || undefined,
    });
    let rows = 0;
    const epochStart = Date.now();
    const result = await trainEpoch(
      trainer.model,
      training.data.batchesForEpoch(epoch, { batchSize: args.batchSize, seed: args.seed, augment }),
      {
        optimizer: trainer.optimizer,
        objective: crossEntropyObjective,
        learningRate: schedule(epoch, lr),
        weightDecay: args.weightDecay,
        parallel: trainer.parallel,
        onStep: (step) => {
          rows += step.rows;
          progress.update(rows);
        },
      },
    );
    progress.stop();
    const seconds = (Date.now() - epochStart) / 1000;
    output.info(
      `epoch ${epoch + 1}/${args.epochs}: loss ${result.meanLoss.toFixed(4)}, lr ${result.learningRate.toPrecision(3)}, ` +
        `${result.rows} rows in ${seconds.toFixed(1)} s`,
      {
        epoch: epoch + 1,
        epochs: args.epochs,
        loss: result.meanLoss,
        learningRate: result.learningRate,
        rows: result.rows,
        seconds,
      },
    );
  }
}

function resultLines(args: TrainBaselineArgs, metrics: TestSetMetrics, backend: string): string[] {
  const lines: string[] = [];
  if (metrics.accuracy) {
    lines.push(
      `clean accuracy: ${(metrics.accuracy.accuracy * 100).toFixed(2)}% of ${metrics.accuracy.total} test rows`,
    );
  }
  if (metrics.attack) {
    lines.push(
      `attack success rate: ${(metrics.attack.rate * 100).toFixed(2)}% of ${metrics.attack.total} triggered rows predicted as class ${args.target}`,
    );
  }
  lines.push(`saved ${args.out} (${args.model}, ${backend} backend)`);
  return lines;
}
