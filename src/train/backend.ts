import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { describeError, ErrorCode, TrainError, UsageError } from '../errors.js';
import { BACKEND_NAMES } from './backendNames.js';
import type { BackendInfo, BackendName } from './types.js';
import { silenceCpuAdvice } from './wasm/kernelUtils.js';
import { registerWasmKernels } from './wasm/registerWasmKernels.js';

export { BACKEND_NAMES } from './backendNames.js';

/**
 * Environment variable that picks the backend when `prefer` is not given (or is `auto`).
 *
 * <span class="informal">Takes the same values as `--backend`: `auto` or one of
 * {@link BACKEND_NAMES}. Empty means unset.</span>
 *
 * @example
 * ```ts
 * await initBackend({ env: { [BACKEND_ENV_VAR]: 'cpu' } }); // as `ABL_BACKEND=cpu abl-audit ...`
 * ```
 * @see initBackend
 */
export const BACKEND_ENV_VAR = 'ABL_BACKEND';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * The backend to use (the CLI's `--backend`), or `auto` for the best that loads. Overrides
   * `ABL_BACKEND`. A named backend that cannot load is an error, never a silent fallback.
   */
  readonly prefer?: BackendName | 'auto' | undefined;
  /**
   * Threads to ask the backend for. Passed to the wasm backend before it starts (tfjs ignores it
   * under Node, where it always runs wasm on one thread); the tensorflow backends use all cores.
   */
  readonly threads?: number | undefined;
  /** Receives the one line saying which backend was chosen (and why others were not). */
  readonly log?: ((line: string) => void) | undefined;
  /** Where to read `ABL_BACKEND` from; `process.env` unless given (tests pass their own). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** The outcome of looking for a tfjs-node package without loading it. See {@link checkTfjsNodePackage}. */
export type TfjsNodeCheck =
  | { readonly ok: true; readonly dir: string; readonly version: string }
  | { readonly ok: false; readonly reason: string };

/** Packages that provide the two native backends, which tfjs registers as `tensorflow` either way. */
const NATIVE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const satisfies Partial<Record<BackendName, string>>;

type Attempt =
  | {
      readonly ok: true;
      readonly tfBackend: string;
      readonly threads: number;
      readonly versions: Record<string, string>;
    }
  | { readonly ok: false; readonly reason: string };

/** Finished (or running) initialisations, by request (`auto` or a backend name). */
const initialised = new Map<string, Promise<BackendInfo>>();
/** Initialisations run one at a time: each ends with a global `tf.setBackend`. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Chooses, loads and activates the tfjs backend that training runs on, and says which it is.
 *
 * <span class="informal">In `auto` mode tries tensorflow-gpu, tensorflow, wasm and cpu in that order
 * and takes the first that loads, reporting the choice in one line through `log` (for example
 * `backend: wasm (tfjs-node not installed; see README for GPU)`). `prefer`, else `ABL_BACKEND`, names
 * one backend instead; if it cannot load, this rejects with a {@link TrainError} saying why. The
 * tfjs-node packages are checked for their native addon before they are imported, since importing one
 * without it fails after printing about 150 warnings. On wasm, abl-audit's training kernels are
 * registered before this resolves. Idempotent: the same request returns the same info object without
 * loading anything again (re-activating the backend if another call switched away from it).</span>
 *
 * @example
 * ```ts
 * const info = await initBackend({ prefer: 'auto', log: (line) => process.stderr.write(`${line}\n`) });
 * info.name; // 'wasm' where tfjs-node is not installed
 * ```
 * @see BackendInfo
 * @see registerWasmKernels
 * @param options - backend preference, threads, and where the info line goes.
 * @returns what was chosen, the tfjs versions in use, and why earlier candidates were passed over.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const request = resolveRequest(options);
  const threads = validThreads(options.threads);
  const run = queue.then(async () => {
    const known = initialised.get(request.name);
    if (known !== undefined) {
      const info = await known;
      // Another request may have switched tfjs to a different backend since.
      if (tf.getBackend() !== info.tfBackend) await tf.setBackend(info.tfBackend);
      return info;
    }
    const pending = choose(request, threads, options.log);
    initialised.set(request.name, pending);
    try {
      return await pending;
    } catch (err) {
      // A failed request may succeed later (say, after installing tfjs-node in a long-lived process).
      initialised.delete(request.name);
      throw err;
    }
  });
  queue = run.catch(() => undefined);
  return run;
}

/**
 * Looks for an installed tfjs-node package and its native addon, without importing it.
 *
 * <span class="informal">Importing `@tensorflow/tfjs-node` without its addon (installed with
 * `--ignore-scripts`, or its download failed) throws only after registering its kernels, which prints
 * about 150 "already registered" warnings. The addon lives at `lib/napi-v<N>/tfjs_binding.node` in the
 * package folder, so its absence can be seen on disk first.</span>
 *
 * @example
 * ```ts
 * const check = checkTfjsNodePackage('@tensorflow/tfjs-node');
 * if (!check.ok) console.error(check.reason); // '@tensorflow/tfjs-node is not installed'
 * ```
 * @see initBackend
 * @param packageName - `@tensorflow/tfjs-node` or `@tensorflow/tfjs-node-gpu`.
 * @param from - the file (path or URL) from which to resolve the package; this module by default.
 * @returns the package folder and version, or why it cannot be used.
 */
export function checkTfjsNodePackage(
  packageName: string,
  from: string | URL = import.meta.url,
): TfjsNodeCheck {
  let manifestPath: string;
  try {
    manifestPath = createRequire(from).resolve(`${packageName}/package.json`);
  } catch {
    return { ok: false, reason: `${packageName} is not installed` };
  }
  const dir = dirname(manifestPath);
  const libDir = join(dir, 'lib');
  const addonDirs = existsSync(libDir) ? readdirSync(libDir).filter((name) => /^napi-v\d+$/.test(name)) : [];
  if (!addonDirs.some((name) => existsSync(join(libDir, name, 'tfjs_binding.node')))) {
    return {
      ok: false,
      reason: `${packageName} is installed without its native addon (no lib/napi-v*/tfjs_binding.node: its install script did not run or could not download libtensorflow)`,
    };
  }
  return { ok: true, dir, version: packageVersion(manifestPath) };
}

interface Request {
  /** `auto` or the backend asked for. */
  readonly name: BackendName | 'auto';
  /** Who asked, for messages: `prefer`, `ABL_BACKEND`, or nobody (auto). */
  readonly source: 'prefer' | typeof BACKEND_ENV_VAR | undefined;
}

function resolveRequest(options: InitBackendOptions): Request {
  if (options.prefer !== undefined && options.prefer !== 'auto') {
    return { name: validName(options.prefer, 'prefer'), source: 'prefer' };
  }
  const fromEnv = (options.env ?? process.env)[BACKEND_ENV_VAR]?.trim();
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv !== 'auto') {
    return { name: validName(fromEnv, BACKEND_ENV_VAR), source: BACKEND_ENV_VAR };
  }
  return { name: 'auto', source: undefined };
}

