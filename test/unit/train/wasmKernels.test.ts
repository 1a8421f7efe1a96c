import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedBatchNormGradConfig } from '../../../src/train/gradients/fusedBatchNormGrad.js';
import { conv2DBackpropInputConfig } from '../../../src/train/wasm/kernels/Conv2DBackpropInput.js';
import {
  registerWasmKernels,
  restoreStockKernels,
  wasmTrainingKernels,
} from '../../../src/train/wasm/registerWasmKernels.js';
import { mulberry32 } from '../../../src/util/random.js';

/** Tolerance of every comparison with the cpu backend: max |a − b| / max |b| per tensor. */
const TOLERANCE = 1e-4;

/** Plain data that can cross backends: the values and shape of one tensor. */
interface Data {
  readonly values: number[];
  readonly shape: number[];
}

/** Seeded standard-normal-ish values (sum of uniforms), so every run checks the same inputs. */
function randomData(shape: number[], seed: number): Data {
  const rng = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => rng() + rng() + rng() - 1.5);
  return { values, shape };
}

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? Number.NaN)));
    scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Number of data buffers the active backend holds: catches intermediates a kernel forgot to free. */
function dataIds(): number {
  return tf.engine().backend.numDataIds();
}

/**
 * The gradients of `f` with respect to each input, computed on `backend`, as plain arrays. Checks that
 * the computation leaves no tensor and no backend buffer behind.
 */
async function gradsOn(
  backend: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly Data[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = dataIds();
  const grads = tf.tidy(() => {
    const xs = inputs.map((d) => tf.tensor(d.values, d.shape));
    // A random projection of the output, so that every output element gets its own weight.
    return tf.grads((...args: tf.Tensor[]) => {
      const y = f(...args);
      const w = tf.tensor(randomData(y.shape, 99).values, y.shape);
      return tf.sum(tf.mul(y, w));
    })(xs);
  });
  const values = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(grads);
  expect(tf.memory().numTensors).toBe(tensorsBefore);
  expect(dataIds()).toBe(idsBefore);
  return values;
}

async function expectGradsMatchCpu(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly Data[],
): Promise<void> {
  const onWasm = await gradsOn('wasm', f, inputs);
  const onCpu = await gradsOn('cpu', f, inputs);
  onCpu.forEach((expected, i) => {
    expect(relativeError(onWasm[i] ?? [], expected)).toBeLessThan(TOLERANCE);
  });
}

type Pad = 'same' | 'valid';

interface ConvCase {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly inChannels: number;
  readonly filter: [number, number];
  readonly outChannels: number;
  readonly stride: number;
  readonly pad: Pad;
}

/** Every combination the brief asks for: batch 1/5, 1/3 input channels, strides 1/2, same/valid. */
function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const batch of [1, 5])
    for (const inChannels of [1, 3])
      for (const stride of [1, 2])
        for (const pad of ['same', 'valid'] as const) {
          cases.push({ batch, height: 9, width: 7, inChannels, filter: [3, 3], outChannels: 4, stride, pad });
        }
  // Odd sizes: even filters (asymmetric 'same' padding), non-square filters, 1×1, a filter as large as
  // the input, and 'valid' with a stride that does not divide H − FH.
  cases.push(
    {
      batch: 2,
      height: 10,
      width: 10,
      inChannels: 3,
      filter: [4, 4],
      outChannels: 2,
      stride: 1,
      pad: 'same',
    },
    { batch: 2, height: 8, width: 8, inChannels: 3, filter: [4, 4], outChannels: 2, stride: 2, pad: 'same' },
    {
      batch: 3,
      height: 10,
      width: 11,
      inChannels: 2,
      filter: [2, 3],
      outChannels: 5,
      stride: 2,
      pad: 'valid',
    },
    { batch: 2, height: 6, width: 6, inChannels: 3, filter: [1, 1], outChannels: 4, stride: 1, pad: 'valid' },
    { batch: 2, height: 5, width: 5, inChannels: 1, filter: [5, 5], outChannels: 3, stride: 1, pad: 'valid' },
    { batch: 2, height: 5, width: 6, inChannels: 3, filter: [5, 5], outChannels: 3, stride: 1, pad: 'same' },
    {
      batch: 2,
      height: 12,
      width: 12,
      inChannels: 3,
      filter: [3, 3],
      outChannels: 2,
      stride: 3,
      pad: 'valid',
    },
  );
  return cases;
}

