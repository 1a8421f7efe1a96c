import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { ErrorCode } from '../../../src/errors.js';
import { crossEntropyObjective } from '../../../src/train/losses.js';
import { createModel, PIXEL_SCALE } from '../../../src/train/models/createModel.js';
import { createOptimizer } from '../../../src/train/optim.js';
import { loadModel, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../../../src/train/saveModel.js';
import { trainStep } from '../../../src/train/trainStep.js';
import { rejection } from '../../helpers/errors.js';
import { predictWithPlainTfjs } from '../../helpers/plainTfjs.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { expectNoLeakedTensors, separableBatches, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();
const tmp = useTempDir('save-model-');

const SHAPE: ImageShape = { height: 6, width: 6, channels: 3 };
const CLASSES = ['cat', 'dog', 'frog'];
const batches = separableBatches({ shape: SHAPE, numClasses: 3, batches: 1, batchSize: 4, seed: 2 });
const probe = Array.from(batches[0]?.images ?? []);

let model: tf.LayersModel;
beforeAll(() => {
  // One training step moves the weights and the batch-norm running statistics off their initial values.
  model = createModel({ architecture: 'resnet8', inputShape: SHAPE, numClasses: 3, seed: 9 });
  const opt = createOptimizer({ kind: 'sgd', lr: 0.1 });
  for (const b of batches) trainStep(model, opt, b, crossEntropyObjective);
  opt.dispose();
});
afterAll(() => model.dispose());

function predict(m: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((m.predict(tf.tensor4d(probe, [4, 6, 6, 3])) as tf.Tensor).dataSync()));
}

describe('saveModel / loadModel', () => {
  it('writes model.json and weights.bin with the metadata, and nothing else beside them', async () => {
    const parent = await tmp.sub('meta');
    const folder = join(parent, 'model');
    const metadata = await saveModel(model, folder, {
      architecture: 'resnet8',
      classNames: CLASSES,
      info: { seed: 9 },
    });
    expect((await readdir(folder)).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);
    expect(await readdir(parent)).toEqual(['model']);
    const json = JSON.parse(await readFile(join(folder, MODEL_JSON), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual([WEIGHTS_BIN]);
    expect(json.userDefinedMetadata).toEqual(JSON.parse(JSON.stringify(metadata)));
    expect(json.userDefinedMetadata).toMatchObject({
      architecture: 'resnet8',
      inputShape: SHAPE,
      channelOrder: 'HWC',
      pixelScaling: { inputRange: [0, 255], scale: PIXEL_SCALE, offset: 0, inModel: true },
      output: 'logits',
      numClasses: 3,
      classNames: CLASSES,
      info: { seed: 9 },
    });
  });

  it('loads with plain tfjs in another process, predicting identically', async () => {
    const folder = join(await tmp.sub('plain'), 'model');
    await saveModel(model, folder);
    expect(await predictWithPlainTfjs(folder, probe, [4, 6, 6, 3])).toEqual(predict(model));
  });

  it('round-trips through loadModel with metadata, leaking nothing', async () => {
    const folder = join(await tmp.sub('round'), 'model');
    await expectNoLeakedTensors(() => saveModel(model, folder, { classNames: CLASSES }));
    const loaded = await expectNoLeakedTensors(() => loadModel(folder), model.weights.length);
    expect(predict(loaded.model)).toEqual(predict(model));
    expect(loaded.metadata?.classNames).toEqual(CLASSES);
    expect(loaded.metadata?.inputShape).toEqual(SHAPE);
    loaded.model.dispose();
  });

  it('replaces an existing model folder atomically, leaving no temporary folder', async () => {
    const parent = await tmp.sub('replace');
    const folder = join(parent, 'model');
    await saveModel(model, folder, { classNames: ['x', 'y', 'z'] });
    await saveModel(model, folder, { classNames: CLASSES });
    expect(await readdir(parent)).toEqual(['model']);
    const loaded = await loadModel(folder);
    expect(loaded.metadata?.classNames).toEqual(CLASSES);
    loaded.model.dispose();
  });

  it('refuses to replace a folder that is not a model, or a file', async () => {
    const parent = await tmp.sub('refuse');
    const folder = join(parent, 'data');
    await mkdir(folder);
    await writeFile(join(folder, 'precious.parquet'), 'keep me');
    const err = await rejection(saveModel(model, folder));
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(await readdir(folder)).toEqual(['precious.parquet']);
    const file = join(parent, 'file');
    await writeFile(file, 'x');
    expect((await rejection(saveModel(model, file))).code).toBe(ErrorCode.WriteFailed);
    expect((await readdir(parent)).sort()).toEqual(['data', 'file']);
  });

  it('reports a missing or malformed model with IoError codes', async () => {
    const parent = await tmp.sub('broken');
    expect((await rejection(loadModel(join(parent, 'nope')))).code).toBe(ErrorCode.FileNotFound);
    await writeFile(join(parent, MODEL_JSON), '{not json');
    expect((await rejection(loadModel(parent))).code).toBe(ErrorCode.CorruptFile);
    await writeFile(join(parent, MODEL_JSON), JSON.stringify({ modelTopology: {}, weightsManifest: 3 }));
    expect((await rejection(loadModel(parent))).code).toBe(ErrorCode.CorruptFile);
    const folder = join(parent, 'model');
    await saveModel(model, folder);
    await writeFile(join(folder, WEIGHTS_BIN), new Uint8Array(8));
    expect((await rejection(loadModel(folder))).code).toBe(ErrorCode.CorruptFile);
    const json = JSON.parse(await readFile(join(folder, MODEL_JSON), 'utf8'));
    json.weightsManifest[0].paths = ['../../etc/passwd'];
    await writeFile(join(folder, MODEL_JSON), JSON.stringify(json));
    expect((await rejection(loadModel(folder))).message).toMatch(/outside the model folder/);
  });
});
