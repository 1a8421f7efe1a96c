import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decodeExamples } from '../../src/data/decodeExamples.js';
import { readDataset } from '../../src/io/readDataset.js';
import { initBackend } from '../../src/train/backend.js';
import { epochSource } from '../../src/train/batches/epochs.js';
import { toTrainBatches } from '../../src/train/batches/toTrainBatches.js';
import { accuracy } from '../../src/train/evaluate.js';
import { crossEntropyObjective } from '../../src/train/losses.js';
import { createModel } from '../../src/train/models/createModel.js';
import { createOptimizer } from '../../src/train/optim.js';
import { trainEpoch } from '../../src/train/trainEpoch.js';

const TRAIN = new URL('../../fixtures/fashion-mnist/train.parquet', import.meta.url).pathname;
const TEST = new URL('../../fixtures/fashion-mnist/test.parquet', import.meta.url).pathname;

describe('training on the Fashion-MNIST fixture through the stream API', () => {
  // Real training on 3,000 rows: under 20 s on a quiet 2-core machine, several times that on a busy one.
  // The 10-minute limit only catches a hang; the assertions decide the outcome.
  it('reaches > 80% test accuracy with a SmallCNN on the wasm backend, without leaking tensors', async () => {
    const backend = await initBackend({ prefer: 'wasm', log: () => {} });
    expect(backend.tfBackend).toBe('wasm');

    const model = createModel({
      architecture: 'small-cnn',
      inputShape: { height: 28, width: 28, channels: 1 },
      numClasses: 10,
      seed: 7,
    });
    const optimizer = createOptimizer({ kind: 'adam', lr: 1e-3 });
    // Re-subscribes to the Parquet source on the first pass, then replays the decoded cache.
    const data = epochSource(() => readDataset(TRAIN).pipe(decodeExamples()), { cache: true });

    // Three epochs, the last at a fifth of the rate, which settles the weights: three then suffice where
    // a constant rate needed four. Measured test accuracy after three epochs: 0.836-0.856 over seeds 1-4
    // and 7 with the decay; 0.790 for seed 7 without it. Three is also the fewest that leaves two epochs
    // after the one that fills the cache, for the leak check below.
    const learningRates = [1e-3, 1e-3, 2e-4];
    const tensorsPerEpoch: number[] = [];
    for (const [epoch, learningRate] of learningRates.entries()) {
      const result = await trainEpoch(model, data.batchesForEpoch(epoch, { batchSize: 32, seed: 7 }), {
        optimizer,
        objective: crossEntropyObjective,
        learningRate,
      });
      expect(result.rows).toBe(3000);
      tensorsPerEpoch.push(tf.memory().numTensors);
    }
    // Same number of live tensors after every epoch: nothing leaks per step.
    expect(new Set(tensorsPerEpoch.slice(1)).size).toBe(1);

    const test = await accuracy(
      model,
      readDataset(TEST).pipe(decodeExamples(), toTrainBatches({ batchSize: 250, seed: 0, shuffleBuffer: 1 })),
    );
    expect(test.total).toBe(500);
    expect(test.accuracy).toBeGreaterThan(0.8);
    model.dispose();
    optimizer.dispose();
  }, 600_000);
});
