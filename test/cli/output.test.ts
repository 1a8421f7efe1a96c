import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CliOutput, createCliOutput, type LogFormat } from '../../src/cli/output.js';
import { formatDuration, formatProgressLine } from '../../src/cli/progress.js';
import { reportError } from '../../src/cli/reportError.js';
import { DataError, ErrorCode, UsageError } from '../../src/errors.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for the escape character is the point
const ANSI = /\x1b\[/;

/** A writable stream that records what is written; `tty` makes it look like a terminal. */
function sink(tty = false) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (tty) {
    stream.isTTY = true;
    stream.columns = 100;
  }
  const chunks: string[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b.toString('utf8')));
  return {
    stream,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

/** A clock the test moves by hand (milliseconds). */
function clock(start = Date.UTC(2025, 0, 2, 3, 4, 5)) {
  let t = start;
  return { now: () => t, advance: (seconds: number) => (t += seconds * 1000) };
}

function setup(format: LogFormat, options: { quiet?: boolean; tty?: boolean } = {}) {
  const out = sink();
  const err = sink(options.tty);
  const time = clock();
  const output: CliOutput = createCliOutput({
    stdout: out.stream,
    stderr: err.stream,
    quiet: options.quiet ?? false,
    format,
    now: time.now,
  });
  return { output, out, err, time };
}

/** Runs a 3000-row step: 1200 rows after 12 s, 3000 after 30 s. */
function runStep(output: CliOutput, time: ReturnType<typeof clock>) {
  const p = output.progress('isolation epoch 1/2', { total: 3000, unit: 'rows' });
  time.advance(2);
  p.update(100); // under 5 s since the start: no line
  time.advance(10);
  p.update(1200);
  time.advance(18);
  p.update(3000);
  p.stop();
  p.stop(); // a second stop does nothing
}

describe('formatting helpers', () => {
  it('formats durations in whole seconds, minutes and hours', () => {
    expect(formatDuration(18.4)).toBe('18 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(7380)).toBe('2 h 03 min');
  });

  it('formats a progress line with percentage, elapsed time and ETA, or without a total', () => {
    const state = {
      label: 'isolation epoch 1/2',
      done: 1200,
      total: 3000,
      unit: 'rows',
      elapsedSeconds: 12,
      etaSeconds: 18,
    };
    expect(formatProgressLine(state)).toBe('isolation epoch 1/2: 1200/3000 rows (40%, 12.0 s, ETA 18 s)');
    expect(formatProgressLine({ ...state, total: null, etaSeconds: null })).toBe(
      'isolation epoch 1/2: 1200 rows (12.0 s)',
    );
  });
});

describe('createCliOutput, text on a pipe', () => {
  it('prints a progress line every 5 s with an ETA, and a last line at stop', () => {
    const { output, err, out, time } = setup('text');
    runStep(output, time);
    expect(err.lines()).toEqual([
      'isolation epoch 1/2: 1200/3000 rows (40%, 12.0 s, ETA 18 s)',
      'isolation epoch 1/2: 3000/3000 rows (100%, 30.0 s)',
    ]);
    expect(out.text()).toBe('');
  });

  it('prints the last line at stop when the last update was not printed, without an ETA', () => {
    const { output, err, time } = setup('text');
    const p = output.progress('reading', { unit: 'rows' });
    time.advance(6);
    p.update(500);
    time.advance(1);
    p.update(700);
    p.stop();
    expect(err.lines()).toEqual(['reading: 500 rows (6.0 s)', 'reading: 700 rows (7.0 s)']);
  });

  it('takes a total given by a later update', () => {
    const { output, err, time } = setup('text');
    const p = output.progress('poisoning');
    time.advance(5);
    p.update(10, 40);
    p.stop();
    expect(err.lines()).toEqual(['poisoning: 10/40 (25%, 5.0 s, ETA 15 s)']);
  });

  it('prints nothing at stop for a step that did nothing (a failed start leaves just the error)', () => {
    const { output, err } = setup('text');
    output.progress('reading').stop();
    expect(err.text()).toBe('');
  });

  it('prints info and warnings on stderr, the result on stdout with one trailing newline', () => {
    const { output, err, out } = setup('text');
    output.info('isolation epoch 1/2: LGA objective 0.1234', { epoch: 1 });
    output.warn('gate failed: fail_if_quarantine_fraction_above: 1.00% > 0.50%');
    output.result('audited 3000 rows', { rows: 3000 });
    output.result('second line\n', {});
    expect(err.lines()).toEqual([
      'isolation epoch 1/2: LGA objective 0.1234',
      'gate failed: fail_if_quarantine_fraction_above: 1.00% > 0.50%',
    ]);
    expect(out.text()).toBe('audited 3000 rows\nsecond line\n');
    expect(output.format).toBe('text');
    expect(output.quiet).toBe(false);
  });
});

describe('createCliOutput, text with --quiet', () => {
  it('drops info, keeps warnings and the result', () => {
    const { output, err, out } = setup('text', { quiet: true });
    output.info('stage chatter');
    output.warn('gate failed: something');
    output.result('the result', {});
    expect(err.lines()).toEqual(['gate failed: something']);
    expect(out.text()).toBe('the result\n');
  });

  it('prints progress only every 30 s and nothing at stop, even on a terminal', () => {
    for (const tty of [false, true]) {
      const { output, err, time } = setup('text', { quiet: true, tty });
      const p = output.progress('unlearning epoch 1/4', { total: 6000, unit: 'rows' });
      time.advance(20);
      p.update(1000);
      time.advance(11);
      p.update(2000);
      time.advance(10);
      p.update(3000);
      time.advance(19);
      p.update(5000);
      p.stop();
      expect(err.lines(), `tty ${tty}`).toEqual([
        'unlearning epoch 1/4: 2000/6000 rows (33%, 31.0 s, ETA 1 min 02 s)',
      ]);
      expect(err.text()).not.toMatch(ANSI);
    }
  });
});

describe('createCliOutput, text on a terminal', () => {
  it('draws a bar with the label and ETA, and prints info above it', () => {
    const { output, err, time } = setup('text', { tty: true });
    const p = output.progress('quarantine', { total: 100, unit: 'rows' });
    time.advance(1);
    p.update(50);
    output.info('a stage message');
    p.update(100);
    p.stop();
    const text = err.text();
    expect(text).toContain('quarantine [');
    expect(text).toContain('ETA');
    expect(text).toContain('100/100 rows');
    // The message starts on a cleared line, so it is not glued onto the bar.
    expect(text).toContain('\r\x1b[2Ka stage message\n');
  });
});

describe('createCliOutput, json', () => {
  const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('writes every stderr line as one JSON object: log events with their fields', () => {
    const { output, err, time } = setup('json');
    output.info('isolation epoch 1/2: LGA objective 0.1234', { epoch: 1, objective: 0.1234, event: 'x' });
    time.advance(1);
    output.warn('gate failed: g', { gate: 'g' });
    const [info, warn] = parse(err.lines());
    expect(info).toEqual({
      time: '2025-01-02T03:04:05.000Z',
      level: 'info',
      event: 'log',
      message: 'isolation epoch 1/2: LGA objective 0.1234',
      epoch: 1,
      objective: 0.1234,
    });
    expect(Object.keys(info ?? {}).slice(0, 4)).toEqual(['time', 'level', 'event', 'message']);
    expect(warn).toMatchObject({ time: '2025-01-02T03:04:06.000Z', level: 'warn', event: 'log', gate: 'g' });
  });

  it('writes progress events every 5 s and a final one at stop', () => {
    const { output, err, time } = setup('json');
    runStep(output, time);
    const events = parse(err.lines());
    expect(events).toEqual([
      {
        time: '2025-01-02T03:04:17.000Z',
        level: 'info',
        event: 'progress',
        step: 'isolation epoch 1/2',
        done: 1200,
        total: 3000,
        unit: 'rows',
        elapsedSeconds: 12,
        etaSeconds: 18,
        final: false,
      },
      expect.objectContaining({ done: 3000, elapsedSeconds: 30, etaSeconds: 0, final: false }),
      expect.objectContaining({ event: 'progress', done: 3000, final: true }),
    ]);
  });

  it('has null total and ETA while the total is unknown', () => {
    const { output, err, time } = setup('json');
    const p = output.progress('reading');
    time.advance(5);
    p.update(10);
    p.stop();
    expect(parse(err.lines())[0]).toMatchObject({ total: null, unit: null, etaSeconds: null, final: false });
  });

  it('writes the result as one JSON line on stdout', () => {
    const { output, out } = setup('json');
    output.result('human text, not printed', { status: 'passed', exitCode: 0, rows: 3000n });
    expect(out.lines()).toHaveLength(1);
    expect(JSON.parse(out.text())).toEqual({ event: 'result', status: 'passed', exitCode: 0, rows: 3000 });
  });

  it('with --quiet drops log and progress events but keeps warnings and the result', () => {
    const { output, err, out, time } = setup('json', { quiet: true });
    output.info('chatter');
    runStep(output, time);
    output.warn('gate failed: g');
    output.result('x', { ok: true });
    expect(parse(err.lines())).toEqual([
      expect.objectContaining({ level: 'warn', message: 'gate failed: g' }),
    ]);
    expect(JSON.parse(out.text())).toEqual({ event: 'result', ok: true });
  });

  it('never writes an ANSI escape, even on a terminal or for a message holding one', () => {
    const { output, err, out, time } = setup('json', { tty: true });
    output.info('\x1b[31mred\x1b[39m');
    runStep(output, time);
    output.result('\x1b[1mbold\x1b[22m', { text: '\x1b[1mbold\x1b[22m' });
    expect(err.text()).not.toMatch(ANSI);
    expect(out.text()).not.toMatch(ANSI);
    expect(parse(err.lines())[0]).toMatchObject({ message: '\x1b[31mred\x1b[39m' });
  });
});

describe('reportError', () => {
  const now = () => Date.UTC(2025, 0, 2, 3, 4, 5);

  it('prints our errors as one text line with the code, and maps them to exit codes', () => {
    const err = sink();
    const code = reportError(
      new DataError(ErrorCode.BadLabel, 'label -1 is negative', {
        location: { file: 'data/train.parquet', column: 'label', row: 1234 },
      }),
      err.stream,
    );
    expect(code).toBe(1);
    expect(err.text()).toBe(
      "error ABL205: file data/train.parquet, column 'label', row 1234: label -1 is negative\n",
    );
    expect(reportError(new UsageError('bad'), sink().stream)).toBe(2);
  });

  it('prints one JSON line with code, location and exit code in json format', () => {
    const err = sink();
    const code = reportError(
      new DataError(ErrorCode.BadLabel, 'label -1 is negative', {
        location: { file: 'data/train.parquet', column: 'label', row: 1234 },
      }),
      err.stream,
      { format: 'json', now },
    );
    expect(code).toBe(1);
    expect(err.lines()).toHaveLength(1);
    expect(JSON.parse(err.text())).toEqual({
      time: '2025-01-02T03:04:05.000Z',
      level: 'error',
      event: 'error',
      code: 'ABL205',
      message: "file data/train.parquet, column 'label', row 1234: label -1 is negative",
      file: 'data/train.parquet',
      column: 'label',
      row: 1234,
      exitCode: 1,
    });
  });

  it('reports anything else as an internal error ABL000 with its stack', () => {
    const text = sink();
    expect(reportError(new TypeError('boom'), text.stream)).toBe(1);
    expect(text.text()).toMatch(/^internal error ABL000: TypeError: boom\n\s+at /);
    const json = sink();
    expect(reportError(new TypeError('boom'), json.stream, { format: 'json', now })).toBe(1);
    const line = JSON.parse(json.text()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'error',
      event: 'error',
      code: 'ABL000',
      message: 'boom',
      exitCode: 1,
    });
    expect(line.stack).toMatch(/^TypeError: boom\n\s+at /);
  });
});