function validName(value: string, source: string): BackendName {
  const found = BACKEND_NAMES.find((name) => name === value);
  if (found === undefined) {
    throw new UsageError(
      `unknown backend '${value}' in ${source}; valid backends: auto, ${BACKEND_NAMES.join(', ')}`,
    );
  }
  return found;
}

function validThreads(threads: number | undefined): number | undefined {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new UsageError(`threads must be a whole number of at least 1, got ${threads}`);
  }
  return threads;
}

async function choose(
  request: Request,
  threads: number | undefined,
  log: ((line: string) => void) | undefined,
): Promise<BackendInfo> {
  const candidates = request.name === 'auto' ? BACKEND_NAMES : [request.name];
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of candidates) {
    const attempt = await tryBackend(name, threads);
    if (!attempt.ok) {
      if (request.source !== undefined) {
        const asked = request.source === 'prefer' ? 'was requested' : `was requested by ${BACKEND_ENV_VAR}`;
        throw new TrainError(
          ErrorCode.BackendUnavailable,
          `backend '${name}' ${asked} but cannot be used: ${attempt.reason}`,
        );
      }
      skipped.push({ name, reason: attempt.reason });
      continue;
    }
    const info: BackendInfo = Object.freeze({
      name,
      tfBackend: attempt.tfBackend,
      threads: attempt.threads,
      versions: Object.freeze({ ...tf.version, ...attempt.versions }),
      skipped: Object.freeze(skipped.map((entry) => Object.freeze({ ...entry }))),
    });
    log?.(infoLine(info, request, threads));
    return info;
  }
  // Unreachable in practice: the cpu backend is pure JavaScript and always loads.
  throw new TrainError(
    ErrorCode.BackendUnavailable,
    `no backend could be loaded: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

async function tryBackend(name: BackendName, threads: number | undefined): Promise<Attempt> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryNative(NATIVE_PACKAGES[name]);
    case 'wasm':
      return tryWasm(threads);
    case 'cpu':
      return tryCpu();
  }
}

async function tryNative(packageName: string): Promise<Attempt> {
  const check = checkTfjsNodePackage(packageName);
  if (!check.ok) return check;
  try {
    await import(packageName);
  } catch (err) {
    return { ok: false, reason: `${packageName} failed to load: ${describeError(err)}` };
  }
  // tfjs-node registers its backend with the @tensorflow/tfjs-core it depends on; a second copy of
  // tfjs-core (mismatched versions) would leave ours without it.
  if (tf.findBackendFactory('tensorflow') === null) {
    return {
      ok: false,
      reason: `${packageName} ${check.version} loaded, but registered its backend with another copy of @tensorflow/tfjs-core (install the same version as @tensorflow/tfjs ${tf.version.tfjs})`,
    };
  }
  if (!(await startQuietly('tensorflow'))) {
    return { ok: false, reason: `${packageName} loaded, but its tensorflow backend failed to start` };
  }
  return {
    ok: true,
    tfBackend: 'tensorflow',
    // libtensorflow sizes its thread pools to the machine unless told otherwise.
    threads: availableParallelism(),
    versions: { [packageName.replace('@tensorflow/', '')]: check.version },
  };
}

let wasmPathsSet = false;

async function tryWasm(threads: number | undefined): Promise<Attempt> {
  let distDir: string;
  try {
    distDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm cannot be resolved: ${describeError(err)}` };
  }
  const binaries = ['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm.wasm'];
  if (!binaries.some((file) => existsSync(join(distDir, file)))) {
    return { ok: false, reason: `no .wasm binaries in ${distDir}` };
  }
  if (!wasmPathsSet) {
    // The backend finds its .wasm files next to its own script; pointing it at node_modules explicitly
    // keeps that working when this code is bundled. Has no effect once the backend has started.
    try {
      setWasmPaths(`${distDir}/`);
      if (threads !== undefined) setThreadsCount(threads);
    } catch {
      // setWasmPaths throws only after a failed start; the attempt below reports that.
    }
    wasmPathsSet = true;
  }
  if (!(await startQuietly('wasm'))) return { ok: false, reason: 'the wasm backend failed to start' };
  // Before any gradient: as shipped, wasm lacks Conv2DBackpropFilter and cannot train a conv net.
  registerWasmKernels();
  return {
    ok: true,
    tfBackend: 'wasm',
    // tfjs turns wasm threads off under Node (tfjs#3830): this reports 1 there.
    threads: Math.max(1, getThreadsCount()),
    versions: { 'tfjs-backend-wasm': version_wasm },
  };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await startQuietly('cpu'))) return { ok: false, reason: 'the cpu backend failed to start' };
  silenceCpuAdvice(tf.backend());
  return { ok: true, tfBackend: 'cpu', threads: 1, versions: {} };
}

