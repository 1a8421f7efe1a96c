import { describe, expect, it } from 'vitest';
import { binScores, triggerLabel } from '../../../../src/report/html/reportFigures.js';
import { sampleReport } from '../../../helpers/sampleReport.js';

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
    expect(triggerLabel(sampleReport())).toBe(2);
  });

  it('is otherwise the label holding most quarantined rows, or null when none was quarantined', () => {
    const r = sampleReport();
    const noTarget = { ...r, summary: { ...r.summary, suspectedTargetClass: null } };
    expect(triggerLabel(noTarget)).toBe(2);
    const nothing = {
      ...noTarget,
      data: { ...r.data, perClass: r.data.perClass.map((c) => ({ ...c, quarantined: 0 })) },
    };
    expect(triggerLabel(nothing)).toBeNull();
  });
});
