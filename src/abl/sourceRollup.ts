/** Rows of one upstream source and what the audit did with them. */
export interface SourceCounts {
  readonly source: string;
  readonly rows: number;
  readonly quarantined: number;
  readonly review: number;
}

/** One source in the rollup. */
export interface SourceEntry extends SourceCounts {
  /** The source's share of all rows. */
  readonly dataShare: number;
  /** The source's share of the quarantine (0 when nothing was quarantined). */
  readonly quarantineShare: number;
  /** Quarantined rows over the source's rows. */
  readonly quarantineRate: number;
  /** quarantineShare / dataShare: how many times more of the quarantine than of the data it holds. */
  readonly lift: number;
}

/** Every source, the one most likely to be poisoned first, and the one that stands out, if any. */
export interface SourceRollup {
  readonly entries: readonly SourceEntry[];
  /** The source whose share of the quarantine stands out (see {@link STANDOUT_RULE}), or null. */
  readonly standout: string | null;
}

/**
 * When one source is named as the likely origin of the poison: at least two sources, at least
 * `minQuarantined` rows quarantined in all, and one source holding at least `minShare` of the
 * quarantine at `minLift` times its share of the data or more.
 */
export const STANDOUT_RULE = { minShare: 0.5, minLift: 2, minQuarantined: 5 } as const;

/**
 * Rolls per-source counts up into shares and lifts, sorted so that the source most likely to be
 * poisoned comes first (highest lift, then most quarantined rows, then name), and names the source
 * that stands out.
 *
 * <span class="informal">An attacker usually controls one upstream feed, so poison piles up in one
 * source as it piles up in one class. The lift compares like with like: a vendor that sent half of
 * the data and half of the quarantine is not suspicious; one that sent a fifth of the data and all of
 * the quarantine is.</span>
 *
 * @example
 * ```ts
 * const { entries, standout } = rollupSources([
 *   { source: 'vendor_a', rows: 800, quarantined: 2, review: 0 },
 *   { source: 'vendor_b', rows: 200, quarantined: 90, review: 4 },
 * ]);
 * // standout === 'vendor_b' (98% of the quarantine, 4.9× its share of the data)
 * ```
 * @param counts - each source's rows, quarantined and review rows (any order).
 * @returns the sorted entries and the standout source.
 */
export function rollupSources(counts: readonly SourceCounts[]): SourceRollup {
  const rows = counts.reduce((s, c) => s + c.rows, 0);
  const quarantined = counts.reduce((s, c) => s + c.quarantined, 0);
  const entries = counts
    .map((c): SourceEntry => {
      const dataShare = rows > 0 ? c.rows / rows : 0;
      const quarantineShare = quarantined > 0 ? c.quarantined / quarantined : 0;
      return {
        ...c,
        dataShare,
        quarantineShare,
        quarantineRate: c.rows > 0 ? c.quarantined / c.rows : 0,
        lift: dataShare > 0 ? quarantineShare / dataShare : 0,
      };
    })
    .sort(
      (a, b) =>
        b.lift - a.lift ||
        b.quarantined - a.quarantined ||
        (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
    );
  const top = entries[0];
  const standout =
    top &&
    entries.length >= 2 &&
    quarantined >= STANDOUT_RULE.minQuarantined &&
    top.quarantineShare >= STANDOUT_RULE.minShare &&
    top.lift >= STANDOUT_RULE.minLift
      ? top.source
      : null;
  return { entries, standout };
}
