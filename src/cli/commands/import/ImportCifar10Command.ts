import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../BaseCommand.js';
import { printImport } from './printImport.js';

/** `abl-audit import cifar10`. */
export class ImportCifar10Command extends BaseCommand {
  static override paths = [['import', 'cifar10']];
  static override usage = Command.Usage({
    category: 'Data',
    description: 'import CIFAR-10 binary batches to Parquet',
    details: `
      Reads the CIFAR-10 binary version (\`data_batch_1.bin\` ... \`data_batch_5.bin\`, \`test_batch.bin\`, optionally \`batches.meta.txt\`) from FOLDER or its \`cifar-10-batches-bin\` sub-folder, and writes \`OUT/train.parquet\` (50,000 rows) and \`OUT/test.parquet\` (10,000 rows) with raw 32x32x3 images (HWC).
    `,
    examples: [
      ['The extracted cifar-10-binary.tar.gz', '$0 import cifar10 cifar-10-batches-bin --out data/cifar10'],
    ],
  });

  from = Option.String({ name: 'folder' });
  out = Option.String('--out', {
    required: true,
    description: 'Folder to write train.parquet and test.parquet to',
  });

  protected async run(): Promise<number> {
    const { importCifar10 } = await import('../../../import/importCifar10.js');
    const { train, test } = await importCifar10({ from: this.from, out: this.out });
    printImport(this.output, [train, test]);
    return 0;
  }
}