function caseName(c: ConvCase): string {
  return `n${c.batch} ${c.height}×${c.width}×${c.inChannels} filter ${c.filter.join('×')}×${c.outChannels} stride ${c.stride} ${c.pad}`;
}

beforeAll(async () => {
  // IS_TEST makes tfjs check, after every kernel, that it left no extra buffers behind: our kernels
  // must free their intermediates. (It also silences tfjs's console advice.)
  tf.env().set('IS_TEST', true);
  expect(await tf.setBackend('wasm')).toBe(true);
  registerWasmKernels();
});

afterAll(() => {
  tf.env().set('IS_TEST', false);
});

describe('registerWasmKernels', () => {
  it('registers every kernel for wasm, replacing the stock Conv2DBackpropInput', () => {
    for (const config of wasmTrainingKernels) {
      expect(tf.getKernel(config.kernelName, 'wasm')).toBe(config);
    }
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(conv2DBackpropInputConfig);
  });

  it('is idempotent: a second call registers nothing', () => {
    expect(registerWasmKernels()).toEqual([]);
    for (const config of wasmTrainingKernels) {
      expect(tf.getKernel(config.kernelName, 'wasm')).toBe(config);
    }
  });
});

describe('Conv2D gradients on wasm match the cpu backend', () => {
  it.each(convCases().map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    const x = randomData([c.batch, c.height, c.width, c.inChannels], 1);
    const filter = randomData([...c.filter, c.inChannels, c.outChannels], 2);
    await expectGradsMatchCpu(
      (xs, f) => tf.conv2d(xs as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad),
      [x, filter],
    );
  });

  it('handles explicit padding, stride 1 and 2', async () => {
    const x = randomData([2, 7, 8, 3], 3);
    const filter = randomData([3, 2, 3, 4], 4);
    const explicit: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [2, 1],
      [0, 1],
      [0, 0],
    ];
    for (const stride of [1, 2]) {
      await expectGradsMatchCpu(
        (xs, f) => tf.conv2d(xs as tf.Tensor4D, f as tf.Tensor4D, stride, explicit),
        [x, filter],
      );
    }
  });

  it("handles explicit padding wider than the filter (stock kernel) and 'ceil' rounding", async () => {
    const x = randomData([2, 6, 6, 2], 5);
    const filter = randomData([2, 2, 2, 3], 6);
    const wide: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [3, 2],
      [2, 3],
      [0, 0],
    ];
    await expectGradsMatchCpu(
      (xs, f) => tf.conv2d(xs as tf.Tensor4D, f as tf.Tensor4D, 1, wide),
      [x, filter],
    );
    await expectGradsMatchCpu(
      (xs, f) => tf.conv2d(xs as tf.Tensor4D, f as tf.Tensor4D, 2, 1, 'NHWC', 1, 'ceil'),
      [x, filter],
    );
  });

  it('matches through a fused conv with bias and relu (the path tf.layers.conv2d takes)', async () => {
    const x = randomData([3, 8, 8, 3], 7);
    const filter = randomData([3, 3, 3, 4], 8);
    const bias = randomData([4], 9);
    await expectGradsMatchCpu(
      (xs, f, b) =>
        tf.fused.conv2d({
          x: xs as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: b,
          activation: 'relu',
        }),
      [x, filter, bias],
    );
  });
});

