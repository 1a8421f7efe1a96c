/**
 * Training throughput benchmark: images/second of a training step, inference and per-example loss at
 * batch 128, for SmallCNN, ResNet-8 (with batch norm) and WRN-16-1 on 28×28×1 and 32×32×3 inputs, on
 * every tfjs backend that loads here (wasm also with its batches split across 2+ threads, the
 * product's data-parallel training), next to the same models in PyTorch (CPU) at 1 and 2 threads.
 *
 * Run with `npm run bench:train` (flags after `--`, see `--help`). Writes
 * `bench/results/train-throughput.json` and prints a table with the tfjs/PyTorch ratio per row.
 *
 * What is timed: compute, on the product's own code paths. A training step is `trainStep` (the step
 * every stage trains with: per-example cross-entropy, its mean, gradients, SGD with momentum), on a
 * batch of uint8 pixels made once per row (its conversion to a float tensor, about 0.3 ms, is in the
 * time); PyTorch gets float tensors made once. Per-example loss is `scoreBatch` (losses, predicted
 * classes and confidences in one pass); inference is `model.predict`. With `--threads N` (N > 1) the
 * step and the scoring pass are split across N threads by `createDataParallel` (inference rows are
 * skipped there: that pass is the loss row's). Every timed batch ends by reading its result back, so
 * asynchronous backends are timed in full.
 * Each row: `--warmup` untimed batches, then `--reps` repetitions of `--steps` batches; the median
 * repetition is reported. A row that fails (a backend without a gradient kernel) is recorded with its
 * error and the others still run.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { formatShape, type ImageShape, imageSize, parseShape } from '../../src/data/imageShape.js';
import { describeError } from '../../src/errors.js';
import { BACKEND_NAMES, initBackend } from '../../src/train/backend.js';
import { crossEntropyObjective } from '../../src/train/losses.js';
import { type Architecture, createModel } from '../../src/train/models/createModel.js';
import { createOptimizer } from '../../src/train/optim.js';
import { createDataParallel, type DataParallel } from '../../src/train/parallel/dataParallel.js';
import { scoreBatch } from '../../src/train/scoreLosses.js';
import { trainStep } from '../../src/train/trainStep.js';
import type { BackendName, TrainBatch } from '../../src/train/types.js';
import { registerWasmKernels, restoreStockKernels } from '../../src/train/wasm/registerWasmKernels.js';
import { mulberry32 } from '../../src/util/random.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TORCH_PEER = join(ROOT, 'bench', 'train', 'torch_peer.py');
const PYTHON = '/usr/bin/python3';
/** torch_peer.py's exit code when torch cannot be imported. */
const EXIT_NO_TORCH = 3;
const NUM_CLASSES = 10;

type Step = 'train' | 'inference' | 'loss';
const STEPS: readonly Step[] = ['train', 'inference', 'loss'];
const BENCH_MODELS: readonly Architecture[] = ['small-cnn', 'resnet8', 'wrn-16-1'];

interface Config {
  readonly batch: number;
  readonly warmup: number;
  readonly reps: number;
  readonly steps: number;
  readonly models: readonly Architecture[];
  readonly shapes: readonly ImageShape[];
  readonly backends: readonly string[] | null;
  readonly cpuTrain: boolean;
  readonly torch: boolean;
  readonly torchThreads: readonly number[];
  readonly out: string;
  readonly json: boolean;
  /** Also time wasm with these of abl-audit's kernel replacements swapped back to tfjs's stock ones. */
  readonly baselineKernels: readonly string[] | null;
  /** Thread counts to time tfjs's wasm and cpu backends at (data-parallel above 1). */
  readonly tfjsThreads: readonly number[];
}

/** One measured (or failed, or skipped) row. */
interface Row {
  readonly framework: 'tfjs' | 'torch';
  /** The tfjs backend, or `torch-<n>thr`. */
  readonly backend: string;
  readonly threads: number;
  readonly model: string;
  readonly input: string;
  readonly step: Step;
  readonly imagesPerSecond?: number;
  readonly repetitions?: readonly number[];
  readonly error?: string;
  readonly skipped?: string;
}

interface TorchRun {
  readonly version?: string;
  readonly rows: readonly Row[];
  /** Why PyTorch was not measured. */
  readonly skipped?: string;
}

interface TorchOutput {
  readonly torch?: string;
  readonly threads?: number;
  readonly skipped?: string;
  readonly rows?: readonly {
    model: string;
    input: string;
    step: Step;
    imagesPerSecond?: number;
    repetitions?: number[];
    error?: string;
  }[];
}

