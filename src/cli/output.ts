import type { Writable } from 'node:stream';
import {
  type ActiveBar,
  createBarProgress,
  createLineProgress,
  NO_PROGRESS,
  type Progress,
  ProgressTracker,
} from './progress.js';

/** How commands write their logs: lines for people, or one JSON object per line for machines. */
export type LogFormat = 'text' | 'json';

/** The values of `--log-format`. */
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/**
 * Everything a command prints, in one place, so that `--quiet` and `--log-format` mean the same for every
 * command. Stdout carries only the command's result; everything else (chatter, progress, warnings,
 * errors) goes to stderr, so `abl-audit ... > result.txt` captures just the result.
 */
export interface CliOutput {
  readonly format: LogFormat;
  readonly quiet: boolean;
  /** Stage chatter (stage starts/ends, epoch summaries) on stderr; suppressed by --quiet. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** A warning on stderr; printed even with --quiet. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Progress of one long step (the existing Progress interface of src/cli/progress.ts: update(done,total?), stop()). */
  progress(label: string, options?: { total?: number; unit?: string }): Progress;
  /** The command's final result: `text` on stdout in text mode; in json mode one JSON line {"event":"result", ...data} on stdout. */
  result(text: string, data: Readonly<Record<string, unknown>>): void;
}

/** Options of {@link createCliOutput}. */
export interface CliOutputOptions {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
  readonly quiet: boolean;
  readonly format: LogFormat;
  /** Milliseconds since the epoch; injectable so that tests control time (default `Date.now`). */
  readonly now?: () => number;
}

/** Seconds between progress lines (text on a pipe) and progress events (json). */
export const PROGRESS_INTERVAL_SECONDS = 5;
/**
 * Seconds between progress lines with `--quiet`: rare enough not to fill a scheduled job's log, frequent
 * enough that whoever looks at it can tell a long audit is alive rather than hung.
 */
export const QUIET_PROGRESS_INTERVAL_SECONDS = 30;

/**
 * Creates the output of one command run.
 *
 * - text, stderr a terminal: progress bars with ETA, and info lines printed above the bar;
 * - text, stderr not a terminal (pipes, CI logs): a plain progress line every 5 s with an ETA when the
 *   total is known, and a last line when the step ends;
 * - text with `quiet`: no bars and no info; one progress line every 30 s per step and none at its end;
 *   warnings, errors and the result still print;
 * - json: every stderr line is one JSON object with `time`, `level` and `event` (`log`, `progress`;
 *   errors are written by `reportError`), progress every 5 s and at the end of a step (`final: true`);
 *   with `quiet`, no log or progress events. The result is one `{"event":"result",...}` line on stdout.
 */
export function createCliOutput(options: CliOutputOptions): CliOutput {
  const { stdout, stderr, quiet, format } = options;
  const now = options.now ?? Date.now;
  if (format === 'json') return jsonOutput(stdout, stderr, quiet, now);
  return textOutput(stdout, stderr, quiet, now);
}

function textOutput(
  stdout: Writable,
  stderr: Writable & { isTTY?: boolean },
  quiet: boolean,
  now: () => number,
): CliOutput {
  const tty = stderr.isTTY === true;
  // The bar being drawn, if any: messages must clear its line first or they would be glued onto it.
  let bar: ActiveBar | null = null;
  const printErr = (text: string) => {
    if (bar) bar.printAbove(text);
    else stderr.write(text);
  };
  return {
    format: 'text',
    quiet,
    info: (message) => {
      if (!quiet) printErr(`${message}\n`);
    },
    // In text the message is printed as it is: callers word it (`gate failed: ...`), and a `warning:`
    // prefix on top would only add noise to lines people grep for.
    warn: (message) => printErr(`${message}\n`),
    progress: (label, opts) => {
      const step = { label, total: opts?.total, unit: opts?.unit, now };
      if (quiet) {
        return createLineProgress((line) => printErr(`${line}\n`), {
          ...step,
          intervalSeconds: QUIET_PROGRESS_INTERVAL_SECONDS,
          finalLine: false,
        });
      }
      if (tty) {
        let mine: ActiveBar | null = null;
        return createBarProgress(stderr, {
          ...step,
          onActive: (active) => {
            if (active) bar = mine = active;
            else if (bar === mine) bar = null;
          },
        });
      }
      return createLineProgress((line) => printErr(`${line}\n`), {
        ...step,
        intervalSeconds: PROGRESS_INTERVAL_SECONDS,
        finalLine: true,
      });
    },
    result: (text) => {
      stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    },
  };
}

function jsonOutput(stdout: Writable, stderr: Writable, quiet: boolean, now: () => number): CliOutput {
  const event = (level: 'info' | 'warn', message: string, fields?: Readonly<Record<string, unknown>>) => {
    stderr.write(jsonLine({ time: isoTime(now), level, event: 'log', message }, fields));
  };
  return {
    format: 'json',
    quiet,
    info: (message, fields) => {
      if (!quiet) event('info', message, fields);
    },
    warn: (message, fields) => event('warn', message, fields),
    progress: (label, opts) => {
      if (quiet) return NO_PROGRESS;
      return jsonProgress(stderr, { label, total: opts?.total, unit: opts?.unit, now });
    },
    result: (_text, data) => {
      stdout.write(jsonLine({ event: 'result' }, data));
    },
  };
}

/** Progress events every {@link PROGRESS_INTERVAL_SECONDS} and one `final: true` event at the end. */
function jsonProgress(
  stderr: Writable,
  step: { label: string; total: number | undefined; unit: string | undefined; now: () => number },
): Progress {
  const tracker = new ProgressTracker(step, step.now);
  let last = step.now();
  let stopped = false;
  const emit = (final: boolean) => {
    const s = tracker.state();
    stderr.write(
      jsonLine({
        time: isoTime(step.now),
        level: 'info',
        event: 'progress',
        step: s.label,
        done: s.done,
        total: s.total,
        unit: s.unit,
        elapsedSeconds: Math.round(s.elapsedSeconds * 10) / 10,
        etaSeconds: s.etaSeconds === null ? null : Math.round(s.etaSeconds),
        final,
      }),
    );
  };
  return {
    update: (done, total) => {
      if (stopped) return;
      tracker.update(done, total);
      const t = step.now();
      if (t - last >= PROGRESS_INTERVAL_SECONDS * 1000) {
        last = t;
        emit(false);
      }
    },
    // Always a final event, even for a step that did nothing: a consumer that tracks steps by name can
    // close each one it saw.
    stop: () => {
      if (stopped) return;
      stopped = true;
      emit(true);
    },
  };
}

function isoTime(now: () => number): string {
  return new Date(now()).toISOString();
}

/**
 * One JSON object and a newline. `head`'s keys come first and cannot be overridden by `fields` (a field
 * called `event` or `time` must not change what kind of line this is). Bigints, which JSON has no type
 * for, become numbers when exact and strings otherwise. JSON.stringify escapes control characters, so a
 * line never holds a raw ANSI escape.
 */
export function jsonLine(
  head: Readonly<Record<string, unknown>>,
  fields?: Readonly<Record<string, unknown>>,
): string {
  const merged = Object.assign({}, head, fields ?? {}, head);
  return `${JSON.stringify(merged, (_key, value: unknown) =>
    typeof value === 'bigint'
      ? value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(value)
        : value.toString()
      : value,
  )}\n`;
}
