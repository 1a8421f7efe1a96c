import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { initBackend } from '../../../src/train/backend.js';
import { perExampleCrossEntropy } from '../../../src/train/losses.js';
import { createModel } from '../../../src/train/models/createModel.js';
import { isTrainableBatchNorm, trainingBatchNorm } from '../../../src/train/trainingBatchNorm.js';
import { mulberry32 } from '../../../src/util/random.js';

// ResNet-8 (nine batch-norm layers, residual sums) at 8×8: compared with tfjs-layers' own batch norm
// on the cpu backend (the reference) and on wasm (what trains). Batches stay small: the cpu backend's
// convolution filter gradient is a scalar loop, nearly all of this file's time, and the property does
// not depend on the batch size (at 8 rows the two agree 10-100 times closer than the bounds, as at 24).
const SHAPE: ImageShape = { height: 8, width: 8, channels: 3 };
// Nor does whether a step leaks depend on the image size.
const LEAK_SHAPE: ImageShape = { height: 4, width: 4, channels: 3 };
const K = 5;

const owned: tf.LayersModel[] = [];
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

function pair(shape: ImageShape = SHAPE): [tf.LayersModel, tf.LayersModel] {
  const make = () => createModel({ architecture: 'resnet8', inputShape: shape, numClasses: K, seed: 4 });
  const stock = make();
  const ours = make();
  owned.push(stock, ours);
  trainingBatchNorm(ours);
  return [stock, ours];
}

function inputs(n: number, shape: ImageShape = SHAPE): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = mulberry32(3);
  const size = shape.height * shape.width * shape.channels;
  // Rows of different brightness, so the batch statistics are far from zero mean, unit variance.
  const pixels = Float32Array.from(
    { length: n * size },
    (_, i) => (Math.floor(i / size) % 4) * 50 + rng() * 80,
  );
  return {
    x: tf.tensor4d(pixels, [n, shape.height, shape.width, shape.channels]),
    y: tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => i % K),
      'int32',
    ),
  };
}

/** The training-mode losses and the gradient of their mean for every trainable weight. */
function step(
  model: tf.LayersModel,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
): { losses: Float32Array; grads: Float32Array[] } {
  let losses = new Float32Array(0);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const l = perExampleCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y);
    losses = l.dataSync<'float32'>().slice();
    return tf.mean(l) as tf.Scalar;
  }, variables);
  const out = variables.map((v) => (grads[v.name] as tf.Tensor).dataSync<'float32'>().slice());
  tf.dispose([value, ...Object.values(grads)]);
  return { losses, grads: out };
}

function worstRelative(a: Float32Array, b: Float32Array): number {
  const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)) / scale);
  return worst;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`trainingBatchNorm on ${backend}`, () => {
    it("trains like tfjs-layers' batch norm: losses, every gradient and the moving averages", async () => {
      await initBackend({ prefer: backend, env: {} });
      const [stock, ours] = pair();
      const { x, y } = inputs(8);
      const a = step(stock, x, y);
      const b = step(ours, x, y);
      expect(worstRelative(a.losses, b.losses)).toBeLessThan(1e-5);
      a.grads.forEach((g, i) => {
        expect(
          worstRelative(g, b.grads[i] as Float32Array),
          `gradient ${stock.trainableWeights[i]?.originalName}`,
        ).toBeLessThan(1e-4);
      });
      // Moving averages (model.weights holds them): updated by the forward pass above.
      stock.weights.forEach((w, i) => {
        const mine = (ours.weights[i] as tf.LayerVariable).read().dataSync<'float32'>();
        expect(worstRelative(w.read().dataSync<'float32'>(), mine), w.originalName).toBeLessThan(1e-5);
      });
      // Inference goes to tfjs's own layer: with the same weights, bit for bit the same.
      ours.setWeights(stock.getWeights());
      const infer = (m: tf.LayersModel) => (m.apply(x, { training: false }) as tf.Tensor).dataSync();
      expect(Array.from(infer(ours))).toEqual(Array.from(infer(stock)));
      tf.dispose([x, y]);
    });

    it('leaks no tensor in a training step', async () => {
      await initBackend({ prefer: backend, env: {} });
      const [, ours] = pair(LEAK_SHAPE);
      const { x, y } = inputs(8, LEAK_SHAPE);
      step(ours, x, y);
      const before = tf.memory().numTensors;
      step(ours, x, y);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    });
  });
}

describe('trainingBatchNorm', () => {
  it('sets a model up once, and leaves batch norms it cannot train as tfjs has them', async () => {
    await initBackend({ prefer: 'cpu', env: {} });
    const input = tf.input({ shape: [4, 4, 2] });
    const perChannel = tf.layers.batchNormalization({ name: 'last' }).apply(input) as tf.SymbolicTensor;
    const otherAxis = tf.layers
      .batchNormalization({ axis: 1, name: 'rows' })
      .apply(perChannel) as tf.SymbolicTensor;
    const noScale = tf.layers
      .batchNormalization({ scale: false, name: 'noscale' })
      .apply(otherAxis) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: noScale });
    owned.push(model);
    const state = trainingBatchNorm(model);
    expect(trainingBatchNorm(model)).toBe(state);
    expect(state).toEqual({ reducer: null, rows: 0 });
    const byName = (name: string) => model.getLayer(name);
    expect(isTrainableBatchNorm(byName('last'))).toBe(true);
    expect(isTrainableBatchNorm(byName('rows'))).toBe(false);
    expect(isTrainableBatchNorm(byName('noscale'))).toBe(false);
    expect(['last', 'rows', 'noscale'].map((n) => Object.hasOwn(byName(n), 'call'))).toEqual([
      true,
      false,
      false,
    ]);
  });
});