describe('MaxPoolGrad on wasm matches the cpu backend', () => {
  const cases = [
    { name: '2×2 stride 2 valid (SmallCNN)', shape: [3, 8, 8, 4], size: 2, stride: 2, pad: 'valid' as const },
    {
      name: '2×2 stride 2 valid, odd sizes (last row and column unused)',
      shape: [2, 7, 9, 3],
      size: 2,
      stride: 2,
      pad: 'valid' as const,
    },
    {
      name: '2×2 stride 2 same, odd sizes (padded)',
      shape: [2, 7, 9, 3],
      size: 2,
      stride: 2,
      pad: 'same' as const,
    },
    {
      name: '3×3 stride 2 same (overlapping windows)',
      shape: [2, 7, 9, 3],
      size: 3,
      stride: 2,
      pad: 'same' as const,
    },
    { name: '3×3 stride 1 same', shape: [2, 5, 5, 2], size: 3, stride: 1, pad: 'same' as const },
    {
      name: '2×3 stride [1, 2] explicit padding',
      shape: [1, 6, 7, 2],
      size: [2, 3] as [number, number],
      stride: [1, 2] as [number, number],
      pad: 1,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const x = randomData(c.shape, 21);
    await expectGradsMatchCpu((xs) => tf.maxPool(xs as tf.Tensor4D, c.size, c.stride, c.pad), [x]);
  });

  it("gives a tied window's gradient to its first maximum, as the cpu backend does (ReLU zeros)", async () => {
    // After a ReLU most windows are all zeros: every value ties, and only the first may get the gradient.
    const x = randomData([2, 6, 6, 3], 22);
    const relu = { values: x.values.map((v) => Math.max(0, v - 0.8)), shape: x.shape };
    expect(relu.values.filter((v) => v === 0).length).toBeGreaterThan(relu.values.length / 2);
    await expectGradsMatchCpu((xs) => tf.maxPool(xs as tf.Tensor4D, 2, 2, 'valid'), [relu]);
    const onWasm = await gradsOn('wasm', (xs) => tf.maxPool(xs as tf.Tensor4D, 2, 2, 'valid'), [relu]);
    const onCpu = await gradsOn('cpu', (xs) => tf.maxPool(xs as tf.Tensor4D, 2, 2, 'valid'), [relu]);
    // The same inputs receive a gradient: ties are broken the same way, not merely summed the same.
    expect(Array.from(onWasm[0] ?? [], (v) => v !== 0)).toEqual(Array.from(onCpu[0] ?? [], (v) => v !== 0));
  });
});

describe('restoreStockKernels', () => {
  it('puts the stock kernels and batch-norm gradient back, and registerWasmKernels undoes it', () => {
    const stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
    expect(stockMatMul).toBe(wasmTrainingKernels.find((k) => k.kernelName === tf.BatchMatMul));
    expect(restoreStockKernels([tf.BatchMatMul, 'FusedBatchNorm gradient'])).toEqual([
      tf.BatchMatMul,
      'FusedBatchNorm gradient',
    ]);
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).not.toBe(stockMatMul);
    expect(tf.getGradient(tf.FusedBatchNorm)).not.toBe(fusedBatchNormGradConfig);
    // Kernels the wasm backend lacks as shipped stay: it could not train without them.
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
    expect(registerWasmKernels()).toEqual(['FusedBatchNorm gradient', tf.BatchMatMul]);
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(stockMatMul);
    expect(tf.getGradient(tf.FusedBatchNorm)).toBe(fusedBatchNormGradConfig);
  });
});

