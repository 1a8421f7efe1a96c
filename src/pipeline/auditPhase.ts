import { resolve } from 'node:path';
import type { LossTrajectories } from '../abl/lossTrajectories.js';
import type { AuditConfig } from '../config/auditConfig.js';
import { type AuditEvent, type AuditPhaseName, describeAuditEvent } from '../report/auditEvents.js';
import { type CheckpointRecord, saveCheckpoint } from './auditCheckpoint.js';
import type { AuditTraining } from './auditRecords.js';

/** A progress display for one long step (the CLI passes a bar or periodic lines). */
export interface StageProgress {
  update(done: number): void;
  stop(): void;
}

/** How {@link runAudit} talks to its caller. */
export interface AuditHooks {
  /** What the audit is doing, as facts; the CLI words them with `describeAuditEvent`. */
  readonly onEvent?: (event: AuditEvent) => void;
  /**
   * One-line messages (stage starts and ends, epoch summaries).
   *
   * @deprecated use `onEvent`; this receives each event worded by `describeAuditEvent`.
   */
  readonly log?: (line: string) => void;
  /** A progress display for a step of `total` rows. */
  readonly progress?: (label: string, total: number | undefined) => StageProgress;
  /** Continue an interrupted audit in `config.out` from its last checkpoint (when it has one). */
  readonly resume?: boolean;
}

/** What a checkpoint holds besides the weights: the isolation's and the unlearning's progress. */
export type CheckpointState = Omit<CheckpointRecord, 'fingerprint' | 'phase'> & {
  readonly trajectories: LossTrajectories;
};

/** What every phase gets besides its input record: the run's settings and its services. */
export interface PhaseContext {
  readonly config: AuditConfig;
  /** The output folder, absolute. */
  readonly out: string;
  /** Whether to continue an interrupted audit from its checkpoint. */
  readonly resume: boolean;
  emit(event: AuditEvent): void;
  /** A progress display; any still open when the phase ends is stopped for it. */
  progress(label: string, total: number | undefined): StageProgress;
  /** Times a step inside a phase under its own name (added up across phases, e.g. `evaluate`). */
  time<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Saves a checkpoint of the training so far, marked with the current phase. */
  checkpoint(training: AuditTraining, state: CheckpointState): Promise<void>;
  /** Something to release when the audit ends, whether it succeeds or fails (model, threads). */
  onClose(release: () => Promise<void> | void): void;
}

/**
 * One phase of the audit: an input record and the context in, a typed result record out. Phases do
 * not print, time or checkpoint by themselves: the context does that for all of them alike.
 */
export interface AuditPhase<In, Out> {
  readonly name: AuditPhaseName;
  /** The phase's timing key in report.json (default: its name). */
  readonly timing?: string;
  run(input: In, ctx: PhaseContext): Promise<Out>;
}

/** An audit in progress: runs phases in turn and releases what they opened; see {@link startAudit}. */
export interface AuditRun {
  phase<In, Out>(phase: AuditPhase<In, Out>, input: In): Promise<Out>;
  /** Wall-clock seconds per phase (and sub-step) so far, and `total`. */
  timings(): Record<string, number>;
  /** Releases everything the phases registered, last first. */
  close(): Promise<void>;
}

const NO_PROGRESS: StageProgress = { update: () => {}, stop: () => {} };

/**
 * Starts an audit: the one wrapper every phase runs in. It emits the phase's start and end, times
 * it, stops the progress displays it left open, and gives it the checkpoint and release services.
 *
 * @param config - the validated configuration.
 * @param hooks - events, progress and resume.
 * @returns the run.
 */
export function startAudit(config: AuditConfig, hooks: AuditHooks): AuditRun {
  const started = performance.now();
  const timings: Record<string, number> = {};
  const releases: (() => Promise<void> | void)[] = [];
  const out = resolve(config.out);
  const emit = (event: AuditEvent) => {
    hooks.onEvent?.(event);
    const line = hooks.log ? describeAuditEvent(event) : null;
    if (line !== null) hooks.log?.(line);
  };
  const time = async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[key] = (timings[key] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  return {
    async phase(phase, input) {
      const open = new Set<StageProgress>();
      const ctx: PhaseContext = {
        config,
        out,
        resume: hooks.resume === true,
        emit,
        time,
        progress(label, total) {
          const shown = hooks.progress?.(label, total) ?? NO_PROGRESS;
          const tracked: StageProgress = {
            update: (done) => shown.update(done),
            stop: () => {
              if (open.delete(tracked)) shown.stop();
            },
          };
          open.add(tracked);
          return tracked;
        },
        checkpoint: (training, { trajectories, ...state }) =>
          saveCheckpoint(
            out,
            { ...state, fingerprint: training.fingerprint, phase: checkpointPhase(phase.name) },
            trajectories,
            training.trainer.model,
            phase.name === 'unlearning' ? training.finalOptimizer : training.trainer.optimizer,
          ),
        onClose: (release) => releases.push(release),
      };
      emit({ type: 'phase-started', phase: phase.name });
      const t0 = performance.now();
      try {
        return await time(phase.timing ?? phase.name, () => phase.run(input, ctx));
      } finally {
        for (const p of [...open]) p.stop();
        emit({ type: 'phase-finished', phase: phase.name, seconds: (performance.now() - t0) / 1000 });
      }
    },
    timings: () => ({ ...timings, total: (performance.now() - started) / 1000 }),
    async close() {
      for (const release of releases.reverse()) await release();
    },
  };
}

/** The checkpoint's phase: what a resumed run continues with. */
function checkpointPhase(phase: AuditPhaseName): CheckpointRecord['phase'] {
  return phase === 'unlearning' ? 'unlearning' : 'isolation';
}

/** One progress display per epoch of a training loop; see {@link epochProgress}. */
export interface EpochProgress {
  /** A step of `rows` rows of `epoch` is done (opens the epoch's display at its first step). */
  step(epoch: number, rows: number): void;
  /** The epoch ended: closes its display. */
  endEpoch(): void;
}

/**
 * Progress of an epoch loop: a display per epoch, opened at the epoch's first step with its label and
 * total, counting rows, closed when the epoch ends.
 *
 * @param ctx - the phase's context.
 * @param labelOf - the display's label for an epoch (0-based).
 * @param totalOf - the rows an epoch will take, if known.
 * @returns the progress.
 */
export function epochProgress(
  ctx: PhaseContext,
  labelOf: (epoch: number) => string,
  totalOf: (epoch: number) => number | undefined,
): EpochProgress {
  let bar: StageProgress | null = null;
  let done = 0;
  return {
    step(epoch, rows) {
      if (!bar) {
        bar = ctx.progress(labelOf(epoch), totalOf(epoch));
        done = 0;
      }
      done += rows;
      bar.update(done);
    },
    endEpoch() {
      bar?.stop();
      bar = null;
    },
  };
}
