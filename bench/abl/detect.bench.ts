/**
 * `npm run bench:detect -- SOURCE...`: replays the audit's detection (class evidence, two-mode split,
 * verdict) on recorded loss trajectories, without training, so thresholds can be measured against the
 * ground truth on many sets in seconds. A SOURCE is either
 *   - an audit's output folder (its `scores.parquet`) followed by `=DATA`, the audited training data
 *     whose `poisoned` column is the truth (rows in the same order), or
 *   - a JSON dump from `ABL_SIGNALS_DUMP` (`npm run bench:signals`: labels, poisoned, losses per epoch).
 * For each source and each number of epochs E (ABL_DETECT_EPOCHS, comma-separated; default: every
 * prefix), prints each class's evidence, the verdict, the flagged classes and the quarantine's and
 * review band's size, precision and recall. Writes nothing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectPoison } from '../../src/abl/detectPoison.js';
import { scoreRows } from '../../src/abl/scoreRows.js';
import { iterateDataset } from '../../src/io/readDataset.js';

interface Recorded {
  readonly labels: Int32Array;
  readonly poisoned: Uint8Array | null;
  readonly losses: readonly Float32Array[];
}

async function readAudit(out: string, data: string | undefined): Promise<Recorded> {
  const labels: number[] = [];
  const losses: number[][] = [];
  for await (const { batch } of iterateDataset(join(out, 'scores.parquet'))) {
    const label = batch.getChild('label');
    const epochs = batch.schema.fields.filter((f) => f.name.startsWith('loss_epoch_')).length;
    for (let e = 0; e < epochs; e++) {
      const column = batch.getChild(`loss_epoch_${e + 1}`);
      const values = losses[e] ?? [];
      losses[e] = values;
      for (let i = 0; i < batch.numRows; i++) values.push(Number(column?.get(i)));
    }
    for (let i = 0; i < batch.numRows; i++) labels.push(Number(label?.get(i)));
  }
  let poisoned: Uint8Array | null = null;
  if (data) {
    const truth: number[] = [];
    for await (const { batch } of iterateDataset(data)) {
      const column = batch.getChild('poisoned');
      for (let i = 0; i < batch.numRows; i++) truth.push(column?.get(i) === true ? 1 : 0);
    }
    poisoned = Uint8Array.from(truth);
  }
  return { labels: Int32Array.from(labels), poisoned, losses: losses.map((l) => Float32Array.from(l)) };
}

async function readDump(path: string): Promise<Recorded> {
  const dump = JSON.parse(await readFile(path, 'utf8')) as {
    labels: number[];
    poisoned: boolean[];
    losses: number[][];
  };
  return {
    labels: Int32Array.from(dump.labels),
    poisoned: Uint8Array.from(dump.poisoned, (p) => (p ? 1 : 0)),
    losses: dump.losses.map((l) => Float32Array.from(l)),
  };
}

const fmt = (x: number | null, digits = 1) => (x === null ? '—' : x.toFixed(digits));

for (const source of process.argv.slice(2)) {
  const [path, data] = source.split('=') as [string, string | undefined];
  const recorded = path.endsWith('.json') ? await readDump(path) : await readAudit(path, data);
  const total = recorded.losses.length;
  const epochList = process.env.ABL_DETECT_EPOCHS
    ? process.env.ABL_DETECT_EPOCHS.split(',')
        .map(Number)
        .filter((e) => e <= total)
    : Array.from({ length: total }, (_, e) => e + 1);
  const n = recorded.labels.length;
  const truth = recorded.poisoned;
  const poisonRows = truth ? truth.reduce((a, b) => a + b, 0) : 0;
  console.log(`${source}: ${n} rows, ${poisonRows} poisoned, ${total} epochs`);
  for (const epochs of epochList) {
    // The audit's own score and detection, on the first `epochs` epochs.
    const trajectories = {
      ids: Array.from(recorded.labels, (_, i) => String(i)),
      labels: recorded.labels,
      losses: recorded.losses.slice(0, epochs),
    };
    const d = detectPoison(
      recorded.labels,
      scoreRows(trajectories, { method: 'mean-log-loss', isolate: 1 }).score,
    );
    const pr = (call: number) => {
      let size = 0;
      let hit = 0;
      d.calls.forEach((c, i) => {
        if (c >= call) {
          size++;
          hit += truth?.[i] ?? 0;
        }
      });
      return `${size} rows P ${size ? (hit / size).toFixed(2) : '—'} R ${poisonRows ? (hit / poisonRows).toFixed(2) : '—'}`;
    };
    const evidence = d.classes
      .map(
        (c) =>
          `${c.label}:${fmt(c.strength, 2)}/${fmt(c.strengthIndex)}/g${fmt(c.lowIndex)}${c.call === 'flagged' ? '!' : c.call === 'weak' ? '?' : ''}`,
      )
      .join(' ');
    console.log(
      `  E${epochs}: ${d.verdict} [${d.flagged.join(',')}] quarantine ${pr(2)}; +review ${pr(1)} | ${evidence}`,
    );
  }
}