const USAGE = `usage: npm run bench:train -- [options]
  --batch N           images per batch (default 128)
  --warmup N          untimed batches per row (default 2)
  --reps N            timed repetitions, median reported (default 3)
  --steps N           batches per repetition (default 3)
  --models a,b        architectures (default small-cnn,resnet8,wrn-16-1)
  --shapes s,t        input shapes HxWxC (default 28x28x1,32x32x3)
  --backends a,b      backends (default: every one that loads: tensorflow-gpu, tensorflow, wasm, cpu)
  --cpu-train         also time training on the cpu backend (about 1.6 images/s: minutes per row)
  --no-torch          skip the PyTorch peer
  --torch-threads a,b PyTorch thread counts (default 1,2)
  --threads a,b       thread counts for tfjs wasm/cpu: above 1, batches are split across that many
                      threads (abl-audit's data-parallel training) (default 1 and every core)
  --baseline-kernels a,b|all
                      also time wasm with these replacement kernels (BatchMatMul, MaxPoolGrad, Sum,
                      Conv2DBackpropInput, 'FusedBatchNorm gradient') swapped back to tfjs's own,
                      as backend 'wasm-baseline': what the replacements gain, measured in one run
  --out PATH          results file (default bench/results/train-throughput.json)
  --json              print the results JSON on stdout instead of the table`;

function parseConfig(argv: readonly string[]): Config | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      batch: { type: 'string', default: '128' },
      warmup: { type: 'string', default: '2' },
      reps: { type: 'string', default: '3' },
      steps: { type: 'string', default: '3' },
      models: { type: 'string', default: BENCH_MODELS.join(',') },
      shapes: { type: 'string', default: '28x28x1,32x32x3' },
      backends: { type: 'string' },
      'cpu-train': { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      'torch-threads': { type: 'string', default: '1,2' },
      threads: { type: 'string', default: [...new Set([1, availableParallelism()])].join(',') },
      out: { type: 'string', default: join(ROOT, 'bench', 'results', 'train-throughput.json') },
      json: { type: 'boolean', default: false },
      'baseline-kernels': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const int = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} must be an integer ≥ ${min}, got '${text}'`);
    return n;
  };
  const list = (text: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const models = list(values.models);
  for (const m of models) {
    if (!(BENCH_MODELS as readonly string[]).includes(m)) {
      throw new Error(`--models: unknown '${m}'; valid: ${BENCH_MODELS.join(', ')}`);
    }
  }
  return {
    batch: int('batch', values.batch, 1),
    warmup: int('warmup', values.warmup, 0),
    reps: int('reps', values.reps, 1),
    steps: int('steps', values.steps, 1),
    models: models as Architecture[],
    shapes: list(values.shapes).map((s) => parseShape(s, '--shapes entry')),
    backends: values.backends === undefined ? null : list(values.backends),
    cpuTrain: values['cpu-train'],
    torch: !values['no-torch'],
    torchThreads: list(values['torch-threads']).map((t) => int('torch-threads', t, 1)),
    tfjsThreads: list(values.threads).map((t) => int('threads', t, 1)),
    out: values.out,
    json: values.json,
    baselineKernels:
      values['baseline-kernels'] === undefined
        ? null
        : values['baseline-kernels'] === 'all'
          ? []
          : list(values['baseline-kernels']),
  };
}

// ---------------------------------------------------------------------------------------------------
// tfjs

/** A backend that could be set up, or why not. */
interface BackendSetup {
  readonly name: BackendName;
  /** What the rows call it, when not `name` (`wasm-baseline`). */
  readonly label?: string;
  /** Replacement kernels swapped back to tfjs's stock ones for these rows (empty = all). */
  readonly stockKernels?: readonly string[];
  /** Threads each batch is split across (`createDataParallel`), when more than one. */
  readonly dataParallel?: number;
  /** The tfjs backend id it runs as (`tensorflow`, `wasm`, `cpu`). */
  readonly tfBackend?: string;
  readonly threads: number;
  readonly skipped?: string;
}

/**
 * Loads every backend asked for (all of abl-audit's by default) through the product's own
 * `initBackend`, which also registers the wasm training kernels. A backend that does not load here
 * (tfjs-node cannot install without network) is a skip, not a failure.
 */
async function loadBackends(wanted: readonly string[] | null): Promise<BackendSetup[]> {
  const setups: BackendSetup[] = [];
  const seen = new Set<string>();
  for (const name of wanted ?? BACKEND_NAMES) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--backends: unknown '${name}'; valid: ${BACKEND_NAMES.join(', ')}`);
    }
    const backend = name as BackendName;
    try {
      // An empty env: ABL_BACKEND must not turn this request into another backend.
      const info = await initBackend({ prefer: backend, env: {} });
      // tensorflow-gpu and tensorflow both run as tfjs's `tensorflow`: time it once.
      if (seen.has(info.tfBackend)) {
        setups.push({ name: backend, threads: 0, skipped: `same tfjs backend (${info.tfBackend}) as above` });
        continue;
      }
      seen.add(info.tfBackend);
      setups.push({ name: backend, tfBackend: info.tfBackend, threads: info.threads });
    } catch (err) {
      setups.push({ name: backend, threads: 0, skipped: firstLine(err) });
    }
  }
  return setups;
}

