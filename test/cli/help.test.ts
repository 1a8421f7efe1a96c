import { describe, expect, it } from 'vitest';
import { createCli } from '../../src/cli/main.js';
import { runCli } from './runCli.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for the escape character is the point
const ANSI = /\x1b\[/;

/** Every registered command's words (`audit`, `import idx`, ...), from clipanion's definitions. */
const COMMANDS = createCli()
  .definitions()
  .map((d) => d.path.replace(/^abl-audit\s*/, ''))
  .filter((name) => name !== '' && !name.startsWith('-'));

describe('abl-audit --help', () => {
  it('knows the commands it should list', () => {
    expect(COMMANDS).toEqual(
      expect.arrayContaining(['inspect', 'import idx', 'poison', 'train', 'audit', 'run']),
    );
  });

  it('lists every registered command on one line each, with examples, options and exit codes', async () => {
    const run = await runCli('--help');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const help = run.stdout;
    expect(help).toMatch(/^abl-audit \S+: Find backdoor-poisoned rows/);
    expect(help).toContain('Usage: abl-audit <command> [options]');
    for (const name of COMMANDS) expect(help).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(help).toMatch(/^ {2}audit +find backdoor-poisoned rows/m);
    for (const section of [
      'Audit',
      'Data',
      'Training',
      'Red team',
      'Examples',
      'Global options',
      'Exit codes',
    ]) {
      expect(help).toMatch(new RegExp(`^${section}$`, 'm'));
    }
    expect(help).toContain('$ abl-audit import fashion-mnist --out data/fmnist');
    expect(help).toContain('$ abl-audit run pipelines/demo.yaml');
    expect(help).toContain('--log-format text|json');
    for (const code of ['0', '1', '2', '3', '130'])
      expect(help).toMatch(new RegExp(`^ {2}${code} +\\w`, 'm'));
    expect(help).toContain('Run `abl-audit <command> --help`');
    // Not clipanion's wall of every option of every command.
    expect(help).not.toContain('--isolation-ratio');
    expect(help).not.toMatch(ANSI);
  });

  it('lists the report example only when a report command is registered', async () => {
    const help = (await runCli('--help')).stdout;
    expect(help.includes('$ abl-audit report ')).toBe(COMMANDS.includes('report'));
  });

  it('prints the same for -h and for no arguments at all', async () => {
    const help = (await runCli('--help')).stdout;
    for (const argv of [['-h'], []]) {
      const run = await runCli(...argv);
      expect(run.code, argv.join(' ')).toBe(0);
      expect(run.stdout).toBe(help);
    }
  });

  it('lists a group of commands for `abl-audit import --help`', async () => {
    const run = await runCli('import', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: abl-audit import <command> [options]');
    expect(run.stdout).toMatch(/^ {2}import idx +import an MNIST-format/m);
    expect(run.stdout).not.toMatch(/^ {2}audit /m);
  });
});

describe('abl-audit COMMAND --help', () => {
  it.each(COMMANDS)('%s --help shows its options and at least one example', async (name) => {
    const run = await runCli(...name.split(' '), '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Options');
    expect(run.stdout).toContain('--log-format');
    expect(run.stdout).toContain('Examples');
    expect(run.stdout).toContain(`$ abl-audit ${name} `);
    expect(run.stdout).not.toMatch(ANSI);
  });

  it('audit --help shows the demo example', async () => {
    const run = await runCli('audit', '--help');
    expect(run.stdout).toContain(
      '$ abl-audit audit fixtures/fashion-mnist-badnets/train.parquet --out out/demo',
    );
  });
});

describe('usage errors: exit 2, naming the flag and what was expected', () => {
  it('an unknown flag', async () => {
    const run = await runCli('inspect', 'x.parquet', '--no-such-flag');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error ABL301: unknown option --no-such-flag\n/);
    expect(run.stderr).toContain('usage: abl-audit inspect <dataset> [options]');
    expect(run.stderr).toContain('Run `abl-audit inspect --help`');
  });

  it('a bad enum value, listing the expected values', async () => {
    const run = await runCli('audit', 'x', '--out', 'o', '--lga', 'bogus');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'error ABL301: Invalid value for --lga: expected one of "per-example" or "batch" (got "bogus")',
    );
    expect(run.stderr).toContain('usage: abl-audit audit <dataset> --out OUT [options]');
  });

  it.each([
    ['--preset', 'fast', '"default" or "paper"'],
    ['--removal', 'drop', '"unlearn", "retrain", or "retrain-unlearn"'],
  ])('a bad %s value, listing the presets or removals', async (flag, value, expected) => {
    const run = await runCli('audit', 'x', '--out', 'o', flag, value);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `error ABL301: Invalid value for ${flag}: expected one of ${expected} (got "${value}")`,
    );
  });

  it('a negative number where a positive integer is expected', async () => {
    const run = await runCli('audit', 'x', '--out', 'o', '--batch-size', '-3');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'Invalid value for --batch-size: expected to be in the [1; 65536] range (got -3)',
    );
  });

  it('a bad --log-format', async () => {
    const run = await runCli('inspect', 'x', '--log-format', 'xml');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'Invalid value for --log-format: expected one of "text" or "json" (got "xml")',
    );
  });

  it.each([
    [['audit', 'x'], 'missing required option --out'],
    [['import', 'idx', '--out', 'o.parquet'], 'missing required options --images, --labels'],
    [['inspect'], 'missing argument <dataset>'],
    [['inspect', 'a', 'b'], "unexpected argument 'b'"],
    [['inspect', 'a', '--rows'], '--rows needs a value'],
    [['aduit', 'x'], "unknown command 'aduit'; did you mean 'audit'?"],
    [['import'], "'import' needs one of: fashion-mnist, idx, cifar10, images"],
    [['--bogus'], 'unknown option --bogus'],
  ])('%j', async (argv, message) => {
    const run = await runCli(...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error ABL301: ${message}`);
    expect(run.stderr).not.toMatch(ANSI);
  });

  it('with --log-format json: one JSON line with code ABL301 and exit code 2', async () => {
    for (const argv of [
      ['audit', 'x', '--out', 'o', '--lga', 'bogus', '--log-format', 'json'],
      ['--log-format=json', 'audit', 'x', '--out', 'o', '--no-such-flag'],
    ]) {
      const run = await runCli(...argv);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.split('\n').filter(Boolean);
      expect(lines, run.stderr).toHaveLength(1);
      const error = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
      expect(error).toMatchObject({
        level: 'error',
        event: 'error',
        code: 'ABL301',
        exitCode: 2,
        command: 'audit',
      });
      expect(typeof error.time).toBe('string');
      expect(error.message).toMatch(/--lga|--no-such-flag/);
    }
  });

  it('accepts a negative value where one is valid (--seed -1)', async () => {
    // Parsing succeeds; the run then fails on the missing file (exit 1), not on the command line.
    const run = await runCli(
      'poison',
      '/definitely/not/here.parquet',
      '--attack',
      'badnets',
      '--rate',
      '0.1',
      '--out',
      '/definitely/not/out.parquet',
      '--seed',
      '-1',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ABL101');
  });
});
