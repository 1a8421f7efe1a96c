import { ErrorCode, TrainError } from '../../errors.js';

/**
 * Slots of the control array (`Int32Array` over a SharedArrayBuffer) that every replica of a
 * data-parallel group reads and writes with `Atomics`.
 */
export const Control = {
  /** Incremented by replica 0 to hand the workers a new command (their idle loop waits on it). */
  Sequence: 0,
  /** The command: one of {@link Command}. */
  Command: 1,
  /** Replicas that have reached the current barrier. */
  Arrived: 2,
  /** Barrier generation: bumped (and waited on) each time every replica has arrived. */
  Generation: 3,
  /** 0, or 1 + the index of the replica that failed: every wait gives up when it is set. */
  Aborted: 4,
  /** Rows in the command's batch. */
  Rows: 5,
  /** Bytes of the failure message in the message buffer. */
  MessageLength: 6,
  /** Workers that have installed a new set of row buffers (see `ReplicaChannel.installRows`). */
  Acknowledged: 7,
  /** 1 when the command carries new weights, 0 when the workers' copies are still current. */
  FreshWeights: 8,
  /** Shard boundaries: replica r works on rows `[Shards + r, Shards + r + 1)` of the batch. */
  Shards: 9,
} as const;

/** Most replicas a group may have (the control array is sized for it). */
export const MAX_REPLICAS = 64;

const CONTROL_WORDS = Control.Shards + MAX_REPLICAS + 1;
const MESSAGE_BYTES = 4096;

/** What replica 0 asks the workers to do. */
export const Command = {
  /** Forward, exchange per-example losses and upstream gradients, backward, hand back gradients. */
  Train: 1,
  /** Inference on a shard: losses, predicted classes, confidences. */
  Score: 2,
  /** Leave the idle loop; the worker exits. */
  Stop: 3,
} as const;

/** Per-row buffers, sized for a number of rows and replaced by larger ones when a batch outgrows them. */
export interface RowBuffers {
  readonly capacity: number;
  /** `capacity × imageSize` bytes of pixels. */
  readonly images: SharedArrayBuffer;
  readonly labels: SharedArrayBuffer;
  /** Each row's cross-entropy (training or inference mode). */
  readonly losses: SharedArrayBuffer;
  /** ∂objective/∂loss of each row, from replica 0. */
  readonly upstream: SharedArrayBuffer;
  readonly predicted: SharedArrayBuffer;
  readonly confidence: SharedArrayBuffer;
}

/** Every buffer a data-parallel group shares; posted once to each worker when it starts. */
export interface ChannelBuffers {
  readonly replicas: number;
  /** Floats of all the model's weights (trainable and not), in `model.weights` order. */
  readonly weightSize: number;
  /** Floats of the trainable weights, in `model.trainableWeights` order. */
  readonly gradientSize: number;
  /** Floats a single all-reduce may carry (the widest batch-norm layer's channels). */
  readonly reduceSize: number;
  /** Bytes of one image. */
  readonly imageSize: number;
  readonly control: SharedArrayBuffer;
  readonly weights: SharedArrayBuffer;
  /** Replica r > 0 writes its gradient contribution to slot r − 1. */
  readonly gradients: SharedArrayBuffer;
  /** Two generations × replicas × `reduceSize` floats (see {@link ReplicaChannel.allReduce}). */
  readonly reduce: SharedArrayBuffer;
  readonly message: SharedArrayBuffer;
  readonly rows: RowBuffers;
}

/** Sizes {@link createChannelBuffers} needs. */
export interface ChannelSizes {
  readonly replicas: number;
  readonly weightSize: number;
  readonly gradientSize: number;
  readonly reduceSize: number;
  readonly imageSize: number;
  /** Rows the first row buffers hold. */
  readonly rows: number;
}

/**
 * Allocates the shared memory of a data-parallel group.
 *
 * @example
 * ```ts
 * const buffers = createChannelBuffers({ replicas: 2, weightSize, gradientSize, reduceSize: 64, imageSize: 784, rows: 256 });
 * ```
 * @param sizes - replica count and the sizes of weights, gradients, all-reduces, images and rows.
 * @returns the buffers; replica 0 keeps them and posts them to every worker.
 */
