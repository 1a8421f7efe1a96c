import type { Writable } from 'node:stream';
import { formatShape } from '../../../data/imageShape.js';
import type { ImportResult } from '../../../import/writeImageRows.js';

/** One line per written file: where, how many rows, what shape, how balanced. */
export function printImport(stdout: Writable, results: readonly ImportResult[]): void {
  for (const r of results) {
    const classes = r.classCounts.length;
    const min = Math.min(...r.classCounts);
    const max = Math.max(...r.classCounts);
    stdout.write(
      `wrote ${r.path}: ${r.rows} rows, ${formatShape(r.shape)}, ${classes} classes (${min}-${max} rows each)\n`,
    );
  }
}
