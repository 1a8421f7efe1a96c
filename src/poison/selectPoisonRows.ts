import { UsageError } from '../errors.js';
import { mulberry32, sampleWithoutReplacement } from '../util/random.js';

/** all-to-one: every poisoned row is relabelled to the target; all-to-all: label → (label + 1) mod K. */
export type PoisonMode = 'all-to-one' | 'all-to-all';

/** The readings of a poisoning rate, default first. */
export const RATE_OF = ['all', 'eligible'] as const;

/**
 * What a poisoning rate is a share of. `all`: of every training row, the reading of the ABL reference
 * code and BackdoorBench (10% of a 60,000-row set is 6,000 poisoned rows), the rows still drawn only from
 * the eligible ones. `eligible`: of the eligible rows alone (10% of Fashion-MNIST's 54,000 non-target rows
 * is 5,400, 9% of the set), the reading of abl-audit before this option.
 */
export type RateOf = (typeof RATE_OF)[number];

/** Options of {@link selectPoisonRows}. */
export interface SelectPoisonOptions {
  /** Fraction of the rows to poison, in (0, 1): of all rows or of the eligible ones, as {@link rateOf} says. */
  readonly rate: number;
  /** What {@link rate} is a share of (default `all`). */
  readonly rateOf?: RateOf;
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
 * Chooses exactly `round(rate × rows)` rows to poison (`rateOf: 'all'`, the default) or
 * `round(rate × eligible)` (`rateOf: 'eligible'`), uniformly at random from the eligible rows with the
 * given seed.
 *
 * <span class="informal">Eligible rows: for all-to-one, those whose label is not the target (relabelling
 * a target-class row would change nothing); for a clean-label attack, those of the target class; for
 * all-to-all, every row.</span>
 *
 * @param labels - every row's label, in stream order.
 * @throws UsageError for a rate outside (0, 1), an unknown `rateOf`, a target that is not a class, a
 * clean-label attack in all-to-all mode, a rate so small that no row would be poisoned, or (`all`) one
 * that asks for more rows than are eligible.
 */
export function selectPoisonRows(labels: Int32Array, options: SelectPoisonOptions): PoisonSelection {
  const { rate, mode, target, cleanLabel, numClasses } = options;
  const rateOf = options.rateOf ?? 'all';
  if (!(rate > 0 && rate < 1)) throw new UsageError(`--rate must be in (0, 1), got ${rate}`);
  if (!(RATE_OF as readonly string[]).includes(rateOf)) {
    throw new UsageError(`--rate-of must be one of ${RATE_OF.join(', ')}, got ${String(rateOf)}`);
  }
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
  const eligible = eligibleRows.length;
  const count = Math.round(rate * (rateOf === 'all' ? labels.length : eligible));
  if (count === 0) {
    const of = rateOf === 'all' ? `all ${labels.length} rows` : `${eligible} eligible rows`;
    throw new UsageError(
      `--rate ${rate} of ${of} rounds to 0 poisoned rows; raise the rate or use more data`,
    );
  }
  if (count > eligible) {
    throw new UsageError(
      `--rate ${rate} of all ${labels.length} rows is ${count} poisoned rows, but only ${eligible} rows ` +
        `(${floor4(eligible / labels.length)} of all rows) are eligible: ${eligibleRule(mode, cleanLabel, target)}; ` +
        `lower --rate to ${floor4(eligible / labels.length)} or less, or give --rate-of eligible to read it as a share of the eligible rows`,
    );
  }
  const chosen = sampleWithoutReplacement(eligibleRows, count, mulberry32(options.seed));
  return { rows: Uint32Array.from(chosen).sort(), eligible };
}

/** Which rows an attack may poison, in words, for error messages. */
function eligibleRule(mode: PoisonMode, cleanLabel: boolean, target: number): string {
  if (cleanLabel) return `a clean-label attack poisons only rows of the target class ${target}`;
  return mode === 'all-to-all'
    ? 'every row'
    : `all-to-one poisons only rows not of the target class ${target}`;
}

/** A share rounded down to 4 decimals, so that it never overstates what fits. */
function floor4(share: number): number {
  return Math.floor(share * 1e4) / 1e4;
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