export function createChannelBuffers(sizes: ChannelSizes): ChannelBuffers {
  if (!(Number.isInteger(sizes.replicas) && sizes.replicas >= 2 && sizes.replicas <= MAX_REPLICAS)) {
    throw new TrainError(
      ErrorCode.ReplicaFailed,
      `a data-parallel group needs 2 to ${MAX_REPLICAS} replicas, got ${sizes.replicas}`,
    );
  }
  const floats = (n: number) => new SharedArrayBuffer(Math.max(1, n) * 4);
  return {
    replicas: sizes.replicas,
    weightSize: sizes.weightSize,
    gradientSize: sizes.gradientSize,
    reduceSize: sizes.reduceSize,
    imageSize: sizes.imageSize,
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    weights: floats(sizes.weightSize),
    gradients: floats((sizes.replicas - 1) * sizes.gradientSize),
    reduce: floats(2 * sizes.replicas * sizes.reduceSize),
    message: new SharedArrayBuffer(MESSAGE_BYTES),
    rows: createRowBuffers(sizes.rows, sizes.imageSize),
  };
}

/**
 * Allocates per-row buffers for `capacity` rows.
 *
 * @example
 * ```ts
 * channel.installRows(createRowBuffers(512, 784));
 * ```
 * @param capacity - rows the buffers hold.
 * @param imageSize - bytes per image.
 * @returns the buffers.
 */
export function createRowBuffers(capacity: number, imageSize: number): RowBuffers {
  const words = () => new SharedArrayBuffer(Math.max(1, capacity) * 4);
  return {
    capacity,
    images: new SharedArrayBuffer(Math.max(1, capacity * imageSize)),
    labels: words(),
    losses: words(),
    upstream: words(),
    predicted: words(),
    confidence: words(),
  };
}

/** Typed views of the current row buffers. */
export interface RowViews {
  readonly capacity: number;
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly losses: Float32Array;
  readonly upstream: Float32Array;
  readonly predicted: Int32Array;
  readonly confidence: Float32Array;
}

/**
 * One replica's end of a data-parallel group's shared memory: typed views, the barrier, the all-reduce
 * and failure propagation, the same code on every thread.
 *
 * <span class="informal">Replicas run in lockstep: every replica calls {@link barrier} and
 * {@link allReduce} the same number of times in the same order within a command (the same model runs
 * the same ops on each). Waits are `Atomics.wait`, which blocks the thread (allowed on Node's main
 * thread), so a training step stays synchronous, as the pipeline's back-pressure needs. A replica that
 * fails calls {@link abort}: every replica blocked in a wait wakes and throws the failing one's
 * message, so no thread is left waiting for a partner that will never arrive. A wait that sees no
 * progress for `timeoutMs` throws too (a worker killed by the system cannot say so).</span>
 */
export class ReplicaChannel {
  readonly control: Int32Array;
  readonly weights: Float32Array;
  readonly replicas: number;
  readonly index: number;
  readonly buffers: ChannelBuffers;
  private rowViews: RowViews;
  private readonly reduceSlots: Float32Array;
  private readonly message: Uint8Array;
  /** All-reduces done in the current command: picks the slot generation (see allReduce). */
  private reduceCount = 0;

  constructor(
    buffers: ChannelBuffers,
    index: number,
    private readonly timeoutMs: number,
  ) {
    this.buffers = buffers;
    this.replicas = buffers.replicas;
    this.index = index;
    this.control = new Int32Array(buffers.control);
    this.weights = new Float32Array(buffers.weights);
    this.reduceSlots = new Float32Array(buffers.reduce);
    this.message = new Uint8Array(buffers.message);
    this.rowViews = viewsOf(buffers.rows);
  }

  /** The current row buffers' views (replaced by {@link installRows}). */
  get rows(): RowViews {
    return this.rowViews;
  }

  /** Switches to larger row buffers (replica 0 allocates them; workers receive them by message). */
  installRows(rows: RowBuffers): void {
    this.rowViews = viewsOf(rows);
  }

  /** Replica r's slot of the gradient buffer (r ≥ 1). */
  gradientSlot(replica: number): Float32Array {
    const size = this.buffers.gradientSize;
    return new Float32Array(this.buffers.gradients, (replica - 1) * size * 4, size);
  }

  /** Rows `[start, end)` of the batch that replica `replica` works on in the current command. */
  shard(replica: number = this.index): readonly [number, number] {
    return [
      Atomics.load(this.control, Control.Shards + replica),
      Atomics.load(this.control, Control.Shards + replica + 1),
    ];
  }

  /** Starts the count of all-reduces afresh: every replica calls it when a command begins. */
  beginCommand(): void {
    this.reduceCount = 0;
  }

