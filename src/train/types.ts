import type { ImageShape } from '../data/imageShape.js';

/**
 * One mini-batch as the training and scoring stages consume it: uint8 pixels (scaled inside the model
 * or by the stage, never stored as float), integer labels and the rows' stable ids.
 */
export interface TrainBatch {
  readonly ids: readonly string[];
  /** `ids.length × H × W × C` bytes, row-major HWC. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly shape: ImageShape;
}

/** The backends abl-audit can run on, best first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** Which backend ran, recorded in reports. */
export interface BackendInfo {
  readonly name: BackendName;
  /** The tfjs backend id (`tensorflow`, `wasm`, `cpu`). */
  readonly tfBackend: string;
  /** Threads the backend computes with (1 unless it says otherwise). */
  readonly threads: number;
  /** Versions of the tfjs packages in use. */
  readonly versions: Readonly<Record<string, string>>;
  /** Backends tried before this one, and why each was passed over. */
  readonly skipped: readonly { readonly name: BackendName; readonly reason: string }[];
}

/** One row's loss under the current model, as the scoring stage emits it. */
export interface LossRecord {
  readonly id: string;
  readonly label: number;
  readonly loss: number;
  readonly predicted: number;
  /** Softmax probability of the predicted class. */
  readonly confidence: number;
}
