import { Option } from 'clipanion';
import * as t from 'typanion';
import { parseShape } from '../data/imageShape.js';
import type { ColumnOverrides } from '../data/inferColumns.js';
import {
  DEFAULT_MAX_CLASSES,
  DEFAULT_MAX_IMAGE_PIXELS,
  MAX_IMAGE_PIXELS_CEILING,
} from '../data/readLimits.js';
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
  numClasses = Option.String('--num-classes', {
    description:
      'Number of classes K: labels must be 0..K-1, and classes without rows are allowed (default: from the class names in metadata, else every label 0..max must have rows)',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(2)]),
  });
  maxClasses = Option.String('--max-classes', {
    description: `Without class names or --num-classes, labels must be below this (default ${DEFAULT_MAX_CLASSES.toLocaleString('en-US')})`,
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(2)]),
  });
  maxImagePixels = Option.String('--max-image-pixels', {
    description: `Largest image, in pixels, checked before decoding (default ${DEFAULT_MAX_IMAGE_PIXELS.toLocaleString('en-US')}, 2048x2048; at most ${MAX_IMAGE_PIXELS_CEILING.toLocaleString('en-US')})`,
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, MAX_IMAGE_PIXELS_CEILING)]),
  });

  /** The flags as overrides for the decode stage; a bad `--image-shape` is a usage error. */
  protected overrides(): ColumnOverrides {
    return {
      imageCol: this.imageCol,
      labelCol: this.labelCol,
      idCol: this.idCol,
      imageShape: this.imageShape === undefined ? undefined : parseShape(this.imageShape, '--image-shape'),
      numClasses: this.numClasses,
      maxClasses: this.maxClasses,
      maxImagePixels: this.maxImagePixels,
    };
  }
}
