import type { FileHandle } from 'node:fs/promises';
import { DictionaryBatch } from 'apache-arrow/fb/dictionary-batch';
import type { Field } from 'apache-arrow/fb/field';
import { Footer } from 'apache-arrow/fb/footer';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch } from 'apache-arrow/fb/record-batch';
import { Schema } from 'apache-arrow/fb/schema';
import { ByteBuffer } from 'flatbuffers';

/**
 * Checks an Arrow IPC file's structure before arrow-js reads it, so that damaged bytes are an error
 * rather than a hang or an exhausted heap. arrow-js trusts the metadata: a footer block that points at
 * the schema makes its file reader loop forever, and a vector length flipped to billions makes it
 * allocate billions (both found by the fuzzer in test/integration/fuzzInputs.test.ts). Here every
 * footer block must lie in the file and hold a message of its kind, and every vector a message
 * declares must fit in the bytes it comes in. Reads metadata only, never the bodies.
 */

/** The file format starts (and ends) with these bytes; the stream format does not. */
const MAGIC = 'ARROW1';
/** Deepest field nesting accepted (a list of structs of lists ...): far beyond real data. */
const MAX_DEPTH = 64;

/**
 * Checks an Arrow IPC file (file or stream format) through its handle.
 *
 * @param fh - the open file.
 * @throws Error describing the damage (the caller names the file).
 */
export async function checkArrowIpc(fh: FileHandle): Promise<void> {
  const size = (await fh.stat()).size;
  const head = await readAt(fh, 0, Math.min(6, size));
  if (Buffer.from(head).toString('latin1') === MAGIC) await checkFile(fh, size);
  else await checkStream(fh, size);
}

async function checkFile(fh: FileHandle, size: number): Promise<void> {
  if (size < 18) throw new Error('too short for an Arrow file');
  const tail = await readAt(fh, size - 10, 10);
  const length = new DataView(tail.buffer, tail.byteOffset).getInt32(0, true);
  if (Buffer.from(tail.subarray(4)).toString('latin1') !== MAGIC || length <= 0 || length > size - 18) {
    throw new Error('its footer is missing or damaged');
  }
  const bytes = await readAt(fh, size - 10 - length, length);
  const footer = Footer.getRootAsFooter(new ByteBuffer(bytes));
  fits(footer.recordBatchesLength(), 24, bytes, 'footer record batches');
  fits(footer.dictionariesLength(), 24, bytes, 'footer dictionaries');
  const schema = footer.schema();
  if (!schema) throw new Error('its footer has no schema');
  checkSchema(schema, bytes);
  const blocks: [string, number, (i: number) => ReturnType<Footer['recordBatches']>, MessageHeader][] = [
    ['record batch', footer.recordBatchesLength(), (i) => footer.recordBatches(i), MessageHeader.RecordBatch],
    [
      'dictionary batch',
      footer.dictionariesLength(),
      (i) => footer.dictionaries(i),
      MessageHeader.DictionaryBatch,
    ],
  ];
  for (const [kind, count, blockAt, header] of blocks) {
    for (let i = 0; i < count; i++) {
      const block = blockAt(i);
      const start = Number(block?.offset() ?? -1);
      const metadata = block?.metaDataLength() ?? -1;
      const body = Number(block?.bodyLength() ?? -1);
      if (!block || start < 8 || metadata <= 0 || body < 0 || start + metadata + body > size) {
        throw new Error(`the footer's ${kind} ${i} lies outside the file`);
      }
      const message = checkMessage(stripPrefix(await readAt(fh, start, metadata)), body);
      if (message.headerType() !== header) throw new Error(`the footer's ${kind} ${i} does not point at one`);
    }
  }
}

