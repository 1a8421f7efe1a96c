/**
 * Error types of abl-audit. Every error the tool raises on purpose is an {@link AblError} with a stable
 * {@link ErrorCode}, so that ingestion jobs can branch on `code` instead of parsing messages.
 * Codes are never reused for a different meaning.
 */

/** Stable error codes. Append new codes; never renumber or reuse one. */
export enum ErrorCode {
  Internal = 'ABL000',
  FileNotFound = 'ABL101',
  NotADataFile = 'ABL102',
  CorruptFile = 'ABL103',
  WriteFailed = 'ABL104',
  EmptyDataset = 'ABL105',
  /** Another run holds the output folder's lock (a second audit into the same folder). */
  OutputLocked = 'ABL106',
  /** Not enough free disk space for the outputs' estimated size. */
  DiskFull = 'ABL107',
  NoImageColumn = 'ABL201',
  NoLabelColumn = 'ABL202',
  BadImage = 'ABL203',
  MixedImageShapes = 'ABL204',
  BadLabel = 'ABL205',
  BadId = 'ABL206',
  DuplicateId = 'ABL207',
  SchemaMismatch = 'ABL208',
  /** Too few rows for an audit to measure anything. */
  TooFewRows = 'ABL209',
  /** A label above the class limit (a stray value would otherwise build a model with that many classes). */
  TooManyClasses = 'ABL210',
  /** Labels that are not 0..K−1 with every class present (gaps, or a single label such as 3). */
  MissingClasses = 'ABL211',
  /** An image larger than the limit, found from its header before it is decoded. */
  ImageTooLarge = 'ABL212',
  Usage = 'ABL301',
  Config = 'ABL302',
  /** The output folder holds files abl-audit did not write (refused unless --force). */
  OutputNotOwned = 'ABL303',
  /** The output folder is, holds, or is inside an input. */
  OutputOverlapsInput = 'ABL304',
  /** The output path is a file, not a folder. */
  OutputIsFile = 'ABL305',
  /** The images are too large for the model to train on this machine (memory, parameters). */
  ModelTooLarge = 'ABL306',
  /** A training backend the user asked for (`--backend`, `ABL_BACKEND`) cannot be loaded. */
  BackendUnavailable = 'ABL401',
  /** A training kernel was asked for something it does not support (layout, dtype, shape). */
  KernelUnsupported = 'ABL402',
  /** The training loss became NaN or infinite. */
  LossNotFinite = 'ABL403',
  /** A data-parallel training thread failed, or stopped answering. */
  ReplicaFailed = 'ABL404',
}

/** Where in the input a problem was found: as much of file, column and row as is known. */
export interface DataLocation {
  /** Path of the file, as the user gave it or as found under the folder they gave. */
  file?: string;
  column?: string;
  /** Zero-based row index within `file`. */
  row?: number;
}

/** Base class: a failure the user can act on, with a stable code and, where known, the place in the data. */
export class AblError extends Error {
  readonly code: ErrorCode;
  readonly location: DataLocation | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; location?: DataLocation }) {
    super(
      withLocation(message, options?.location),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.location = options?.location;
  }
}

/** The input data is wrong: a bad value, a missing column, mixed shapes, no rows. */
export class DataError extends AblError {}

/** A file could not be found, read or written. */
export class IoError extends AblError {}

/** Training cannot run: the backend the user asked for is missing, or a kernel cannot do what is asked. */
export class TrainError extends AblError {}

/** A pipeline file that is not valid (code ABL302): exit code 2, like a bad command line. */
export class ConfigError extends AblError {}

/**
 * The command line or a pipeline file asks for something invalid, or for something the user must
 * decide (an output folder holding other files): exit code 2. The code is ABL301 unless a more
 * specific one applies (ABL303–ABL306).
 */
export class UsageError extends AblError {
  constructor(message: string, options?: { cause?: unknown; code?: ErrorCode; location?: DataLocation }) {
    super(options?.code ?? ErrorCode.Usage, message, options);
  }
}

function withLocation(message: string, loc: DataLocation | undefined): string {
  if (!loc) return message;
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(`file ${loc.file}`);
  if (loc.column !== undefined) parts.push(`column '${loc.column}'`);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  return parts.length ? `${parts.join(', ')}: ${message}` : message;
}

/** A short description of any thrown value, for wrapping third-party errors into ours. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
