import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ImageShape } from '../data/imageShape.js';
import { describeError, ErrorCode, IoError } from '../errors.js';
import { temporaryPathFor } from '../io/atomicWrite.js';

/** File name of the topology and weights manifest in a saved model folder (TensorFlow.js layers format). */
export const MODEL_JSON = 'model.json';
/** File name of the weights in a saved model folder. */
export const WEIGHTS_BIN = 'weights.bin';
/** Value of `userDefinedMetadata.schema` in models abl-audit saves. */
export const MODEL_METADATA_SCHEMA = 'abl-audit/model@1';

/**
 * How a saved model expects its input, stored in model.json's `userDefinedMetadata` so a consumer
 * without abl-audit can feed it correctly.
 */
export interface SavedModelMetadata {
  readonly schema: typeof MODEL_METADATA_SCHEMA;
  /** The architecture name, when known (`small-cnn`, `wrn-16-1`, …). */
  readonly architecture: string | null;
  readonly inputShape: ImageShape;
  /** Pixels are height × width × channels, row-major (channels last). */
  readonly channelOrder: 'HWC';
  /**
   * Inputs are raw pixel values 0–255 as floats. When `inModel` is true the model's own first layer
   * (tfjs's built-in `Rescaling`) computes `x · scale + offset`; when false the caller must.
   */
  readonly pixelScaling: {
    readonly inputRange: readonly [number, number];
    readonly scale: number;
    readonly offset: number;
    readonly inModel: boolean;
  };
  /** The model outputs unnormalised logits, one per class; apply softmax for probabilities. */
  readonly output: 'logits';
  readonly numClasses: number;
  /** Class names, index = label, when known. */
  readonly classNames: readonly string[] | null;
  /** Free-form facts about the run (seed, backend, epochs…), JSON values only. */
  readonly info: Readonly<Record<string, unknown>>;
}

/** What {@link saveModel} records beside the weights. */
export interface SaveModelOptions {
  readonly architecture?: string;
  readonly classNames?: readonly string[];
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * Saves a model as a TensorFlow.js layers model — `model.json` (topology, weights manifest, metadata)
 * and `weights.bin` — in a folder, atomically: readers see the old folder or the complete new one.
 *
 * <span class="informal">Both files are written into a temporary folder beside the target, which is
 * then renamed into place (an existing model folder is moved aside first and removed after). tfjs's
 * own `file://` handler lives in tfjs-node, which is not always installed, so a custom save handler
 * writes with node:fs. The result loads with plain `tf.loadLayersModel` and no abl-audit code: the
 * pixel rescaling is tfjs's built-in `Rescaling` layer.</span>
 *
 * @example
 * ```ts
 * await saveModel(model, 'out/model', { architecture: 'wrn-16-1', classNames });
 * ```
 * @see loadModel
 * @param model - the model to save (not changed).
 * @param folder - the folder to create or replace; a non-empty folder that holds no model.json is
 *   refused rather than deleted.
 * @param options - architecture, class names and free-form run facts for the metadata.
 * @returns the metadata written.
 * @throws IoError when the folder cannot be written or is in the way.
 */
export async function saveModel(
  model: tf.LayersModel,
  folder: string,
  options: SaveModelOptions = {},
): Promise<SavedModelMetadata> {
  const metadata = describeModel(model, options);
  await checkReplaceable(folder);
  const tmp = temporaryPathFor(folder);
  try {
    await mkdir(dirname(folder), { recursive: true });
    await mkdir(tmp);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightSpecs = artifacts.weightSpecs ?? [];
        const modelJson: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology ?? {},
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
          userDefinedMetadata: toJsonObject(metadata),
        };
        const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
        await writeFile(join(tmp, WEIGHTS_BIN), new Uint8Array(weights));
        await writeFile(join(tmp, MODEL_JSON), `${JSON.stringify(modelJson)}\n`);
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    await replaceFolder(tmp, folder);
  } catch (cause) {
    // The save's own failure is what the user must see; a failing cleanup must not replace it.
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (cause instanceof IoError) throw cause;
    throw new IoError(ErrorCode.WriteFailed, `cannot save the model: ${describeError(cause)}`, {
      cause,
      location: { file: folder },
    });
  }
  return metadata;
}

/** A model read back by {@link loadModel}. */
export interface LoadedModel {
  readonly model: tf.LayersModel;
  /** abl-audit's metadata, or null for a model saved by other tools. */
  readonly metadata: SavedModelMetadata | null;
}

/**
 * Loads a TensorFlow.js layers model from a folder holding `model.json` and its weight files, with
 * plain tfjs (any tfjs layers model, not only ours).
 *
 * <span class="informal">Reads the files with node:fs and hands them to `tf.loadLayersModel` through
 * `tf.io.fromMemory`, so it works without tfjs-node. Weight files named in the manifest must lie inside
 * the folder.</span>
 *
 * @example
 * ```ts
 * const { model, metadata } = await loadModel('out/model');
 * ```
 * @see saveModel
 * @param folder - the model folder.
 * @returns the model (the caller disposes it) and abl-audit's metadata when present.
 * @throws IoError when a file is missing (FileNotFound) or model.json or the weights are malformed
 *   (CorruptFile).
 */