async function checkStream(fh: FileHandle, size: number): Promise<void> {
  let at = 0;
  while (at + 4 <= size) {
    let length = new DataView((await readAt(fh, at, 4)).buffer).getInt32(0, true);
    at += 4;
    // A continuation marker (0xFFFFFFFF) precedes the length since format version 0.15.
    if (length === -1) {
      if (at + 4 > size) return;
      length = new DataView((await readAt(fh, at, 4)).buffer).getInt32(0, true);
      at += 4;
    }
    // End of a stream; arrow-js reads on into whatever follows (another stream), so the check does too.
    if (length === 0) continue;
    if (length < 0 || at + length > size) throw new Error(`message metadata at byte ${at} runs past the end`);
    const bytes = await readAt(fh, at, length);
    const body = Number(Message.getRootAsMessage(new ByteBuffer(bytes)).bodyLength());
    if (!(body >= 0) || at + length + body > size)
      throw new Error(`message body at byte ${at} runs past the end`);
    checkMessage(bytes, body);
    at += length + body;
  }
}

/** The flatbuffer of a message, past the continuation marker and length a block's bytes start with. */
function stripPrefix(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const skip = bytes.length >= 8 && view.getInt32(0, true) === -1 ? 8 : 4;
  return bytes.subarray(skip);
}

function checkMessage(bytes: Uint8Array, body: number): Message {
  const message = Message.getRootAsMessage(new ByteBuffer(bytes));
  switch (message.headerType()) {
    case MessageHeader.Schema: {
      const schema = message.header(new Schema()) as Schema | null;
      if (schema) checkSchema(schema, bytes);
      break;
    }
    case MessageHeader.RecordBatch:
      checkRecordBatch(message.header(new RecordBatch()) as RecordBatch | null, bytes, body);
      break;
    case MessageHeader.DictionaryBatch:
      checkRecordBatch(
        (message.header(new DictionaryBatch()) as DictionaryBatch | null)?.data() ?? null,
        bytes,
        body,
      );
      break;
    default:
      break;
  }
  return message;
}

function checkRecordBatch(batch: RecordBatch | null, bytes: Uint8Array, body: number): void {
  if (!batch) throw new Error('a record batch message has no header');
  fits(batch.nodesLength(), 16, bytes, 'field nodes');
  fits(batch.buffersLength(), 16, bytes, 'buffers');
  fits(batch.variadicBufferCountsLength(), 8, bytes, 'variadic buffer counts');
  // No column holds more rows than its body has bits (validity bitmaps and booleans are the smallest).
  const maxRows = 8 * body + 64;
  if (!(Number(batch.length()) >= 0 && Number(batch.length()) <= maxRows)) {
    throw new Error(`a record batch claims ${batch.length()} rows in ${body} bytes`);
  }
  for (let i = 0; i < batch.nodesLength(); i++) {
    const node = batch.nodes(i);
    const rows = Number(node?.length() ?? -1);
    const nulls = Number(node?.nullCount() ?? -1);
    if (!(rows >= 0 && rows <= maxRows && nulls >= 0 && nulls <= rows)) {
      throw new Error(`field node ${i} claims ${rows} rows (${nulls} null) in ${body} bytes`);
    }
  }
}

function checkSchema(schema: Schema, bytes: Uint8Array): void {
  fits(schema.fieldsLength(), 4, bytes, 'schema fields');
  fits(schema.customMetadataLength(), 4, bytes, 'schema metadata');
  fits(schema.featuresLength(), 8, bytes, 'schema features');
  for (let i = 0; i < schema.fieldsLength(); i++) checkField(schema.fields(i), bytes, 1);
}

function checkField(field: Field | null, bytes: Uint8Array, depth: number): void {
  if (!field) return;
  if (depth > MAX_DEPTH) throw new Error(`fields nested more than ${MAX_DEPTH} deep`);
  fits(field.childrenLength(), 4, bytes, 'field children');
  fits(field.customMetadataLength(), 4, bytes, 'field metadata');
  for (let i = 0; i < field.childrenLength(); i++) checkField(field.children(i), bytes, depth + 1);
}

/** A vector of `length` elements of `size` bytes must fit in the bytes it is read from. */
function fits(length: number, size: number, bytes: Uint8Array, what: string): void {
  if (!(Number.isInteger(length) && length >= 0 && length * size <= bytes.length)) {
    throw new Error(`its ${what} claim ${length} entries in ${bytes.length} bytes of metadata`);
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  const { bytesRead } = await fh.read(buffer, 0, length, position);
  if (bytesRead !== length)
    throw new Error(`it ends at byte ${position + bytesRead}, ${length - bytesRead} bytes early`);
  return buffer;
}
