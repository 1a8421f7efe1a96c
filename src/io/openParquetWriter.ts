import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type RecordBatch, type Schema, Table, tableToIPC } from 'apache-arrow';
import {
  transformParquetStream,
  type RecordBatch as WasmRecordBatch,
  Table as WasmTable,
} from 'parquet-wasm/node';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { temporaryPathFor, writeFileAtomically } from './atomicWrite.js';
import { encodeParquet, type WriteParquetOptions, writerProperties } from './writeParquet.js';

/** A Parquet file being written batch by batch; see {@link openParquetWriter}. */
export interface ParquetWriter {
  /** Appends a batch (same schema as the first). Resolves once the encoder has taken it. */
  write(batch: RecordBatch): Promise<void>;
  /** Finishes the file and moves it to its final name. Returns the number of rows written. */
  close(): Promise<number>;
  /** Gives up: removes the temporary file; the target is left as it was. */
  abort(): Promise<void>;
}

/**
 * Opens a Parquet file for streaming writes: batches are encoded by arrow-rs as they come and flushed
 * one row group at a time, so a file of any size is written in bounded memory. The bytes go to a
 * temporary name that {@link ParquetWriter.close} renames to `target`; until then readers see nothing.
 *
 * @param target - the `.parquet` path to create or replace.
 * @param schema - the schema to write when no batch comes (an empty file still has columns).
 */
export function openParquetWriter(
  target: string,
  schema: Schema,
  options: WriteParquetOptions = {},
): ParquetWriter {
  const tmp = temporaryPathFor(target);
  const queue = encoderQueue();
  let finished: Promise<void> | null = null;
  let failure: unknown = null;
  let rows = 0;
  let done = false;

  return {
    async write(batch) {
      if (done) throw new IoError(ErrorCode.WriteFailed, 'write after close', { location: { file: target } });
      if (failure) throw writeError(target, failure);
      if (batch.numRows === 0) return;
      const wasm = toWasmBatches(batch);
      if (!finished) {
        finished = encodeToFile(queue.source, target, tmp, schema, options).catch((cause: unknown) => {
          failure = cause;
          queue.release();
        });
      }
      for (const b of wasm) await queue.push(b);
      rows += batch.numRows;
      // Let the file stream's I/O callbacks run: a producer that only awaits promises never yields to
      // the event loop, and the encoded bytes would pile up in memory instead of reaching the disk.
      await yieldToEventLoop();
      if (failure) throw writeError(target, failure);
    },
    async close() {
      if (done) return rows;
      done = true;
      try {
        if (!finished) {
          await writeFileAtomically(target, encodeParquet(new Table(schema), options));
          return 0;
        }
        void queue.push(null);
        await finished;
        if (failure) throw writeError(target, failure);
        await rename(tmp, target);
        return rows;
      } catch (cause) {
        await rm(tmp, { force: true });
        throw writeError(target, cause);
      }
    },
    async abort() {
      done = true;
      if (finished) {
        void queue.push(null);
        await finished;
      }
      await rm(tmp, { force: true });
    },
  };
}

/** The encoder's input: batches handed over one at a time, and `null` to end the file. */
interface EncoderQueue {
  /** What the encoder reads. */
  readonly source: ReadableStream<WasmRecordBatch>;
  /** Queues a batch (or the end); resolves when the encoder has taken it. */
  push(item: WasmRecordBatch | null): Promise<void>;
  /** Resolves a pending push: the encoder has failed and will take nothing more. */
  release(): void;
}

/**
 * A pull source: the encoder asks for the next batch when it is ready, which is our back-pressure, so
 * at most one batch waits in memory beside the one being encoded.
 */
function encoderQueue(): EncoderQueue {
  const queue: (WasmRecordBatch | null)[] = [];
  let deliver: (() => void) | null = null;
  let taken: (() => void) | null = null;
  const source = new ReadableStream<WasmRecordBatch>(
    {
      pull: (controller) =>
        new Promise<void>((resolve) => {
          const give = () => {
            const item = queue.shift();
            if (item === null || item === undefined) controller.close();
            else controller.enqueue(item);
            taken?.();
            taken = null;
            resolve();
          };
          if (queue.length) give();
          else deliver = give;
        }),
    },
    { highWaterMark: 0 },
  );
  return {
    source,
    push(item) {
      const consumed = new Promise<void>((resolve) => {
        taken = resolve;
      });
      queue.push(item);
      const d = deliver;
      deliver = null;
      d?.();
      return consumed;
    },
    release() {
      taken?.();
    },
  };
}

/** Encodes what `source` yields into `tmp`, creating the target's folder first. */
async function encodeToFile(
  source: ReadableStream<WasmRecordBatch>,
  target: string,
  tmp: string,
  schema: Schema,
  options: WriteParquetOptions,
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  // transformParquetStream reads the first batch before it resolves, so it runs beside the writes.
  const bytes = await transformParquetStream(source, writerProperties(schema, options));
  await bytes.pipeTo(Writable.toWeb(createWriteStream(tmp)) as WritableStream<Uint8Array>);
}

/** A batch as arrow-rs record batches, through the Arrow IPC stream format. */
function toWasmBatches(batch: RecordBatch): WasmRecordBatch[] {
  const table = WasmTable.fromIPCStream(tableToIPC(new Table([batch]), 'stream'));
  const wasm = table.recordBatches();
  // The batches are handles of their own; the table's memory is ours to free.
  table.free();
  return wasm;
}

/** `cause` as the IoError a writer throws: IoErrors pass through, anything else is wrapped. */
function writeError(target: string, cause: unknown): IoError {
  return cause instanceof IoError
    ? cause
    : new IoError(ErrorCode.WriteFailed, `cannot write Parquet: ${describeError(cause)}`, {
        cause,
        location: { file: target },
      });
}
