import * as tf from '@tensorflow/tfjs';
import { defer, EMPTY, from, lastValueFrom, map, type Observable, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageShape } from '../../../src/data/imageShape.js';
import { DataError, ErrorCode, UsageError } from '../../../src/errors.js';
import { accuracy, attackSuccessRate } from '../../../src/train/evaluate.js';
import { perExampleCrossEntropy } from '../../../src/train/losses.js';
import { createModel } from '../../../src/train/models/createModel.js';
import { scoreLosses } from '../../../src/train/scoreLosses.js';
import type { LossRecord, TrainBatch } from '../../../src/train/types.js';
import { rejection } from '../../helpers/errors.js';
import { expectNoLeakedTensors, separableBatches, useCpuBackend } from '../../helpers/tf.js';

useCpuBackend();

const SHAPE: ImageShape = { height: 4, width: 4, channels: 1 };
const K = 3;
const batches = separableBatches({ shape: SHAPE, numClasses: K, batches: 3, batchSize: 4, seed: 5 });
const allIds = batches.flatMap((b) => b.ids);

let model: tf.LayersModel;
beforeAll(() => {
  // ResNet-8: batch norm makes inference mode (running statistics) differ from training mode.
  model = createModel({ architecture: 'resnet8', inputShape: SHAPE, numClasses: K, seed: 3 });
});
afterAll(() => model.dispose());

const score = (source: Observable<TrainBatch>, batchSize?: number): Promise<LossRecord[]> =>
  lastValueFrom(source.pipe(scoreLosses(model, batchSize === undefined ? {} : { batchSize }), toArray()));

describe('scoreLosses', () => {
  it('emits one record per row, ids in input order, leaking no tensors', async () => {
    const records = await expectNoLeakedTensors(() => score(from(batches)));
    expect(records.map((r) => r.id)).toEqual(allIds);
    expect(records.map((r) => r.label)).toEqual(batches.flatMap((b) => Array.from(b.labels)));
  });

  it('gives the inference-mode cross-entropy, argmax and its softmax probability', async () => {
    const records = await score(from(batches));
    const [losses, predicted, confidence] = tf.tidy(() => {
      const x = tf.concat(batches.map((b) => tf.tensor4d(new Float32Array(b.images), [4, 4, 4, 1])));
      const y = tf.tensor1d(
        batches.flatMap((b) => Array.from(b.labels)),
        'int32',
      );
      const logits = model.predict(x) as tf.Tensor2D;
      return [
        Array.from(perExampleCrossEntropy(logits, y).dataSync()),
        Array.from(tf.argMax(logits, 1).dataSync()),
        Array.from(tf.max(tf.softmax(logits), 1).dataSync()),
      ];
    });
    records.forEach((r, i) => {
      expect(r.loss).toBeCloseTo(losses[i] ?? Number.NaN, 5);
      expect(r.predicted).toBe(predicted[i]);
      expect(r.confidence).toBeCloseTo(confidence[i] ?? Number.NaN, 5);
      expect(r.confidence).toBeGreaterThanOrEqual(1 / K);
    });
  });

  it('does not depend on how rows are batched, and changes no weight', async () => {
    const before = model.weights.map((w) => Array.from(w.read().dataSync()));
    const whole = await score(from(batches));
    const split = await score(from(batches), 3);
    const one = await score(from(batches), 1);
    for (const other of [split, one]) {
      other.forEach((r, i) => {
        expect(r.id).toBe(whole[i]?.id);
        expect(r.loss).toBeCloseTo(whole[i]?.loss ?? Number.NaN, 5);
      });
    }
    expect(model.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(before);
  });

  it('pulls no further batch once the consumer unsubscribes', async () => {
    let pulled = 0;
    function* source(): Generator<TrainBatch> {
      for (const b of batches) {
        pulled++;
        yield b;
      }
    }
    const records = await lastValueFrom(
      defer(() => from(source())).pipe(scoreLosses(model), take(2), toArray()),
    );
    expect(records.map((r) => r.id)).toEqual(allIds.slice(0, 2));
    expect(pulled).toBe(1);
  });

  it('follows the marble contract: one/many values, empty, error, never-ending', async () => {
    const [a, b] = batches;
    if (!a || !b) throw new Error('no batches');
    const ids = (o: Observable<LossRecord>) => o.pipe(map((r) => r.id));
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const err = new DataError(ErrorCode.CorruptFile, 'boom');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // A group such as (abcd) lasts as many frames as it has characters, hence the explicit gaps.
      const many = cold('-a 9ms b 9ms |', { a, b });
      expectObservable(ids(many.pipe(scoreLosses(model)))).toBe('-(abcd) 4ms (efgh) 4ms |', {
        a: 'r0',
        b: 'r1',
        c: 'r2',
        d: 'r3',
        e: 'r4',
        f: 'r5',
        g: 'r6',
        h: 'r7',
      });
      expectSubscriptions(many.subscriptions).toBe('^ 20ms !');
      expectObservable(ids(cold<TrainBatch>('|').pipe(scoreLosses(model)))).toBe('|');
      expectObservable(ids(cold('-a 9ms #', { a }, err).pipe(scoreLosses(model)))).toBe(
        '-(abcd) 4ms #',
        { a: 'r0', b: 'r1', c: 'r2', d: 'r3' },
        err,
      );
      expectObservable(ids(cold<TrainBatch>('-').pipe(scoreLosses(model)))).toBe('-');
      const endless = cold('-a-', { a });
      expectObservable(ids(endless.pipe(scoreLosses(model))), '^--!').toBe('-(abcd)-', {
        a: 'r0',
        b: 'r1',
        c: 'r2',
        d: 'r3',
      });
    });
  });

  it('sends a batch that does not fit the model down the error channel', async () => {
    const [a] = batches;
    if (!a) throw new Error('no batch');
    const bad = { ...a, labels: Int32Array.from([0, 1, 2, 3]) };
    expect((await rejection(score(from([bad])))).code).toBe(ErrorCode.BadLabel);
    await expect(score(EMPTY)).resolves.toEqual([]);
    expect(() => scoreLosses(model, { batchSize: 0 })).toThrow(UsageError);
  });
});