function firstLine(err: unknown): string {
  return describeError(err).split('\n')[0] ?? '';
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function measure(
  run: () => Promise<void>,
  config: Config,
): Promise<{ median: number; reps: number[] }> {
  for (let i = 0; i < config.warmup; i++) await run();
  const reps: number[] = [];
  for (let r = 0; r < config.reps; r++) {
    const t0 = performance.now();
    for (let s = 0; s < config.steps; s++) await run();
    reps.push((config.steps * config.batch) / ((performance.now() - t0) / 1000));
  }
  return { median: median(reps), reps };
}

/** A batch of random uint8 pixels and labels, as the training stages receive rows. */
function randomBatch(n: number, shape: ImageShape, seed: number): TrainBatch {
  const rng = mulberry32(seed);
  const images = new Uint8Array(n * imageSize(shape));
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(rng() * 256);
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * NUM_CLASSES));
  return { ids: Array.from({ length: n }, (_, i) => `r${i}`), images, labels, shape };
}

async function benchTfjsRows(
  setup: BackendSetup,
  config: Config,
  log: (line: string) => void,
): Promise<Row[]> {
  const rows: Row[] = [];
  const threads = setup.dataParallel ?? setup.threads;
  const base = { framework: 'tfjs' as const, backend: setup.label ?? setup.name, threads };
  const everyRow = (skipped: string) => {
    for (const model of config.models)
      for (const shape of config.shapes)
        for (const step of STEPS) rows.push({ ...base, model, input: formatShape(shape), step, skipped });
  };
  if (setup.skipped !== undefined) {
    everyRow(setup.skipped);
    return rows;
  }
  try {
    await initBackend({ prefer: setup.name, env: {} });
  } catch (err) {
    everyRow(`cannot select backend: ${firstLine(err)}`);
    return rows;
  }
  // After initBackend, which registers abl-audit's kernels.
  if (setup.stockKernels !== undefined) {
    const restored = restoreStockKernels(setup.stockKernels.length > 0 ? setup.stockKernels : undefined);
    log(`  ${setup.label ?? setup.name}: stock ${restored.join(', ')}`);
  }
  for (const architecture of config.models) {
    for (const shape of config.shapes) {
      const input = formatShape(shape);
      const batch = randomBatch(config.batch, shape, 1);
      const x = tf.tensor4d(new Float32Array(batch.images), [
        config.batch,
        shape.height,
        shape.width,
        shape.channels,
      ]);
      const model = createModel({ architecture, inputShape: shape, numClasses: NUM_CLASSES, seed: 1 });
      // The ABL reference trains with SGD, momentum 0.9; the PyTorch peer does the same.
      const optimizer = createOptimizer({ kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false });
      let parallel: DataParallel | undefined;
      if (setup.dataParallel !== undefined) {
        parallel = await createDataParallel(model, { threads: setup.dataParallel, log });
        if (parallel.replicas !== setup.dataParallel) {
          await parallel.dispose();
          everyRow(`not split across threads: ${parallel.reason}`);
          return rows;
        }
      }
      const runs: Record<Step, () => Promise<void>> = {
        // trainStep reads its loss back, so the step is complete when it returns.
        train: async () => {
          trainStep(model, optimizer, batch, crossEntropyObjective, { parallel });
        },
        inference: async () => {
          const logits = model.predict(x, { batchSize: config.batch }) as tf.Tensor;
          await logits.data();
          logits.dispose();
        },
        loss: async () => {
          await scoreBatch(model, batch, { batchSize: config.batch, parallel });
        },
      };
      for (const step of STEPS) {
        const row = { ...base, model: architecture, input, step };
        if (step === 'train' && setup.name === 'cpu' && !config.cpuTrain) {
          rows.push({
            ...row,
            skipped:
              'the cpu backend trains conv nets at ~1.6 images/s (minutes per row); pass --cpu-train to time it',
          });
          continue;
        }
        if (step === 'inference' && parallel !== undefined) {
          rows.push({ ...row, skipped: "split across threads, inference is the loss row's pass" });
          continue;
        }
        const before = tf.memory().numTensors;
        try {
          const { median: ips, reps } = await measure(runs[step], config);
          rows.push({ ...row, imagesPerSecond: ips, repetitions: reps });
          log(`  tfjs ${base.backend} ${architecture} ${input} ${step}: ${ips.toFixed(0)} images/s`);
        } catch (err) {
          rows.push({ ...row, error: `error: ${firstLine(err)}` });
          log(`  tfjs ${base.backend} ${architecture} ${input} ${step}: error: ${firstLine(err)}`);
        }
        // Optimizer slots are expected to stay (freed with the optimizer); anything else is a leak
        // that would slow the next rows, so say so.
        const left = tf.memory().numTensors - before - (step === 'train' ? model.trainableWeights.length : 0);
        if (left > 0) log(`    (${left} tensors left by this row)`);
      }
      await parallel?.dispose();
      optimizer.dispose();
      model.dispose();
      x.dispose();
    }
  }
  if (setup.stockKernels !== undefined) registerWasmKernels();
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// PyTorch

function runPython(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [TORCH_PEER, ...args],
      { maxBuffer: 16 << 20, timeout: 30 * 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
  });
}

