import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { isBatchSize, isEpochCount, isThreadCount } from '../../config/validators.js';
import { BACKEND_NAMES } from '../../train/backendNames.js';
import { ARCHITECTURES } from '../../train/models/architectures.js';
import { DatasetCommand } from '../DatasetCommand.js';

const isNumber = t.isNumber();

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
    validator: isEpochCount(),
  });
  batchSize = Option.String('--batch-size', '64', {
    description: 'Rows per step (default 64)',
    validator: isBatchSize(),
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
    // A bad --image-shape is a usage error: said before TensorFlow.js loads, which takes seconds.
    const columns = this.overrides();
    const { trainBaseline } = await import('../actions/trainBaseline.js');
    return trainBaseline(
      {
        input: this.input,
        out: this.out,
        test: this.test,
        backdoorTest: this.backdoorTest,
        target: this.target,
        model: this.model,
        epochs: this.epochs,
        batchSize: this.batchSize,
        optimizer: this.optimizer,
        lr: this.lr,
        weightDecay: this.weightDecay,
        augment: this.augment,
        seed: this.seed,
        backend: this.backend,
        threads: this.threads,
        columns,
      },
      this.output,
    );
  }
}
