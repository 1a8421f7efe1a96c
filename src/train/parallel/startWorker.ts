import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Starts a Node worker on a module of this package, given by the URL of its compiled `.js` file.
 *
 * <span class="informal">From the built package (`dist/`) the `.js` file runs as it is. When this code
 * itself runs from the TypeScript sources (tests, benchmarks under tsx or vitest) there is no `.js`
 * file: the worker then loads the `.ts` file next to where the `.js` would be, through tsx's loader,
 * which a worker does not inherit from the thread that starts it.</span>
 *
 * @example
 * ```ts
 * const worker = startWorker(new URL('./replicaWorker.js', import.meta.url), data);
 * ```
 * @param entry - URL of the module's `.js` file, resolved against the caller's `import.meta.url`.
 * @param workerData - passed to the worker as `workerData` (structured clone; SharedArrayBuffers are shared).
 * @returns the worker, started.
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry, { workerData });
  const source = new URL(entry.href.replace(/\.js$/, '.ts'));
  const boot = `import(${JSON.stringify(tsxLoader())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Where tsx's ESM loader API is. `import.meta.resolve` (Node ≥ 20.6) picks its `import` build; vitest
 * does not provide it, but runs from the repository root, where the bare name resolves.
 */
function tsxLoader(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === 'function') return resolve('tsx/esm/api');
  // Fail here, clearly, rather than inside the worker when tsx is not installed.
  createRequire(import.meta.url).resolve('tsx/esm/api');
  return 'tsx/esm/api';
}