async function benchTorch(config: Config, log: (line: string) => void): Promise<TorchRun> {
  if (!config.torch) return { rows: [], skipped: 'skipped by --no-torch' };
  const rows: Row[] = [];
  let version: string | undefined;
  for (const threads of config.torchThreads) {
    const args = [
      `--threads=${threads}`,
      `--batch=${config.batch}`,
      `--warmup=${config.warmup}`,
      `--reps=${config.reps}`,
      `--steps=${config.steps}`,
      `--models=${config.models.join(',')}`,
      `--shapes=${config.shapes.map(formatShape).join(',')}`,
      `--classes=${NUM_CLASSES}`,
    ];
    let result: { code: number; stdout: string; stderr: string };
    try {
      result = await runPython(args);
    } catch (err) {
      return { rows, skipped: `cannot run ${PYTHON}: ${firstLine(err)}` };
    }
    let out: TorchOutput;
    try {
      out = JSON.parse(result.stdout) as TorchOutput;
    } catch {
      return {
        rows,
        skipped: `torch_peer.py failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop()}`,
      };
    }
    if (result.code === EXIT_NO_TORCH || out.skipped !== undefined) {
      return { rows, skipped: out.skipped ?? 'PyTorch is not installed' };
    }
    version = out.torch;
    for (const r of out.rows ?? []) {
      const row: Row = { framework: 'torch', backend: `torch-${threads}thr`, threads, ...r };
      rows.push(row);
      log(
        `  torch ${threads}thr ${r.model} ${r.input} ${r.step}: ${r.imagesPerSecond === undefined ? r.error : `${r.imagesPerSecond.toFixed(0)} images/s`}`,
      );
    }
  }
  return version === undefined ? { rows } : { version, rows };
}

// ---------------------------------------------------------------------------------------------------
// Report

async function machine(torchVersion: string | undefined): Promise<Record<string, string | number | null>> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  let vectorUnits: string | null = null;
  try {
    const info = await readFile('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
    // A virtual CPU's name hides its generation; its vector units decide PyTorch's speed (oneDNN uses
    // AVX-512 where present; wasm SIMD is 128-bit everywhere).
    const flags = /^flags\s*:\s*(.+)$/m.exec(info)?.[1]?.split(/\s+/) ?? [];
    vectorUnits = ['avx2', 'fma', 'avx512f', 'avx512_bf16'].filter((f) => flags.includes(f)).join(',');
  } catch {
    // Not Linux: keep os.cpus()'s name.
  }
  return {
    cpuModel,
    vectorUnits,
    cores: cpus().length,
    node: process.version,
    tfjs: tf.version.tfjs ?? tf.version['tfjs-core'] ?? 'unknown',
    torch: torchVersion ?? null,
    platform: `${process.platform}-${process.arch}`,
    // Other work on the machine skews every figure: the 1-minute load average when the run ended.
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
    date: new Date().toISOString(),
  };
}

function formatRate(row: Row | undefined): string {
  if (row === undefined) return '-';
  if (row.imagesPerSecond !== undefined) return row.imagesPerSecond.toFixed(0);
  if (row.error !== undefined) return 'error';
  return 'skipped';
}

function ratio(a: Row, b: Row | undefined): string {
  if (a.imagesPerSecond === undefined || b?.imagesPerSecond === undefined) return '-';
  return (a.imagesPerSecond / b.imagesPerSecond).toFixed(2);
}

