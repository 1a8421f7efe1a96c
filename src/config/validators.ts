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

/** Most threads `--threads` and a pipeline's `threads` accept (the data-parallel group's limit). */
export const MAX_THREADS = 64;

/**
 * A thread count: `auto` or a whole number from 1 to {@link MAX_THREADS}. Command-line strings are
 * coerced to numbers (clipanion passes coercions); pipeline files give numbers already.
 */
export const isThreadCount = (): t.StrictValidator<unknown, number | 'auto'> =>
  t.isOneOf(
    [t.isLiteral('auto'), t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, MAX_THREADS)])],
    {
      exclusive: true,
    },
  );