describe('the batch-norm gradient without Tile', () => {
  const x = randomData([3, 4, 5, 6], 41);
  const stats = [randomData([6], 42), randomData([6], 43), randomData([6], 44), randomData([6], 45)];
  // Variance must be positive.
  const variance = { values: stats[1]?.values.map((v) => v * v + 0.1) ?? [], shape: [6] };
  const inputs = [x, stats[0] as Data, variance, stats[2] as Data, stats[3] as Data];
  const bn = (xs: tf.Tensor, m: tf.Tensor, v: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor) =>
    tf.batchNorm(
      xs as tf.Tensor4D,
      m as tf.Tensor1D,
      v as tf.Tensor1D,
      offset as tf.Tensor1D,
      scale as tf.Tensor1D,
      1e-3,
    );

  it.each(['cpu', 'wasm'])(
    "agrees with tfjs's own gradient to float32 rounding on %s, for x, mean, variance, offset and scale",
    async (backend) => {
      restoreStockKernels(['FusedBatchNorm gradient']);
      const stock = await gradsOn(backend, bn as (...xs: tf.Tensor[]) => tf.Tensor, inputs);
      registerWasmKernels();
      const ours = await gradsOn(backend, bn as (...xs: tf.Tensor[]) => tf.Tensor, inputs);
      expect(ours).toHaveLength(5);
      stock.forEach((expected, i) => {
        // Sums of 60 float32 products, grouped differently: a few units in the last place.
        expect(relativeError(ours[i] ?? [], expected)).toBeLessThan(1e-6);
      });
      await tf.setBackend('wasm');
    },
  );

  it('matches the cpu backend through moments, as tf.layers.batchNormalization trains', async () => {
    const [, , , offset, scale] = inputs;
    await expectGradsMatchCpu(
      (xs, o, sc) => {
        const { mean, variance: v } = tf.moments(xs as tf.Tensor, [0, 1, 2]);
        return bn(xs as tf.Tensor, mean, v, o as tf.Tensor, sc as tf.Tensor);
      },
      [x, offset as Data, scale as Data],
    );
  });
});

describe('BatchMatMul on wasm matches the cpu backend, transposed or not', () => {
  const cases = [
    { name: 'dense weight gradient xᵀ·dy', a: [64, 300], b: [64, 80], ta: true, tb: false },
    { name: 'dense input gradient dy·wᵀ', a: [64, 80], b: [300, 80], ta: false, tb: true },
    { name: 'both transposed', a: [300, 64], b: [80, 300], ta: true, tb: true },
    { name: 'batched, transposed', a: [3, 200, 90], b: [3, 200, 100], ta: true, tb: false },
    { name: 'small', a: [8, 5], b: [8, 3], ta: true, tb: false },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const a = randomData(c.a, 31);
    const b = randomData(c.b, 32);
    await expectGradsMatchCpu((x, y) => tf.matMul(x as tf.Tensor, y as tf.Tensor, c.ta, c.tb), [a, b]);
    const product = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() =>
        tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), c.ta, c.tb).dataSync(),
      );
    };
    expect(relativeError(await product('wasm'), await product('cpu'))).toBeLessThan(TOLERANCE);
  });
});

describe('Sum on wasm matches the cpu backend', () => {
  const cases = [
    { name: 'NHWC over N, H, W (bias gradient, batch-norm sums)', shape: [6, 9, 7, 8], axes: [0, 1, 2] },
    { name: 'NHWC over H and W (per image)', shape: [3, 4, 5, 6], axes: [1, 2] },
    { name: 'over N, H, W, kept dimensions', shape: [4, 3, 5, 2], axes: [2, 0, 1], keepDims: true },
    { name: 'over H and W, kept dimensions', shape: [2, 6, 6, 3], axes: [1, 2], keepDims: true },
    { name: 'a matrix over its rows (stock kernel)', shape: [37, 5], axes: [0] },
    { name: 'the last axis (stock kernel)', shape: [4, 5, 6, 2], axes: [3] },
    { name: 'axes apart (stock kernel)', shape: [3, 4, 5, 6], axes: [0, 2] },
    { name: 'every axis (stock kernel)', shape: [3, 4, 5, 2], axes: [0, 1, 2, 3] },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const x = randomData(c.shape, 51);
    const on = async (backend: string) => {
      await tf.setBackend(backend);
      const idsBefore = dataIds();
      const out = tf.tidy(() => {
        const y = tf.sum(tf.tensor(x.values, x.shape), c.axes, c.keepDims ?? false);
        return { values: y.dataSync(), shape: y.shape };
      });
      expect(dataIds()).toBe(idsBefore);
      return out;
    };
    const wasm = await on('wasm');
    const cpu = await on('cpu');
    expect(wasm.shape).toEqual(cpu.shape);
    expect(relativeError(wasm.values, cpu.values)).toBeLessThan(TOLERANCE);
    await expectGradsMatchCpu((t) => tf.sum(t as tf.Tensor, c.axes), [x]);
  });

  it('leaves integer sums to the stock kernel, exactly', async () => {
    await tf.setBackend('wasm');
    const sums = tf.tidy(() =>
      tf
        .sum(
          tf.tensor(
            [
              [1, 2, 3],
              [4, 5, 6],
            ],
            [2, 3],
            'int32',
          ),
          0,
        )
        .arraySync(),
    );
    expect(sums).toEqual([5, 7, 9]);
  });
});

