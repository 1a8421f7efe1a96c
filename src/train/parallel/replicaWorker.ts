/*
 * Entry point of a data-parallel training thread (a Node worker started by `createDataParallel`).
 *
 * It loads the same tfjs backend as the calling thread, rebuilds the model from its topology, and then
 * serves commands from shared memory until told to stop: copy the weights, compute its shard of a
 * training step or of a scoring pass, hand the results back. Between commands it waits with
 * `Atomics.waitAsync`, so its event loop stays free for the one message it may receive: larger row
 * buffers when a batch outgrows the current ones.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { describeError } from '../../errors.js';
import { initBackend } from '../backend.js';
import { trainingBatchNorm } from '../trainingBatchNorm.js';
import type { BackendName } from '../types.js';
import {
  type ChannelBuffers,
  Command,
  Control,
  ReplicaAborted,
  ReplicaChannel,
  type RowBuffers,
} from './replicaChannel.js';
import { readWeights, scoreShard, trainShard } from './replicaWork.js';

/** What a replica thread is started with. */
export interface ReplicaWorkerData {
  readonly index: number;
  readonly backend: BackendName;
  /** `model.toJSON(null, false)` of the model being trained. */
  readonly topology: object;
  readonly buffers: ChannelBuffers;
  readonly timeoutMs: number;
}

/** Messages a replica thread posts to the calling thread. */
export type ReplicaMessage =
  | { readonly type: 'ready'; readonly weightShapes: readonly (readonly number[])[] }
  | { readonly type: 'failed'; readonly message: string };

/** Messages the calling thread posts to a replica thread. */
export interface RowsMessage {
  readonly type: 'rows';
  readonly rows: RowBuffers;
}

// Typed here: TypeScript's ES2023 library predates Atomics.waitAsync (Node 16+ has it).
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

async function serve(port: NonNullable<typeof parentPort>, data: ReplicaWorkerData): Promise<void> {
  await initBackend({ prefer: data.backend, env: {} });
  const model = await tf.models.modelFromJSON({
    modelTopology: data.topology as tf.io.ModelJSON['modelTopology'],
  });
  const channel = new ReplicaChannel(data.buffers, data.index, data.timeoutMs);
  const reduction = trainingBatchNorm(model);
  const inputShape = model.inputs[0]?.shape ?? [];
  const imageShape = [inputShape[1] ?? 0, inputShape[2] ?? 0, inputShape[3] ?? 0] as const;

  port.on('message', (message: RowsMessage) => {
    if (message.type !== 'rows') return;
    channel.installRows(message.rows);
    Atomics.add(channel.control, Control.Acknowledged, 1);
    Atomics.notify(channel.control, Control.Acknowledged);
  });
  const ready: ReplicaMessage = {
    type: 'ready',
    weightShapes: model.weights.map((w) => w.shape as number[]),
  };
  port.postMessage(ready);

  let seen = 0;
  for (;;) {
    const wait = waitAsync(channel.control, Control.Sequence, seen);
    if (wait.async) await wait.value;
    seen = Atomics.load(channel.control, Control.Sequence);
    if (channel.failure() !== null) break;
    const command = Atomics.load(channel.control, Control.Command);
    if (command === Command.Stop) break;
    try {
      channel.beginCommand();
      if (Atomics.load(channel.control, Control.FreshWeights) === 1) readWeights(model, channel.weights);
      if (command === Command.Train) trainShard(model, channel, reduction, imageShape);
      else if (command === Command.Score) scoreShard(model, channel, imageShape);
    } catch (err) {
      // Another replica's failure is already recorded; this one's must reach the calling thread, which
      // is blocked in a wait and can only learn of it through shared memory.
      if (!(err instanceof ReplicaAborted))
        channel.abort(`training thread ${data.index}: ${describeError(err)}`);
      break;
    }
  }
  model.dispose();
  port.close();
}

if (parentPort !== null) {
  const port = parentPort;
  serve(port, workerData as ReplicaWorkerData).catch((err: unknown) => {
    const failed: ReplicaMessage = { type: 'failed', message: describeError(err) };
    port.postMessage(failed);
    port.close();
  });
}
