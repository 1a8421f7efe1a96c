/*
 * A replica for ReplicaChannel's tests, started with startWorker. What it does is chosen by
 * `workerData.script`: sum in `rounds` all-reduces, abort with a message, or never answer.
 */
import { workerData } from 'node:worker_threads';
import { type ChannelBuffers, ReplicaChannel } from '../../src/train/parallel/replicaChannel.js';

/** What the test thread starts this worker with. */
export interface ChannelWorkerData {
  readonly buffers: ChannelBuffers;
  readonly index: number;
  readonly script: 'sum' | 'abort' | 'silent';
  readonly rounds: number;
}

const data = workerData as ChannelWorkerData;
const channel = new ReplicaChannel(data.buffers, data.index, 30_000);
if (data.script === 'sum') {
  for (let round = 0; round < data.rounds; round++) {
    channel.allReduce(new Float32Array([data.index + 1, round, round * (data.index + 1)]));
  }
  channel.barrier();
} else if (data.script === 'abort') {
  channel.barrier();
  channel.abort('replica 1 ran out of luck');
}