describe('depthwise Conv2D gradients on wasm match the cpu backend', () => {
  const cases = [
    { batch: 1, channels: 1, multiplier: 1, stride: 1, pad: 'same' },
    { batch: 5, channels: 3, multiplier: 2, stride: 1, pad: 'valid' },
    { batch: 5, channels: 3, multiplier: 1, stride: 2, pad: 'same' },
    { batch: 1, channels: 3, multiplier: 2, stride: 2, pad: 'valid' },
  ] as const;
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', async (_name, c) => {
    const x = randomData([c.batch, 8, 7, c.channels], 10);
    const filter = randomData([3, 3, c.channels, c.multiplier], 11);
    await expectGradsMatchCpu(
      (xs, f) => tf.depthwiseConv2d(xs as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad),
      [x, filter],
    );
  });
});

describe('UnsortedSegmentSum on wasm matches the cpu backend', () => {
  async function segmentSumOn(
    backend: string,
    x: Data,
    ids: number[],
    numSegments: number,
  ): Promise<Float32Array> {
    await tf.setBackend(backend);
    return tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor(x.values, x.shape), tf.tensor1d(ids, 'int32'), numSegments).dataSync(),
    ) as Float32Array;
  }

  it('sums rows by segment id, dropping ids out of range', async () => {
    const x = randomData([7, 3, 2], 12);
    const ids = [2, 0, 2, -1, 4, 1, 9];
    const onWasm = await segmentSumOn('wasm', x, ids, 5);
    const onCpu = await segmentSumOn('cpu', x, ids, 5);
    expect(relativeError(onWasm, onCpu)).toBeLessThan(TOLERANCE);
  });

  it('sums int32 values exactly', async () => {
    const x = { values: [1, 2, 3, 4, 5, 6], shape: [6] };
    await tf.setBackend('wasm');
    const sums = tf.tidy(() =>
      tf
        .unsortedSegmentSum(tf.tensor1d(x.values, 'int32'), tf.tensor1d([0, 1, 0, 1, 2, 0], 'int32'), 3)
        .arraySync(),
    );
    expect(sums).toEqual([10, 6, 5]);
  });

  it('is the gradient of gather, which wasm can now train through', async () => {
    const params = randomData([6, 4], 13);
    const indices = [5, 0, 0, 3, 2];
    await expectGradsMatchCpu((p) => tf.gather(p, tf.tensor1d(indices, 'int32')), [params]);
  });
});

