import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `--help`, `--version` and usage errors must not load the training, data or report code: TensorFlow.js,
// Arrow, Parquet and Vega take seconds to load, and every command class is registered (so imported) on
// every run. Command files import only what parsing and help need; `run()` loads the rest. This test
// records every module a CLI process loads and fails on any dependency but the parser's own. It looks at
// what is loaded, not at how long it takes: timings belong in benchmarks.
//
// The CLI runs from src/ through tsx, so the test sees the code as it is now, not a stale dist/.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = pathToFileURL(join(ROOT, 'src/cli/main.ts')).href;

/** The dependencies parsing and help may load: the parser, its validators, and the progress bars. */
const STARTUP_PACKAGES = new Set(['clipanion', 'typanion', 'cli-progress']);

// Node's module hooks see every ES module and every CommonJS module an `import` loads; `require()` calls
// inside CommonJS bypass them (Node 20), so the preload also lists require's cache when the process ends.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n');
  return nextLoad(url, context);
}
`;
const preload = (hooks: string) => `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
const log = process.env.ABL_TEST_MODULE_LOG;
register(${JSON.stringify(hooks)}, { data: { log } });
process.on('exit', () => {
  const required = Object.keys(createRequire(import.meta.url).cache);
  appendFileSync(log, required.map((path) => pathToFileURL(path).href + '\\n').join(''));
});
`;

let dir: string;
let preloadUrl: string;
let forbidden: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'abl-cli-lazy-'));
  const hooks = join(dir, 'hooks.mjs');
  const start = join(dir, 'preload.mjs');
  await writeFile(hooks, HOOKS);
  await writeFile(start, preload(pathToFileURL(hooks).href));
  preloadUrl = pathToFileURL(start).href;
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  forbidden = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).filter(
    (name) => !STARTUP_PACKAGES.has(name),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Traced {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** URLs of every module the process loaded. */
  readonly modules: readonly string[];
}

/** Runs `script` (an ES module's source) in a fresh Node process that records the modules it loads. */
function traced(name: string, script: string, args: readonly string[]): Promise<Traced> {
  const log = join(dir, `${name.replace(/[^\w-]+/g, '_')}.log`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      // `--` keeps the CLI's own flags (`--version`, `--help`) from being read as Node's.
      ['--import', 'tsx', '--import', preloadUrl, '--input-type=module', '--eval', script, '--', ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ABL_TEST_MODULE_LOG: log } },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        readFile(log, 'utf8').then(
          (text) => resolve({ status, stdout, stderr, modules: text.split('\n').filter(Boolean) }),
          reject,
        );
      },
    );
  });
}

/** The forbidden dependencies among `modules`, each with the first of its files that was loaded. */
function heavyModules(modules: readonly string[]): string[] {
  const found = new Map<string, string>();
  for (const url of modules) {
    const name = forbidden.find((dep) => url.includes(`/node_modules/${dep}/`));
    if (name !== undefined && !found.has(name)) found.set(name, url);
  }
  return [...found].map(([name, url]) => `${name} (${url})`);
}

/** Runs the CLI's `main` as bin/abl-audit.js does, on the sources. */
const runMain = (args: readonly string[]) =>
  traced(
    args.join(' ') || 'no-args',
    `const { main } = await import(${JSON.stringify(MAIN)}); process.exitCode = await main(process.argv.slice(1));`,
    args,
  );

describe('the CLI loads no training, data or report code until a command runs', () => {
  it('the recorder sees a heavy dependency when one is loaded', async () => {
    // Without this, a recorder that saw nothing would pass every case below.
    const createModel = pathToFileURL(join(ROOT, 'src/train/models/createModel.ts')).href;
    const r = await traced('control', `await import(${JSON.stringify(createModel)});`, []);
    expect(r.status, r.stderr).toBe(0);
    expect(r.modules).toContain(MAIN.replace('cli/main.ts', 'train/models/createModel.ts'));
    expect(heavyModules(r.modules).join('\n')).toContain('@tensorflow/tfjs');
  });

  // Every command class is imported by main.ts whatever the arguments, so each case below covers every
  // command file; the cases differ in what clipanion and main do with them.
  it.each([
    { args: ['--version'], status: 0, out: /^\d+\.\d+\.\d+/ },
    { args: ['--help'], status: 0, out: /Usage: abl-audit <command>/ },
    { args: [], status: 0, out: /Usage: abl-audit <command>/ },
    { args: ['audit', '--help'], status: 0, out: /--unlearn-mode/ },
    { args: ['import', '--help'], status: 0, out: /import fashion-mnist/ },
    { args: ['audit'], status: 2, err: /missing argument <dataset>/ },
    { args: ['audit', 'x', '--out', 'y', '--seed', 'abc'], status: 2, err: /--seed/ },
    { args: ['trian'], status: 2, err: /unknown command 'trian'; did you mean 'train'/ },
  ])('abl-audit $args', async ({ args, status, out, err }) => {
    const r = await runMain(args);
    expect(r.status, r.stderr).toBe(status);
    if (out) expect(r.stdout).toMatch(out);
    if (err) expect(r.stderr).toMatch(err);
    expect(r.modules).toContain(MAIN);
    const heavy = heavyModules(r.modules);
    expect(
      heavy,
      `loaded at start-up: ${heavy.join(', ')}; import what needs them in the command's run() with \`await import()\`, not at the top of its file`,
    ).toEqual([]);
  });
});
