import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { LossTrajectories } from '../abl/lossTrajectories.js';
import { loadTrainingState, saveTrainingState } from '../abl/trainingState.js';
import type { UnlearnProgress } from '../abl/unlearn.js';
import { describeError, ErrorCode, IoError, UsageError } from '../errors.js';
import { writeFileAtomically } from '../io/atomicWrite.js';
import type { TrainOptimizer } from '../train/optim.js';
import { failpoint } from '../util/failpoint.js';

/** Folder inside OUT where an audit keeps its checkpoints until it completes. */
export const WORK_DIR = '.abl-work';

const RUN_JSON = 'run.json';

/** What a checkpoint records besides weights and losses. */
export interface CheckpointRecord {
  /** Ties the checkpoint to its configuration, inputs and backend: resuming anything else is refused. */
  readonly fingerprint: string;
  readonly phase: 'isolation' | 'unlearning';
  /** Training objective of each isolation epoch done. */
  readonly isolationObjectives: readonly number[];
  readonly unlearn: UnlearnProgress | null;
  /** Test-set metrics after each unlearning epoch done (null entries when no test set). */
  readonly unlearnMetrics: readonly {
    readonly cleanAccuracy: number | null;
    readonly attackSuccessRate: number | null;
  }[];
}

/** A loaded checkpoint. */
export interface Checkpoint extends CheckpointRecord {
  readonly trajectories: LossTrajectories;
}

interface RunPointer extends CheckpointRecord {
  readonly checkpoint: string;
  readonly rows: number;
  readonly epochs: number;
}

/**
 * Writes a checkpoint: training state and losses into a new numbered folder, then `run.json` pointing
 * at it (atomically), then removes older folders. A run killed at any moment leaves `run.json`
 * pointing at a complete checkpoint.
 */
export async function saveCheckpoint(
  out: string,
  record: CheckpointRecord,
  trajectories: LossTrajectories,
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
): Promise<void> {
  const work = join(out, WORK_DIR);
  const name = `checkpoint-${Date.now()}-${process.pid}`;
  const folder = join(work, name);
  await saveTrainingState(folder, model, optimizer);
  const n = trajectories.ids.length;
  const losses = new Float32Array(n * trajectories.losses.length);
  trajectories.losses.forEach((epoch, e) => {
    losses.set(epoch, e * n);
  });
  await writeFileAtomically(join(folder, 'losses.bin'), new Uint8Array(losses.buffer));
  await writeFileAtomically(
    join(folder, 'rows.json'),
    JSON.stringify({ ids: trajectories.ids, labels: Array.from(trajectories.labels) }),
  );
  const pointer: RunPointer = { ...record, checkpoint: name, rows: n, epochs: trajectories.losses.length };
  failpoint('checkpoint-written');
  await writeFileAtomically(join(work, RUN_JSON), JSON.stringify(pointer));
  failpoint('checkpoint-saved');
  for (const entry of await readdir(work)) {
    if (entry.startsWith('checkpoint-') && entry !== name) {
      await rm(join(work, entry), { recursive: true, force: true });
    }
  }
}

/**
 * Loads the last checkpoint of an interrupted audit into `model` and the optimizer of its phase.
 *
 * @returns the checkpoint, or null when OUT has none.
 * @throws UsageError when the checkpoint belongs to another configuration or input; IoError when it
 *   is damaged.
 */
export async function loadCheckpoint(
  out: string,
  fingerprint: string,
  model: tf.LayersModel,
  optimizerOf: (phase: CheckpointRecord['phase']) => TrainOptimizer,
): Promise<Checkpoint | null> {
  const work = join(out, WORK_DIR);
  let pointer: RunPointer;
  try {
    pointer = JSON.parse(await readFile(join(work, RUN_JSON), 'utf8')) as RunPointer;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IoError(ErrorCode.CorruptFile, `cannot read the checkpoint: ${describeError(cause)}`, {
      cause,
      location: { file: join(work, RUN_JSON) },
    });
  }
  if (pointer.fingerprint !== fingerprint) {
    throw new UsageError(
      `${out} holds an interrupted audit of other inputs or parameters; rerun it with the same ones, or drop --resume to start over`,
    );
  }
  const folder = join(work, pointer.checkpoint);
  try {
    await loadTrainingState(folder, model, optimizerOf(pointer.phase));
    const raw = await readFile(join(folder, 'losses.bin'));
    const all = new Float32Array(new Uint8Array(raw).buffer);
    const rows = JSON.parse(await readFile(join(folder, 'rows.json'), 'utf8')) as {
      ids: string[];
      labels: number[];
    };
    const n = pointer.rows;
    if (all.length !== n * pointer.epochs || rows.ids.length !== n)
      throw new Error('losses do not match the row count');
    const trajectories: LossTrajectories = {
      ids: rows.ids,
      labels: Int32Array.from(rows.labels),
      losses: Array.from({ length: pointer.epochs }, (_, e) => all.slice(e * n, (e + 1) * n)),
    };
    const { checkpoint: _c, rows: _r, epochs: _e, ...record } = pointer;
    return { ...record, trajectories };
  } catch (cause) {
    if (cause instanceof IoError) throw cause;
    throw new IoError(
      ErrorCode.CorruptFile,
      `the checkpoint is damaged: ${describeError(cause)}; drop --resume to start over`,
      {
        cause,
        location: { file: folder },
      },
    );
  }
}

/** Removes OUT's checkpoints (a completed audit, or a fresh start). */
export async function clearCheckpoints(out: string): Promise<void> {
  await rm(join(out, WORK_DIR), { recursive: true, force: true });
}
