import { formatShape } from '../../../data/imageShape.js';
import type { ImportResult } from '../../../import/writeImageRows.js';
import type { CliOutput } from '../../output.js';

/**
 * The result of an import: one line per written file (where, how many rows, what shape, how balanced),
 * and in JSON the same numbers per file.
 */
export function printImport(output: CliOutput, results: readonly ImportResult[]): void {
  const lines = results.map((r) => {
    const classes = r.classCounts.length;
    const min = Math.min(...r.classCounts);
    const max = Math.max(...r.classCounts);
    return `wrote ${r.path}: ${r.rows} rows, ${formatShape(r.shape)}, ${classes} classes (${min}-${max} rows each)`;
  });
  output.result(lines.join('\n'), {
    files: results.map((r) => ({
      path: r.path,
      rows: r.rows,
      shape: r.shape,
      classCounts: r.classCounts,
    })),
  });
}