describe('models train on wasm as on the cpu backend', () => {
  beforeAll(() => {
    // tfjs's per-kernel leak check misfires on custom-gradient ops (the fused convolution of
    // tf.layers.conv2d saves tensors for its backward pass); tensor counts are checked below instead.
    tf.env().set('IS_TEST', false);
  });
  afterAll(() => {
    tf.env().set('IS_TEST', true);
  });

  /** Conv2D → ReLU → MaxPool → Flatten → Dense, as in the brief. */
  function tinyConvNet(): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [10, 10, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
  }

  /** A ResNet-style block: conv-BN-relu, conv-BN, add, relu, strided conv, global average pool, dense. */
  function residualNet(): tf.LayersModel {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = (filters: number, strides = 1) =>
      tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false });
    const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
      layer.apply(x) as tf.SymbolicTensor;
    const a = apply(tf.layers.reLU(), apply(tf.layers.batchNormalization(), apply(conv(4), input)));
    const b = apply(tf.layers.batchNormalization(), apply(conv(4), a));
    const sum = apply(tf.layers.reLU(), apply(tf.layers.add(), [a, b]));
    const down = apply(tf.layers.reLU(), apply(tf.layers.batchNormalization(), apply(conv(6, 2), sum)));
    const pooled = apply(tf.layers.globalAveragePooling2d({}), down);
    return tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 5 }), pooled) });
  }

  interface StepResult {
    readonly deltas: Float32Array[];
    readonly loss: number;
  }

  /**
   * Builds the model on `backend` with the given starting weights, takes one SGD step on softmax
   * cross-entropy, and returns how much each trainable weight moved. A second step checks that a
   * training step leaves no tensors behind.
   */
  async function oneStep(
    backend: string,
    build: () => tf.LayersModel,
    weights: readonly Data[],
    x: Data,
    labels: readonly number[],
    numClasses: number,
  ): Promise<StepResult> {
    await tf.setBackend(backend);
    const model = build();
    model.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
    const optimizer = tf.train.sgd(0.1);
    const xs = tf.tensor(x.values, x.shape);
    const ys = tf.oneHot(tf.tensor1d([...labels], 'int32'), numClasses);
    const lossFn = () =>
      tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar;
    const before = model.trainableWeights.map((w) => w.read().dataSync().slice());

    const loss = optimizer.minimize(lossFn, true);
    const deltas = model.trainableWeights.map((w, i) => {
      const after = w.read().dataSync();
      return after.map((v, j) => v - (before[i]?.[j] ?? Number.NaN)) as Float32Array;
    });
    const lossValue = loss?.dataSync()[0] ?? Number.NaN;
    loss?.dispose();

    // The first step made the optimizer's learning-rate scalar; from here on the count must not grow.
    const tensorsBefore = tf.memory().numTensors;
    optimizer.minimize(lossFn, true)?.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    tf.dispose([xs, ys]);
    optimizer.dispose();
    model.dispose();
    return { deltas, loss: lossValue };
  }

  async function expectSameStep(
    build: () => tf.LayersModel,
    inputShape: number[],
    labels: readonly number[],
    numClasses: number,
  ): Promise<void> {
    // Glorot-initialised weights made once, on wasm, then given to both backends as plain arrays.
    await tf.setBackend('wasm');
    const template = build();
    const weights = template.getWeights().map((w) => ({ values: Array.from(w.dataSync()), shape: w.shape }));
    template.dispose();
    const x = randomData(inputShape, 21);

    const onWasm = await oneStep('wasm', build, weights, x, labels, numClasses);
    const onCpu = await oneStep('cpu', build, weights, x, labels, numClasses);
    expect(Math.abs(onWasm.loss - onCpu.loss)).toBeLessThan(TOLERANCE * Math.abs(onCpu.loss));
    expect(onWasm.deltas).toHaveLength(onCpu.deltas.length);
    onCpu.deltas.forEach((expected, i) => {
      // Every weight must move: a zero update would make the comparison vacuous.
      expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(0);
      expect(relativeError(onWasm.deltas[i] ?? [], expected)).toBeLessThan(TOLERANCE);
    });
  }

  it('a tiny conv net (conv-relu-maxpool-flatten-dense): one SGD step, same updates', async () => {
    await expectSameStep(tinyConvNet, [6, 10, 10, 1], [0, 1, 2, 0, 1, 2], 3);
  });

  it('a residual block with batch normalization: one SGD step, same updates', async () => {
    await expectSameStep(residualNet, [6, 8, 8, 3], [0, 1, 2, 3, 4, 0], 5);
  });
});
