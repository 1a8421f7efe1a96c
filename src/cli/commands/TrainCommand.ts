import { Command, Option } from 'clipanion';
import { lastValueFrom, reduce } from 'rxjs';
import * as t from 'typanion';
import { isThreadCount } from '../../config/validators.js';
import { decodeExamples } from '../../data/decodeExamples.js';
import type { DatasetColumns } from '../../data/inferColumns.js';
import { DataError, ErrorCode } from '../../errors.js';
import { readDataset } from '../../io/readDataset.js';
import { BACKEND_NAMES, initBackend } from '../../train/backend.js';
import { epochSource } from '../../train/batches/epochs.js';
import { toTrainBatches } from '../../train/batches/toTrainBatches.js';
import { accuracy, attackSuccessRate } from '../../train/evaluate.js';
import { crossEntropyObjective } from '../../train/losses.js';
import { ARCHITECTURES, createModel } from '../../train/models/createModel.js';
import { cosineSchedule, createOptimizer } from '../../train/optim.js';
import { createDataParallel, type DataParallel } from '../../train/parallel/dataParallel.js';
import { saveModel } from '../../train/saveModel.js';
import { trainEpoch } from '../../train/trainEpoch.js';
import type { TrainBatch } from '../../train/types.js';
import { DatasetCommand } from '../DatasetCommand.js';

const isNumber = t.isNumber();
const positiveInt = t.cascade(isNumber, [t.isInteger(), t.isAtLeast(1)]);

/** `abl-audit train`: plain supervised training, the no-defense baseline an audit is compared with. */
export class TrainCommand extends DatasetCommand {
  static override paths = [['train']];
  static override usage = Command.Usage({
    category: 'Training',
    description: 'train a model on a dataset without any defense (the baseline)',
    details: `
      Trains a model with plain cross-entropy on DATASET, streamed from Parquet/Arrow (decoded rows are cached in memory when they fit), and saves it as a TensorFlow.js layers model in OUT (\`model.json\` + \`weights.bin\`, loadable with plain \`tf.loadLayersModel\`; the model takes raw 0-255 HWC pixels).

      With \`--test\` it reports clean accuracy (all classes); with \`--backdoor-test\` (a triggered test set from \`abl-audit poison --test-out\`) the attack success rate for \`--target\`.

      Backends, best first: tensorflow-gpu (@tensorflow/tfjs-node-gpu), tensorflow (@tensorflow/tfjs-node), wasm, cpu. \`--backend\` or the ABL_BACKEND environment variable picks one.
    `,
    examples: [
      [
        'Baseline on the BadNets demo data',
        '$0 train fixtures/fashion-mnist-badnets/train.parquet --out out/baseline --test fixtures/fashion-mnist/test.parquet --backdoor-test fixtures/fashion-mnist-badnets/test-backdoor.parquet --epochs 3',
      ],
      [
        'WideResNet-16-1 on CIFAR-10 with SGD',
        '$0 train data/cifar10/train.parquet --model wrn-16-1 --optimizer sgd --lr 0.1 --epochs 30 --out out/wrn',
      ],
    ],
  });

  input = Option.String({ name: 'dataset' });
  out = Option.String('--out', { required: true, description: 'Folder to save the model to' });
  test = Option.String('--test', { description: 'Clean test set: report accuracy' });
  backdoorTest = Option.String('--backdoor-test', {
    description: 'Triggered test set: report attack success rate',
  });
  target = Option.String('--target', '0', {
    description: 'Attack target class for --backdoor-test (default 0)',
    validator: t.cascade(isNumber, [t.isInteger(), t.isAtLeast(0)]),
  });
  model = Option.String('--model', 'small-cnn', {
    description: `One of ${ARCHITECTURES.join(', ')} (default small-cnn)`,
    validator: t.isEnum(ARCHITECTURES),
  });
  epochs = Option.String('--epochs', '5', {
    description: 'Training epochs (default 5)',
    validator: positiveInt,
  });
  batchSize = Option.String('--batch-size', '64', {
    description: 'Rows per step (default 64)',
    validator: positiveInt,
  });
  optimizer = Option.String('--optimizer', 'adam', {
    description: 'adam (default) or sgd (momentum 0.9, Nesterov)',
    validator: t.isEnum(['adam', 'sgd'] as const),
  });
  lr = Option.String('--lr', {
    description: 'Learning rate (default 0.001 for adam, 0.05 for sgd; cosine schedule)',
    validator: isNumber,
  });
  weightDecay = Option.String('--weight-decay', '0', {
    description: 'Coupled L2 weight decay (default 0)',
    validator: t.cascade(isNumber, [t.isAtLeast(0)]),
  });
  augment = Option.String('--augment', 'auto', {
    description: 'auto (crop+flip for 3-channel data), on, off',
    validator: t.isEnum(['auto', 'on', 'off'] as const),
  });
  seed = Option.String('--seed', '1', {
    description: 'Seed of initialisation and data order (default 1)',
    validator: t.cascade(isNumber, [t.isInteger()]),
  });
  backend = Option.String('--backend', 'auto', {
    description: `auto (default), ${BACKEND_NAMES.join(', ')}`,
    validator: t.isEnum(['auto', ...BACKEND_NAMES] as const),
  });
  threads = Option.String('--threads', 'auto', {
    description:
      'Threads to split each batch across on wasm/cpu: auto (default: every core, at most 8) or 1-64',
    validator: isThreadCount(),
  });

