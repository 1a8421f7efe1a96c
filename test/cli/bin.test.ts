import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The installed entry point, as a user runs it: dist/ is built by `npm ci` (prepare) and `npm test`.
const BIN = new URL('../../bin/abl-audit.js', import.meta.url).pathname;

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

describe('bin/abl-audit.js', () => {
  it('is built', () => {
    expect(existsSync(new URL('../../dist/cli/main.js', import.meta.url))).toBe(true);
  });

  it('prints help listing the commands and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}inspect +show rows/m);
  });

  it('sets the process exit code: 2 for usage errors, 1 for data errors', () => {
    const usage = run('inspect', 'x.parquet', '--no-such-flag');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--no-such-flag');
    const missing = run('inspect', '/definitely/not/here.parquet');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /error ABL101: file \/definitely\/not\/here\.parquet: no such file or folder/,
    );
  });
});
