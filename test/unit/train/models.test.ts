import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { UsageError } from '../../../src/errors.js';
import {
  ARCHITECTURES,
  type Architecture,
  createModel,
  PIXEL_SCALE,
} from '../../../src/train/models/createModel.js';
import { resnet } from '../../../src/train/models/resnet.js';
import { wideResNet } from '../../../src/train/models/wideResNet.js';
import { expectNoLeakedTensors, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();

const MNIST: ImageShape = { height: 28, width: 28, channels: 1 };
const CIFAR: ImageShape = { height: 32, width: 32, channels: 3 };
const TINY: ImageShape = { height: 8, width: 8, channels: 3 };

const built: tf.LayersModel[] = [];
function build(
  architecture: Architecture,
  inputShape: ImageShape,
  numClasses: number,
  seed = 1,
): tf.LayersModel {
  const model = createModel({ architecture, inputShape, numClasses, seed });
  built.push(model);
  return model;
}
afterEach(() => {
  for (const m of built.splice(0)) m.dispose();
});

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce(
    (sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1),
    0,
  );
}

describe('createModel', () => {
  for (const architecture of ARCHITECTURES) {
    it(`builds ${architecture} for 28×28×1 and 32×32×3, 3 and 10 classes, with a rescaling first layer`, () => {
      for (const shape of [MNIST, CIFAR]) {
        for (const k of [3, 10]) {
          const model = build(architecture, shape, k);
          expect(model.inputs[0]?.shape).toEqual([null, shape.height, shape.width, shape.channels]);
          expect(model.outputs[0]?.shape).toEqual([null, k]);
          const first = model.layers[1];
          expect(first?.getClassName()).toBe('Rescaling');
          expect(first?.getConfig().scale).toBeCloseTo(PIXEL_SCALE, 12);
        }
      }
    });
  }

  it('has the expected parameter counts', () => {
    // WRN-16-1, 32×32×3, 10 classes: 175,066 trainable parameters (the "175k" of the ABL reference,
    // which counts PyTorch parameters, i.e. without BN running statistics): stem 432; group 1 (2 blocks
    // 16→16) 2·(2·2304 + 2·32); group 2 (16→32 with a 512-weight 1×1 shortcut, then 32→32)
    // 4608+9216+512+32+64 and 2·9216+2·64; group 3 likewise at 32→64: 18432+36864+2048+64+128 and
    // 2·36864+2·128; final BN 128; dense 650.
    expect(trainableCount(build('wrn-16-1', CIFAR, 10))).toBe(175_066);
    expect(build('wrn-16-1', CIFAR, 10).countParams()).toBe(175_066 + 928); // + BN moving mean/variance
    expect(trainableCount(build('wrn-10-1', CIFAR, 10))).toBe(77_850);
    expect(trainableCount(build('resnet8', CIFAR, 10))).toBe(78_042);
    // SmallCNN ("same" padding): conv1 3·9·32+32, conv2 32·9·64+64, fc 8·8·64·128+128, logits 128·10+10.
    expect(trainableCount(build('small-cnn', CIFAR, 10))).toBe(896 + 18_496 + 524_416 + 1_290);
    expect(trainableCount(build('small-cnn', MNIST, 10))).toBe(320 + 18_496 + 401_536 + 1_290);
  });

  it('runs every architecture forward on tiny images, giving finite logits', () => {
    const x = tf.randomUniform([2, TINY.height, TINY.width, TINY.channels], 0, 255, 'float32', 3);
    for (const architecture of ARCHITECTURES) {
      const model = build(architecture, TINY, 3);
      const logits = tf.tidy(() => model.predict(x) as tf.Tensor);
      expect(logits.shape).toEqual([2, 3]);
      expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
      logits.dispose();
    }
    x.dispose();
  });

  it('gives identical initial weights for one seed and different ones for another', () => {
    for (const architecture of ARCHITECTURES) {
      const a = build(architecture, TINY, 3, 7)
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
      const b = build(architecture, TINY, 3, 7)
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
      const c = build(architecture, TINY, 3, 8)
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    }
  });

  it('seeds each layer separately', () => {
    // Two conv layers of the same shape (ResNet-8's stage-1 convs) must not start from the same draw.
    const weights = build('resnet8', TINY, 3).getWeights();
    const names = build('resnet8', TINY, 3).weights.map((w) => w.originalName);
    const conv1 = weights[names.indexOf('stage1_block1_conv1/kernel')];
    const conv2 = weights[names.indexOf('stage1_block1_conv2/kernel')];
    expect(conv1?.shape).toEqual(conv2?.shape);
    expect(Array.from(conv1?.dataSync() ?? [])).not.toEqual(Array.from(conv2?.dataSync() ?? []));
  });

  it('rescales raw pixels inside the model', async () => {
    // The rescaling layer's own output for an all-255 image is all ones: the model takes raw bytes.
    await expectNoLeakedTensors(() => {
      const model = createModel({ architecture: 'small-cnn', inputShape: TINY, numClasses: 3, seed: 1 });
      const rescale = model.layers[1];
      if (!rescale) throw new Error('no rescaling layer');
      const out = tf.tidy(() => (rescale.apply(tf.fill([1, 8, 8, 3], 255)) as tf.Tensor).dataSync());
      expect(out.length).toBe(8 * 8 * 3);
      expect(Array.from(out).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
      model.dispose();
    });
  });

  it('rejects bad options with UsageError, listing the valid architectures', () => {
    const bad = (o: Partial<Parameters<typeof createModel>[0]>) => () =>
      createModel({ architecture: 'small-cnn', inputShape: TINY, numClasses: 3, seed: 1, ...o });
    expect(bad({ architecture: 'vgg' as Architecture })).toThrow(
      /valid: small-cnn, resnet8, wrn-16-1, wrn-10-1/,
    );
    expect(bad({ architecture: 'vgg' as Architecture })).toThrow(UsageError);
    expect(bad({ numClasses: 1 })).toThrow(UsageError);
    expect(bad({ numClasses: 2.5 })).toThrow(UsageError);
    expect(bad({ seed: 0.5 })).toThrow(UsageError);
    expect(bad({ inputShape: { height: 0, width: 8, channels: 1 } })).toThrow(UsageError);
    expect(bad({ inputShape: { height: 3, width: 3, channels: 1 } })).toThrow(/at least 4×4/);
    const x = tf.input({ shape: [8, 8, 1] });
    expect(() => wideResNet(x, { numClasses: 3, seed: 1, depth: 12 })).toThrow(/6n \+ 4/);
    expect(() => wideResNet(x, { numClasses: 3, seed: 1, widenFactor: 0 })).toThrow(UsageError);
    expect(() =>
      resnet(x, { numClasses: 3, seed: 1, widths: [16, 32], blocks: [1], strides: [1, 2] }),
    ).toThrow(/one entry per stage/);
  });

  it('frees every weight when the model is disposed', async () => {
    await expectNoLeakedTensors(() => {
      for (const architecture of ARCHITECTURES)
        createModel({ architecture, inputShape: TINY, numClasses: 3, seed: 1 }).dispose();
    });
  });
});