describe('accuracy and attackSuccessRate', () => {
  /** A model that predicts class 1 for every input: zero logits kernel, bias favouring class 1. */
  function alwaysOne(): tf.LayersModel {
    const m = createModel({ architecture: 'small-cnn', inputShape: SHAPE, numClasses: K, seed: 1 });
    const kernel = tf.zeros([128, K]);
    const bias = tf.tensor1d([0, 5, 0]);
    m.getLayer('logits').setWeights([kernel, bias]);
    tf.dispose([kernel, bias]);
    return m;
  }

  it('counts overall and per-class accuracy', async () => {
    const m = alwaysOne();
    const result = await expectNoLeakedTensors(() => accuracy(m, from(batches)));
    // 12 rows with labels cycling 0, 1, 2: only the four label-1 rows are right.
    expect(result).toEqual({
      correct: 4,
      total: 12,
      accuracy: 4 / 12,
      perClass: [
        { label: 0, correct: 0, total: 4, accuracy: 0 },
        { label: 1, correct: 4, total: 4, accuracy: 1 },
        { label: 2, correct: 0, total: 4, accuracy: 0 },
      ],
    });
    const onlyZeros = batches.map((b) => ({ ...b, labels: new Int32Array(b.labels.length) }));
    expect((await accuracy(m, from(onlyZeros))).perClass[2]).toEqual({
      label: 2,
      correct: 0,
      total: 0,
      accuracy: null,
    });
    m.dispose();
  });

  it('measures the share of triggered rows put in the target class', async () => {
    const m = alwaysOne();
    expect(await attackSuccessRate(m, from(batches), 1)).toEqual({ hits: 12, total: 12, rate: 1 });
    expect(await attackSuccessRate(m, from(batches), 0)).toEqual({ hits: 0, total: 12, rate: 0 });
    // Without a target, each row's (poisoned) label is the attacker's class.
    expect(await attackSuccessRate(m, from(batches))).toEqual({ hits: 4, total: 12, rate: 4 / 12 });
    await expect(attackSuccessRate(m, from(batches), 3)).rejects.toThrow(UsageError);
    expect((await rejection(attackSuccessRate(m, EMPTY, 1))).code).toBe(ErrorCode.EmptyDataset);
    expect((await rejection(accuracy(m, EMPTY))).code).toBe(ErrorCode.EmptyDataset);
    m.dispose();
  });
});
