import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, TrainError, UsageError } from '../../../src/errors.js';
import { BACKEND_ENV_VAR, checkTfjsNodePackage, initBackend } from '../../../src/train/backend.js';
import { conv2DBackpropFilterConfig } from '../../../src/train/wasm/kernels/Conv2DBackpropFilter.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';

// Tests in this file run in order and share tfjs's global state (one process per file): the first
// auto initialisation below is the one that logs.

const gpuCheck = checkTfjsNodePackage('@tensorflow/tfjs-node-gpu');
const nodeCheck = checkTfjsNodePackage('@tensorflow/tfjs-node');
/** On this project's machines tfjs-node cannot install; where it can, the auto choice differs. */
const nativeLoadable = gpuCheck.ok || nodeCheck.ok;

const tmp = useTempDir('abl-backend-');

/** A log that records its lines. */
function recorder(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

describe('initBackend', () => {
  it.skipIf(nativeLoadable)('auto picks wasm here, saying once why tfjs-node was passed over', async () => {
    const { lines, log } = recorder();
    const info = await initBackend({ prefer: 'auto', env: {}, log });
    expect(info.name).toBe('wasm');
    expect(info.tfBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.threads).toBe(1);
    expect(info.versions['tfjs-core']).toBe(tf.version['tfjs-core']);
    expect(info.versions['tfjs-backend-wasm']).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.skipped.map((s) => s.reason)).toEqual([
      gpuCheck.ok ? '' : gpuCheck.reason,
      nodeCheck.ok ? '' : nodeCheck.reason,
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^backend: wasm \(.*see README for GPU\)$/);
    if (info.skipped.every((s) => s.reason.endsWith('is not installed'))) {
      expect(lines[0]).toBe('backend: wasm (tfjs-node not installed; see README for GPU)');
    }
    // The training kernels are in place before any gradient is taken.
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBe(conv2DBackpropFilterConfig);
  });

  it.skipIf(nativeLoadable)('is idempotent: the same request returns the same info, silently', async () => {
    const { lines, log } = recorder();
    const first = await initBackend({ env: {}, log });
    const second = await initBackend({ env: {}, log });
    expect(second).toBe(first);
    expect(lines).toEqual([]);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBe(conv2DBackpropFilterConfig);
  });

  it("prefer: 'cpu' gives cpu, and a later auto call switches back", async () => {
    const { lines, log } = recorder();
    const info = await initBackend({ prefer: 'cpu', env: {}, log });
    expect(info).toMatchObject({ name: 'cpu', tfBackend: 'cpu', threads: 1, skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect(lines).toEqual(['backend: cpu (requested)']);

    const auto = await initBackend({ env: {} });
    expect(tf.getBackend()).toBe(auto.tfBackend);
  });

  it.skipIf(nodeCheck.ok)("prefer: 'tensorflow' fails with a TrainError that says why", async () => {
    const err = await rejection(initBackend({ prefer: 'tensorflow', env: {} }));
    expect(err).toBeInstanceOf(TrainError);
    expect(err.code).toBe(ErrorCode.BackendUnavailable);
    expect(err.message).toContain("backend 'tensorflow' was requested but cannot be used");
    expect(err.message).toContain(nodeCheck.ok ? '' : nodeCheck.reason);
  });

  it.skipIf(gpuCheck.ok)("prefer: 'tensorflow-gpu' fails the same way", async () => {
    const err = await rejection(initBackend({ prefer: 'tensorflow-gpu', env: {} }));
    expect(err.code).toBe(ErrorCode.BackendUnavailable);
    expect(err.message).toContain('@tensorflow/tfjs-node-gpu');
  });

  it(`${BACKEND_ENV_VAR} picks the backend, and prefer wins over it`, async () => {
    const fromEnv = await initBackend({ env: { [BACKEND_ENV_VAR]: 'cpu' } });
    expect(fromEnv.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');

    const preferred = await initBackend({ prefer: 'wasm', env: { [BACKEND_ENV_VAR]: 'cpu' } });
    expect(preferred.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');

    // 'auto' in either place means "choose for me".
    const auto = await initBackend({ prefer: 'auto', env: { [BACKEND_ENV_VAR]: 'auto' } });
    expect(auto).toBe(await initBackend({ env: {} }));
  });

  it.skipIf(nodeCheck.ok)(
    `names ${BACKEND_ENV_VAR} when the backend it asks for is unavailable`,
    async () => {
      const err = await rejection(initBackend({ env: { [BACKEND_ENV_VAR]: 'tensorflow' } }));
      expect(err.code).toBe(ErrorCode.BackendUnavailable);
      expect(err.message).toContain(`requested by ${BACKEND_ENV_VAR}`);
    },
  );

  it('rejects unknown backend names (listing the valid ones) and bad thread counts', async () => {
    const unknown = await rejection(initBackend({ env: { [BACKEND_ENV_VAR]: 'gpu' } }));
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toBe(
      `unknown backend 'gpu' in ${BACKEND_ENV_VAR}; valid backends: auto, tensorflow-gpu, tensorflow, wasm, cpu`,
    );
    for (const threads of [0, 1.5, Number.NaN]) {
      expect(await rejection(initBackend({ threads, env: {} }))).toBeInstanceOf(UsageError);
    }
  });

  it('a gradient computation on the chosen backend leaves no tensors behind', async () => {
    await initBackend({ prefer: 'wasm', env: {} });
    const before = tf.memory().numTensors;
    const norm = tf.tidy(() => {
      const x = tf.ones([2, 6, 6, 3]);
      const filter = tf.ones([3, 3, 3, 2]);
      const g = tf.grad((f) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same')))(filter);
      return tf.sum(g).dataSync()[0];
    });
    expect(norm).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkTfjsNodePackage', () => {
  it('tells a missing package, one without its addon, and a usable one apart', async () => {
    const root = await tmp.sub('resolve');
    const from = join(root, 'index.js');
    expect(checkTfjsNodePackage('@tensorflow/tfjs-node', from)).toEqual({
      ok: false,
      reason: '@tensorflow/tfjs-node is not installed',
    });

    // What `npm ci --ignore-scripts` leaves: the package, but no lib/napi-v*/tfjs_binding.node.
    const dir = join(root, 'node_modules', '@tensorflow', 'tfjs-node');
    await mkdir(join(dir, 'lib'), { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0' }),
    );
    const noAddon = checkTfjsNodePackage('@tensorflow/tfjs-node', from);
    expect(noAddon.ok).toBe(false);
    expect(noAddon.ok ? '' : noAddon.reason).toContain('without its native addon');

    await mkdir(join(dir, 'lib', 'napi-v8'));
    await writeFile(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    expect(checkTfjsNodePackage('@tensorflow/tfjs-node', from)).toEqual({ ok: true, dir, version: '4.22.0' });
  });
});
