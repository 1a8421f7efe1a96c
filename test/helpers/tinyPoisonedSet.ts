import { IMAGE_SHAPE_METADATA_KEY } from '../../src/data/imageShape.js';
import {
  binaryData,
  boolData,
  column,
  int32Data,
  recordBatchOf,
  utf8Data,
} from '../../src/io/arrowColumns.js';
import { writeParquet } from '../../src/io/writeParquet.js';
import { mulberry32 } from '../../src/util/random.js';

/** Options of {@link writeTinyPoisonedSet}. */
export interface TinyPoisonedSetOptions {
  readonly rows: number;
  readonly classes: number;
  /** Image side (grey, square). */
  readonly side: number;
  /** Share of all rows stamped with the patch and relabelled to `target` (0: a clean set). */
  readonly poisonRate: number;
  readonly target: number;
  readonly seed: number;
  /** Ids are this followed by the row number (default `row-`): sets written side by side need their own. */
  readonly idPrefix?: string;
}

/**
 * Writes a tiny, easily learned image set as Parquet (`id`, `image` raw bytes, `label`, `poisoned`):
 * class c is a bright band in the c-th horizontal strip on dark noise; poisoned rows, drawn from the
 * other classes, carry a bright 2×2 patch in the bottom-right corner and the label `target` (a
 * BadNets attack in miniature). For audits in unit tests: seconds, not minutes.
 *
 * @param path - the file to write.
 * @param options - size, classes, poisoning and seed.
 * @returns the ids of the poisoned rows.
 */
export async function writeTinyPoisonedSet(
  path: string,
  options: TinyPoisonedSetOptions,
): Promise<Set<string>> {
  const { rows, classes, side, poisonRate, target, seed, idPrefix = 'row-' } = options;
  const rng = mulberry32(seed);
  const size = side * side;
  const images = new Uint8Array(rows * size);
  const labels = new Int32Array(rows);
  const poisoned: boolean[] = [];
  const ids: string[] = [];
  const poisonedIds = new Set<string>();
  for (let r = 0; r < rows; r++) {
    const label = r % classes;
    const band0 = Math.floor((label * side) / classes);
    const band1 = Math.floor(((label + 1) * side) / classes);
    for (let p = 0; p < size; p++) {
      const y = Math.floor(p / side);
      images[r * size + p] = y >= band0 && y < band1 ? 180 + Math.floor(rng() * 60) : Math.floor(rng() * 50);
    }
    const poison = label !== target && rng() < (poisonRate * classes) / (classes - 1);
    ids.push(`${idPrefix}${r}`);
    poisoned.push(poison);
    labels[r] = poison ? target : label;
    if (poison) {
      poisonedIds.add(`${idPrefix}${r}`);
      for (const [y, x] of [
        [side - 2, side - 2],
        [side - 2, side - 1],
        [side - 1, side - 2],
        [side - 1, side - 1],
      ] as const) {
        images[r * size + y * side + x] = 255;
      }
    }
  }
  const offsets = Int32Array.from({ length: rows + 1 }, (_, r) => r * size);
  const batch = recordBatchOf(
    [
      column('id', utf8Data(ids)),
      column('image', binaryData(offsets, images)),
      column('label', int32Data(labels)),
      column('poisoned', boolData(poisoned)),
    ],
    new Map([[IMAGE_SHAPE_METADATA_KEY, `${side},${side},1`]]),
  );
  await writeParquet(path, [batch]);
  return poisonedIds;
}