function table(
  tfjsRows: readonly Row[],
  torch: TorchRun,
  setups: readonly BackendSetup[],
  config: Config,
): string {
  const torchOf = (row: Row, threads: number) =>
    torch.rows.find(
      (t) => t.threads === threads && t.model === row.model && t.input === row.input && t.step === row.step,
    );
  const threads = config.torchThreads;
  const header = [
    'backend',
    'model',
    'input',
    'step',
    'tfjs img/s',
    ...threads.map((t) => `torch ${t}thr`),
    ...threads.map((t) => `tfjs/torch ${t}thr`),
  ];
  const lines = [header];
  // Backends that did not load have only skipped rows: they are named in the notes instead.
  const shown = tfjsRows.filter(
    (row) => setups.find((s) => (s.label ?? s.name) === row.backend)?.skipped === undefined,
  );
  for (const row of shown) {
    lines.push([
      row.backend,
      row.model,
      row.input,
      row.step,
      formatRate(row),
      ...threads.map((t) => formatRate(torchOf(row, t))),
      ...threads.map((t) => ratio(row, torchOf(row, t))),
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const notes = new Set<string>();
  for (const setup of setups) {
    if (setup.skipped !== undefined) notes.add(`${setup.name}: skipped: ${setup.skipped}`);
  }
  for (const row of shown) {
    if (row.error !== undefined) notes.add(`${row.backend} ${row.step}: ${row.error}`);
    if (row.skipped !== undefined) notes.add(`${row.backend} ${row.step}: skipped: ${row.skipped}`);
  }
  if (torch.skipped !== undefined) notes.add(`PyTorch: skipped: ${torch.skipped}`);
  return [
    render(header),
    render(widths.map((w) => '-'.repeat(w))),
    ...lines.slice(1).map(render),
    '',
    ...[...notes].map((n) => `note: ${n}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2));
  if (config === null) {
    console.log(USAGE);
    return;
  }
  // Progress goes to stderr so that --json output stays clean.
  const log = (line: string) => console.error(line);

  const setups = await loadBackends(config.backends);
  for (const s of setups) {
    log(
      `tfjs ${s.name}: ${s.skipped === undefined ? `${s.tfBackend}, ${s.threads} thread(s)` : `skipped: ${s.skipped}`}`,
    );
  }
  const wasm = setups.find((s) => s.name === 'wasm' && s.skipped === undefined);
  if (config.baselineKernels !== null && wasm !== undefined) {
    setups.push({ ...wasm, label: 'wasm-baseline', stockKernels: config.baselineKernels });
  }
  // wasm and cpu compute on one thread each; above that, batches are split across threads.
  const splitsOf = (setup: BackendSetup) => (setup.name === 'wasm' || setup.name === 'cpu') && !setup.label;
  const timed = setups.filter((setup) => !splitsOf(setup) || config.tfjsThreads.includes(1));
  for (const threads of config.tfjsThreads.filter((t) => t > 1)) {
    for (const setup of setups.filter((x) => splitsOf(x) && x.skipped === undefined)) {
      timed.push({ ...setup, label: `${setup.name}-${threads}thr`, dataParallel: threads });
    }
  }
  const tfjsRows: Row[] = [];
  for (const setup of timed) tfjsRows.push(...(await benchTfjsRows(setup, config, log)));
  log('PyTorch peer:');
  const torch = await benchTorch(config, log);
  if (torch.skipped !== undefined) log(`  skipped: ${torch.skipped}`);

  const result = {
    benchmark: 'train-throughput',
    machine: await machine(torch.version),
    config: {
      batch: config.batch,
      warmup: config.warmup,
      reps: config.reps,
      steps: config.steps,
      models: config.models,
      shapes: config.shapes.map(formatShape),
      torchThreads: config.torchThreads,
      tfjsThreads: config.tfjsThreads,
      baselineKernels: config.baselineKernels,
      optimizer: 'SGD momentum 0.9, lr 0.01',
    },
    backends: timed,
    tfjs: tfjsRows,
    torch: { version: torch.version ?? null, skipped: torch.skipped ?? null, rows: torch.rows },
  };
  await mkdir(dirname(config.out), { recursive: true });
  await writeFile(config.out, `${JSON.stringify(result, null, 2)}\n`);
  if (config.json) console.log(JSON.stringify(result));
  else {
    console.log(table(tfjsRows, torch, timed, config));
    console.log(`\nwritten: ${relative(process.cwd(), config.out)}`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench:train failed: ${describeError(err)}`);
  process.exitCode = 1;
});