  /**
   * Blocks until every replica has called `barrier` as often as this one.
   *
   * @throws TrainError when another replica aborted, or nothing happened for `timeoutMs`.
   */
  barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, Control.Generation);
    this.throwIfAborted();
    if (Atomics.add(c, Control.Arrived, 1) === this.replicas - 1) {
      Atomics.store(c, Control.Arrived, 0);
      Atomics.add(c, Control.Generation, 1);
      Atomics.notify(c, Control.Generation);
      return;
    }
    this.waitWhile(Control.Generation, generation, 'the other training threads');
  }

  /**
   * Sums `values` over every replica; each gets the same result, summed in replica order.
   *
   * <span class="informal">Each replica writes its values to its own slot, meets the others at a
   * barrier, then adds up all slots in the order 0, 1, …: the same additions on every thread, so every
   * replica holds bit-identical results (batch-norm statistics then agree everywhere). Slots alternate
   * between two generations, so one barrier per call suffices: a replica can only write call k+1's
   * slot after every replica reached call k's barrier, by which time all have finished reading call
   * k−1's slots, the ones k+1 reuses.</span>
   *
   * @param values - this replica's contribution (at most `reduceSize` floats; same length everywhere).
   * @returns the sum, a new array.
   */
  allReduce(values: Float32Array): Float32Array {
    const size = this.buffers.reduceSize;
    if (values.length > size) {
      throw new TrainError(
        ErrorCode.ReplicaFailed,
        `all-reduce of ${values.length} values exceeds the group's ${size}`,
      );
    }
    const base = (this.reduceCount++ % 2) * this.replicas * size;
    this.reduceSlots.set(values, base + this.index * size);
    this.barrier();
    const sum = new Float32Array(values.length);
    for (let r = 0; r < this.replicas; r++) {
      const slot = this.reduceSlots.subarray(base + r * size, base + r * size + values.length);
      for (let i = 0; i < values.length; i++) sum[i] = (sum[i] as number) + (slot[i] as number);
    }
    return sum;
  }

  /**
   * Marks the group as failed with `message` and wakes every waiting replica; the first failure wins.
   */
  abort(message: string): void {
    const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
    if (Atomics.compareExchange(this.control, Control.Aborted, 0, -1) !== 0) return;
    this.message.set(bytes);
    Atomics.store(this.control, Control.MessageLength, bytes.length);
    Atomics.store(this.control, Control.Aborted, this.index + 1);
    for (const slot of [Control.Generation, Control.Sequence, Control.Acknowledged]) {
      Atomics.notify(this.control, slot);
    }
  }

  /** The failure message, when a replica aborted (null otherwise). */
  failure(): { readonly replica: number; readonly message: string } | null {
    const aborted = Atomics.load(this.control, Control.Aborted);
    if (aborted <= 0) return null;
    const length = Atomics.load(this.control, Control.MessageLength);
    return {
      replica: aborted - 1,
      message: new TextDecoder().decode(this.message.slice(0, length)),
    };
  }

  /** @throws TrainError with the failing replica's message when the group was aborted. */
  throwIfAborted(): void {
    const failed = this.failure();
    if (failed !== null) throw new ReplicaAborted(failed.replica, failed.message);
  }

  /**
   * Blocks while `control[slot]` still holds `value`, in slices so an abort is noticed.
   *
   * @param what - who is being waited for, for the timeout message.
   */
  waitWhile(slot: number, value: number, what: string): void {
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(this.control, slot) === value) {
      this.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TrainError(
          ErrorCode.ReplicaFailed,
          `training thread ${this.index} waited ${seconds(this.timeoutMs)} for ${what} without an answer; a thread may have been killed (out of memory?). Run with --threads 1 to train on one thread`,
        );
      }
      Atomics.wait(this.control, slot, value, Math.min(left, 1000));
    }
    // What was waited for happened: a failure recorded since belongs to a later phase, and the next
    // wait reports it.
  }
}

/** Thrown in a replica when another one aborted the group; carries that replica's message. */
export class ReplicaAborted extends TrainError {
  constructor(
    readonly replica: number,
    message: string,
  ) {
    super(ErrorCode.ReplicaFailed, message);
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function viewsOf(rows: RowBuffers): RowViews {
  return {
    capacity: rows.capacity,
    images: new Uint8Array(rows.images),
    labels: new Int32Array(rows.labels),
    losses: new Float32Array(rows.losses),
    upstream: new Float32Array(rows.upstream),
    predicted: new Int32Array(rows.predicted),
    confidence: new Float32Array(rows.confidence),
  };
}
