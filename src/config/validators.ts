import * as t from 'typanion';

/**
 * Number validators shared by the CLI flags and pipeline files. typanion's own `isPositive` accepts 0
 * and its `isInExclusiveRange(a, b)` is closed at `a`, so a learning rate or an isolation ratio of 0
 * would pass them.
 */
function strictlyAbove(min: number, max?: number) {
  return t.makeValidator<number>({
    test: (value, state) => {
      if (value > min && (max === undefined || value < max)) return true;
      const expected = max === undefined ? `a number > ${min}` : `a number in (${min}, ${max})`;
      state?.errors?.push(`${state.p ?? '.'}: Expected ${expected} (got ${value})`);
      return false;
    },
  });
}

/** A finite number > 0. */
export const isStrictlyPositive = (): t.StrictValidator<unknown, number> =>
  t.cascade(t.isNumber(), [strictlyAbove(0, Number.POSITIVE_INFINITY)]);

/** A number strictly between 0 and 1. */
export const isOpenFraction = (): t.StrictValidator<unknown, number> =>
  t.cascade(t.isNumber(), [strictlyAbove(0, 1)]);

/** Most epochs a phase may take: far beyond any useful run, it catches a typo (1e8) before a run starts. */
export const MAX_EPOCHS = 1000;

/** An epoch count: a whole number from 1 to {@link MAX_EPOCHS}. */
export const isEpochCount = (): t.StrictValidator<unknown, number> =>
  t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, MAX_EPOCHS)]);

/** Most rows a batch may hold. */
export const MAX_BATCH_SIZE = 65536;

/** A batch size: a whole number from 1 to {@link MAX_BATCH_SIZE}. */
export const isBatchSize = (): t.StrictValidator<unknown, number> =>
  t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, MAX_BATCH_SIZE)]);

/** Most threads `--threads` and a pipeline's `threads` accept (the data-parallel group's limit). */
export const MAX_THREADS = 64;

/**
 * A thread count: `auto` or a whole number from 1 to {@link MAX_THREADS}, as a number or a numeric
 * string (command-line values arrive as strings; pipeline files give numbers).
 */
export const isThreadCount = (): t.StrictValidator<unknown, number | 'auto'> =>
  t.makeValidator<unknown, number | 'auto'>({
    test: (value, state): value is number | 'auto' => {
      if (value === 'auto') return true;
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      // A numeric string is taken only where it can become a number (typanion's coercion protocol, as
      // clipanion runs it); a pipeline file's quoted "2" is refused rather than passed on as a string.
      const coercions = state?.coercions;
      const coercion = state?.coercion;
      const whole = typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_THREADS;
      if (whole && n === value) return true;
      if (whole && coercions !== undefined && coercion !== undefined) {
        coercions.push([state?.p ?? '.', coercion.bind(null, n)]);
        return true;
      }
      state?.errors?.push(
        `${state.p ?? '.'}: Expected auto or a whole number from 1 to ${MAX_THREADS} (got ${JSON.stringify(value)})`,
      );
      return false;
    },
  });
