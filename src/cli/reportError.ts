import type { Writable } from 'node:stream';
import { AblError, ErrorCode, UsageError } from '../errors.js';
import { jsonLine, type LogFormat } from './output.js';

/** Process exit codes of abl-audit. Documented in the README; tested. */
export const ExitCode = {
  Ok: 0,
  /** A data, I/O or internal error. */
  Error: 1,
  /** Bad command line or pipeline file. */
  Usage: 2,
  /** A configured gate failed. */
  GateFailed: 3,
  /** Ctrl-C: Node's default SIGINT handling ends the process, and the shell reports 128 + 2. */
  Interrupted: 130,
} as const;

/** Options of {@link reportError}. */
export interface ReportErrorOptions {
  /** `text` (default): a line for a person; `json`: one JSON object on one line. */
  readonly format?: LogFormat;
  /** Milliseconds since the epoch, for the JSON `time` field (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Prints an error on stderr and returns the exit code it maps to. Our own errors print as one line with
 * their stable code; anything else is a bug and prints its stack.
 *
 * With `format: 'json'` the error is one JSON line, for log collectors and wrappers that branch on the
 * code: `{"time","level":"error","event":"error","code":"ABL205","message","file","column","row","exitCode"}`
 * (the location fields where known; internal errors have code ABL000 and a `stack` field).
 */
export function reportError(error: unknown, stderr: Writable, options: ReportErrorOptions = {}): number {
  const json = options.format === 'json';
  const time = () => new Date((options.now ?? Date.now)()).toISOString();
  if (error instanceof AblError) {
    const exitCode =
      error instanceof UsageError || error.code === ErrorCode.Config ? ExitCode.Usage : ExitCode.Error;
    if (json) {
      const loc = error.location;
      stderr.write(
        jsonLine({
          time: time(),
          level: 'error',
          event: 'error',
          code: error.code,
          message: error.message,
          ...(loc?.file !== undefined && { file: loc.file }),
          ...(loc?.column !== undefined && { column: loc.column }),
          ...(loc?.row !== undefined && { row: loc.row }),
          exitCode,
        }),
      );
    } else {
      stderr.write(`error ${error.code}: ${error.message}\n`);
    }
    return exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (json) {
    stderr.write(
      jsonLine({
        time: time(),
        level: 'error',
        event: 'error',
        code: ErrorCode.Internal,
        message,
        stack,
        exitCode: ExitCode.Error,
      }),
    );
  } else {
    stderr.write(
      `internal error ${ErrorCode.Internal}: ${stack}\nPlease report this with the command you ran.\n`,
    );
  }
  return ExitCode.Error;
}
