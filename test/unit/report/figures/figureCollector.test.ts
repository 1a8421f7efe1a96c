import { describe, expect, it } from 'vitest';
import {
  binScores,
  createFigureCollector,
  type FigureRow,
  triggerLabel,
} from '../../../../src/report/figures/figureCollector.js';

describe('binScores', () => {
  it('counts quarantined and kept rows per equal-width bin over the full range', () => {
    const bins = binScores([0, 1, 2, 3, 4], [true, false, false, false, true], 2);
    expect(bins).toEqual([
      { start: 0, end: 2, quarantined: 1, kept: 1 },
      { start: 2, end: 4, quarantined: 1, kept: 2 },
    ]);
  });

  it('leaves out non-finite scores and handles a constant score', () => {
    const bins = binScores([5, 5, Number.NaN, Number.NEGATIVE_INFINITY], [true, false, true, true], 10);
    expect(bins).toEqual([{ start: 4.5, end: 5.5, quarantined: 1, kept: 1 }]);
    expect(binScores([Number.NaN], [true], 10)).toEqual([]);
  });
});

describe('triggerLabel', () => {
  it('is the suspected target class when there is one', () => {
    expect(triggerLabel(2, [1, 0, 9, 0])).toBe(2);
  });

  it('is otherwise the label holding most quarantined rows, or null when none was quarantined', () => {
    expect(triggerLabel(null, [1, 0, 9, 0])).toBe(2);
    expect(triggerLabel(null, [0, 0, 0, 0])).toBeNull();
  });
});

const SHAPE = { height: 2, width: 2, channels: 1 };

function row(id: number, label: number, rank: number, quarantined: boolean, pixels: number[]): FigureRow {
  return {
    id: `r${id}`,
    label,
    rank,
    score: -rank,
    quarantined,
    poisoned: quarantined ? id % 2 === 0 : null,
    pixels: Uint8Array.from(pixels),
  };
}

describe('createFigureCollector', () => {
  it('keeps the top-ranked quarantined rows as thumbnails, most suspicious first', () => {
    const figures = createFigureCollector({ shape: SHAPE, triggerLabel: null, thumbnails: 2 });
    for (const r of [
      row(1, 0, 2, true, [9, 9, 9, 9]),
      row(2, 1, 0, true, [1, 1, 1, 1]),
      row(3, 0, 1, true, [5, 5, 5, 5]),
    ]) {
      if (figures.wants(r.label, r.rank, r.quarantined)) figures.add(r);
    }
    const result = figures.finish(null);
    expect(result.topQuarantined.map((t) => [t.id, t.rank, t.score, t.poisoned])).toEqual([
      ['r2', 0, -0, true],
      ['r3', 1, -1, false],
    ]);
    expect(result.topQuarantined[0]?.image).toMatch(/^data:image\/png;base64,/);
    expect(result.trigger).toBeNull();
  });

  it('asks only for the rows it draws: top-ranked quarantined ones and the trigger label', () => {
    const figures = createFigureCollector({ shape: SHAPE, triggerLabel: 3, thumbnails: 5 });
    expect(figures.wants(0, 4, true)).toBe(true);
    expect(figures.wants(0, 5, true)).toBe(false);
    expect(figures.wants(0, 0, false)).toBe(false);
    expect(figures.wants(3, 99, false)).toBe(true);
  });

  it('draws the trigger view as quarantined mean minus kept mean of the label: a planted spot stands out', () => {
    const figures = createFigureCollector({ shape: SHAPE, triggerLabel: 0, thumbnails: 0 });
    // Quarantined rows carry a bright top-left pixel; kept rows of the label do not; rows of label 1
    // (bright everywhere) must not count.
    figures.add(row(1, 0, 0, true, [250, 10, 10, 10]));
    figures.add(row(2, 0, 1, true, [250, 20, 20, 20]));
    figures.add(row(3, 0, 5, false, [10, 15, 15, 15]));
    figures.add(row(4, 1, 6, false, [255, 255, 255, 255]));
    const { trigger } = figures.finish(null);
    expect(trigger).toMatchObject({ label: 0, quarantinedRows: 2, keptRows: 1, imageShape: SHAPE });
    expect(trigger?.heatmap).toEqual({ height: 2, width: 2, values: [240, 0, 0, 0] });
  });

  it('draws no trigger view when the label has no kept or no quarantined row', () => {
    const figures = createFigureCollector({ shape: SHAPE, triggerLabel: 0, thumbnails: 0 });
    figures.add(row(1, 0, 0, true, [1, 2, 3, 4]));
    expect(figures.finish(null).trigger).toBeNull();
  });

  it('shrinks the heat map of a large image to at most 64 cells a side, averaging channels', () => {
    const shape = { height: 130, width: 130, channels: 3 };
    const figures = createFigureCollector({ shape, triggerLabel: 0, thumbnails: 0 });
    const size = 130 * 130 * 3;
    figures.add({ ...row(1, 0, 0, true, []), pixels: new Uint8Array(size).fill(30) });
    figures.add({ ...row(2, 0, 9, false, []), pixels: new Uint8Array(size).fill(10) });
    const { trigger } = figures.finish(null);
    expect(trigger?.heatmap.height).toBeLessThanOrEqual(64);
    expect(trigger?.heatmap.width).toBeLessThanOrEqual(64);
    expect(new Set(trigger?.heatmap.values)).toEqual(new Set([20]));
  });
});
