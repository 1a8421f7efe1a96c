import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/tempDir.js';

// The layering rules of .dependency-cruiser.cjs, run by `npm run deps` in `npm test`, checked on small
// made-up trees: they must fail on an upward import and a cycle, and pass on a tree that respects them.
const tmp = useTempDir('layering-');
const CONFIG = resolve('.dependency-cruiser.cjs');
const DEPCRUISE = resolve('node_modules/.bin/depcruise');
const run = promisify(execFile);

async function cruise(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const root = await tmp.sub();
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
  );
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  try {
    const { stdout } = await run(DEPCRUISE, ['src', '--config', CONFIG], { cwd: root });
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

describe('the dependency rules', () => {
  it('pass a tree whose imports flow downward', async () => {
    const r = await cruise({
      'src/errors.ts': 'export const E = 1;\n',
      'src/io/read.ts': "import { E } from '../errors.js';\nexport const r = E;\n",
      'src/train/fit.ts': "import { r } from '../io/read.js';\nexport const f = r;\n",
      'src/pipeline/run.ts': "import { f } from '../train/fit.js';\nexport const p = f;\n",
    });
    expect(r.output).toContain('no dependency violations');
    expect(r.ok).toBe(true);
  });

  it('fail an upward import, naming the rule and both files', async () => {
    const r = await cruise({
      'src/abl/stage.ts': 'export type Stage = number;\n',
      'src/report/schema.ts': "import type { Stage } from '../abl/stage.js';\nexport type S = Stage;\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('layer-report: src/report/schema.ts → src/abl/stage.ts');
  });

  it('fail an import cycle, even of types only', async () => {
    const r = await cruise({
      'src/train/a.ts': "import type { B } from './b.js';\nexport type A = B | 1;\n",
      'src/train/b.ts': "import type { A } from './a.js';\nexport type B = A | 2;\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('no-circular');
  });

  it('fail a folder that is not a declared layer', async () => {
    const r = await cruise({
      'src/errors.ts': 'export const E = 1;\n',
      'src/misc/x.ts': "import { E } from '../errors.js';\nexport const x = E;\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('no-unknown-layer');
  });
});
