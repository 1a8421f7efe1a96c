import { AblError } from '../../src/errors.js';

/**
 * Awaits a promise that must reject with an {@link AblError}, and returns that error for inspection.
 *
 * <span class="informal">Fails the test, with what happened instead, when the promise resolves or
 * rejects with anything else (a raw Node or library error is a bug: users get a stack trace instead of
 * a message naming their file).</span>
 *
 * @example
 * ```ts
 * const err = await rejection(readExamples(path));
 * expect(err.code).toBe(ErrorCode.BadLabel);
 * ```
 * @param promise - the operation expected to fail.
 * @returns the error it failed with.
 */
export async function rejection(promise: Promise<unknown>): Promise<AblError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    if (err instanceof AblError) return err;
    throw new Error(`expected an AblError, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected a rejection, got a value: ${String(value)}`);
}
