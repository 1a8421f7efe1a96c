/**
 * Failpoints: named places where a test can have the process killed (SIGKILL, as `kill -9` or the
 * out-of-memory killer would), to check that a run killed anywhere resumes to the same outputs and
 * leaves nothing behind. Inert unless the environment variable `ABL_FAILPOINT` names one, as `name`
 * (its first pass) or `name:N` (its N-th pass). For tests only; documented in the README's
 * development notes.
 */

/** The environment variable that arms a failpoint. */
export const FAILPOINT_ENV_VAR = 'ABL_FAILPOINT';

const armed = parse(process.env[FAILPOINT_ENV_VAR]);
const passes = new Map<string, number>();

function parse(value: string | undefined): { name: string; pass: number } | null {
  if (!value) return null;
  const [name = '', pass] = value.split(':');
  return { name, pass: pass === undefined ? 1 : Number(pass) };
}

/**
 * Kills the process here if `ABL_FAILPOINT` names this point and pass.
 *
 * @example
 * ```ts
 * await saveCheckpoint(...);
 * failpoint('checkpoint-saved');
 * ```
 * @param name - the point's name.
 */
export function failpoint(name: string): void {
  if (armed === null || armed.name !== name) return;
  const pass = (passes.get(name) ?? 0) + 1;
  passes.set(name, pass);
  if (pass === armed.pass) process.kill(process.pid, 'SIGKILL');
}
