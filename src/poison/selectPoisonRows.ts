import { UsageError } from '../errors.js';
import { mulberry32, sampleWithoutReplacement } from '../util/random.js';

/** all-to-one: every poisoned row is relabelled to the target; all-to-all: label → (label + 1) mod K. */
export type PoisonMode = 'all-to-one' | 'all-to-all';

/** Options of {@link selectPoisonRows}. */
export interface SelectPoisonOptions {
  /** Fraction of the eligible rows to poison, in (0, 1). */
  readonly rate: number;
  readonly mode: PoisonMode;
  /** The target class (all-to-one and clean-label attacks). */
  readonly target: number;
  /** Clean-label attacks (SIG) poison only rows already of the target class and keep labels. */
  readonly cleanLabel: boolean;
  readonly numClasses: number;
  /** Seed of the row choice alone. */
  readonly seed: number;
}

/** Which rows to poison, and how many could have been. */
export interface PoisonSelection {
  /** Global row positions (stream order), ascending. */
  readonly rows: Uint32Array;
  /** Rows the attack may poison: not of the target class (all-to-one), of it (clean-label), or all. */
  readonly eligible: number;
}

/**
 * Chooses exactly `round(rate × eligible)` rows to poison, uniformly at random from the eligible rows
 * with the given seed.
 *
 * <span class="informal">Eligible rows: for all-to-one, those whose label is not the target (relabelling
 * a target-class row would change nothing); for a clean-label attack, those of the target class; for
 * all-to-all, every row.</span>
 *
 * @param labels - every row's label, in stream order.
 * @throws UsageError for a rate outside (0, 1), a target that is not a class, a clean-label attack in
 * all-to-all mode, or a rate so small that no row would be poisoned.
 */
export function selectPoisonRows(labels: Int32Array, options: SelectPoisonOptions): PoisonSelection {
  const { rate, mode, target, cleanLabel, numClasses } = options;
  if (!(rate > 0 && rate < 1)) throw new UsageError(`--rate must be in (0, 1), got ${rate}`);
  if (!Number.isInteger(target) || target < 0 || target >= numClasses) {
    throw new UsageError(`--target ${target} is not a class of this data (classes 0-${numClasses - 1})`);
  }
  if (cleanLabel && mode === 'all-to-all') {
    throw new UsageError(
      'a clean-label attack keeps labels, so it has no all-to-all mode; use --mode all-to-one',
    );
  }
  const eligibleRows: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    const ok = cleanLabel ? label === target : mode === 'all-to-all' || label !== target;
    if (ok) eligibleRows.push(i);
  }
  const count = Math.round(rate * eligibleRows.length);
  if (count === 0) {
    throw new UsageError(
      `--rate ${rate} of ${eligibleRows.length} eligible rows rounds to 0 poisoned rows; raise the rate or use more data`,
    );
  }
  const chosen = sampleWithoutReplacement(eligibleRows, count, mulberry32(options.seed));
  return { rows: Uint32Array.from(chosen).sort(), eligible: eligibleRows.length };
}

/** The label a poisoned row gets. */
export function poisonedLabel(
  label: number,
  mode: PoisonMode,
  target: number,
  cleanLabel: boolean,
  numClasses: number,
): number {
  if (cleanLabel) return label;
  return mode === 'all-to-all' ? (label + 1) % numClasses : target;
}
