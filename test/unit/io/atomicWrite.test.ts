import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, IoError } from '../../../src/errors.js';
import { temporaryPathFor, writeAtomically, writeFileAtomically } from '../../../src/io/atomicWrite.js';
import { listDataFiles } from '../../../src/io/listDataFiles.js';
import { rejection } from '../../helpers/errors.js';
import { useTempDir } from '../../helpers/tempDir.js';

const tmp = useTempDir('atomic-');

describe('temporaryPathFor', () => {
  it('names a hidden .tmp- file in the same folder, different on every call', () => {
    const target = '/data/out/report.json';
    const a = temporaryPathFor(target);
    const b = temporaryPathFor(target);
    // Same folder, so the final rename stays on one file system and is atomic.
    expect(dirname(a)).toBe('/data/out');
    // Hidden and marked .tmp-, so folder scans (listDataFiles, Spark, pyarrow) skip it.
    expect(basename(a).startsWith('.')).toBe(true);
    expect(basename(a)).toContain('.tmp-');
    expect(a).not.toBe(b);
  });
});

describe('writeAtomically', () => {
  it('writes the content under the target name and leaves nothing else', async () => {
    const dir = await tmp.sub('ok');
    const target = join(dir, 'a.json');
    await writeFileAtomically(target, '{"a":1}');
    expect(await readFile(target, 'utf8')).toBe('{"a":1}');
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('replaces an existing file', async () => {
    const dir = await tmp.sub('replace');
    const target = join(dir, 'a.bin');
    await writeFile(target, 'old');
    await writeFileAtomically(target, Uint8Array.of(1, 2, 3));
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
  });

  it('never shows readers a partial file while writing', async () => {
    const dir = await tmp.sub('partial');
    const target = join(dir, 'part-0.parquet');
    await writeAtomically(target, async (tmpPath) => {
      await writeFile(tmpPath, 'PAR1 half written');
      // The target does not exist yet, and a folder scan does not pick up the temporary file.
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
      const err = await rejection(listDataFiles(dir));
      expect(err.code).toBe(ErrorCode.EmptyDataset);
      await writeFile(tmpPath, 'PAR1 whole PAR1');
    });
    expect(await readFile(target, 'utf8')).toBe('PAR1 whole PAR1');
  });

  it('removes the temporary file and keeps the old target when the producer fails midway', async () => {
    const dir = await tmp.sub('fails');
    const target = join(dir, 'a.parquet');
    await writeFile(target, 'previous version');
    const boom = new Error('disk on fire');
    const err = await rejection(
      writeAtomically(target, async (tmpPath) => {
        await writeFile(tmpPath, 'half');
        throw boom;
      }),
    );
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(err.message).toContain(target);
    expect(err.message).toContain('disk on fire');
    expect(err.cause).toBe(boom);
    expect(await readdir(dir)).toEqual(['a.parquet']);
    expect(await readFile(target, 'utf8')).toBe('previous version');
  });

  it('passes an IoError from the producer through unchanged', async () => {
    const dir = await tmp.sub('ioerror');
    const own = new IoError(ErrorCode.WriteFailed, 'cannot encode', { location: { file: 'x' } });
    const err = await rejection(
      writeAtomically(join(dir, 'a.parquet'), async () => {
        throw own;
      }),
    );
    expect(err).toBe(own);
  });

  it('removes the temporary file when the final rename fails', async () => {
    const dir = await tmp.sub('rename');
    // A non-empty folder where the file should go: the rename over it fails after the content was written.
    const target = join(dir, 'out.parquet');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    const err = await rejection(writeFileAtomically(target, 'content'));
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(err.message).toContain(target);
    expect(await readdir(dir)).toEqual(['out.parquet']);
    expect(await readdir(target)).toEqual(['keep']);
  });

  it('reports a parent that is a file as an IoError naming the target', async () => {
    const dir = await tmp.sub('parent');
    await writeFile(join(dir, 'file'), 'x');
    const target = join(dir, 'file', 'sub', 'out.json');
    const err = await rejection(writeFileAtomically(target, '{}'));
    expect(err).toBeInstanceOf(IoError);
    expect(err.code).toBe(ErrorCode.WriteFailed);
    expect(err.location).toEqual({ file: target });
    expect(await readdir(dir)).toEqual(['file']);
  });
});
