import { describe, expect, it } from 'vitest';
import {
  formatShape,
  guessSquareShape,
  imageSize,
  parseShape,
  sameShape,
} from '../../../src/data/imageShape.js';
import { ErrorCode, UsageError } from '../../../src/errors.js';

describe('parseShape', () => {
  it.each([
    ['28x28x1', { height: 28, width: 28, channels: 1 }],
    ['32,32,3', { height: 32, width: 32, channels: 3 }],
    [' 64 X 48 ', { height: 64, width: 48, channels: 1 }],
    ['2×3×4', { height: 2, width: 3, channels: 4 }],
  ])('reads %j', (text, shape) => {
    expect(parseShape(text)).toEqual(shape);
  });

  it.each(['28', '28x28x1x1', '0x28x1', '-1x2', '2.5x2', 'axb', ''])(
    'refuses %j with a UsageError',
    (text) => {
      let err: unknown;
      try {
        parseShape(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe(ErrorCode.Usage);
      expect((err as UsageError).message).toContain('28x28x1');
    },
  );
});

describe('guessSquareShape', () => {
  it.each([
    [784, { height: 28, width: 28, channels: 1 }],
    [3072, { height: 32, width: 32, channels: 3 }],
    [1, { height: 1, width: 1, channels: 1 }],
    [27, { height: 3, width: 3, channels: 3 }],
  ])('takes %i bytes as %j', (bytes, shape) => {
    expect(guessSquareShape(bytes)).toEqual(shape);
  });

  it.each([0, 10, 785, 3000])('gives up on %i bytes', (bytes) => {
    expect(guessSquareShape(bytes)).toBeNull();
  });
});

describe('shape helpers', () => {
  it('formats, sizes and compares', () => {
    const s = { height: 32, width: 16, channels: 3 };
    expect(formatShape(s)).toBe('32x16x3');
    expect(imageSize(s)).toBe(1536);
    expect(sameShape(s, { height: 32, width: 16, channels: 3 })).toBe(true);
    expect(sameShape(s, { height: 16, width: 32, channels: 3 })).toBe(false);
  });
});
