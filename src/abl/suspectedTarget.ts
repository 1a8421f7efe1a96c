/** The class the isolated rows concentrate in. */
export interface SuspectedTarget {
  readonly label: number;
  /** Share of the isolated rows in this class. */
  readonly share: number;
  /** `share` divided by the class's share of all rows: how much it stands out (1 = not at all). */
  readonly lift: number;
}

/**
 * The suspected attack target: the class holding a majority of the isolated rows. A backdoor is tied
 * to one target class, so the rows it isolates pile up there; with no majority (clean data, or an
 * all-to-all attack) there is no single suspect and the result is null.
 *
 * @param labels - every row's label.
 * @param isolatedRows - indices of the isolated rows.
 * @returns the class, its share of the isolated rows and its lift over the class prior; or null.
 */
export function suspectedTarget(labels: Int32Array, isolatedRows: ArrayLike<number>): SuspectedTarget | null {
  if (isolatedRows.length === 0) return null;
  const counts = new Map<number, number>();
  for (let i = 0; i < isolatedRows.length; i++) {
    const label = labels[isolatedRows[i] as number] as number;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  let best = -1;
  let bestCount = 0;
  for (const [label, count] of counts) {
    if (count > bestCount || (count === bestCount && label < best)) {
      best = label;
      bestCount = count;
    }
  }
  if (bestCount / isolatedRows.length <= 0.5) return null;
  return targetShare(labels, isolatedRows, best);
}

/**
 * A class as the suspected target: its share of the isolated rows (0 when none is isolated) and that
 * share's lift over the class's share of the data.
 *
 * @param labels - every row's label.
 * @param isolatedRows - indices of the isolated rows.
 * @param label - the class.
 * @returns the class, its share and lift.
 */
export function targetShare(
  labels: Int32Array,
  isolatedRows: ArrayLike<number>,
  label: number,
): SuspectedTarget {
  let inClass = 0;
  for (let i = 0; i < isolatedRows.length; i++) if (labels[isolatedRows[i] as number] === label) inClass++;
  let classRows = 0;
  for (const l of labels) if (l === label) classRows++;
  const share = isolatedRows.length > 0 ? inClass / isolatedRows.length : 0;
  return { label, share, lift: share / (classRows / labels.length) };
}
