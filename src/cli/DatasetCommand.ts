import { Option } from 'clipanion';
import { parseShape } from '../data/imageShape.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import { BaseCommand } from './BaseCommand.js';

/** Base of commands that read a dataset: adds the column-override flags. */
export abstract class DatasetCommand extends BaseCommand {
  imageCol = Option.String('--image-col', { description: 'Column holding the images (default: inferred)' });
  labelCol = Option.String('--label-col', {
    description: 'Column holding integer class labels (default: inferred)',
  });
  idCol = Option.String('--id-col', {
    description: 'Column holding row ids (default: `id` if present, else file#row)',
  });
  imageShape = Option.String('--image-shape', {
    description:
      'Shape of raw image bytes as HxWxC, e.g. 28x28x1 (default: from metadata, else a square of 1 or 3 channels)',
  });

  /** The flags as overrides for the decode stage; a bad `--image-shape` is a usage error. */
  protected overrides(): ColumnOverrides {
    return {
      imageCol: this.imageCol,
      labelCol: this.labelCol,
      idCol: this.idCol,
      imageShape: this.imageShape === undefined ? undefined : parseShape(this.imageShape, '--image-shape'),
    };
  }
}
