import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** Reports progress of one long step. */
export interface Progress {
  /** Sets the amount done (rows, batches...) and, when it becomes known, the total. */
  update(done: number, total?: number): void;
  /** Ends the display, printing a last line. Calling it again does nothing. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is being done, e.g. "reading". */
  readonly label: string;
  /** Total amount, when known (enables percentage and ETA). */
  readonly total?: number | undefined;
  /** Unit shown after the numbers, e.g. "rows". */
  readonly unit: string;
  /** No output at all. */
  readonly quiet?: boolean;
  /** Seconds between plain lines when the stream is not a terminal (default 5). */
  readonly intervalSeconds?: number;
}

/**
 * A progress display on `stream` (stderr): a bar with ETA on a terminal, and quiet periodic plain lines
 * otherwise, so logs of ingestion jobs stay readable.
 */
export function createProgress(stream: Writable & { isTTY?: boolean }, options: ProgressOptions): Progress {
  if (options.quiet) return { update: () => {}, stop: () => {} };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total ?? 0, 0);
    let stopped = false;
    return {
      update: (done, total) => {
        if (total !== undefined) bar.setTotal(total);
        bar.update(done);
      },
      stop: () => {
        if (!stopped) bar.stop();
        stopped = true;
      },
    };
  }
  const interval = (options.intervalSeconds ?? 5) * 1000;
  const started = Date.now();
  let last = started;
  let current = 0;
  let total = options.total;
  let stopped = false;
  let printed = -1;
  const line = () => {
    printed = current;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const of = total ? `/${total}` : '';
    stream.write(`${options.label}: ${current}${of} ${options.unit} (${secs} s)\n`);
  };
  return {
    update: (done, newTotal) => {
      current = done;
      total = newTotal ?? total;
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        line();
      }
    },
    // A last line only if something was done: a failed start leaves just the error message.
    stop: () => {
      if (current > 0 && current !== printed && !stopped) line();
      stopped = true;
    },
  };
}
