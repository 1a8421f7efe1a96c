import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Loads a model folder in a separate Node process that imports nothing but @tensorflow/tfjs and prints
// its predictions for the given images: proof that a saved model needs no abl-audit code.
const PLAIN_TFJS_LOADER = `
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
const [folder, probeJson, shapeJson] = process.argv.slice(1);
await tf.setBackend('cpu');
const json = JSON.parse(readFileSync(folder + '/model.json', 'utf8'));
const bin = readFileSync(folder + '/' + json.weightsManifest[0].paths[0]);
const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
const model = await tf.loadLayersModel(
  tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
);
const x = tf.tensor4d(JSON.parse(probeJson), JSON.parse(shapeJson));
process.stdout.write(JSON.stringify(Array.from(model.predict(x).dataSync())));
`;

/**
 * Predicts with a saved model folder in a child process that uses plain `@tensorflow/tfjs` only.
 *
 * @param folder - the model folder (model.json + weights).
 * @param pixels - input values, row-major.
 * @param shape - `[n, h, w, c]`.
 * @returns the model's outputs, flattened.
 */
export async function predictWithPlainTfjs(
  folder: string,
  pixels: readonly number[],
  shape: readonly number[],
): Promise<number[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', PLAIN_TFJS_LOADER, folder, JSON.stringify(pixels), JSON.stringify(shape)],
    { cwd: process.cwd(), timeout: 300_000 },
  );
  return JSON.parse(stdout) as number[];
}
