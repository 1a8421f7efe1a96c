import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The process exit code itself, from the installed entry point (bin/ runs dist/: `npm run build` first,
// as `npm test` does). Exit code 3 (a gate failed) needs a whole audit: it is tested on the real audit
// in test/integration/audit.test.ts ("runs a pipeline file and exits 3 naming the gate that failed"),
// and its JSON result in test/cli/runAuditCommand.test.ts.
const BIN = new URL('../../bin/abl-audit.js', import.meta.url).pathname;
const FIXTURE = new URL('../../fixtures/fashion-mnist/train.parquet', import.meta.url).pathname;
const MISSING = '/definitely/not/here.parquet';

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** The JSON objects of a stream's lines (each line must be one). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('exit codes of bin/abl-audit.js', () => {
  it('0: inspect of the fixture succeeds', () => {
    const r = run('inspect', FIXTURE, '--rows', '1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rows\s+3000 in 1 file/);
  });

  it('0: with --log-format json, the result is one JSON line on stdout and stderr is JSON lines', () => {
    const r = run('inspect', FIXTURE, '--rows', '1', '--log-format', 'json');
    expect(r.status, r.stderr).toBe(0);
    const [result, ...rest] = jsonLines(r.stdout);
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ event: 'result', rows: 3000, labelCounts: expect.any(Array) });
    for (const line of jsonLines(r.stderr)) {
      expect(line).toMatchObject({ time: expect.any(String), level: 'info', event: 'progress' });
    }
  });

  it('1: a missing file, named in a text error line', () => {
    const r = run('inspect', MISSING);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^error ABL101: file \/definitely\/not\/here\.parquet: no such file or folder$/m,
    );
  });

  it('1: a missing file with --log-format json: one JSON error line with code ABL101 and the file', () => {
    const r = run('inspect', MISSING, '--log-format', 'json');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const errors = jsonLines(r.stderr).filter((l) => l.event === 'error');
    expect(errors).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: 'error',
        event: 'error',
        code: 'ABL101',
        message: expect.stringContaining('no such file or folder'),
        file: MISSING,
        exitCode: 1,
      },
    ]);
  });

  it('2: a usage error, in text and in JSON', () => {
    const text = run('inspect', FIXTURE, '--rows', 'many');
    expect(text.status).toBe(2);
    expect(text.stderr).toContain('error ABL301: Invalid value for --rows: expected a number (got "many")');
    const json = run('inspect', FIXTURE, '--bogus', '--log-format', 'json');
    expect(json.status).toBe(2);
    expect(jsonLines(json.stderr)).toEqual([
      expect.objectContaining({ level: 'error', event: 'error', code: 'ABL301', exitCode: 2 }),
    ]);
  });

  it('2: a usage error found by the command itself (a bad --image-shape) is JSON too', () => {
    const r = run('inspect', FIXTURE, '--image-shape', '28by28', '--log-format', 'json');
    expect(r.status).toBe(2);
    const errors = jsonLines(r.stderr).filter((l) => l.event === 'error');
    expect(errors).toEqual([expect.objectContaining({ code: 'ABL301', exitCode: 2 })]);
  });

  it('0: --help and --version', () => {
    expect(run('--help').status).toBe(0);
    const version = run('--version');
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
