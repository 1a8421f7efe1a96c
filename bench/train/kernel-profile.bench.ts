/**
 * Where a training step's time goes, per tfjs kernel: `npm run bench:profile`.
 *
 * Runs a few training steps of each model under `tf.profile` on the chosen backend (default wasm),
 * sums each kernel's time over the timed steps, and writes `bench/results/kernel-profile.json` and a
 * table of the kernels taking most of the step. This is the measurement the speed work starts from:
 * which kernels bound training on these CPUs.
 *
 * Options: --backend NAME (default wasm), --models a,b (default small-cnn,resnet8),
 * --shapes s,t (default 28x28x1,32x32x3), --batch N (default 128), --steps N (default 3).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { formatShape, parseShape } from '../../src/data/imageShape.js';
import { initBackend } from '../../src/train/backend.js';
import { crossEntropyObjective } from '../../src/train/losses.js';
import { type Architecture, createModel } from '../../src/train/models/createModel.js';
import { createOptimizer } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/trainStep.js';
import type { BackendName, TrainBatch } from '../../src/train/types.js';
import { mulberry32, randomInt } from '../../src/util/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    models: { type: 'string', default: 'small-cnn,resnet8' },
    shapes: { type: 'string', default: '28x28x1,32x32x3' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '3' },
  },
});

const backend = await initBackend({ prefer: values.backend as BackendName, env: {} });
const batchSize = Number(values.batch);
const steps = Number(values.steps);
const rows: {
  model: string;
  input: string;
  stepMs: number;
  kernels: { name: string; ms: number; share: number }[];
}[] = [];

for (const architecture of values.models.split(',') as Architecture[]) {
  for (const shapeText of values.shapes.split(',')) {
    const shape = parseShape(shapeText);
    const rng = mulberry32(1);
    const size = shape.height * shape.width * shape.channels;
    const batch: TrainBatch = {
      ids: Array.from({ length: batchSize }, (_, i) => String(i)),
      images: Uint8Array.from({ length: batchSize * size }, () => randomInt(rng, 256)),
      labels: Int32Array.from({ length: batchSize }, () => randomInt(rng, 10)),
      shape,
    };
    const model = createModel({ architecture, inputShape: shape, numClasses: 10, seed: 1 });
    const optimizer = createOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9 });
    trainStep(model, optimizer, batch, crossEntropyObjective); // warm-up: kernel set-up, first allocations
    const totals = new Map<string, number>();
    let wall = 0;
    for (let s = 0; s < steps; s++) {
      const started = performance.now();
      const info = await tf.profile(() => {
        trainStep(model, optimizer, batch, crossEntropyObjective);
      });
      wall += performance.now() - started;
      for (const k of info.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        totals.set(k.name, (totals.get(k.name) ?? 0) + ms);
      }
    }
    const kernelTotal = [...totals.values()].reduce((a, b) => a + b, 0);
    const kernels = [...totals.entries()]
      .map(([name, ms]) => ({ name, ms: ms / steps, share: kernelTotal ? ms / kernelTotal : 0 }))
      .sort((a, b) => b.ms - a.ms);
    rows.push({ model: architecture, input: formatShape(shape), stepMs: wall / steps, kernels });
    model.dispose();
    optimizer.dispose();
  }
}

const result = {
  benchmark: 'kernel-profile',
  machine: {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    tfjs: tf.version.tfjs,
    date: new Date().toISOString(),
  },
  backend: { name: backend.name, threads: backend.threads },
  batch: batchSize,
  steps,
  note: 'Per-step milliseconds per kernel, summed over the kernels the step ran (tf.profile; profiling adds overhead, so stepMs is above the plain step time).',
  rows,
};
const out = join(ROOT, 'bench', 'results', 'kernel-profile.json');
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
for (const row of rows) {
  console.log(
    `\n${row.model} ${row.input}, ${backend.name}: ${row.stepMs.toFixed(0)} ms per step (batch ${batchSize}, profiled)`,
  );
  for (const k of row.kernels.slice(0, 8)) {
    console.log(
      `  ${k.name.padEnd(28)} ${k.ms.toFixed(1).padStart(8)} ms  ${(k.share * 100).toFixed(1).padStart(5)}%`,
    );
  }
}
console.log(`\nwritten: ${out}`);
