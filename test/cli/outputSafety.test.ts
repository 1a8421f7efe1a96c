import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_DEFAULTS, type AuditConfig } from '../../src/config/auditConfig.js';
import { runAudit } from '../../src/pipeline/runAudit.js';
import type { AuditEvent } from '../../src/report/auditEvents.js';
import { useTempDir } from '../helpers/tempDir.js';
import { writeTinyPoisonedSet } from '../helpers/tinyPoisonedSet.js';
import { runCli } from './runCli.js';

// Issue 14's output-folder cases, on a tiny set: never lose a user's files, never mix two runs, fail
// before any work when the folder cannot take the outputs.
const tmp = useTempDir('output-safety-');
let data: string;
let train: string;
const FAST = ['--isolation-epochs', '1', '--unlearn-epochs', '1', '--batch-size', '32', '--threads', '1'];
const ARGS = [...FAST, '--backend', 'wasm', '--quiet'];

beforeAll(async () => {
  data = join(tmp.path, 'data');
  await mkdir(data);
  train = join(data, 'train.parquet');
  await writeTinyPoisonedSet(train, { rows: 400, classes: 4, side: 8, poisonRate: 0.1, target: 0, seed: 6 });
});

const config = (out: string): AuditConfig => ({
  ...AUDIT_DEFAULTS,
  train,
  out,
  batchSize: 32,
  threads: 1,
  backend: 'wasm',
  isolation: { ...AUDIT_DEFAULTS.isolation, epochs: 1 },
  unlearning: { ...AUDIT_DEFAULTS.unlearning, epochs: 1 },
});

describe('the output folder', () => {
  it('1. refuses a second audit into a folder another one is writing, at once, naming the holder', async () => {
    const out = join(tmp.path, 'shared');
    let second: Awaited<ReturnType<typeof runCli>> | undefined;
    let started: Promise<void> | undefined;
    // While the first audit reads its data, a second one starts on the same folder.
    const onEvent = (e: AuditEvent) => {
      if (e.type === 'phase-started' && e.phase === 'read') {
        started = runCli('audit', train, '--out', out, ...ARGS).then((r) => {
          second = r;
        });
      }
    };
    const first = await runAudit(config(out), { onEvent });
    await started;
    expect(second?.code).toBe(1);
    expect(second?.stderr).toMatch(/error ABL106: file .*shared: in use by another run: pid \d+/);
    // The folder holds the first run, complete.
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).createdAt).toBe(
      first.report.createdAt,
    );
  });

  it('2. refuses a folder holding the user’s own quarantine/ and clean/, deleting nothing; --force writes beside other files', async () => {
    const out = join(tmp.path, 'users');
    await mkdir(join(out, 'quarantine'), { recursive: true });
    await writeFile(join(out, 'quarantine', 'notes.txt'), 'mine');
    await writeFile(join(out, 'README.md'), 'mine too');
    const refused = await runCli('audit', train, '--out', out, ...ARGS);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /error ABL303: .*holds files abl-audit did not write \(README\.md, quarantine\)/,
    );
    expect(await readFile(join(out, 'quarantine', 'notes.txt'), 'utf8')).toBe('mine');
    const forced = await runCli('audit', train, '--out', out, ...ARGS, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(join(out, 'README.md'), 'utf8')).toBe('mine too');
  });

  it('3. keeps the earlier audit whole when a re-run into its folder fails, and `report` renders it', async () => {
    const out = join(tmp.path, 'rerun');
    await runAudit(config(out));
    const before = await readFile(join(out, 'report.json'), 'utf8');
    const parts = await readdir(join(out, 'quarantine'));
    const failing = (e: AuditEvent) => {
      if (e.type === 'phase-started' && e.phase === 'unlearning') throw new Error('failed mid-way');
    };
    await expect(runAudit({ ...config(out), seed: 9 }, { onEvent: failing })).rejects.toThrow(
      'failed mid-way',
    );
    expect(await readFile(join(out, 'report.json'), 'utf8')).toBe(before);
    expect(await readdir(join(out, 'quarantine'))).toEqual(parts);
    expect((await readdir(out)).some((e) => e.startsWith('.abl-staging-'))).toBe(false);
    const page = join(tmp.path, 'rerun.html');
    expect((await runCli('report', out, '--html', page, '--quiet')).code).toBe(0);
  });

  it('4. refuses an output folder that is the input or inside it, before reading anything', async () => {
    for (const out of [data, join(data, 'out')]) {
      const run = await runCli('audit', data, '--out', out, ...ARGS);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/error ABL304: .*the output folder is (the input itself|inside the input)/);
    }
    expect(await readdir(data)).toEqual(['train.parquet']);
  });

  it('5. fails at once on an output path that is a file, or under one; train too, before any epoch', async () => {
    const file = join(tmp.path, 'a-file');
    await writeFile(file, 'x');
    const isFile = await runCli('audit', train, '--out', file, ...ARGS);
    expect(isFile.code).toBe(2);
    expect(isFile.stderr).toMatch(/error ABL305: file .*a-file: the output path is a file/);
    const under = await runCli('audit', train, '--out', join(file, 'out'), ...ARGS);
    expect(under.code).toBe(1);
    expect(under.stderr).toMatch(/error ABL104: .*cannot write here/);
    const trained = await runCli('train', train, '--out', file, '--epochs', '1', '--quiet');
    expect(trained.code).toBe(2);
    expect(trained.stderr).toMatch(/ABL305/);
    expect(trained.stderr).not.toMatch(/backend|epoch 1/);
  });

  it('leaves no folder behind when a fresh run fails before writing anything', async () => {
    const out = join(tmp.path, 'never');
    const small = join(tmp.path, 'small.parquet');
    await writeTinyPoisonedSet(small, { rows: 20, classes: 4, side: 8, poisonRate: 0, target: 0, seed: 1 });
    const run = await runCli('audit', small, '--out', out, ...ARGS);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ABL209/);
    expect(existsSync(out)).toBe(false);
  });
});
