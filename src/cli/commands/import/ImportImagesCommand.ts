import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../BaseCommand.js';
import { printImport } from './printImport.js';

/** `abl-audit import images`. */
export class ImportImagesCommand extends BaseCommand {
  static override paths = [['import', 'images']];
  static override usage = Command.Usage({
    category: 'Data',
    description: 'import a folder per class of PNG/JPEG files to Parquet',
    details: `
      FOLDER holds one sub-folder per class (the torchvision ImageFolder layout); class names are the sub-folder names in sorted order and labels their index. Every \`.png\`, \`.jpg\` and \`.jpeg\` file is decoded; all must have one height and width (grey images in a colour set are copied to three channels). Writes one Parquet file with raw pixels; \`id\` and \`source\` are the file's path relative to FOLDER.
    `,
    examples: [['A folder of class folders', '$0 import images photos/ --out data/photos.parquet']],
  });

  dir = Option.String({ name: 'folder' });
  out = Option.String('--out', { required: true, description: 'Parquet file to write' });
  split = Option.String('--split', 'train', { description: 'Value of the split column (default train)' });

  protected async run(): Promise<number> {
    const { importImageFolder } = await import('../../../import/importImageFolder.js');
    const result = await importImageFolder({ dir: this.dir, out: this.out, split: this.split });
    printImport(this.output, [result]);
    return 0;
  }
}
