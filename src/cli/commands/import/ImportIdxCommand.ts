import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../BaseCommand.js';
import { printImport } from './printImport.js';

/** `abl-audit import idx`. */
export class ImportIdxCommand extends BaseCommand {
  static override paths = [['import', 'idx']];
  static override usage = Command.Usage({
    category: 'Data',
    description: 'import an MNIST-format (IDX) images/labels pair to Parquet',
    details: `
      Reads an IDX images file (N x H x W or N x H x W x C unsigned bytes) and its IDX labels file, gzipped or not, and writes one Parquet file with columns \`id, image, label, split, source\`. Ids are \`<split>-<index>\`.
    `,
    examples: [
      [
        'MNIST training set',
        '$0 import idx --images train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz --out data/mnist-train.parquet',
      ],
      [
        'A test split with class names',
        '$0 import idx --images t10k-images-idx3-ubyte --labels t10k-labels-idx1-ubyte --split test --class-names zero,one,two,three,four,five,six,seven,eight,nine --out data/test.parquet',
      ],
    ],
  });

  images = Option.String('--images', { required: true, description: 'IDX file of images' });
  labels = Option.String('--labels', { required: true, description: 'IDX file of labels' });
  out = Option.String('--out', { required: true, description: 'Parquet file to write' });
  split = Option.String('--split', 'train', {
    description: 'Value of the split column, and the id prefix (default train)',
  });
  classNames = Option.String('--class-names', { description: 'Comma-separated class names, index = label' });

  protected async run(): Promise<number> {
    const { importIdx } = await import('../../../import/importIdx.js');
    const classNames = this.classNames?.split(',').map((s) => s.trim());
    const result = await importIdx({
      images: this.images,
      labels: this.labels,
      out: this.out,
      split: this.split,
      classNames,
    });
    printImport(this.output, [result]);
    return 0;
  }
}
