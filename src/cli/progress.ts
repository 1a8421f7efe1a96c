import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';

/** Reports progress of one long step. */
export interface Progress {
  /** Sets the amount done (rows, batches...) and, when it becomes known, the total. */
  update(done: number, total?: number): void;
  /** Ends the display, printing a last line. Calling it again does nothing. */
  stop(): void;
}

/** A progress display that shows nothing: for `--quiet`, `inspect --json`, or a step with no display. */
export const NO_PROGRESS: Progress = Object.freeze({ update: () => {}, stop: () => {} });

/** What one step's progress displays have in common. */
export interface StepOptions {
  /** What is being done, e.g. "reading" or "isolation epoch 1/2". */
  readonly label: string;
  /** Total amount, when known (enables percentage and ETA); {@link Progress.update} may set it later. */
  readonly total?: number | undefined;
  /** Unit shown after the numbers, e.g. "rows"; none when omitted. */
  readonly unit?: string | undefined;
  /** Milliseconds since some fixed point; injectable so that tests need no real waiting (default `Date.now`). */
  readonly now?: () => number;
}

/** A snapshot of a step's progress, as both the text lines and the JSON events report it. */
export interface ProgressState {
  readonly label: string;
  readonly done: number;
  /** Null while the total is unknown. */
  readonly total: number | null;
  readonly unit: string | null;
  readonly elapsedSeconds: number;
  /** Seconds left at the average rate so far; null while it cannot be estimated (no total, nothing done yet). */
  readonly etaSeconds: number | null;
}

/**
 * Keeps the numbers of one step and estimates the time left. The ETA uses the average rate since the
 * start rather than a recent window: steps here (epochs, streaming passes) run at a steady rate, and the
 * average does not jump about between lines that may be 30 s apart.
 */
export class ProgressTracker {
  private readonly started: number;
  private doneCount = 0;
  private totalCount: number | null;

  constructor(
    private readonly options: StepOptions,
    private readonly now: () => number = options.now ?? Date.now,
  ) {
    this.started = this.now();
    this.totalCount = options.total ?? null;
  }

  /** Records an update; a total given here replaces the one known so far. */
  update(done: number, total?: number): void {
    this.doneCount = done;
    if (total !== undefined) this.totalCount = total;
  }

  get done(): number {
    return this.doneCount;
  }

  /** The current numbers. */
  state(): ProgressState {
    const elapsed = Math.max(0, (this.now() - this.started) / 1000);
    const { doneCount: done, totalCount: total } = this;
    let eta: number | null = null;
    if (total !== null && total > 0 && done > 0 && elapsed > 0) {
      eta = done >= total ? 0 : ((total - done) * elapsed) / done;
    }
    return {
      label: this.options.label,
      done,
      total,
      unit: this.options.unit ?? null,
      elapsedSeconds: elapsed,
      etaSeconds: eta,
    };
  }
}

/**
 * A duration for people: `18 s`, `4 min 05 s`, `2 h 03 min`. Whole seconds: an ETA is an estimate, and
 * tenths would only suggest a precision it does not have.
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * One plain progress line, e.g. `isolation epoch 1/2: 1200/3000 rows (40%, 12.0 s, ETA 18 s)`. Without a
 * total: `reading: 1200 rows (12.0 s)`. The ETA is left out once the total is reached, and on the `final`
 * line: the step is over.
 */
export function formatProgressLine(state: ProgressState, final = false): string {
  const unit = state.unit ? ` ${state.unit}` : '';
  const of = state.total !== null && state.total > 0 ? `/${state.total}` : '';
  const parts: string[] = [];
  if (state.total !== null && state.total > 0) {
    parts.push(`${Math.floor(Math.min(1, state.done / state.total) * 100)}%`);
  }
  parts.push(`${state.elapsedSeconds.toFixed(1)} s`);
  const running = state.total !== null && state.done < state.total;
  if (!final && running && state.etaSeconds !== null) parts.push(`ETA ${formatDuration(state.etaSeconds)}`);
  return `${state.label}: ${state.done}${of}${unit} (${parts.join(', ')})`;
}

/** Options of {@link createLineProgress}. */
export interface LineProgressOptions extends StepOptions {
  /** Seconds between lines. */
  readonly intervalSeconds: number;
  /** Whether {@link Progress.stop} prints a last line (when something was done since the last one). */
  readonly finalLine: boolean;
}

/**
 * Progress as plain lines, at most one per interval, driven by the updates (no timer: a step that stops
 * updating prints nothing more, and nothing keeps the process alive).
 */
export function createLineProgress(write: (line: string) => void, options: LineProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const tracker = new ProgressTracker(options, now);
  const interval = options.intervalSeconds * 1000;
  let last = now();
  let printed = -1;
  let stopped = false;
  const line = (final: boolean) => {
    printed = tracker.done;
    write(formatProgressLine(tracker.state(), final));
  };
  return {
    update: (done, total) => {
      if (stopped) return;
      tracker.update(done, total);
      const t = now();
      if (t - last >= interval) {
        last = t;
        line(false);
      }
    },
    // A last line only if something was done: a failed start leaves just the error message.
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (options.finalLine && tracker.done > 0 && tracker.done !== printed) line(true);
    },
  };
}

/** Options of {@link createBarProgress}. */
export interface BarProgressOptions extends StepOptions {
  /** Called with the bar while it is drawn and with null once stopped, so that messages can be printed above it. */
  readonly onActive?: (bar: ActiveBar | null) => void;
}

/** A bar being drawn: lets other output clear its line first and redraw it after. */
export interface ActiveBar {
  /** Writes `text` (whole lines) on the bar's stream without garbling the bar. */
  printAbove(text: string): void;
}

/**
 * A cli-progress bar with percentage and ETA for a person at a terminal; while the total is unknown it
 * shows the count and the elapsed time instead of an empty bar.
 */
export function createBarProgress(
  stream: Writable & { isTTY?: boolean },
  options: BarProgressOptions,
): Progress {
  const unit = options.unit ? ` ${options.unit}` : '';
  const withTotal = `${options.label} [{bar}] {percentage}% | {value}/{total}${unit} | ETA {eta_formatted}`;
  const noTotal = `${options.label} {value}${unit} | {duration_formatted}`;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: (opts, params, payload) =>
        cliProgress.Format.Formatter(
          { ...opts, format: params.total > 0 ? withTotal : noTotal },
          params,
          payload,
        ),
      // The cursor stays visible: a hidden one would stay hidden after Ctrl-C, which kills the process
      // before the bar can restore it.
      hideCursor: false,
      clearOnComplete: false,
      // Redraw even when the numbers did not change, so a message printed over the bar is painted over.
      forceRedraw: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total ?? 0, 0);
  let stopped = false;
  const active: ActiveBar = {
    printAbove: (text) => {
      // Clear the bar's line, print, and draw the bar again below the text. The bar saved the cursor
      // position when it started and goes back there when it stops; save it again (ESC 7) on the bar's
      // new line, or stopping would put the cursor on the text and the next line would erase the bar.
      stream.write(`\r\x1b[2K${text}\x1b7`);
      bar.render();
    },
  };
  options.onActive?.(active);
  return {
    update: (done, total) => {
      if (stopped) return;
      if (total !== undefined) bar.setTotal(total);
      bar.update(done);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
      options.onActive?.(null);
    },
  };
}