/** `tf.setBackend`, with a thrown error (rather than tfjs's `false`) counted as a failure too. */
async function startQuietly(tfBackend: string): Promise<boolean> {
  try {
    return await tf.setBackend(tfBackend);
  } catch {
    return false;
  }
}

function infoLine(info: BackendInfo, request: Request, threads: number | undefined): string {
  const notes: string[] = [];
  if (request.source === 'prefer') notes.push('requested');
  else if (request.source === BACKEND_ENV_VAR) notes.push(`from ${BACKEND_ENV_VAR}`);
  else if (info.skipped.length > 0) notes.push(...skippedNotes(info.skipped), 'see README for GPU');
  if (threads !== undefined && threads > info.threads) {
    notes.push(
      `${info.threads} thread${info.threads === 1 ? '' : 's'}: tfjs runs ${info.name} single-threaded here`,
    );
  }
  return notes.length > 0 ? `backend: ${info.name} (${notes.join('; ')})` : `backend: ${info.name}`;
}

function skippedNotes(skipped: BackendInfo['skipped']): string[] {
  const absent = (entry: BackendInfo['skipped'][number]) =>
    entry.name in NATIVE_PACKAGES && entry.reason.endsWith('is not installed');
  const present = skipped.filter((entry) => !absent(entry));
  // Said briefly: most users have neither optional package, and one that is simply not installed is
  // noise next to the reason the other failed.
  const notes = present.map(note);
  return present.some((entry) => entry.name in NATIVE_PACKAGES)
    ? notes
    : ['tfjs-node not installed', ...notes];
}

function note(entry: BackendInfo['skipped'][number]): string {
  return `${entry.name}: ${entry.reason}`;
}

function packageVersion(manifestPath: string): string {
  try {
    const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest !== null && typeof manifest === 'object' && 'version' in manifest) {
      return String(manifest.version);
    }
  } catch {
    // A package.json we cannot read does not stop the backend from loading; it only lacks a version.
  }
  return 'unknown';
}
