// The benchmarks' goals as a chart (bench/results/latest.svg, shown in the README): one bar per figure that has a goal,
// its length the figure against its goal's limit (a ratio goal compares the ratio, an absolute one the value), so 1.0
// is the goal for every row; green when met, red when not.
import type { BenchResult } from './stats.ts';

interface Row { label: string; against: number; text: string; met: boolean }

/** "≤ 1.2×", "≤ 1.5× bare Bolt", "≤ 2 KB", "< 1000 ms": the limit, and whether it bounds the ratio or the value. */
export function goalLimit(goal: string): { limit: number; ofRatio: boolean } | null {
  const match = /^[≤<]\s*([\d.]+)\s*(×)?/.exec(goal);
  return match ? { limit: Number(match[1]), ofRatio: match[2] === '×' } : null;
}

function rowsOf(results: BenchResult[]): Row[] {
  return results.flatMap((result) =>
    result.figures.flatMap((f) => {
      const goal = f.goal ? goalLimit(f.goal) : null;
      if (!goal || f.met === undefined) return [];
      const measured = goal.ofRatio ? f.ratio : f.value;
      if (measured === undefined) return [];
      const shown = goal.ofRatio ? `${f.ratio}× (goal ${f.goal})` : `${f.value} ${f.unit} (goal ${f.goal})`;
      return [{ label: `${result.name.replace(/ \(.*$/, '')}: ${f.metric}`, against: measured / goal.limit, text: shown, met: f.met }];
    }));
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chartSvg(results: BenchResult[], at: string): string {
  const rows = rowsOf(results);
  // About 7 px per character of a 13 px sans-serif label.
  const labelWidth = Math.min(800, Math.max(320, 12 + 7 * Math.max(0, ...rows.map((r) => r.label.length))));
  const barWidth = 360;
  const rowHeight = 26;
  const top = 48;
  const scaleMax = Math.min(5, Math.max(2, ...rows.map((r) => Math.ceil(r.against * 2) / 2)));
  const x = (v: number) => labelWidth + (Math.min(Math.max(v, 0), scaleMax) / scaleMax) * barWidth;
  const height = top + rows.length * rowHeight + 40;
  const width = labelWidth + barWidth + 260;
  const bars = rows.map((row, i) => {
    const y = top + i * rowHeight;
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escape(row.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, x(row.against) - labelWidth).toFixed(1)}" height="${rowHeight - 10}" fill="${row.met ? '#2e7d32' : '#c62828'}"/>`,
      `<text x="${x(row.against) + 6}" y="${y + 17}">${escape(row.text)}${row.met ? '' : ' — missed'}</text>`,
    ].join('');
  });
  const ticks = Array.from({ length: scaleMax * 2 + 1 }, (_, k) => k / 2).map((v) =>
    `<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + rows.length * rowHeight}" stroke="${v === 1 ? '#000' : '#ddd'}" stroke-width="${v === 1 ? 2 : 1}"${v === 1 ? ' stroke-dasharray="4 3"' : ''}/>` +
    `<text x="${x(v)}" y="${top - 8}" text-anchor="middle" fill="#555">${v}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="12" y="20" font-size="15" font-weight="bold">npm run bench: each figure against its goal (1 = the goal; shorter is better)</text>`,
    ...ticks,
    ...bars,
    `<text x="12" y="${height - 12}" fill="#555">${escape(at)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
