import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import {
  createChannelBuffers,
  ReplicaAborted,
  ReplicaChannel,
} from '../../../../src/train/parallel/replicaChannel.js';
import { startWorker } from '../../../../src/train/parallel/startWorker.js';
import type { ChannelWorkerData } from '../../../helpers/channelWorker.js';

const started: Worker[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.terminate()));
});

/** A two-replica group: this thread is replica 0, a channelWorker running `script` is replica 1. */
function pair(script: ChannelWorkerData['script'], rounds = 0, timeoutMs = 300_000): ReplicaChannel {
  const buffers = createChannelBuffers({
    replicas: 2,
    weightSize: 1,
    gradientSize: 1,
    reduceSize: 3,
    imageSize: 1,
    rows: 1,
  });
  const data: ChannelWorkerData = { buffers, index: 1, script, rounds };
  started.push(startWorker(new URL('../../../helpers/channelWorker.js', import.meta.url), data));
  return new ReplicaChannel(buffers, 0, timeoutMs);
}

describe('ReplicaChannel', () => {
  it('sums every all-reduce over both threads, round after round, in lockstep', () => {
    const rounds = 200;
    const channel = pair('sum', rounds);
    for (let round = 0; round < rounds; round++) {
      const sum = channel.allReduce(new Float32Array([10, -round, 0.5]));
      // Replica 1 sent [2, round, 2·round]: a stale or overwritten slot would show here.
      expect(Array.from(sum)).toEqual([12, 0, 0.5 + 2 * round]);
    }
    channel.barrier();
  });

  it("wakes a thread waiting at a barrier with the other replica's failure", () => {
    const channel = pair('abort');
    channel.barrier();
    let error: unknown;
    try {
      channel.barrier();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReplicaAborted);
    expect(error).toMatchObject({
      code: ErrorCode.ReplicaFailed,
      message: 'replica 1 ran out of luck',
      replica: 1,
    });
    expect(channel.failure()).toEqual({ replica: 1, message: 'replica 1 ran out of luck' });
  });

  it('gives up on a replica that never arrives', () => {
    const channel = pair('silent', 0, 300);
    expect(() => channel.barrier()).toThrow(/waited 0.3 s for the other training threads without an answer/);
  });

  it('refuses an all-reduce larger than its slots', () => {
    const channel = new ReplicaChannel(
      createChannelBuffers({
        replicas: 2,
        weightSize: 1,
        gradientSize: 1,
        reduceSize: 2,
        imageSize: 1,
        rows: 1,
      }),
      0,
      1000,
    );
    expect(() => channel.allReduce(new Float32Array(3))).toThrow(
      /all-reduce of 3 values exceeds the group's 2/,
    );
  });
});
