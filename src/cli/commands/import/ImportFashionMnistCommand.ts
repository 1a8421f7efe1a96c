import { Command, Option } from 'clipanion';
import { FASHION_MNIST_DEFAULT_DIR } from '../../../import/fashionMnistDir.js';
import { BaseCommand } from '../../BaseCommand.js';
import { printImport } from './printImport.js';

/** `abl-audit import fashion-mnist`. */
export class ImportFashionMnistCommand extends BaseCommand {
  static override paths = [['import', 'fashion-mnist']];
  static override usage = Command.Usage({
    category: 'Data',
    description: 'import Fashion-MNIST (IDX files) to Parquet',
    details: `
      Reads the four Fashion-MNIST IDX files (gzipped or not) and writes \`OUT/train.parquet\` (60,000 rows) and \`OUT/test.parquet\` (10,000 rows) with columns \`id, image, label, split, source\`; raw 28x28x1 images; the ten class names in the metadata.

      By default the files come from Debian's \`dataset-fashion-mnist\` package (\`apt-get install dataset-fashion-mnist\`), in \`${FASHION_MNIST_DEFAULT_DIR}\`.
    `,
    examples: [
      ["From Debian's package", '$0 import fashion-mnist --out data/fmnist'],
      ['From a folder of IDX files', '$0 import fashion-mnist --from ~/Downloads/fashion --out data/fmnist'],
    ],
  });

  from = Option.String('--from', FASHION_MNIST_DEFAULT_DIR, { description: 'Folder holding the IDX files' });
  out = Option.String('--out', {
    required: true,
    description: 'Folder to write train.parquet and test.parquet to',
  });

  protected async run(): Promise<number> {
    const { importFashionMnist } = await import('../../../import/importFashionMnist.js');
    const { train, test } = await importFashionMnist({ from: this.from, out: this.out });
    printImport(this.output, [train, test]);
    return 0;
  }
}