  protected async run(): Promise<number> {
    const { output } = this;
    const backend = await initBackend({ prefer: this.backend, log: (line) => output.info(line) });
    const overrides = this.overrides();
    let columns: DatasetColumns | undefined;
    const data = epochSource(
      () =>
        readDataset(this.input).pipe(
          decodeExamples({ ...overrides, source: this.input, onColumns: (c) => (columns = c) }),
        ),
      { cache: 'auto' },
    );

    // A first pass learns the image shape and the class count (and fills the cache when the data fits).
    const scan = await lastValueFrom(
      data.forEpoch(0).pipe(
        reduce(
          (acc, b) => ({
            shape: acc.shape ?? b.shape,
            maxLabel: b.labels.reduce((m, l) => Math.max(m, l), acc.maxLabel),
          }),
          { shape: null as TrainBatch['shape'] | null, maxLabel: -1 },
        ),
      ),
    );
    if (!scan.shape)
      throw new DataError(ErrorCode.EmptyDataset, 'dataset has no rows', { location: { file: this.input } });
    const numClasses = columns?.classNames?.length ?? scan.maxLabel + 1;
    const model = createModel({
      architecture: this.model,
      inputShape: scan.shape,
      numClasses,
      seed: this.seed,
    });
    const lr = this.lr ?? (this.optimizer === 'adam' ? 1e-3 : 0.05);
    const sgd = this.optimizer === 'sgd';
    const optimizer = createOptimizer({
      kind: this.optimizer,
      lr,
      momentum: sgd ? 0.9 : 0,
      nesterov: sgd,
      weightDecay: this.weightDecay,
    });
    const schedule = cosineSchedule({ epochs: this.epochs });
    const augment = this.augment === 'on' ? true : this.augment === 'off' ? false : 'auto';
    const started = Date.now();
    let parallel: DataParallel | undefined;
    try {
      parallel = await createDataParallel(model, { threads: this.threads, log: (line) => output.info(line) });
      for (let epoch = 0; epoch < this.epochs; epoch++) {
        const progress = output.progress(`epoch ${epoch + 1}/${this.epochs}`, {
          unit: 'rows',
          total: data.cachedRows || undefined,
        });
        let rows = 0;
        const epochStart = Date.now();
        const result = await trainEpoch(
          model,
          data.batchesForEpoch(epoch, { batchSize: this.batchSize, seed: this.seed, augment }),
          {
            optimizer,
            objective: crossEntropyObjective,
            learningRate: schedule(epoch, lr),
            weightDecay: this.weightDecay,
            parallel,
            onStep: (step) => {
              rows += step.rows;
              progress.update(rows);
            },
          },
        );
        progress.stop();
        const seconds = (Date.now() - epochStart) / 1000;
        output.info(
          `epoch ${epoch + 1}/${this.epochs}: loss ${result.meanLoss.toFixed(4)}, lr ${result.learningRate.toPrecision(3)}, ` +
            `${result.rows} rows in ${seconds.toFixed(1)} s`,
          {
            epoch: epoch + 1,
            epochs: this.epochs,
            loss: result.meanLoss,
            learningRate: result.learningRate,
            rows: result.rows,
            seconds,
          },
        );
      }
      const evalBatches = (path: string) =>
        readDataset(path).pipe(
          decodeExamples({ ...overrides, source: path }),
          toTrainBatches({ batchSize: 256, seed: 0, shuffleBuffer: 1 }),
        );
      const metrics: Record<string, number> = {};
      const lines: string[] = [];
      if (this.test) {
        const acc = await accuracy(model, evalBatches(this.test), { parallel });
        metrics.cleanAccuracy = acc.accuracy;
        lines.push(`clean accuracy: ${(acc.accuracy * 100).toFixed(2)}% of ${acc.total} test rows`);
      }
      if (this.backdoorTest) {
        const asr = await attackSuccessRate(model, evalBatches(this.backdoorTest), this.target, { parallel });
        metrics.attackSuccessRate = asr.rate;
        lines.push(
          `attack success rate: ${(asr.rate * 100).toFixed(2)}% of ${asr.total} triggered rows predicted as class ${this.target}`,
        );
      }
      const trainSeconds = (Date.now() - started) / 1000;
      await saveModel(model, this.out, {
        architecture: this.model,
        classNames: columns?.classNames ?? undefined,
        info: {
          seed: this.seed,
          epochs: this.epochs,
          optimizer: this.optimizer,
          lr,
          backend: backend.name,
          threads: Math.max(backend.threads, parallel.replicas),
          trainSeconds,
          ...metrics,
        },
      });
      lines.push(`saved ${this.out} (${this.model}, ${backend.name} backend)`);
      output.result(lines.join('\n'), {
        model: this.out,
        architecture: this.model,
        backend: backend.name,
        threads: Math.max(backend.threads, parallel.replicas),
        epochs: this.epochs,
        seed: this.seed,
        trainSeconds,
        cleanAccuracy: metrics.cleanAccuracy ?? null,
        attackSuccessRate: metrics.attackSuccessRate ?? null,
        attackTarget: this.backdoorTest ? this.target : null,
      });
      return 0;
    } finally {
      await parallel?.dispose();
      model.dispose();
      optimizer.dispose();
    }
  }
}
