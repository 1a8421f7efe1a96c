/**
 * Peak memory of training: `npm run bench:memory`.
 *
 * For each model and input shape, a fresh process (so peaks do not carry over) builds the model and
 * one batch, records its peak resident set size, trains `--steps` steps (batch 128, SGD with
 * momentum, the same loop as bench:train) and records the peak again; the same for the PyTorch peer
 * (bench/train/torch_peer.py --memory-steps). The growth is what training itself costs; the total
 * includes each runtime (Node + tfjs + wasm, Python + PyTorch). Writes
 * bench/results/epoch-memory.json and prints a table.
 *
 * Options: --models a,b (default small-cnn,resnet8), --shapes s,t (default 28x28x1,32x32x3),
 * --steps N (default 20), --batch N (default 128), --threads a,b (default 1 and every core: tfjs splits
 * each batch across that many threads with `createDataParallel`, its workers' memory counted in the
 * same process; PyTorch runs with as many threads). Internal: --child runs one measurement.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SELF = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'small-cnn,resnet8' },
    shapes: { type: 'string', default: '28x28x1,32x32x3' },
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: [...new Set([1, availableParallelism()])].join(',') },
    child: { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);

/** Peak resident set size of this process so far, in MiB. */
function peakMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function child(): Promise<void> {
  const { initBackend } = await import('../../src/train/backend.js');
  const { createModel } = await import('../../src/train/models/createModel.js');
  const { parseShape } = await import('../../src/data/imageShape.js');
  const { createOptimizer } = await import('../../src/train/optim.js');
  const { trainStep } = await import('../../src/train/trainStep.js');
  const { crossEntropyObjective } = await import('../../src/train/losses.js');
  const { createDataParallel } = await import('../../src/train/parallel/dataParallel.js');
  const { mulberry32 } = await import('../../src/util/random.js');
  const backend = await initBackend({ prefer: 'wasm', env: {} });
  const shape = parseShape(values.shapes);
  const architecture = values.models as 'small-cnn' | 'resnet8';
  const model = createModel({ architecture, inputShape: shape, numClasses: 10, seed: 1 });
  const optimizer = createOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false });
  const rng = mulberry32(1);
  const size = shape.height * shape.width * shape.channels;
  const rows = {
    ids: Array.from({ length: batch }, (_, i) => `r${i}`),
    images: Uint8Array.from({ length: batch * size }, () => Math.floor(rng() * 256)),
    labels: Int32Array.from({ length: batch }, () => Math.floor(rng() * 10)),
    shape,
  };
  const parallel = await createDataParallel(model, { threads: Number(values.threads) });
  const before = peakMb();
  for (let s = 0; s < steps; s++) trainStep(model, optimizer, rows, crossEntropyObjective, { parallel });
  await parallel.dispose();
  // The wasm heap only grows: its size is the most tfjs ever held at once.
  const heapMb = (tf.engine().backend as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8
    ?.byteLength;
  console.log(
    JSON.stringify({
      backend: backend.name,
      threads: parallel.replicas,
      model: architecture,
      input: values.shapes,
      steps,
      peakBeforeMb: before,
      peakAfterMb: peakMb(),
      // This thread's heap only: each worker has one of its own (in the peak RSS, not here).
      wasmHeapMb: heapMb === undefined ? null : heapMb / 2 ** 20,
    }),
  );
}

function run(command: string, args: readonly string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd: ROOT, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        reject(new Error(`${command} ${args.join(' ')} failed: ${err?.message ?? ''} ${stderr.slice(-500)}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const threads of values.threads.split(',').map(Number)) {
    for (const model of values.models.split(',')) {
      for (const shape of values.shapes.split(',')) {
        const common = [`--models=${model}`, `--shapes=${shape}`, `--batch=${batch}`];
        const tfjs = await run(process.execPath, [
          '--import',
          'tsx',
          SELF,
          '--child',
          ...common,
          `--steps=${steps}`,
          `--threads=${threads}`,
        ]);
        const torch = await run('/usr/bin/python3', [
          join(ROOT, 'bench', 'train', 'torch_peer.py'),
          `--threads=${threads}`,
          ...common,
          `--memory-steps=${steps}`,
        ]).catch((err: unknown) => ({ error: String(err) }));
        rows.push({ threads, model, input: shape, tfjs, torch });
        const growth = (r: Record<string, unknown>) =>
          typeof r.peakAfterMb === 'number' && typeof r.peakBeforeMb === 'number'
            ? `${(r.peakAfterMb - r.peakBeforeMb).toFixed(0)} MiB growth, ${r.peakAfterMb.toFixed(0)} MiB peak`
            : 'n/a';
        console.log(`${threads} thread(s) ${model} ${shape}: tfjs ${growth(tfjs)}; PyTorch ${growth(torch)}`);
      }
    }
  }
  const out = join(ROOT, 'bench', 'results', 'epoch-memory.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify(
      {
        benchmark: 'epoch-memory',
        command: 'npm run bench:memory',
        machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
        date: new Date().toISOString(),
        batch,
        steps,
        rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`written: ${out}`);
}

if (values.child) await child();
else await main();
