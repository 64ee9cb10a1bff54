// The benchmark chart: every figure with a goal is a bar against that goal, red when missed.
import { describe, expect, it } from 'vitest';
import { chartSvg, goalLimit } from '../../bench/chart.ts';

describe('bench chart', () => {
  it('reads ratio goals and absolute goals', () => {
    expect(goalLimit('≤ 1.5× bare Bolt')).toEqual({ limit: 1.5, ofRatio: true });
    expect(goalLimit('≤ 2 KB')).toEqual({ limit: 2, ofRatio: false });
    expect(goalLimit('< 1000 ms')).toEqual({ limit: 1000, ofRatio: false });
    expect(goalLimit('50, no error surfaced')).toBeNull();
  });

  it('draws one bar per figure with a goal, its length against the goal, red and marked when missed', () => {
    const svg = chartSvg([{
      name: 'Engine overhead (dedicated)',
      figures: [
        { metric: 'full setup', value: 2155, unit: 'ms', baseline: 1559, ratio: 1.38, goal: '≤ 1.2×', met: false },
        { metric: 'heap per session', value: 0.4, unit: 'KB', goal: '≤ 2 KB', met: true },
        { metric: 'calls', value: 83, unit: 'calls', baseline: 57, ratio: 1.46 },
      ],
    }], 'now');
    const bars = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)" height="\d+" fill="(#[0-9a-f]+)"/g)].map((m) => ({ width: Number(m[1]), fill: m[2] }));
    expect(bars).toHaveLength(2);
    expect(bars[0]).toEqual({ width: expect.closeTo((1.38 / 1.2 / 2) * 360, 0), fill: '#c62828' });
    expect(bars[1]).toEqual({ width: expect.closeTo((0.4 / 2 / 2) * 360, 0), fill: '#2e7d32' });
    expect(svg).toContain('Engine overhead: full setup');
    expect(svg).toContain('1.38× (goal ≤ 1.2×) — missed');
    // Every label starts inside the picture.
    const labelEnd = Number(/<text x="(\d+)" y="\d+" text-anchor="end">/.exec(svg)![1]);
    expect(labelEnd).toBeGreaterThanOrEqual(7 * 'Engine overhead: full setup'.length);
  });
});
