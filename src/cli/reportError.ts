import type { Writable } from 'node:stream';
import { AblError, ErrorCode, UsageError } from '../errors.js';

/** Process exit codes of abl-audit. Documented in the README; tested. */
export const ExitCode = {
  Ok: 0,
  /** A data, I/O or internal error. */
  Error: 1,
  /** Bad command line or pipeline file. */
  Usage: 2,
  /** A configured gate failed. */
  GateFailed: 3,
  Interrupted: 130,
} as const;

/**
 * Prints an error for a person on stderr and returns the exit code it maps to. Our own errors print as
 * one line with their stable code; anything else is a bug and prints its stack.
 */
export function reportError(error: unknown, stderr: Writable): number {
  if (error instanceof AblError) {
    stderr.write(`error ${error.code}: ${error.message}\n`);
    return error instanceof UsageError || error.code === ErrorCode.Config ? ExitCode.Usage : ExitCode.Error;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  stderr.write(
    `internal error ${ErrorCode.Internal}: ${detail}\nPlease report this with the command you ran.\n`,
  );
  return ExitCode.Error;
}