export async function loadModel(folder: string): Promise<LoadedModel> {
  const jsonPath = join(folder, MODEL_JSON);
  const modelJson = parseModelJson(await readOrThrow(jsonPath), jsonPath);
  try {
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const path of group.paths) {
          const bytes = await readOrThrow(weightPath(folder, path));
          buffers.push(new Uint8Array(bytes).buffer);
        }
      }
      return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
    });
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    return { model, metadata: parseMetadata(modelJson.userDefinedMetadata) };
  } catch (cause) {
    if (cause instanceof IoError) throw cause;
    throw new IoError(ErrorCode.CorruptFile, `cannot load the model: ${describeError(cause)}`, {
      cause,
      location: { file: jsonPath },
    });
  }
}

function describeModel(model: tf.LayersModel, options: SaveModelOptions): SavedModelMetadata {
  const [, height, width, channels] = model.inputs[0]?.shape ?? [];
  const numClasses = model.outputs[0]?.shape[1];
  if (!height || !width || !channels || !numClasses) {
    throw new IoError(ErrorCode.WriteFailed, 'only image classifiers ([n, H, W, C] → [n, K]) can be saved');
  }
  const rescaling = model.layers.find((layer) => layer.getClassName() === 'Rescaling');
  const config = rescaling?.getConfig();
  const scale = typeof config?.scale === 'number' ? config.scale : 1;
  const offset = typeof config?.offset === 'number' ? config.offset : 0;
  return {
    schema: MODEL_METADATA_SCHEMA,
    architecture: options.architecture ?? null,
    inputShape: { height, width, channels },
    channelOrder: 'HWC',
    pixelScaling: { inputRange: [0, 255], scale, offset, inModel: rescaling !== undefined },
    output: 'logits',
    numClasses,
    classNames: options.classNames ? [...options.classNames] : null,
    info: options.info ?? {},
  };
}

/** Refuses to replace anything but a model folder or an empty folder, so a typo cannot delete data. */
async function checkReplaceable(folder: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (!info) return;
  if (!info.isDirectory()) {
    throw new IoError(ErrorCode.WriteFailed, 'cannot save the model: the path exists and is not a folder', {
      location: { file: folder },
    });
  }
  const entries = await readdir(folder);
  if (entries.length > 0 && !entries.includes(MODEL_JSON)) {
    throw new IoError(
      ErrorCode.WriteFailed,
      `cannot save the model: the folder is not empty and holds no ${MODEL_JSON}; refusing to replace it`,
      { location: { file: folder } },
    );
  }
}

/**
 * Renames the complete temporary folder into place. A rename cannot replace a non-empty folder, so an
 * existing one is moved aside first, restored if the second rename fails, and removed after.
 */
async function replaceFolder(tmp: string, folder: string): Promise<void> {
  const exists = await stat(folder).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await rename(tmp, folder);
    return;
  }
  const old = temporaryPathFor(folder);
  await rename(folder, old);
  try {
    await rename(tmp, folder);
  } catch (cause) {
    await rename(old, folder).catch(() => undefined);
    throw cause;
  }
  await rm(old, { recursive: true, force: true });
}

async function readOrThrow(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new IoError(
      missing ? ErrorCode.FileNotFound : ErrorCode.CorruptFile,
      missing ? 'model file not found' : `cannot read: ${describeError(cause)}`,
      { cause, location: { file: path } },
    );
  }
}

function parseModelJson(bytes: Buffer, path: string): tf.io.ModelJSON {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new IoError(ErrorCode.CorruptFile, `not valid JSON: ${describeError(cause)}`, {
      cause,
      location: { file: path },
    });
  }
  if (
    !isRecord(parsed) ||
    !isRecord(parsed.modelTopology) ||
    !Array.isArray(parsed.weightsManifest) ||
    !parsed.weightsManifest.every(
      (g: unknown) =>
        isRecord(g) &&
        Array.isArray(g.paths) &&
        g.paths.every((p) => typeof p === 'string') &&
        Array.isArray(g.weights),
    )
  ) {
    throw new IoError(
      ErrorCode.CorruptFile,
      'not a TensorFlow.js layers model (modelTopology/weightsManifest)',
      {
        location: { file: path },
      },
    );
  }
  // Checked above: the fields loadLayersModel relies on are present with the right types.
  return parsed as unknown as tf.io.ModelJSON;
}

function weightPath(folder: string, path: string): string {
  const rel = normalize(path);
  if (isAbsolute(rel) || rel.startsWith('..')) {
    throw new IoError(ErrorCode.CorruptFile, `weight file '${path}' lies outside the model folder`, {
      location: { file: join(folder, MODEL_JSON) },
    });
  }
  return join(folder, rel);
}

function parseMetadata(value: unknown): SavedModelMetadata | null {
  if (!isRecord(value) || value.schema !== MODEL_METADATA_SCHEMA) return null;
  // Written by saveModel with this schema tag; trusting its shape is what the tag is for.
  return value as unknown as SavedModelMetadata;
}

/** tfjs's metadata type (`{[key: string]: {}}`) excludes null; a JSON round trip gives that shape. */
function toJsonObject(metadata: SavedModelMetadata): NonNullable<tf.io.ModelJSON['userDefinedMetadata']> {
  return JSON.parse(JSON.stringify(metadata));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
